"""The Starlette app: Strawberry at /graphql, /healthz, /readyz.

One async Neo4j driver per process, made in the lifespan and closed on shutdown.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import strawberry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from strawberry.asgi import GraphQL

from graph.migrations import SCHEMA_VERSION, applied_version_cypher
from hub.db import async_driver
from hub.settings import Settings, get_settings
from schema.api import schema
from schema.core.context import SESSION_OPTIONS, HubContext

log = logging.getLogger("hub.app")


class HubGraphQL(GraphQL):
    async def get_context(self, request: Any, response: Any) -> HubContext:
        state = request.app.state
        ctx = HubContext(driver=state.driver, database=state.settings.neo4j_database,
                         request=request, response=response)
        response.headers["X-Request-ID"] = ctx.request_id
        return ctx


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """Ready when Neo4j answers and the graph schema is at the version this code expects."""
    state = request.app.state
    try:
        async with state.driver.session(database=state.settings.neo4j_database,
                                        **SESSION_OPTIONS) as session:
            result = await session.run(applied_version_cypher())
            record = await result.single()
        version = record["version"] if record else None
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return JSONResponse({"status": "unavailable", "neo4j": False, "detail": str(exc)[:200]},
                            status_code=503)
    if version != SCHEMA_VERSION:
        return JSONResponse({"status": "not migrated", "neo4j": True, "schemaVersion": version,
                             "expected": SCHEMA_VERSION}, status_code=503)
    return JSONResponse({"status": "ready", "neo4j": True, "schemaVersion": version})


def create_app(settings: Settings | None = None,
               graphql_schema: strawberry.Schema | None = None) -> Starlette:
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.driver = async_driver(settings)
        try:
            yield
        finally:
            await app.state.driver.close()

    graphql = HubGraphQL(graphql_schema or schema, graphql_ide=None if settings.production else "graphiql")
    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
