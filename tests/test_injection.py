"""Cypher injection attempts in every string argument and filter of every root query, and in
mutation inputs: the graph is unchanged (or stores the text literally), every response has the
GraphQL shape, nothing fails unhandled."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    get_named_type,
)

from schema.api import schema as hub_schema
from tests.factories import inn, seed_activities
from tests.graphql_client import GraphQLClient, live_server
from tests.test_authz_graphql import fingerprint

PAYLOADS = [
    "'", '"', "\\", "`", "' OR 1=1 //", '"}) DETACH DELETE n //', "'}) DETACH DELETE n //",
    "`) MATCH (m) DETACH DELETE m //", "x` {uid: 1}) DETACH DELETE n //",
    "MF-01' OR '1'='1", "*:*", "uid:* OR name:*", "~", "\u0000", "MF\u0000-01",
    "Мастерскaя",  # Latin «a» among Cyrillic letters
    "ＭＡＴＣＨ (n) ＤＥＴＡＣＨ ＤＥＬＥＴＥ n",  # full-width
    "\u202edelete\u202c", "a\u200bb", "$query", "{{uid}}", "\ud7ff" * 3, "😀" * 50,
    "x" * 5000,
]
BATCH = 10  # the server's default max batched operations


def _unwrap(t: Any) -> Any:
    return t.of_type if isinstance(t, GraphQLNonNull) else t


def _is_string(t: Any) -> bool:
    named = get_named_type(t)
    return isinstance(named, GraphQLScalarType) and named.name in ("String", "ID")


def _filler(t: Any) -> Any:
    """A harmless value for a required argument that is not under test."""
    t = _unwrap(t)
    if isinstance(t, GraphQLList):
        return [_filler(t.of_type)]
    if isinstance(t, GraphQLEnumType):
        return next(iter(t.values))
    if isinstance(t, GraphQLInputObjectType):
        return {n: _filler(f.type) for n, f in t.fields.items()
                if isinstance(f.type, GraphQLNonNull) and f.default_value is None}
    return {"Int": 1, "Float": 1.0, "Boolean": False, "Date": "2025-01-01",
            "DateTime": "2025-01-01T00:00:00Z", "String": "52", "ID": "52"}.get(t.name, "52")


def _as_value(t: Any, payload: str) -> Any:
    return [payload] if isinstance(_unwrap(t), GraphQLList) else payload


def targets() -> list[tuple[str, str, Any, list[str]]]:
    """(root field, argument, its type, path of the string inside it) for every string
    argument and every string field of an input-object argument of every root query."""
    out = []
    for name, field in hub_schema._schema.query_type.fields.items():
        for arg_name, arg in field.args.items():
            named = get_named_type(arg.type)
            if _is_string(arg.type):
                out.append((name, arg_name, arg.type, []))
            elif isinstance(named, GraphQLInputObjectType):
                for fname, f in named.fields.items():
                    if _is_string(f.type):
                        out.append((name, arg_name, arg.type, [fname]))
    return out


def operation(field_name: str, arg_name: str, path: list[str], payload: str
              ) -> tuple[str, dict[str, Any]]:
    field = hub_schema._schema.query_type.fields[field_name]
    defs, args, variables = [], [], {}
    for i, (name, arg) in enumerate(field.args.items()):
        if name == arg_name:
            named = get_named_type(arg.type)
            if path:
                value = _filler(named)
                value[path[0]] = _as_value(named.fields[path[0]].type, payload)
            else:
                value = _as_value(arg.type, payload)
        elif isinstance(arg.type, GraphQLNonNull) and arg.default_value is None:
            value = _filler(arg.type)
        else:
            continue
        defs.append(f"$v{i}: {arg.type}")
        args.append(f"{name}: $v{i}")
        variables[f"v{i}"] = value
    named_out = get_named_type(field.type)
    selection = " { __typename }" if hasattr(named_out, "fields") else ""
    var_defs = f"({', '.join(defs)})" if defs else ""
    call = f"{field_name}({', '.join(args)})" if args else field_name
    return f"query{var_defs} {{ {call}{selection} }}", variables


def check_shape(body: Any, where: str) -> None:
    assert isinstance(body, dict) and ("data" in body or "errors" in body), (where, body)
    for error in body.get("errors") or []:
        assert isinstance(error.get("message"), str) and error["message"], (where, error)
        code = (error.get("extensions") or {}).get("code")
        assert code != "INTERNAL_SERVER_ERROR", (where, error)


@pytest.fixture
def api(db, settings):
    seed_activities(db)
    with live_server(settings) as url:
        yield db, GraphQLClient(url)


def test_every_string_argument_of_every_query(api):
    driver, client = api
    before = fingerprint(driver)
    found = targets()
    fields = {t[0] for t in found}
    assert len(found) >= 60 and {"organizations", "catalog", "changes", "node"} <= fields
    ops = [(f"{f}.{a}{'.' + p[0] if p else ''} ← {payload!r}", *operation(f, a, p, payload))
           for f, a, _, p in found for payload in PAYLOADS]
    answered = 0
    for i in range(0, len(ops), BATCH):
        chunk = ops[i:i + BATCH]
        response = client.http.post("/graphql", json=[
            {"query": q, "variables": v} for _, q, v in chunk])
        assert response.status_code == 200, (chunk[0][0], response.text[:300])
        bodies = response.json()
        assert len(bodies) == len(chunk)
        for (where, _, _), body in zip(chunk, bodies, strict=True):
            check_shape(body, where)
            answered += 1
    assert answered == len(found) * len(PAYLOADS)
    assert fingerprint(driver) == before


def test_injection_in_search_finds_nothing_and_keeps_everything(api):
    driver, client = api
    before = fingerprint(driver)
    for payload in PAYLOADS:
        body = client.execute("query($s: String) { organizations(filter: {search: $s}) "
                              "{ totalCount } equipment(filter: {organization: [$s]}) "
                              "{ totalCount } }", {"s": payload})
        check_shape(body, payload)
        if not body.get("errors"):
            assert body["data"]["equipment"]["totalCount"] == 0
            assert body["data"]["organizations"]["totalCount"] in (0, 3)
    # the filters still work after all that
    assert client.data("query($o: String!) { equipment(filter: {organization: [$o]}) "
                       "{ totalCount } }", {"o": inn(1)})["equipment"]["totalCount"] == 2
    assert fingerprint(driver) == before


def test_mutation_inputs_store_text_literally(api):
    driver, client = api
    before_nodes = set(fingerprint(driver)[0])
    created = 0
    for i, payload in enumerate(PAYLOADS):
        code = f"INJ-{i}"
        body = client.execute(
            "mutation($i: SiteInput!) { createSite(input: $i) { status node { name address } "
            "errors { field message } } }",
            {"i": {"organization": inn(2), "code": code, "name": payload, "address": payload,
                   "municipality": "22721000", "workplaces": 1}})
        check_shape(body, payload)
        result = body["data"]["createSite"]
        if result["errors"]:
            assert result["node"] is None and result["errors"][0]["field"] in ("name", "address")
            continue
        created += 1
        stored = driver.execute_query("MATCH (s:Site {uid: $uid}) RETURN s.name AS name",
                                      uid=f"{inn(2)}:{code}").records
        assert result["node"]["name"] == stored[0]["name"] == payload.strip()
        # payloads as keys: either refused or a node with exactly that key
        body = client.execute(
            "mutation($i: ProgramInput!) { createProgram(input: $i) { status "
            "errors { field } } }",
            {"i": {"code": payload, "name": "Программа", "type": "EMPLOYER_ORDERED",
                   "hours": 8, "organization": inn(2)}})
        check_shape(body, payload)
        if body["data"]["createProgram"]["errors"] == []:
            assert driver.execute_query("MATCH (p:Program {uid: $uid}) RETURN count(p) AS n",
                                        uid=payload.strip()).records[0]["n"] == 1
    assert created >= len(PAYLOADS) - 3
    after = set(fingerprint(driver)[0])
    assert before_nodes <= after  # nothing deleted or rewritten by the payloads
    for payload in ("' OR 1=1 //", '"}) DETACH DELETE n //'):
        body = client.execute("mutation($id: ID!) { retireOrganization(id: $id) { status "
                              "errors { message } } }", {"id": payload})
        check_shape(body, payload)
        assert body["data"] is None or body["data"]["retireOrganization"]["status"] is None
    assert after == set(fingerprint(driver)[0])
