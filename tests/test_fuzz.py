"""Schema fuzzing with schemathesis' GraphQL support against the live server (admin token, so
resolvers and mutations really run): a few generated examples per root field; zero 5xx, zero
responses without the GraphQL shape, zero unexpected (masked) server errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes

from schema.api import schema as hub_schema
from tests.factories import seed_region
from tests.graphql_client import admin_token, live_server

EXAMPLES_PER_FIELD = 3

schemathesis.graphql.scalar("Date", st.dates(dt.date(1990, 1, 1), dt.date(2040, 12, 31)).map(
    lambda d: nodes.String(d.isoformat())))
schemathesis.graphql.scalar("DateTime", st.datetimes(
    dt.datetime(2000, 1, 1), dt.datetime(2040, 1, 1), timezones=st.just(dt.UTC)).map(
    lambda d: nodes.String(d.isoformat())))
# A file travels in a multipart request, never inline: an inline value must be refused cleanly.
schemathesis.graphql.scalar("Upload", st.just(nodes.String("not-a-file")))


def problems(response: Any) -> list[str]:
    out = []
    if response.status_code >= 500:
        out.append(f"HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        return [*out, f"not JSON: {response.text[:200]}"]
    if not isinstance(body, dict) or not ("data" in body or "errors" in body):
        out.append(f"not a GraphQL response: {str(body)[:200]}")
        return out
    for error in body.get("errors") or []:
        if not isinstance(error, dict) or not isinstance(error.get("message"), str):
            out.append(f"malformed error: {error!r:.200}")
        elif (error.get("extensions") or {}).get("code") == "INTERNAL_SERVER_ERROR":
            out.append(f"unexpected server error at {error.get('path')}")
    return out


def fuzz(client: httpx.Client, operation: Any, found: list[str]) -> int:
    """Run the generated examples of one root field; problems go to `found`."""
    calls = 0

    @hyp_settings(max_examples=EXAMPLES_PER_FIELD, deadline=None, database=None,
                  derandomize=True, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        nonlocal calls
        response = client.post("/graphql", json={"query": case.body})
        calls += 1
        found.extend(f"{operation.label}: {p} ← {case.body[:300]!r}" for p in problems(response))

    run()
    return calls


def test_fuzz_every_root_field(db, settings):
    seed_region(db)
    fuzz_schema = schemathesis.graphql.from_file(str(hub_schema))
    operations = [result.ok() for result in fuzz_schema.get_all_operations()]
    assert len(operations) > 80
    found: list[str] = []
    calls = 0
    with live_server(settings) as url:
        client = httpx.Client(base_url=url, timeout=30,
                              headers={"Authorization": f"Bearer {admin_token()}"})
        for operation in operations:
            calls += fuzz(client, operation, found)
    assert calls >= len(operations)
    assert not found, "\n".join(found[:20])
