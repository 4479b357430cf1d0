"""Neo4j drivers built from settings (sync for CLI/tools, async for the server)."""

from __future__ import annotations

from neo4j import AsyncDriver, AsyncGraphDatabase, Driver, GraphDatabase

from hub.settings import Settings

DRIVER_OPTIONS = {
    "connection_timeout": 2.0,
    "connection_acquisition_timeout": 2.0,
    "max_transaction_retry_time": 5.0,
    "max_connection_pool_size": 50,
}


def sync_driver(settings: Settings) -> Driver:
    return GraphDatabase.driver(settings.bolt_uri, auth=settings.neo4j_auth_tuple, **DRIVER_OPTIONS)


def async_driver(settings: Settings) -> AsyncDriver:
    return AsyncGraphDatabase.driver(
        settings.bolt_uri, auth=settings.neo4j_auth_tuple, **DRIVER_OPTIONS
    )
