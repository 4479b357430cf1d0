"""GraphQL hardening: each limit just under passes, just over is refused with a clear error;
production mode hides introspection, suggestions and GraphiQL."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from hub.middleware import RequestTimeout
from tests.graphql_client import GraphQLClient, admin_token, live_server

LIMITS = {"graphql_max_depth": 6, "graphql_max_tokens": 60, "graphql_max_aliases": 5,
          "graphql_max_cost": 300, "graphql_max_operations": 3, "max_body_bytes": 3000}


@pytest.fixture
def api(db, settings):
    with live_server(settings.model_copy(update=LIMITS)) as url:
        yield GraphQLClient(url)


def refused(body: dict, code: str | None = None) -> str:
    assert body.get("data") is None, body
    errors = body["errors"]
    assert errors and all(e["message"] for e in errors)
    if code:
        assert errors[0]["extensions"]["code"] == code, errors
    return errors[0]["message"]


def nested(depth: int) -> str:
    """A query whose leaf field sits `depth` levels below the root field (root = 0)."""
    containers = ["organizations(first: 1)", "nodes"]
    while len(containers) < depth:
        containers.append("sites(first: 1)" if len(containers) % 2 == 0 else "organization")
    query = "uid"
    for field in reversed(containers[:depth]):
        query = f"{field} {{ {query} }}"
    return f"{{ {query} }}"


def test_depth(api):
    assert api.data(nested(6))["organizations"]["nodes"] == []
    message = refused(api.execute(nested(7)))
    assert "exceeds maximum operation depth of 6" in message


def test_tokens(api):
    def query(n: int) -> str:  # `{`, n names, `}`
        return "{ " + " ".join(["__typename"] * n) + " }"

    assert api.data(query(58)) == {"__typename": "Query"}
    message = refused(api.execute(query(59)))
    assert "more than 60 tokens" in message


def test_aliases(api):
    def query(n: int) -> str:
        return "{ " + " ".join(f"a{i}: __typename" for i in range(n)) + " }"

    assert len(api.data(query(5))) == 5
    assert "6 aliases found. Allowed: 5" in refused(api.execute(query(6)))


def test_cost(api):
    query = "query($n: Int!) { organizations(first: $n) { nodes { uid name sites(first: 2) " \
            "{ uid } } } }"
    # cost = 1 (organizations) + n × (1 (nodes) + 1 (uid) + 1 (name) + (1 + 2 × 1) (sites))
    assert api.data(query, {"n": 49})["organizations"]["nodes"] == []
    body = api.execute(query, {"n": 50})
    message = refused(body, "QUERY_TOO_COSTLY")
    assert "оценка 301 при пределе 300" in message
    assert body["errors"][0]["extensions"]["cost"] == 301
    # an inline page size counts the same as a variable
    def inline(n: int) -> str:
        return query.replace("query($n: Int!) ", "").replace("$n", str(n))

    assert api.data(inline(49))["organizations"]["nodes"] == []
    refused(api.execute(inline(50)), "QUERY_TOO_COSTLY")


def test_batched_operations(api):
    op = {"query": "{ __typename }"}
    ok = api.http.post("/graphql", json=[op] * 3)
    assert ok.status_code == 200 and ok.json() == [{"data": {"__typename": "Query"}}] * 3
    over = api.http.post("/graphql", json=[op] * 4)
    assert over.status_code == 400 and "Too many operations" in over.text


def test_batched_operations_are_checked_each(api, settings):
    with live_server(settings.model_copy(update=LIMITS)) as url:
        anonymous = GraphQLClient(url, token=None)
        body = anonymous.http.post("/graphql", json=[
            {"query": "{ catalog { nodes { code } } }"},
            {"query": "{ organizations { totalCount } }"}]).json()
    assert body[0]["data"] == {"catalog": {"nodes": []}}
    assert body[1]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_body_size(api):
    def body(size: int) -> bytes:
        pad = size - len(json.dumps({"query": "{ __typename }", "x": ""}))
        raw = json.dumps({"query": "{ __typename }", "x": "y" * pad}).encode()
        assert len(raw) == size
        return raw

    headers = {"content-type": "application/json"}
    ok = api.http.post("/graphql", content=body(3000), headers=headers)
    assert ok.status_code == 200 and ok.json()["data"] == {"__typename": "Query"}
    over = api.http.post("/graphql", content=body(3001), headers=headers)
    assert over.status_code == 413
    assert over.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"

    def chunks(size: int):  # no Content-Length: the body is counted as it arrives
        raw = body(size)
        for i in range(0, len(raw), 500):
            yield raw[i:i + 500]

    streamed = api.http.post("/graphql", content=chunks(3001), headers=headers)
    assert streamed.status_code == 413
    assert streamed.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"
    assert api.http.post("/graphql", content=chunks(3000), headers=headers).status_code == 200


def test_request_timeout():
    async def sleeping(scope, receive, send):
        await asyncio.sleep(float(scope["path"].strip("/")))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})

    async def call(path: str) -> httpx.Response:
        app = RequestTimeout(sleeping, seconds=0.3)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://hub") as client:
            return await client.get(path)

    fast = asyncio.run(call("/0.05"))
    assert fast.status_code == 200 and fast.text == "done"
    slow = asyncio.run(call("/2"))
    assert slow.status_code == 504
    error = slow.json()["errors"][0]
    assert error["extensions"]["code"] == "TIMEOUT" and "0.3 с" in error["message"]


def test_production_hides_introspection_suggestions_and_ide(db, settings):
    misspelled = "{ organizationz { totalCount } }"
    introspection = "{ __schema { queryType { name } } }"
    with live_server(settings) as url:
        dev = GraphQLClient(url)
        assert "Did you mean" in dev.execute(misspelled)["errors"][0]["message"]
        assert dev.data(introspection)["__schema"]["queryType"]["name"] == "Query"
        page = dev.http.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 200 and "graphiql" in page.text.lower()
    with live_server(settings.model_copy(update={"production": True})) as url:
        prod = GraphQLClient(url)
        message = refused(prod.execute(misspelled))
        assert "organizationz" in message and "Did you mean" not in message
        assert "introspection" in refused(prod.execute(introspection)).lower()
        assert "introspection" in refused(
            prod.execute("{ __type(name: \"Query\") { name } }")).lower()
        page = prod.http.get("/graphql", headers={"accept": "text/html"})
        assert "graphiql" not in page.text.lower() and page.status_code in (400, 404)
        assert prod.data("{ organizations { totalCount } }") == {
            "organizations": {"totalCount": 0}}


def test_limits_default_to_settings(settings):
    from hub.app import limits

    got = limits(settings)
    assert (got.max_depth, got.max_tokens, got.max_aliases, got.max_cost,
            got.max_operations) == (settings.graphql_max_depth, settings.graphql_max_tokens,
                                    settings.graphql_max_aliases, settings.graphql_max_cost,
                                    settings.graphql_max_operations)
    assert admin_token()


def test_a_multipart_upload_may_be_larger_than_a_plain_body(db, settings):
    """A registry file (multipart) is limited by HUB_UPLOAD_MAX_BYTES, other bodies by
    HUB_MAX_BODY_BYTES."""
    import httpx

    from tests.graphql_client import admin_token, live_server

    tight = settings.model_copy(update={"max_body_bytes": 100_000,
                                        "upload_max_bytes": 1_000_000})
    big = b"x" * 300_000
    with live_server(tight) as url:
        http = httpx.Client(base_url=url, timeout=30,
                            headers={"Authorization": f"Bearer {admin_token()}"})
        plain = http.post("/graphql", content=b'{"query": "{ __typename }", "x": "'
                          + big + b'"}', headers={"content-type": "application/json"})
        assert plain.status_code == 413
        upload = http.post("/graphql", files={"0": ("equipment.csv", big, "text/csv")},
                           data={"operations": '{"query": "{ __typename }"}', "map": "{}"})
        assert upload.status_code != 413, upload.text[:200]
        huge = http.post("/graphql", files={"0": ("equipment.csv", big * 4, "text/csv")},
                         data={"operations": '{"query": "{ __typename }"}', "map": "{}"})
        assert huge.status_code == 413
