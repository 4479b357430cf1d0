"""The bench's HTTP client: JSON POSTs over kept-alive HTTP/1.1 connections, nothing else.

Its own cost runs on the same cores as the servers it measures, so it is kept small: httpx
spent 2.2–2.8 ms of CPU per GraphQL request in the bench process (W2, W3), about what the
hub spends on a W3 request besides the statement; this spends a tenth of that. Used for the
measured loops of the hub and the peer alike.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Self
from urllib.parse import urlsplit

import pydantic_core


class HttpError(RuntimeError):
    pass


class Client:
    def __init__(self, base_url: str, headers: dict[str, str] | None = None,
                 timeout: float = 60) -> None:
        url = urlsplit(base_url)
        if url.scheme != "http" or not url.hostname:
            raise ValueError(f"http://host:port expected, got {base_url}")
        self.host, self.port = url.hostname, url.port or 80
        self.prefix = url.path.rstrip("/")
        self.headers = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self.timeout = timeout
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def post_json(self, path: str, body: Any) -> tuple[int, Any]:
        """POST `body` as JSON; (status, the answer decoded, or its text when not JSON)."""
        data = json.dumps(body, ensure_ascii=False).encode()
        head = (f"POST {self.prefix}{path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"{self.headers}Content-Type: application/json\r\n"
                f"Content-Length: {len(data)}\r\n\r\n").encode()
        reader, writer = (self.idle.pop() if self.idle else
                          await asyncio.open_connection(self.host, self.port))
        try:
            writer.write(head + data)
            status, payload, keep = await asyncio.wait_for(self._answer(reader), self.timeout)
        except BaseException:
            writer.close()
            raise
        if keep:
            self.idle.append((reader, writer))
        else:
            writer.close()
        try:
            return status, pydantic_core.from_json(payload) if payload else None
        except ValueError:  # not JSON (a proxy's or server's plain error page)
            return status, payload.decode("utf-8", "replace")

    @staticmethod
    async def _answer(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
        line = await reader.readline()
        if not line:
            raise HttpError("connection closed before an answer")
        status = int(line.split(b" ", 2)[1])
        length, chunked, keep = None, False, True
        while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value:
                chunked = True
            elif name == "connection" and value == "close":
                keep = False
        if chunked:
            parts = []
            while size := int((await reader.readline()).split(b";")[0], 16):
                parts.append(await reader.readexactly(size))
                await reader.readline()
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return status, b"".join(parts), keep
        if length is None:
            return status, await reader.read(), False
        return status, await reader.readexactly(length), keep

    async def aclose(self) -> None:
        for _, writer in self.idle:
            writer.close()
        self.idle.clear()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
