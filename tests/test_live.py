"""Subscriptions over graphql-transport-ws: authentication in connection_init, the audit
scoping of queries, limits, and the latency from a committed write (GraphQL in this or
another process, `hub load` from the command line) to a subscriber."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

import pytest

from tests.browser import ARTIFACTS
from tests.factories import seed_region
from tests.graphql_client import GraphQLClient, admin_token, live_server, token_for
from tests.live_client import LiveClient

CHANGES = "subscription Feed($r: String) { changes(region: $r) { uid label op actor source } }"
CENTRE = """subscription Board($r: String!, $p: String!) {
  situationalCentre(region: $r, period: $p) { region kpis(keys: ["partnerNetwork"]) { value } } }"""
ADD = """mutation Add($i: MunicipalityInput!) { createMunicipality(input: $i) { status } }"""
ADD_REGION = """mutation AddRegion($i: RegionInput!) { createRegion(input: $i) { status } }"""


def municipality(n: int, region: str = "52") -> dict:
    return {"i": {"oktmo": f"{22800000 + n}", "name": f"Посёлок {n}", "region": region}}


def next_data(live: LiveClient, timeout: float = 5.0) -> dict | None:
    msg = live.receive(timeout)
    while msg is not None and msg["type"] == "complete":  # of a refused subscription
        msg = live.receive(timeout)
    if msg is None:
        return None
    assert msg["type"] == "next", msg
    assert not msg["payload"].get("errors"), msg
    return msg["payload"]["data"]


@pytest.fixture
def served(db, settings):
    seed_region(db)
    with live_server(settings) as url:
        admin = GraphQLClient(url)
        assert admin.data(ADD_REGION, {"i": {"code": "77", "name": "Москва"}})[
            "createRegion"]["status"] == "CREATED"
        yield url


def test_connection_init_needs_a_valid_token(served):
    for token in (None, "rrh_nope"):
        live = LiveClient(served, token)
        assert live.ack is None and live.close_code == 4403
    with LiveClient(served, admin_token()) as live:
        assert live.ack["type"] == "connection_ack"


def test_changes_are_scoped_like_the_audit_query(served):
    viewer = token_for("viewer")
    with LiveClient(served, viewer) as live:
        live.subscribe(CHANGES)
        msg = live.receive()
        assert msg["type"] == "error" or msg["payload"]["errors"][0]["extensions"]["code"] == (
            "FORBIDDEN"), msg
    operator = token_for("operator", region="52")
    admin = GraphQLClient(served)
    with LiveClient(served, operator) as live, LiveClient(served, admin_token()) as everything:
        live.subscribe(CHANGES)
        everything.subscribe(CHANGES)
        other = live.subscribe(CHANGES, {"r": "77"})
        refused = live.receive()
        assert refused["id"] == other and "errors" in json.dumps(refused), refused
        time.sleep(0.3)
        admin.data(ADD, municipality(1, "77"))  # another region: the operator must not see it
        admin.data(ADD, municipality(2, "52"))
        seen = next_data(live)["changes"]
        assert seen["uid"] == "22800002" and seen["label"] == "Municipality"
        assert seen["op"] == "CREATE" and seen["source"] == "graphql"
        assert next_data(live, 1.5) is None
        got = {next_data(everything)["changes"]["uid"], next_data(everything)["changes"]["uid"]}
        assert got == {"22800001", "22800002"}


def test_subscriptions_are_limited_per_connection_and_per_token(served, settings):
    token = token_for("operator", region="52")
    with LiveClient(served, token) as live:
        for _ in range(settings.subscriptions_per_connection):
            live.subscribe(CHANGES)
        extra = live.subscribe(CHANGES)
        msg = live.receive()
        assert msg["id"] == extra and msg["type"] == "error", msg
        assert "limit" in json.dumps(msg), msg  # too many subscriptions on this connection
    clients = []
    try:
        for _ in range(settings.subscriptions_per_token // settings.subscriptions_per_connection):
            client = LiveClient(served, token)
            clients.append(client)
            for _ in range(settings.subscriptions_per_connection):
                client.subscribe(CHANGES)
        time.sleep(0.5)
        with LiveClient(served, token) as extra:
            extra.subscribe(CHANGES)
            msg = extra.receive()
            assert "TOO_MANY_SUBSCRIPTIONS" in json.dumps(msg), msg
    finally:
        for client in clients:
            client.close()


def test_a_graphql_write_and_a_cli_load_reach_a_subscriber_within_2_s(served, tmp_path):
    admin = GraphQLClient(served)
    with LiveClient(served, admin_token()) as live:
        live.subscribe(CHANGES)
        time.sleep(0.3)
        start = time.monotonic()
        admin.data(ADD, municipality(10))
        assert next_data(live, 2.0)["changes"]["uid"] == "22800010"
        graphql_latency = time.monotonic() - start

        rows = tmp_path / "municipalities.jsonl"
        rows.write_text(json.dumps({"oktmo": "22800011", "name": "Село", "region": "52"},
                                   ensure_ascii=False) + "\n", encoding="utf-8")
        load = subprocess.run([sys.executable, "-m", "hub.cli", "load", "municipalities",
                               str(rows)], env=os.environ, capture_output=True, text=True, check=False,
                              timeout=120)
        done = time.monotonic()
        assert load.returncode == 0, load.stderr
        change = next_data(live, 2.0)
        assert change is not None, "the CLI load did not reach the subscriber within 2 s"
        assert change["changes"]["uid"] == "22800011"
        assert change["changes"]["source"].startswith("load")
        cli_latency = time.monotonic() - done
    print(f"\nGraphQL write → subscriber {graphql_latency:.3f} s; "
          f"hub load exit → subscriber {cli_latency:.3f} s")


def test_situational_centre_is_re_sent_after_a_write(served):
    admin = GraphQLClient(served)
    viewer = token_for("viewer")
    with LiveClient(served, viewer) as live:
        live.subscribe(CENTRE, {"r": "52", "p": "2025"})
        first = next_data(live)["situationalCentre"]
        assert first["region"] == "52"
        assert next_data(live, 1.0) is None  # nothing changed: nothing sent
        start = time.monotonic()
        admin.data(ADD, municipality(20))
        again = next_data(live, 2.0)
        assert again is not None and again["situationalCentre"]["region"] == "52"
        assert time.monotonic() - start < 2.0
        admin.data(ADD, municipality(21, "77"))  # another region: no push
        assert next_data(live, 1.5) is None


def _latencies(write_url: str, read_url: str, n: int) -> list[float]:
    admin = GraphQLClient(write_url)
    out = []
    with LiveClient(read_url, admin_token()) as live:
        live.subscribe(CHANGES)
        time.sleep(0.3)
        for i in range(n):
            admin.data(ADD, municipality(1000 + i + (0 if write_url == read_url else 5000)))
            committed = time.monotonic()  # the write's answer: it is committed
            change = next_data(live, 2.0)
            assert change is not None, f"write {i} not pushed within 2 s"
            out.append(time.monotonic() - committed)
    return out


def test_push_latency_over_50_writes(served, settings):
    same = _latencies(served, served, 50)
    with live_server(settings) as other:  # another process's writes: seen by the poll only
        cross = _latencies(other, served, 50)
    figures = {}
    for name, values in (("same_process", same), ("other_process", cross)):
        q = statistics.quantiles(values, n=100)
        figures[name] = {"p50_ms": round(statistics.median(values) * 1000, 1),
                         "p95_ms": round(q[94] * 1000, 1), "max_ms": round(max(values) * 1000, 1)}
        assert max(values) < 2.0
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "push-latency.json").write_text(json.dumps(figures, indent=2))
    print("\npush latency over 50 writes:", figures)
