"""Per-request context: the one function every Cypher call of a request goes through.

`HubContext.read` runs a read query, `HubContext.write` runs a transaction function in a
managed write transaction (the driver retries it); both count the statements they run, and
`QUERY_LISTENERS` lets tests observe every statement. DataLoaders live here per request.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError
from neo4j import AsyncDriver, AsyncManagedTransaction
from neo4j.exceptions import (
    ConnectionPoolError,
    DriverError,
    ServiceUnavailable,
    SessionExpired,
)
from strawberry.dataloader import DataLoader

from graph.access import Principal
from schema.core.cache import SharedResults

# Called with (request_id, query, params) for every statement run (tests count with this).
QUERY_LISTENERS: list[Callable[[str, str, dict[str, Any]], None]] = []

# Called with (kind "read" | "write", seconds) after every transaction (hub/metrics.py).
TRANSACTION_LISTENERS: list[Callable[[str, float], None]] = []

# Managed transactions retry briefly (0.1, 0.2, 0.4… s apart), so that an unreachable
# database is reported (DATABASE_UNAVAILABLE) in well under 2 s instead of hanging the
# request. Writes get a little longer for transient errors (deadlocks between loaders).
SESSION_OPTIONS: dict[str, Any] = {
    "max_transaction_retry_time": 0.6, "initial_retry_delay": 0.1,
    "retry_delay_multiplier": 2.0, "notifications_min_severity": "OFF",
}
WRITE_SESSION_OPTIONS: dict[str, Any] = {**SESSION_OPTIONS, "max_transaction_retry_time": 1.0}


class DatabaseUnavailable(GraphQLError):
    def __init__(self, detail: str = "") -> None:
        super().__init__(
            "База данных недоступна, повторите запрос позже.",
            extensions={"code": "DATABASE_UNAVAILABLE"},
        )
        self.detail = detail


class DatabaseBusy(GraphQLError):
    """Every connection to Neo4j is in use (or the hub's admission gate is full): answered
    with HTTP 503 and Retry-After (schema/core/errors.py), logged as one line."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(
            "Сервер перегружен, повторите запрос через несколько секунд.",
            extensions={"code": "DATABASE_BUSY"},
        )
        self.detail = detail


def bookmark_text(bookmarks: Any) -> str | None:
    """A driver `Bookmarks` as one header-safe string (the raw bookmarks are ASCII tokens)."""
    raw = sorted(bookmarks.raw_values) if bookmarks is not None else []
    return ",".join(raw) or None


def _busy(exc: Exception) -> bool:
    # ConnectionAcquisitionTimeoutError: no pooled connection became free in time
    return isinstance(exc, ConnectionPoolError) or "acquisition" in str(exc).lower()


def _unavailable(exc: Exception) -> bool:
    return isinstance(exc, ServiceUnavailable | SessionExpired) or type(exc) is DriverError


@dataclass
class CountingTx:
    """Wraps a managed transaction so its statements are counted like reads."""

    tx: AsyncManagedTransaction
    ctx: HubContext

    async def run(self, query: str, parameters: dict[str, Any] | None = None, **kw: Any) -> Any:
        self.ctx.note(query, {**(parameters or {}), **kw})
        return await self.tx.run(query, parameters, **kw)


@dataclass
class HubContext:
    driver: AsyncDriver
    database: str
    request: Any = None
    response: Any = None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    principal: Principal | None = None  # None: anonymous
    auth_error: str | None = None  # a token was sent but not accepted
    public_catalog: bool = True  # anonymous callers may read the public catalogue
    queries: list[str] = field(default_factory=list)
    loaders: dict[Hashable, DataLoader] = field(default_factory=dict)
    # what reads brought along for later fields (`schema.core.node.prime`), and per-request
    # memos of work that depends only on the document (`schema.core.node.projection`)
    folded: dict[Hashable, Any] = field(default_factory=dict)
    memo: dict[Hashable, Any] = field(default_factory=dict)
    # the process's shared dashboards (the default shares nothing)
    dashboards: SharedResults = field(default_factory=lambda: SharedResults(0))
    retry_after: int = 1  # seconds, in the Retry-After of a DATABASE_BUSY answer
    # observability (hub/metrics.py, the access log): set by the schema's OperationRecorder
    operation: str | None = None
    outcome: str | None = None
    db_seconds: float = 0.0
    # read-your-writes (hub/db.py): session options with the process's bookmark manager and
    # the bookmarks a client sent back (X-Neo4j-Bookmark); `bookmark` is the last write's
    session_options: dict[str, Any] = field(default_factory=dict)
    bookmark: str | None = None
    # live updates (schema/live): the process's change feed, poked after each write, and
    # the connection_init payload of a WebSocket connection
    feed: Any = None
    connection_params: dict[str, Any] | None = None

    def note(self, query: str, params: dict[str, Any]) -> None:
        self.queries.append(query)
        for listener in QUERY_LISTENERS:
            listener(self.request_id, query, params)

    async def read(self, query: str, /, **params: Any) -> list[dict[str, Any]]:
        """Run one read statement; records as dicts."""
        self.note(query, params)

        async def work(tx: AsyncManagedTransaction) -> list[dict[str, Any]]:
            result = await tx.run(query, params)
            keys = result.keys()
            # Hub reads return maps and scalars, never graph objects: no Record.data() walk.
            return [dict(zip(keys, record)) async for record in result]

        return await self._session(lambda s: s.execute_read(work), SESSION_OPTIONS)

    async def write(self, fn: Callable[[CountingTx], Awaitable[Any]]) -> Any:
        """Run `fn(tx)` in a managed write transaction; it must be safe to retry."""
        result = await self._session(
            lambda s: s.execute_write(lambda tx: fn(CountingTx(tx, self))), WRITE_SESSION_OPTIONS)
        self.dashboards.clear()
        if self.feed is not None:
            self.feed.poke()
        if self.bookmark and self.response is not None:
            self.response.headers["X-Neo4j-Bookmark"] = self.bookmark
        return result

    async def _session(self, work: Callable[[Any], Awaitable[Any]],
                       options: dict[str, Any]) -> Any:
        started = time.perf_counter()
        kind = "write" if options is WRITE_SESSION_OPTIONS else "read"
        try:
            async with self.driver.session(database=self.database, **options,
                                           **self.session_options) as s:
                result = await work(s)
                if kind == "write" and self.session_options:
                    self.bookmark = bookmark_text(await s.last_bookmarks())
                return result
        except DriverError as exc:
            if _busy(exc):
                raise DatabaseBusy(str(exc)) from None
            if _unavailable(exc):
                raise DatabaseUnavailable(str(exc)) from None
            raise
        finally:
            seconds = time.perf_counter() - started
            self.db_seconds += seconds
            for listener in TRANSACTION_LISTENERS:
                listener(kind, seconds)

    def loader(self, key: Hashable, load_fn: Callable[[list[Any]], Awaitable[list[Any]]]
               ) -> DataLoader:
        """The request's DataLoader for `key`, made on first use."""
        if key not in self.loaders:
            self.loaders[key] = DataLoader(load_fn=load_fn)
        return self.loaders[key]
