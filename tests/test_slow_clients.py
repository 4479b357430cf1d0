"""Slow clients: connections that trickle their request headers (or body) are answered 408
and closed after the (here shortened) timeout, while the hub keeps answering everyone else.
Real sockets against `hub serve` (httptools) and against uvicorn's h11 protocol."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from hub.app import create_app
from hub.serve import guarded_protocol, uvicorn_config
from tests.graphql_client import free_port
from tests.test_overload import hub_process

TIMEOUT = 1.0
SLOW = 24


@contextlib.contextmanager
def threaded_server(settings, http: str) -> Iterator[str]:
    port = free_port()
    config = uvicorn_config(create_app(settings), settings, host="127.0.0.1", port=port,
                            http=http, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


async def _trickle(port: int, head: bytes, rest: bytes) -> tuple[float, bytes]:
    """Send `head` at once, then `rest` a byte every 0.2 s; (seconds until the server
    closed the connection, what it answered)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    writer.write(head)
    answer = b""

    async def drip() -> None:
        for byte in rest:
            await asyncio.sleep(0.2)
            writer.write(bytes([byte]))
            await writer.drain()

    dripping = asyncio.create_task(drip())
    try:
        async with asyncio.timeout(15):
            while chunk := await reader.read(4096):
                answer += chunk
    finally:
        dripping.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await dripping
        writer.close()
    return time.monotonic() - started, answer


async def _scenario(url: str) -> tuple[list[tuple[float, bytes]], list[float]]:
    port = int(url.rsplit(":", 1)[1])
    headers = b"Host: hub\r\nUser-Agent: slowloris\r\nX-Padding: " + b"a" * 40 + b"\r\n\r\n"
    body = b'{"query": "{ __typename }"}'
    slow = [_trickle(port, b"GET /healthz HTTP/1.1\r\n", headers) for _ in range(SLOW)]
    slow.append(_trickle(
        port, b"POST /graphql HTTP/1.1\r\nHost: hub\r\ncontent-type: application/json\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n\r\n", body))
    tasks = [asyncio.create_task(s) for s in slow]
    await asyncio.sleep(0.3)  # every slow connection is open and trickling
    prompt = []
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        for _ in range(5):
            started = time.monotonic()
            ok = await client.post("/graphql", json={"query": "{ __typename }"})
            prompt.append(time.monotonic() - started)
            assert ok.status_code == 200 and ok.json() == {"data": {"__typename": "Query"}}
            await asyncio.sleep(0.1)
    return await asyncio.gather(*tasks), prompt


def _check(closed: list[tuple[float, bytes]], prompt: list[float]) -> None:
    for elapsed, answer in closed:
        assert TIMEOUT - 0.05 <= elapsed < TIMEOUT + 3, elapsed
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
        assert "не пришли".encode() in answer
    assert max(prompt) < 1.0, prompt
    assert len(closed) > 20
    print(f"\n{len(closed)} slow connections closed after "
          f"{min(e for e, _ in closed):.2f}–{max(e for e, _ in closed):.2f} s; normal "
          f"requests meanwhile {1000 * max(prompt):.0f} ms at most")


def test_hub_serve_closes_slow_clients(tmp_path):
    with hub_process(tmp_path / "hub.log", header_timeout=TIMEOUT,
                     body_timeout=TIMEOUT) as url:
        closed, prompt = asyncio.run(_scenario(url))
    _check(closed, prompt)
    log = (tmp_path / "hub.log").read_text()
    assert log.count("slow client") == len(closed) and "Traceback" not in log


@pytest.mark.parametrize("http", ["h11", "httptools"])
def test_both_uvicorn_protocols_are_guarded(settings, http):
    tight = settings.model_copy(update={"header_timeout": TIMEOUT, "body_timeout": TIMEOUT})
    with threaded_server(tight, http) as url:
        closed, prompt = asyncio.run(_scenario(url))
        # a kept-alive connection: the second request is timed from its first byte
        with httpx.Client(base_url=url) as client:
            assert client.get("/healthz").status_code == 200
            time.sleep(TIMEOUT + 0.5)  # idle longer than the header timeout: still open
            assert client.get("/healthz").status_code == 200
    _check(closed, prompt)


def test_default_timeouts_come_from_settings(settings):
    protocol = guarded_protocol(settings.header_timeout, settings.body_timeout)
    assert (protocol.header_timeout, protocol.body_timeout) == (10.0, 30.0)
    assert protocol.__mro__[1].__name__ == "GuardedHttpToolsProtocol"
