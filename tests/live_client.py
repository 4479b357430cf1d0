"""A minimal graphql-transport-ws client for tests (websockets' sync client)."""

from __future__ import annotations

import json
import time
from typing import Any, Self

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect


class LiveClient:
    def __init__(self, http_url: str, token: str | None) -> None:
        self.ws = connect(http_url.replace("http://", "ws://") + "/graphql",
                          subprotocols=["graphql-transport-ws"], open_timeout=10)
        payload = {"Authorization": f"Bearer {token}"} if token is not None else {}
        self.ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        self.close_code: int | None = None
        try:
            self.ack = json.loads(self.ws.recv(timeout=10))
        except ConnectionClosed as exc:  # refused in connection_init
            self.ack = None
            self.close_code = exc.rcvd.code if exc.rcvd else None
        self._n = 0

    def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        self._n += 1
        sid = str(self._n)
        self.ws.send(json.dumps({"id": sid, "type": "subscribe",
                                 "payload": {"query": query, "variables": variables or {}}}))
        return sid

    def receive(self, timeout: float = 5.0) -> dict[str, Any] | None:
        """The next message other than ping/pong, or None after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                msg = json.loads(self.ws.recv(timeout=left))
            except TimeoutError:
                return None
            if msg["type"] == "ping":
                self.ws.send(json.dumps({"type": "pong"}))
                continue
            if msg["type"] != "pong":
                return msg
        return None

    def close(self) -> None:
        self.ws.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
