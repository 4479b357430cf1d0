"""Neo4j drivers built from settings (sync for CLI/tools, async for the server)."""

from __future__ import annotations

import re
from typing import Any

from neo4j import AsyncDriver, AsyncGraphDatabase, Bookmarks, Driver, GraphDatabase
from neo4j.api import AsyncBookmarkManager

from hub.settings import Settings

# The pool size, the acquisition timeout and the retry time come from the settings
# (HUB_NEO4J_POOL_SIZE, HUB_NEO4J_ACQUISITION_TIMEOUT, HUB_NEO4J_RETRY_TIME). An exhausted
# pool is answered with DATABASE_BUSY (schema/core/context.py) after the acquisition timeout,
# so keep it short.
DRIVER_OPTIONS: dict[str, Any] = {"connection_timeout": 2.0}


def driver_options(settings: Settings) -> dict[str, Any]:
    return {**DRIVER_OPTIONS,
            "max_connection_pool_size": settings.neo4j_pool_size,
            "connection_acquisition_timeout": settings.neo4j_acquisition_timeout,
            "max_transaction_retry_time": settings.neo4j_retry_time}


def sync_driver(settings: Settings) -> Driver:
    return GraphDatabase.driver(settings.bolt_uri, auth=settings.neo4j_auth_tuple,
                                **driver_options(settings))


def async_driver(settings: Settings) -> AsyncDriver:
    return AsyncGraphDatabase.driver(
        settings.bolt_uri, auth=settings.neo4j_auth_tuple, **driver_options(settings)
    )


# Read-your-writes. Within a process every session shares ONE bookmark manager, so a read
# after a write (any request of this process) waits, on a cluster, for a server that has
# that write. Across processes (another worker, the next request through a load balancer)
# the client carries the bookmark: each write's answer has `X-Neo4j-Bookmark`, and a request
# sending it back in the same header is served by a session that starts after that write.
_BOOKMARK = re.compile(r"^[A-Za-z0-9:+/=._-]{1,256}$")
MAX_CLIENT_BOOKMARKS = 8


def bookmark_manager() -> AsyncBookmarkManager:
    return AsyncGraphDatabase.bookmark_manager()


def client_bookmarks(header: str | None) -> Bookmarks | None:
    """The bookmarks a client sent back (comma-separated), or None when absent or malformed
    (a malformed header is ignored: the request is served without the extra guarantee)."""
    if not header:
        return None
    values = [v.strip() for v in header.split(",") if v.strip()]
    if not values or len(values) > MAX_CLIENT_BOOKMARKS or not all(
            _BOOKMARK.match(v) for v in values):
        return None
    return Bookmarks.from_raw_values(values)


def session_options(manager: AsyncBookmarkManager | None, header: str | None) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if manager is not None:
        options["bookmark_manager"] = manager
    sent = client_bookmarks(header)
    if sent is not None:
        options["bookmarks"] = sent
    return options
