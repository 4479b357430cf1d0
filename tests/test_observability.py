"""/metrics (Prometheus), the access log (JSON lines), X-Request-ID from a proxy, and
read-your-writes bookmarks (X-Neo4j-Bookmark) — against the real Neo4j."""

from __future__ import annotations

import io
import json
import logging
import re

import httpx

from hub import metrics
from tests.factories import seed_region
from tests.graphql_client import GraphQLClient, admin_token, live_server, token_for

MUNICIPALITY = """mutation AddMunicipality($i: MunicipalityInput!) {
  createMunicipality(input: $i) { status errors { message } } }"""


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition text (0 when absent)."""
    for line in text.splitlines():
        if not line.startswith(name + ("{" if labels else " ")) and not line.startswith(
                name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_operations_outcomes_latency_and_statements(db, settings):
    seed_region(db)
    with live_server(settings) as url:
        client = GraphQLClient(url)
        before = httpx.get(f"{url}/metrics").text
        for _ in range(3):
            client.data("query ListOrganizations { organizations(first: 5) { totalCount } }")
        anonymous = GraphQLClient(url, token=None)
        body = anonymous.execute("query Secret { organizations(first: 1) { totalCount } }")
        assert body["errors"]
        metrics.loader_rows("equipment", read=10, rejected=2, written=8)
        r = httpx.get(f"{url}/metrics")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
        text = r.text
    ok = ("hub_graphql_requests_total", {"operation": "ListOrganizations", "outcome": "ok"})
    assert sample(text, ok[0], **ok[1]) - sample(before, ok[0], **ok[1]) == 3
    assert sample(text, "hub_graphql_requests_total", operation="Secret",
                  outcome="UNAUTHENTICATED") >= 1
    assert sample(text, "hub_graphql_request_seconds_count", operation="ListOrganizations") >= 3
    assert sample(text, "hub_graphql_request_seconds_bucket", operation="ListOrganizations",
                  le="+Inf") >= 3
    assert sample(text, "hub_neo4j_statements_total") - sample(
        before, "hub_neo4j_statements_total") >= 3
    assert sample(text, "hub_neo4j_transaction_seconds_count", kind="read") >= 3
    assert "hub_neo4j_pool_size" in text and "hub_neo4j_pool_in_use" in text
    assert sample(text, "hub_neo4j_pool_size") >= 1
    assert sample(text, "hub_loader_rows_total", registry="equipment", outcome="rejected") >= 2
    assert "hub_subscriptions_open" in text


def test_operation_names_cannot_blow_up_the_label_set():
    assert metrics.operation_label(None) == "anonymous"
    assert metrics.operation_label('x"} 1\nevil') == "invalid"
    saved = set(metrics._seen_operations)
    try:
        names = {metrics.operation_label(f"Op{i}")
                 for i in range(metrics.MAX_OPERATIONS + 50)}
    finally:
        metrics._seen_operations.clear()
        metrics._seen_operations.update(saved)
    assert "other" in names and len(names) <= metrics.MAX_OPERATIONS + 1


def test_request_id_from_a_proxy_is_echoed_and_sanitised(db, settings):
    with live_server(settings) as url:
        r = httpx.get(f"{url}/healthz", headers={"X-Request-ID": "edge-7f3a.01"})
        assert r.headers["x-request-id"] == "edge-7f3a.01"
        r = httpx.post(f"{url}/graphql", json={"query": "{ __typename }"},
                       headers={"X-Request-ID": "proxy:42"})
        assert r.headers["x-request-id"] == "proxy:42"
        for bad in ("a b", "x" * 65, "<script>", "id\u00e9"):
            r = httpx.get(f"{url}/healthz", headers={"X-Request-ID": bad.encode()})
            assert re.fullmatch(r"[0-9a-f]{12}", r.headers["x-request-id"]), bad
        r = httpx.get(f"{url}/healthz")
        assert re.fullmatch(r"[0-9a-f]{12}", r.headers["x-request-id"])


def test_access_log_is_one_json_line_per_request(db, settings):
    seed_region(db)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(metrics.JsonFormatter())
    logger = logging.getLogger("hub.access")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    operator = token_for("operator", region="52")
    try:
        with live_server(settings) as url:
            httpx.post(f"{url}/graphql", headers={"Authorization": f"Bearer {operator}",
                                                  "X-Request-ID": "req-1"},
                       json={"query": "query Orgs { organizations(first: 2) { totalCount } }"})
            httpx.post(f"{url}/graphql", headers={"X-Request-ID": "req-2"},
                       json={"query": "query Broken { organizations(first: 2) { nope } }"})
            httpx.get(f"{url}/healthz", headers={"X-Request-ID": "req-3"})
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    by_id = {line["request_id"]: line for line in lines}
    assert set(by_id) >= {"req-1", "req-2", "req-3"}
    ok = by_id["req-1"]
    assert ok["account"].startswith("test-operator") and ok["role"] == "operator"
    assert ok["operation"] == "Orgs" and ok["outcome"] == "ok" and ok["status"] == 200
    assert ok["statements"] >= 1 and ok["duration_ms"] > 0 and "time" in ok
    assert by_id["req-2"]["outcome"] == "GRAPHQL_VALIDATION_FAILED" or by_id["req-2"][
        "outcome"] not in ("ok", None)
    assert by_id["req-2"]["account"] is None
    assert by_id["req-3"]["path"] == "/healthz" and "operation" not in by_id["req-3"]


def test_writes_return_a_bookmark_that_a_later_request_may_send_back(db, settings):
    seed_region(db)
    with live_server(settings) as url:
        headers = {"Authorization": f"Bearer {admin_token()}"}
        first = httpx.post(f"{url}/graphql", headers=headers, json={
            "query": MUNICIPALITY,
            "variables": {"i": {"oktmo": "22730000", "name": "Арзамас", "region": "52"}}})
        assert first.json()["data"]["createMunicipality"]["status"] == "CREATED"
        bookmark = first.headers["x-neo4j-bookmark"]
        assert bookmark and re.fullmatch(r"[A-Za-z0-9:+/=._,-]+", bookmark)
        second = httpx.post(f"{url}/graphql", headers=headers, json={
            "query": MUNICIPALITY,
            "variables": {"i": {"oktmo": "22731000", "name": "Бор", "region": "52"}}})
        assert second.headers["x-neo4j-bookmark"] != bookmark  # a newer transaction
        # a read (maybe in another process) sent the bookmark back: served after that write
        read = httpx.post(f"{url}/graphql", headers={**headers, "X-Neo4j-Bookmark": bookmark},
                          json={"query": '{ municipalities(first: 10, filter: {region: ["52"]}) '
                                         "{ nodes { uid } } }"})
        assert read.status_code == 200 and not read.json().get("errors")
        assert "22730000" in {n["uid"] for n in read.json()["data"]["municipalities"]["nodes"]}
        assert "x-neo4j-bookmark" not in read.headers  # reads make none
        # a malformed header is ignored, not an error
        odd = httpx.post(f"{url}/graphql", headers={**headers, "X-Neo4j-Bookmark": "a b\"c"},
                         json={"query": "{ __typename }"})
        assert odd.status_code == 200 and odd.json()["data"]["__typename"] == "Query"
