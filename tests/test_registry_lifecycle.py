"""Every writable registry through GraphQL: create → patch → retire → restore, each audited,
and the audit replays to the stored node; catalogues are written by operators, not registrars.
Rows come from the access matrix's samples, so a new registry is covered when it has one."""

from __future__ import annotations

from typing import Any

import pytest
from strawberry.utils.str_converters import to_camel_case

from graph.registry import REGISTRIES
from schema.core.ids import encode_id
from schema.registry.inputs import WRITABLE
from tests.graphql_client import GraphQLClient, live_server, token_for
from tests.test_access_matrix import PATCH, A, sample, seed
from tests.test_shared_writes import stored_and_replayed


def camel(value: Any) -> Any:
    if isinstance(value, dict):
        return {to_camel_case(k): camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value


def _uid(registry: str, row: dict[str, Any]) -> str:
    from graph.ingest import prepare

    return prepare(REGISTRIES[registry], [row]).valid[0][1].uid


@pytest.fixture(scope="module")
def served(driver, settings):
    from tests.conftest import wipe

    wipe(driver, settings.neo4j_database)
    seed(driver)
    with live_server(settings) as url:
        yield driver, url


@pytest.mark.parametrize("registry", list(WRITABLE))
def test_create_patch_retire_restore(served, registry):
    driver, url = served
    _, name = WRITABLE[registry]
    admin = GraphQLClient(url)
    row = sample(registry, "A", "life")
    uid = _uid(registry, row)
    out = "status changedFields errors { field message } node { id version retiredAt }"
    created = admin.data(f"mutation($i: {name}Input!) {{ create{name}(input: $i) {{ {out} }} }}",
                         {"i": camel(row)})[f"create{name}"]
    assert created["errors"] == [] and created["status"] in ("CREATED", "UPDATED"), created
    gid = encode_id(REGISTRIES[registry].label, uid)
    field, value = PATCH[registry]
    patched = admin.data(
        f"mutation($id: ID!, $p: {name}Patch!) {{ update{name}(id: $id, patch: $p) {{ {out} }} }}",
        {"id": gid, "p": {to_camel_case(field): value}})[f"update{name}"]
    assert patched["errors"] == [], patched
    for op, status in (("retire", "RETIRED"), ("restore", "RESTORED")):
        done = admin.data(f"mutation($id: ID!) {{ {op}{name}(id: $id) {{ {out} }} }}",
                          {"id": gid})[f"{op}{name}"]
        assert done["status"] == status, done
        assert (done["node"]["retiredAt"] is None) == (op == "restore")
    ops = [c["op"] for c in admin.data(
        '{ changes(filter: {uid: "%s"}, first: 20) { nodes { op } } }' % uid
    )["changes"]["nodes"]]
    assert ops[:2] == ["RESTORE", "RETIRE"] and ops[-1] in ("CREATE", "UPDATE")
    stored, replayed, versions = stored_and_replayed(driver, REGISTRIES[registry].label, uid)
    if ops[-1] == "CREATE":
        assert replayed == stored
    assert versions == sorted(versions)


CATALOGUE = """mutation($i: CompetencyInput!) { createCompetency(input: $i) {
  status errors { message } } }"""


def test_catalogues_are_written_by_operators_not_registrars(served):
    driver, url = served
    row = {"code": "NEW-01", "name": "Новая компетенция", "blockCode": "MF", "block": "П"}
    registrar = GraphQLClient(url, token=token_for("registrar", organizations=[A]))
    refused = registrar.data(CATALOGUE, {"i": row})["createCompetency"]
    assert refused["status"] is None and "справочник" in refused["errors"][0]["message"]
    operator = GraphQLClient(url, token=token_for("operator", region="77"))
    assert operator.data(CATALOGUE, {"i": row})["createCompetency"]["status"] == "CREATED"


def test_a_registrar_restores_only_its_own_records(served):
    driver, url = served
    admin = GraphQLClient(url)
    registrar = GraphQLClient(url, token=token_for("registrar", organizations=[A]))
    query = 'mutation($id: ID!) { %sSite(id: $id) { status errors { message } } }'
    own, other = encode_id("Site", f"{A}:R0"), encode_id("Site", "5200000014:R0")
    for gid in (own, other):
        assert admin.data(query % "retire", {"id": gid})["retireSite"]["status"] in (
            "RETIRED", None)
    assert registrar.data(query % "restore", {"id": own})["restoreSite"]["status"] == "RESTORED"
    refused = registrar.data(query % "restore", {"id": other})["restoreSite"]
    assert refused["status"] is None and "другой организации" in refused["errors"][0]["message"]
