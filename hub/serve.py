"""`hub serve` (uvicorn) and `hub schema export|check` (the schema.graphql contract).

uvicorn has no timeout for a client that sends its request slowly (slowloris): its HTTP
protocol is subclassed here with two timers — the request headers must be complete within
`header_timeout` seconds of the connection (or of the first byte of the next request on a
kept-alive connection), the body within `body_timeout` seconds of the headers — else the
connection is answered 408 (when no response has started) and closed. Everything else stays
uvicorn's.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import Any

from hub.settings import PROJECT_ROOT, Settings, get_settings

SCHEMA_FILE = PROJECT_ROOT / "schema.graphql"

log = logging.getLogger("hub.serve")


def schema_sdl() -> str:
    from schema.api import schema

    return schema.as_str().rstrip() + "\n"


def _timeout_response(what: str, seconds: float) -> bytes:
    text = f"Запрос не получен: {what} не пришли за {seconds:g} с.\n".encode()
    return (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"connection: close\r\ncontent-length: " + str(len(text)).encode() + b"\r\n\r\n"
            + text)


class SlowClientGuard:
    """Mixin for a uvicorn HTTP protocol: the header and body timers and what they do."""

    header_timeout: float = 10.0
    body_timeout: float = 30.0
    _timer: asyncio.TimerHandle | None = None
    _timing: str | None = None  # "headers" or "body" while a timer runs
    # set by the protocol: loop, transport, client, cycle

    def _arm(self, seconds: float, what: str) -> None:
        self._disarm()
        if seconds > 0:
            self._timer = self.loop.call_later(seconds, self._expired, what, seconds)  # type: ignore[attr-defined]
        self._timing = what

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timing = None

    def _expired(self, what: str, seconds: float) -> None:
        self._timer = None
        transport = self.transport  # type: ignore[attr-defined]
        if transport.is_closing():
            return
        cycle = getattr(self, "cycle", None)
        client = getattr(self, "client", None)
        log.warning("slow client %s: %s not received within %g s, connection closed",
                    f"{client[0]}:{client[1]}" if client else "-", what, seconds)
        if cycle is None or not cycle.response_started:
            transport.write(_timeout_response(
                "заголовки запроса" if what == "headers" else "тело запроса", seconds))
        transport.close()


def _httptools_class() -> type | None:
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:
        return None

    class GuardedHttpToolsProtocol(SlowClientGuard, HttpToolsProtocol):
        def connection_made(self, transport: Any) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm(self.header_timeout, "headers")

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            if self._timing != "headers":  # the next request on a kept-alive connection
                self._arm(self.header_timeout, "headers")

        def on_headers_complete(self) -> None:
            self._arm(self.body_timeout, "body")
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self._disarm()
            super().on_message_complete()

    return GuardedHttpToolsProtocol


def _h11_class() -> type:
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class GuardedH11Protocol(SlowClientGuard, H11Protocol):
        def connection_made(self, transport: Any) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm(self.header_timeout, "headers")

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.transport.is_closing():
                return
            state = self.conn.their_state
            if state is h11.IDLE:  # part of a request line or headers
                if data and self._timing != "headers":
                    self._arm(self.header_timeout, "headers")
            elif state is h11.SEND_BODY:
                if self._timing != "body":
                    self._arm(self.body_timeout, "body")
            else:  # the whole request is in
                self._disarm()

    return GuardedH11Protocol


def guarded_protocol(header_timeout: float, body_timeout: float,
                     implementation: str = "auto") -> type:
    """uvicorn's HTTP protocol (httptools when installed, as uvicorn's `auto`, else h11)
    with the slow-client timers; pass it as `uvicorn.Config(http=...)`.

    The class is a global of this module named after its parameters, so that it pickles by
    name into `--workers` processes (which rebuild it through the module's __getattr__)."""
    name = (f"Guarded_{implementation}_{int(header_timeout * 1000)}"
            f"_{int(body_timeout * 1000)}")
    if name in globals():
        return globals()[name]
    base = _httptools_class() if implementation in ("auto", "httptools") else None
    if base is None:
        if implementation == "httptools":
            raise RuntimeError("httptools is not installed")
        base = _h11_class()
    cls = type(name, (base,), {"header_timeout": header_timeout,
                               "body_timeout": body_timeout, "__module__": __name__,
                               "__qualname__": name})
    globals()[name] = cls
    return cls


def __getattr__(name: str) -> Any:
    if name.startswith("Guarded_"):
        _, implementation, header_ms, body_ms = name.split("_")
        return guarded_protocol(int(header_ms) / 1000, int(body_ms) / 1000, implementation)
    raise AttributeError(name)


def uvicorn_config(app: Any, settings: Settings, *, host: str, port: int,
                   http: str = "auto", **kwargs: Any) -> Any:
    """The uvicorn configuration `hub serve` runs with (tests serve the app the same way)."""
    import uvicorn

    return uvicorn.Config(
        app, host=host, port=port,
        http=guarded_protocol(settings.header_timeout, settings.body_timeout, http),
        **kwargs)


def cmd_serve(args: argparse.Namespace) -> int:
    """One process, or `--workers N` uvicorn worker processes sharing the listening socket.

    Each worker has its own driver, pool, admission gate, dashboard sharing and change feed
    (the feed invalidates the dashboards on every ChangeSet, whichever process wrote it);
    /metrics in any worker sums all of them (PROMETHEUS_MULTIPROC_DIR, made here)."""
    import uvicorn

    from hub.metrics import configure_logging

    settings = get_settings()
    log_config = configure_logging(settings.log_format, args.log_level)
    if args.workers <= 1:
        from hub.app import create_app

        config = uvicorn_config(create_app(settings), settings, host=args.host,
                                port=args.port, log_level=args.log_level,
                                log_config=log_config)
        uvicorn.Server(config).run()
        return 0
    import os
    import shutil
    import tempfile

    from uvicorn.supervisors import Multiprocess

    own_dir = None
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        own_dir = tempfile.mkdtemp(prefix="hub-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = own_dir
    try:
        config = uvicorn_config("hub.app:create_app", settings, host=args.host,
                                port=args.port, log_level=args.log_level,
                                log_config=log_config, factory=True, workers=args.workers)
        sock = config.bind_socket()
        Multiprocess(config, sockets=[sock]).run()
    finally:
        if own_dir:
            shutil.rmtree(own_dir, ignore_errors=True)
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    path = Path(args.file)
    sdl = schema_sdl()
    if args.action == "export":
        path.write_text(sdl, encoding="utf-8")
        print(f"Wrote {path}")
        return 0
    if not path.exists() or path.read_text(encoding="utf-8") != sdl:
        print(f"{path} is out of date: run `hub schema export`", file=sys.stderr)
        return 1
    print(f"{path} matches the code")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve the GraphQL API (uvicorn)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--log-level", default="info")
    p.add_argument("--workers", type=int, default=1,
                   help="worker processes (uvicorn) sharing the port; default 1")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("schema", help="export or check schema.graphql")
    p.add_argument("action", choices=["export", "check"])
    p.add_argument("--file", default=str(SCHEMA_FILE))
    p.set_defaults(func=cmd_schema)
