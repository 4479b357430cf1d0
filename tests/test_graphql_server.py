"""The server around the schema: health and readiness, GraphiQL switch, masked errors,
DATABASE_UNAVAILABLE within 2 s, and the exported schema contract."""

from __future__ import annotations

import time

import httpx

from graph.migrations import SCHEMA_VERSION
from hub.serve import SCHEMA_FILE, schema_sdl
from tests.factories import seed_region
from tests.graphql_client import (
    GraphQLClient,
    admin_token,
    free_port,
    live_server,
    token_for,
)


def test_health_and_readiness(db, settings):
    admin = {"Authorization": f"Bearer {admin_token()}"}
    with live_server(settings) as url:
        assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
        ready = httpx.get(f"{url}/readyz", headers=admin)
        assert ready.status_code == 200 and ready.json()["schemaVersion"] == SCHEMA_VERSION
        # anonymous callers (load balancers) learn ready / not ready, nothing more
        anonymous = httpx.get(f"{url}/readyz")
        assert anonymous.status_code == 200 and anonymous.json() == {"status": "ready"}
        db.execute_query("MATCH (s:HubSchema {id: 'graph'}) SET s.version = -1")
        try:
            stale = httpx.get(f"{url}/readyz", headers=admin)
            stale_anonymous = httpx.get(f"{url}/readyz")
            stale_viewer = httpx.get(f"{url}/readyz", headers={
                "Authorization": f"Bearer {token_for('viewer')}"})
            stale_forged = httpx.get(f"{url}/readyz", headers={"Authorization": "Bearer x"})
        finally:
            db.execute_query("MATCH (s:HubSchema {id: 'graph'}) SET s.version = $v",
                             v=SCHEMA_VERSION)
        assert stale.status_code == 503 and stale.json()["status"] == "not migrated"
        assert stale.json()["expected"] == SCHEMA_VERSION
        for other in (stale_anonymous, stale_viewer, stale_forged):
            assert other.status_code == 503 and other.json() == {"status": "not ready"}


def test_readiness_hides_driver_errors_from_anonymous_callers(settings):
    with live_server(_closed_port_settings(settings)) as url:
        anonymous = httpx.get(f"{url}/readyz")
        admin = httpx.get(f"{url}/readyz",
                          headers={"Authorization": f"Bearer {admin_token()}"})
    assert anonymous.status_code == 503 and anonymous.json() == {"status": "not ready"}
    assert "127.0.0.1" not in anonymous.text
    assert admin.status_code == 503 and admin.json()["status"] == "unavailable"
    assert admin.json()["detail"]


def _closed_port_settings(settings):
    return settings.model_copy(update={"neo4j_uri": f"bolt://127.0.0.1:{free_port()}"})


def test_unreachable_database_is_reported_within_two_seconds(settings):
    with live_server(_closed_port_settings(settings)) as url:
        assert httpx.get(f"{url}/healthz").status_code == 200
        assert httpx.get(f"{url}/readyz").status_code == 503
        client = GraphQLClient(url)
        for query in ("{ organizations { totalCount } }",
                      'mutation { retireSite(id: "U2l0ZTox") { status } }'):
            started = time.monotonic()
            body = client.execute(query)
            elapsed = time.monotonic() - started
            assert body["errors"][0]["extensions"]["code"] == "DATABASE_UNAVAILABLE", body
            assert elapsed < 2.0, elapsed


def test_unexpected_errors_are_masked_with_a_request_id(db, settings, caplog):
    seed_region(db)
    db.execute_query("MATCH (o:Organization) SET o.kind = 'SECRET_BROKEN_VALUE'")
    with live_server(settings) as url:
        response = httpx.post(f"{url}/graphql",
                              json={"query": "{ organizations { nodes { name kind } } }"},
                              headers={"Authorization": f"Bearer {admin_token()}"})
    body = response.json()
    error = body["errors"][0]
    request_id = error["extensions"]["requestId"]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert request_id in error["message"] and "SECRET" not in response.text
    assert response.headers["x-request-id"] == request_id
    assert any(request_id in r.getMessage() and r.exc_info for r in caplog.records)


def test_graphiql_only_outside_production(settings):
    page = {"accept": "text/html"}
    with live_server(settings) as url:
        assert "graphiql" in httpx.get(f"{url}/graphql", headers=page).text.lower()
    with live_server(settings.model_copy(update={"production": True})) as url:
        assert httpx.get(f"{url}/graphql", headers=page).status_code == 404


def test_schema_file_matches_the_code():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_sdl(), (
        "schema.graphql is out of date: run `hub schema export`")


def test_answers_are_utf8_json_with_russian_text_as_is(db, settings):
    seed_region(db)
    with live_server(settings) as url:
        body = {"query": "{ organizations(first: 5) { nodes { uid name } } }"}
        r = httpx.post(f"{url}/graphql", json=body,
                       headers={"Authorization": f"Bearer {admin_token()}"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    names = [n["name"] for n in r.json()["data"]["organizations"]["nodes"]]
    assert names and all(any("а" <= ch <= "я" for ch in n.lower()) for n in names), names
    assert names[0].encode() in r.content and b"\\u04" not in r.content
