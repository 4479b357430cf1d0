"""ASGI guards in front of the GraphQL endpoint: request body size, time per request, and
the admission gate that bounds the work in flight."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("hub.app")


async def _graphql_error(send: Send, status: int, message: str, code: str, *,
                         headers: tuple[tuple[bytes, bytes], ...] = (),
                         request_id: str | None = None) -> None:
    extensions = {"code": code, **({"requestId": request_id} if request_id else {})}
    body = json.dumps({"data": None, "errors": [{"message": message,
                                                 "extensions": extensions}]},
                      ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


class BodySizeLimit:
    """`max_bytes` for a request body; a multipart upload (a registry file) may reach
    `upload_bytes`."""

    def __init__(self, app: ASGIApp, max_bytes: int, upload_bytes: int | None = None) -> None:
        self.app, self.plain_bytes = app, max_bytes
        self.upload_bytes = max(max_bytes, upload_bytes or max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        upload = headers.get(b"content-type", b"").startswith(b"multipart/form-data")
        limit = self.upload_bytes if upload else self.plain_bytes
        declared = headers.get(b"content-length")
        message = (f"Тело запроса больше допустимого ({limit} байт).")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _graphql_error(send, 413, message, "REQUEST_TOO_LARGE")
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return msg

        async def tracked(msg: Message) -> None:
            nonlocal started
            started = started or msg["type"] == "http.response.start"
            await send(msg)

        try:
            await self.app(scope, counted, tracked)
        except _TooLarge:
            if not started:
                await _graphql_error(send, 413, message, "REQUEST_TOO_LARGE")


class RequestTimeout:
    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app, self.seconds = app, seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(msg: Any) -> None:
            nonlocal started
            started = started or msg["type"] == "http.response.start"
            await send(msg)

        try:
            async with asyncio.timeout(self.seconds):
                await self.app(scope, receive, tracked)
        except ClientDisconnect:
            return  # the client went away (or was closed as too slow): nobody to answer
        except TimeoutError:
            if not started:
                await _graphql_error(
                    send, 504, f"Запрос не выполнен за {self.seconds:g} с.", "TIMEOUT")


_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,64}$")


def request_id(scope: Scope) -> str:
    """The request's id (X-Request-ID, in logs and errors), made once per request: the one a
    proxy sent in X-Request-ID when it is 1–64 characters of [A-Za-z0-9._:-], else a new one."""
    state = scope.setdefault("state", {})
    if "request_id" not in state:
        sent = next((v for k, v in scope.get("headers") or [] if k == b"x-request-id"), None)
        state["request_id"] = (sent.decode() if sent and _REQUEST_ID.match(sent)
                               else uuid.uuid4().hex[:12])
    return state["request_id"]


class Observe:
    """Outermost: the request id (echoed in X-Request-ID on every response), the access log
    line and the request metrics (hub/metrics.py). GraphQL details (operation, account, role,
    statements, outcome) come from the request's HubContext, left in scope["state"]."""

    def __init__(self, app: ASGIApp, gate: AdmissionGate | None = None) -> None:
        self.app, self.gate = app, gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from hub import metrics

        rid = request_id(scope)
        started = time.perf_counter()
        status = 500

        async def tracked(msg: Message) -> None:
            nonlocal status
            if msg["type"] == "http.response.start":
                status = msg["status"]
                headers = list(msg.get("headers", []))
                if not any(k.lower() == b"x-request-id" for k, _ in headers):
                    headers.append((b"x-request-id", rid.encode()))
                msg = {**msg, "headers": headers}
            await send(msg)

        try:
            await self.app(scope, receive, tracked)
        finally:
            seconds = time.perf_counter() - started
            ctx = scope["state"].get("hub_ctx")
            fields: dict[str, Any] = {"request_id": rid, "method": scope.get("method"),
                                      "path": scope.get("path"), "status": status,
                                      "duration_ms": round(seconds * 1000, 1)}
            if scope.get("path") == "/graphql" and scope.get("method") == "POST":
                principal = getattr(ctx, "principal", None)
                name = getattr(ctx, "operation", None)
                operation = metrics.operation_label(name)
                outcome = (getattr(ctx, "outcome", None)
                           or {503: "DATABASE_BUSY", 504: "TIMEOUT",
                               413: "REQUEST_TOO_LARGE"}.get(status)
                           or ("ok" if status < 400 else f"http_{status}"))
                statements = len(getattr(ctx, "queries", ()))
                fields.update(account=principal.name if principal else None,
                              role=principal.role if principal else None,
                              operation=metrics.operation_name(name), outcome=outcome, statements=statements,
                              db_ms=round(getattr(ctx, "db_seconds", 0.0) * 1000, 1))
                metrics.REQUESTS.labels(operation, outcome).inc()
                metrics.LATENCY.labels(operation).observe(seconds)
                if statements:
                    metrics.STATEMENTS.inc(statements)
                if ctx is not None:
                    metrics.sample_pool(ctx.driver)
                if self.gate is not None:
                    metrics.WAITING.set(self.gate.waiting)
            metrics.log_request(fields)


class AdmissionGate:
    """Bounds the GraphQL requests executing at once in this process.

    A request waits at most `wait` seconds for one of `limit` slots (at most `queue` requests
    wait at all); otherwise it is answered at once with DATABASE_BUSY, HTTP 503 and
    Retry-After, and one log line — the work in flight, the Neo4j pool and memory stay bounded
    whatever arrives."""

    def __init__(self, app: ASGIApp, limit: int, wait: float, retry_after: int = 1,
                 queue: int | None = None) -> None:
        self.app, self.limit, self.wait, self.retry_after = app, limit, wait, retry_after
        self.queue = queue if queue is not None else 4 * limit
        self.slots = asyncio.Semaphore(limit)
        self.waiting = 0
        self.refused = 0  # requests answered DATABASE_BUSY here (for tests and logs)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id(scope)
        if not await self._enter():
            self.refused += 1
            log.warning("request %s: DATABASE_BUSY (%d in flight, %d waiting)",
                        rid, self.limit, self.waiting)
            await _graphql_error(
                send, 503, "Сервер перегружен, повторите запрос через несколько секунд.",
                "DATABASE_BUSY", headers=((b"retry-after", str(self.retry_after).encode()),
                                          (b"x-request-id", rid.encode())),
                request_id=rid)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.slots.release()

    async def _enter(self) -> bool:
        if not self.slots.locked():
            await self.slots.acquire()  # a free slot: returns at once
            return True
        if self.waiting >= self.queue or self.wait <= 0:
            return False
        self.waiting += 1
        try:
            async with asyncio.timeout(self.wait):
                await self.slots.acquire()
            return True
        except TimeoutError:
            return False
        finally:
            self.waiting -= 1
