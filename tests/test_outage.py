"""Neo4j outage while the hub serves (a second local Neo4j of this test, stopped and started):
requests answer within 2 s with DATABASE_UNAVAILABLE, /readyz is 503, service resumes without
restarting the app. A bulk mutation killed half way, then retried, ends in the same graph as
one clean call."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from graph.audit import BY_OWNER_CYPHER
from graph.writes import fresh_cypher
from hub import neo4j_runtime as rt
from hub.db import sync_driver
from hub.settings import Settings
from schema.core.context import QUERY_LISTENERS
from tests.conftest import wipe
from tests.factories import inn, own_neo4j, seed_region
from tests.graphql_client import GraphQLClient, live_server

READ = "{ organizations { totalCount } }"
WRITE = ('mutation { createSite(input: {organization: "' + inn(2) + '", code: "OUT", '
         'name: "Площадка", municipality: "22721000", workplaces: 1}) { status } }')
BULK = ("mutation($items: [EquipmentInput!]!) { bulkCreateEquipment(input: $items) "
        "{ written created errors { message } } }")
ITEMS = [{"organization": inn(1 + i % 2), "inventoryNumber": f"B-{i}", "type": "WELD-INV",
          "site": "M1", "quantity": 1 + i % 7} for i in range(2400)]
CONTENT = """
MATCH (n) WHERE NOT n:ChangeSet AND NOT n:HubSchema
WITH n ORDER BY n.uid, labels(n)[0]
RETURN collect([labels(n), n.uid, [k IN keys(n) WHERE NOT k IN ['createdAt', 'updatedAt'] |
        [k, toString(n[k])]], COUNT { (n)--() }]) AS nodes,
       COUNT { MATCH (s:ChangeSet {label: 'Equipment'}) UNWIND s.uids AS u RETURN u } AS audited
"""


@pytest.fixture(scope="module")
def own(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A second Neo4j of this module only (stopping it disturbs no one)."""
    with own_neo4j(settings, tmp_path_factory.mktemp("outage") / "neo4j", "384m") as server:
        yield server


def content(settings: Settings) -> tuple[Any, int]:
    with sync_driver(settings) as driver:
        record = driver.execute_query(CONTENT, database_=settings.neo4j_database).records[0]
    return record["nodes"], record["audited"]


def timed(fn: Any) -> tuple[Any, float]:
    started = time.monotonic()
    result = fn()
    return result, time.monotonic() - started


def wait_ready(http: httpx.Client, timeout: float = 60) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if http.get("/readyz").status_code == 200:
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError("the hub did not become ready again")


def test_outage_answers_fast_and_recovers_by_itself(own):
    with sync_driver(own) as driver:
        wipe(driver, own.neo4j_database)
        seed_region(driver)
    with live_server(own) as url:
        client = GraphQLClient(url)
        assert client.data(READ) == {"organizations": {"totalCount": 3}}
        assert client.http.get("/readyz").status_code == 200

        rt.stop(own)
        for query in (READ, WRITE):
            body, took = timed(lambda q=query: client.execute(q))
            assert took < 2.0, (query, took)
            assert body["errors"][0]["extensions"]["code"] == "DATABASE_UNAVAILABLE", body
            assert "База данных недоступна" in body["errors"][0]["message"]
        ready, took = timed(lambda: client.http.get("/readyz"))
        assert ready.status_code == 503 and took < 2.0
        assert ready.json()["neo4j"] is False
        assert client.http.get("/healthz").status_code == 200  # the process itself is alive

        rt.start(own, quiet=True)  # the same app, not restarted
        wait_ready(client.http)
        assert client.data(READ) == {"organizations": {"totalCount": 3}}
        assert client.data(WRITE)["createSite"]["status"] == "CREATED"


def test_bulk_mutation_killed_half_way_then_retried_converges(own):
    with sync_driver(own) as driver:
        wipe(driver, own.neo4j_database)
        seed_region(driver)
    pid = rt.status(own).pid
    upsert = fresh_cypher("equipment")  # new rows
    killed = threading.Event()
    upserts: list[int] = []
    killed_at: list[float] = []

    def kill_at_upsert(request_id: str, query: str, params: dict[str, Any]) -> None:
        # every row is already MERGEd in the open transaction; the audit comes next
        if query == upsert:
            upserts.append(sum(len(g["rows"]) for g in params["groups"]))
        elif query == BY_OWNER_CYPHER and upserts and not killed.is_set():
            killed_at.append(time.monotonic())
            killed.set()
            os.kill(pid, signal.SIGKILL)  # a crash, not a clean shutdown

    with live_server(own) as url:
        client = GraphQLClient(url, timeout=60)
        QUERY_LISTENERS.append(kill_at_upsert)
        try:
            body = client.execute(BULK, {"items": ITEMS})
            answered = time.monotonic()
        finally:
            QUERY_LISTENERS.remove(kill_at_upsert)
        assert killed.is_set() and sum(upserts) == len(ITEMS)
        assert body["errors"][0]["extensions"]["code"] == "DATABASE_UNAVAILABLE", body
        assert answered - killed_at[0] < 2.0  # reported within 2 s of the crash
        rt.stop(own)  # reap the killed process, drop its pid file
        rt.start(own, quiet=True)
        wait_ready(client.http)
        half, audited = content(own)
        assert not [n for n in half if n[0] == ["Equipment"]] and audited == 0  # nothing half-written

        retried = client.data(BULK, {"items": ITEMS})["bulkCreateEquipment"]
        assert retried["written"] and retried["created"] == len(ITEMS)
        after_retry = content(own)

        with sync_driver(own) as driver:  # one clean call on the same seed
            wipe(driver, own.neo4j_database)
            seed_region(driver)
        clean = client.data(BULK, {"items": ITEMS})["bulkCreateEquipment"]
        assert clean["written"] and clean["created"] == len(ITEMS)
        assert content(own) == after_retry
        assert after_retry[1] == len(ITEMS)
