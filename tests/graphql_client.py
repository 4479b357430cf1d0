"""Test helpers for the GraphQL API: a live uvicorn server in a thread, an httpx client,
and a Cypher statement counter per GraphQL request.

    with live_server(settings) as url:
        client = GraphQLClient(url)
        data = client.data("{ organizations { totalCount } }")
        data, n = client.counted("{ ... }")   # n = Cypher statements the request ran
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import uvicorn

from hub import ledger
from hub.app import create_app
from hub.settings import Settings, get_settings
from schema.core.context import QUERY_LISTENERS

ADMIN = "admin"  # GraphQLClient's default: a token of an admin account


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def live_server(settings: Settings) -> Iterator[str]:
    """Serve the real app with uvicorn on a free port for the duration of the block."""
    port = free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                            log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@contextlib.contextmanager
def count_queries() -> Iterator[list[str]]:
    """Collect the Cypher statements run (by any request) inside the block."""
    seen: list[str] = []

    def listener(request_id: str, query: str, params: dict[str, Any]) -> None:
        seen.append(query)

    QUERY_LISTENERS.append(listener)
    try:
        yield seen
    finally:
        QUERY_LISTENERS.remove(listener)


def token_for(role: str, *, region: str | None = None,
              organizations: list[str] | None = None) -> str:
    """A fresh account with this role in the test ledger, and a token of it."""
    url = get_settings().ledger_url
    name = f"test-{role}-{uuid.uuid4().hex[:8]}"
    ledger.create_account(url, name, role, region=region, organizations=organizations)
    return ledger.issue_token(url, name).secret


_admin_token: str | None = None


def admin_token() -> str:
    global _admin_token
    if _admin_token is None:
        _admin_token = token_for("admin")
    return _admin_token


class GraphQLClient:
    def __init__(self, base_url: str, timeout: float = 30.0, token: str | None = ADMIN) -> None:
        """`token`: ADMIN (default), a token string, or None for an anonymous caller."""
        headers = {}
        if token is not None:
            headers["Authorization"] = f"Bearer {admin_token() if token == ADMIN else token}"
        self.http = httpx.Client(base_url=base_url, timeout=timeout, headers=headers)

    def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The whole response body (data and errors)."""
        response = self.http.post("/graphql", json={"query": query, "variables": variables or {}})
        assert response.status_code == 200, response.text
        return response.json()

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """`data`, failing the test on any GraphQL error."""
        body = self.execute(query, variables)
        assert not body.get("errors"), body["errors"]
        return body["data"]

    def counted(self, query: str, variables: dict[str, Any] | None = None
                ) -> tuple[dict[str, Any], int]:
        """`data` and the number of Cypher statements the request ran."""
        with count_queries() as seen:
            data = self.data(query, variables)
        return data, len(seen)
