"""GraphQL writes over HTTP against the real Neo4j: typed errors, idempotency, patches,
bulk all-or-nothing, retire semantics."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from tests.factories import inn, seed_region
from tests.graphql_client import GraphQLClient, live_server

C1, C2 = inn(1), inn(2)


@pytest.fixture(scope="module")
def api(driver, settings) -> Iterator[GraphQLClient]:
    with live_server(settings) as url:
        yield GraphQLClient(url)


@pytest.fixture
def region(db):
    return seed_region(db)


def gid(label: str, uid: str) -> str:
    return base64.b64encode(f"{label}:{uid}".encode()).decode()


def counts(driver) -> tuple[int, int]:
    records, _, _ = driver.execute_query(
        "MATCH (n) WHERE NOT n:HubSchema WITH count(n) AS nodes "
        "OPTIONAL MATCH ()-[r]->() RETURN nodes, count(r) AS rels")
    return records[0]["nodes"], records[0]["rels"]


CREATE_ORG = """mutation($input: OrganizationInput!) { createOrganization(input: $input) {
  status changedFields errors { index path field value message }
  node { id inn name kind municipality { name } createdAt updatedAt retiredAt } } }"""

ORG = {"inn": inn(50), "name": "Техникум сварки", "kind": "COLLEGE", "region": "52",
       "municipality": "22721000"}


def test_create_is_idempotent_on_the_natural_key(api, region, db):
    first = api.data(CREATE_ORG, {"input": ORG})["createOrganization"]
    assert first["status"] == "CREATED" and first["errors"] == []
    node = first["node"]
    assert node["municipality"]["name"] == "г. Дзержинск" and node["retiredAt"] is None
    graph = counts(db)
    data, statements = api.counted(CREATE_ORG, {"input": ORG})
    again = data["createOrganization"]
    assert again["status"] == "UNCHANGED" and again["node"]["updatedAt"] == node["updatedAt"]
    assert counts(db) == graph
    # one transaction: check references, MERGE, read back; then the municipality loader
    assert statements == 4


def test_invalid_input_comes_back_as_typed_field_errors(api, region, db):
    graph = counts(db)
    bad = {**ORG, "inn": "5200000000", "municipality": "99999999"}
    payload = api.data(CREATE_ORG, {"input": bad})["createOrganization"]
    assert payload["node"] is None and payload["status"] is None
    [error] = payload["errors"]
    assert (error["field"], error["value"], error["index"]) == ("inn", '"5200000000"', None)
    assert "ИНН" in error["message"]
    payload = api.data(CREATE_ORG, {"input": {**ORG, "municipality": "99999999"}})
    [error] = payload["createOrganization"]["errors"]
    assert error["field"] == "municipality" and "не найдено" in error["message"]
    assert counts(db) == graph
    # GraphQL itself refuses unknown enum values before anything runs
    body = api.execute(CREATE_ORG, {"input": {**ORG, "kind": "SCHOOL"}})
    assert body["errors"] and "data" not in body or body.get("data") is None


BULK_EQUIPMENT = """mutation($input: [EquipmentInput!]!) { bulkCreateEquipment(input: $input) {
  written created updated unchanged nodes { uid type { code } }
  errors { index path field value message } } }"""


def _equipment(n: int, **extra):
    return {"organization": C1, "inventoryNumber": f"INV-{n:04d}", "type": "WELD-INV",
            "site": "M1", "quantity": 1, **extra}


def test_bulk_is_one_transaction_all_or_nothing_and_idempotent(api, region, db):
    graph = counts(db)
    items = [_equipment(i) for i in range(500)]
    items[7] = _equipment(7, quantity=0)
    items[9] = _equipment(9, site="NOPE")
    payload = api.data(BULK_EQUIPMENT, {"input": items})["bulkCreateEquipment"]
    assert not payload["written"] and payload["nodes"] == [] and payload["created"] == 0
    assert [(e["index"], e["path"], e["field"]) for e in payload["errors"]] == [
        (7, ["7", "quantity"], "quantity"), (9, ["9", "site"], "site")]
    assert payload["errors"][1]["value"] == f'"{C1}:NOPE"'
    assert counts(db) == graph

    items = [_equipment(i) for i in range(500)]
    payload = api.data(BULK_EQUIPMENT, {"input": items})["bulkCreateEquipment"]
    assert payload["written"] and payload["created"] == 500 and payload["errors"] == []
    assert payload["nodes"][0] == {"uid": f"{C1}:INV-0000", "type": {"code": "WELD-INV"}}
    graph = counts(db)
    again = api.data(BULK_EQUIPMENT, {"input": items})["bulkCreateEquipment"]
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 500)
    assert counts(db) == graph
    dupes = api.data(BULK_EQUIPMENT, {"input": [_equipment(1), _equipment(1)]})
    [error] = dupes["bulkCreateEquipment"]["errors"]
    assert error["index"] == 1 and "уже встречался" in error["message"]


UPDATE_EQUIPMENT = """mutation($id: ID!, $patch: EquipmentPatch!) {
  updateEquipment(id: $id, patch: $patch) {
    status changedFields errors { field value message }
    node { quantity status statusLabel name type { code } site { code } } } }"""


def test_update_is_a_patch_validated_as_a_whole(api, region, db):
    api.data(BULK_EQUIPMENT, {"input": [_equipment(1, name="Инвертор", status="REPAIR")]})
    eid = gid("Equipment", f"{C1}:INV-0001")
    payload = api.data(UPDATE_EQUIPMENT, {"id": eid, "patch": {"quantity": 5}})
    payload = payload["updateEquipment"]
    assert payload["status"] == "UPDATED" and payload["changedFields"] == ["quantity"]
    assert payload["node"] == {"quantity": 5, "status": "REPAIR", "statusLabel": "В ремонте",
                               "name": "Инвертор", "type": {"code": "WELD-INV"},
                               "site": {"code": "M1"}}
    payload = api.data(UPDATE_EQUIPMENT, {"id": eid, "patch": {"type": "LATHE-CNC",
                                                               "name": None}})
    node = payload["updateEquipment"]["node"]
    assert node["type"] == {"code": "LATHE-CNC"} and node["name"] is None
    refused = api.data(UPDATE_EQUIPMENT, {"id": eid, "patch": {"quantity": 0, "type": "NO"}})
    assert {e["field"] for e in refused["updateEquipment"]["errors"]} == {"quantity"}
    refused = api.data(UPDATE_EQUIPMENT, {"id": eid, "patch": {"type": "NO-SUCH"}})
    assert [e["field"] for e in refused["updateEquipment"]["errors"]] == ["type"]
    records, _, _ = db.execute_query(
        "MATCH (e:Equipment)-[:OF_TYPE]->(t) RETURN e.quantity AS q, t.uid AS t")
    assert [(r["q"], r["t"]) for r in records] == [(5, "LATHE-CNC")]
    missing = api.data(UPDATE_EQUIPMENT, {"id": gid("Equipment", f"{C1}:X"), "patch": {}})
    assert missing["updateEquipment"]["errors"][0]["message"] == "запись не найдена"
    wrong = api.execute(UPDATE_EQUIPMENT, {"id": gid("Site", f"{C1}:M1"), "patch": {}})
    assert wrong["errors"][0]["extensions"]["code"] == "BAD_ID"


def test_staff_with_qualifications_and_programs_with_modules(api, region):
    staff = {"organization": C2, "personnelNumber": "15", "fullName": "Петров П. П.",
             "role": "MASTER", "qualifications": [
                 {"competency": "MF-01", "expertStatus": "REGIONAL", "validUntil": "2027-05-01"}]}
    q = """mutation($input: StaffInput!) { createStaff(input: $input) { errors { field }
      node { id roleLabel qualifications { competencyCode expertStatus validUntil } } } }"""
    node = api.data(q, {"input": staff})["createStaff"]["node"]
    assert node["roleLabel"] == "Мастер производственного обучения"
    assert node["qualifications"] == [{"competencyCode": "MF-01", "expertStatus": "REGIONAL",
                                       "validUntil": "2027-05-01"}]
    patch = """mutation($id: ID!, $patch: StaffPatch!) { updateStaff(id: $id, patch: $patch) {
      errors { field message } node { fullName } } }"""
    payload = api.data(patch, {"id": node["id"], "patch": {"qualifications": [
        {"competency": "MF-02"}, {"competency": "MF-02"}]}})["updateStaff"]
    assert payload["errors"][0]["field"] == "qualifications"
    api.data(patch, {"id": node["id"], "patch": {"qualifications": [{"competency": "MF-02"}]}})
    who = api.data('{ competencies { nodes { code qualifiedStaff { staff { fullName } '
                   'expertStatus } } } }')["competencies"]["nodes"]
    assert {c["code"]: len(c["qualifiedStaff"]) for c in who} == {"MF-01": 0, "MF-02": 1}

    program = {"code": "P-1", "name": "Сварка", "type": "SECTORAL", "hours": 72,
               "organization": C1, "competencies": ["MF-01"]}
    q = """mutation($p: ProgramInput!, $m: [ModuleInput!]!) {
      createProgram(input: $p) { status node { statusLabel } }
      bulkCreateModule(input: $m) { written errors { index field } } }"""
    modules = [{"program": "P-1", "number": i, "name": f"Модуль {i}", "hours": 36,
                "requirements": [{"equipmentType": "WELD-INV", "quantity": 1,
                                  "scope": "PER_GROUP"}]} for i in (1, 2)]
    data = api.data(q, {"p": program, "m": modules})
    assert data["createProgram"] == {"status": "CREATED", "node": {"statusLabel": "Черновик"}}
    assert data["bulkCreateModule"] == {"written": True, "errors": []}
    got = api.data('{ programs { nodes { modules { number requirements { scopeLabel '
                   'equipmentType { code } } } } } }')["programs"]["nodes"][0]["modules"]
    assert [m["number"] for m in got] == [1, 2]
    assert got[0]["requirements"] == [{"scopeLabel": "На группу",
                                       "equipmentType": {"code": "WELD-INV"}}]


def test_retired_items_keep_history_and_leave_default_lists(api, region, db):
    site = gid("Site", f"{C1}:M1")
    q = """mutation($id: ID!) { retireSite(id: $id) { status changedFields
      node { retiredAt createdAt } errors { message } } }"""
    payload = api.data(q, {"id": site})["retireSite"]
    assert payload["status"] == "RETIRED" and payload["node"]["retiredAt"]
    sites = '{ sites%s { totalCount nodes { uid retiredAt } } }'
    assert api.data(sites % "")["sites"]["totalCount"] == 1
    shown = api.data(sites % "(filter: {includeRetired: true})")["sites"]
    assert shown["totalCount"] == 2
    nested = '{ organizations(filter: {kind: COPP}) { nodes { sites%s { uid } } } }'
    assert api.data(nested % "")["organizations"]["nodes"][0]["sites"] == []
    assert len(api.data(nested % "(includeRetired: true)")["organizations"]["nodes"][0]
               ["sites"]) == 1
    # still reachable by id, and retiring twice changes nothing
    node = api.data('query($id: ID!) { node(id: $id) { ... on Site { name retiredAt } } }',
                    {"id": site})["node"]
    assert node["retiredAt"] == payload["node"]["retiredAt"]
    again = api.data(q, {"id": site})["retireSite"]
    assert again["node"]["retiredAt"] == payload["node"]["retiredAt"]
    # bulk retire is all or nothing
    bulk = """mutation($ids: [ID!]!) { bulkRetireOrganization(ids: $ids) { written
      errors { index field message } } }"""
    refused = api.data(bulk, {"ids": [gid("Organization", C2), gid("Organization", inn(77))]})
    assert refused["bulkRetireOrganization"]["errors"] == [
        {"index": 1, "field": "id", "message": "запись не найдена"}]
    records, _, _ = db.execute_query(
        "MATCH (o:Organization {uid: $u}) RETURN o.retiredAt AS r", u=C2)
    assert records[0]["r"] is None
