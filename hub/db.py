"""Neo4j drivers built from settings (sync for CLI/tools, async for the server)."""

from __future__ import annotations

from typing import Any

from neo4j import AsyncDriver, AsyncGraphDatabase, Driver, GraphDatabase

from hub.settings import Settings

# Defaults; the pool size and the acquisition timeout come from the settings
# (HUB_NEO4J_POOL_SIZE, HUB_NEO4J_ACQUISITION_TIMEOUT). An exhausted pool is answered with
# DATABASE_BUSY (schema/core/context.py) after the acquisition timeout, so keep it short.
DRIVER_OPTIONS: dict[str, Any] = {
    "connection_timeout": 2.0,
    "connection_acquisition_timeout": 1.0,
    "max_transaction_retry_time": 5.0,
    "max_connection_pool_size": 50,
}


def driver_options(settings: Settings) -> dict[str, Any]:
    return {**DRIVER_OPTIONS,
            "max_connection_pool_size": settings.neo4j_pool_size,
            "connection_acquisition_timeout": settings.neo4j_acquisition_timeout}


def sync_driver(settings: Settings) -> Driver:
    return GraphDatabase.driver(settings.bolt_uri, auth=settings.neo4j_auth_tuple,
                                **driver_options(settings))


def async_driver(settings: Settings) -> AsyncDriver:
    return AsyncGraphDatabase.driver(
        settings.bolt_uri, auth=settings.neo4j_auth_tuple, **driver_options(settings)
    )
