"""Tests run against the real Neo4j named by the hub settings (local runtime by default).

Start it with `hub neo4j start` (the README's test command does); nothing here mocks it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest
from neo4j import Driver

# The hub's ledger (accounts, tokens) of a test run lives in a temporary SQLite file.
os.environ["HUB_DATABASE_URL"] = (
    f"sqlite:///{tempfile.mkdtemp(prefix='hub-ledger-')}/ledger.sqlite")

from graph.migrations import migrate
from hub.db import sync_driver
from hub.settings import Settings, get_settings


@pytest.fixture(scope="session")
def settings() -> Settings:
    return get_settings()


@pytest.fixture(scope="session")
def driver(settings: Settings) -> Iterator[Driver]:
    drv = sync_driver(settings)
    try:
        drv.verify_connectivity()
    except Exception as exc:  # noqa: BLE001 - turned into one clear failure
        pytest.exit(
            f"Neo4j is not reachable at {settings.bolt_uri} ({exc}). "
            "Start it with `hub neo4j start` or set HUB_NEO4J_URI.", returncode=2,
        )
    migrate(drv, database=settings.neo4j_database)
    yield drv
    drv.close()


def wipe(driver: Driver, database: str) -> None:
    with driver.session(database=database) as session:
        session.run(
            "MATCH (n) WHERE NOT n:HubSchema "
            "CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 1000 ROWS"
        ).consume()


@pytest.fixture
def db(driver: Driver, settings: Settings) -> Iterator[Driver]:
    """An empty graph (schema kept) for one test."""
    wipe(driver, settings.neo4j_database)
    yield driver
