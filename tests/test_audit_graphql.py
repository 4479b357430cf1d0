"""The audit trail through GraphQL: writes by GraphQL and by the loader are listed with actor,
op and fields before → after; filters; keyset pages newest first; admin/operator only."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from hub import ledger
from hub.cli import main
from hub.settings import get_settings
from schema.core.ids import encode_id
from tests.factories import inn, seed_region
from tests.graphql_client import GraphQLClient, live_server, token_for

CHANGES = """
query($filter: ChangeFilter, $first: Int! = 50, $after: String) {
  changes(filter: $filter, first: $first, after: $after) {
    items { id at actor source label uid op fields { field before after } }
    endCursor hasNextPage
  }
}"""


@pytest.fixture
def api(db, settings):
    seed_region(db)
    with live_server(settings) as url:
        yield db, url


def _changes(client: GraphQLClient, **filter_: object) -> list[dict]:
    return client.data(CHANGES, {"filter": filter_ or None})["changes"]["items"]


def test_graphql_and_loader_writes_are_audited(api, tmp_path):
    _, url = api
    admin = GraphQLClient(url)
    operator_name = f"op52-{dt.datetime.now().timestamp()}"
    ledger.create_account(get_settings().ledger_url, operator_name, "operator", region="52")
    operator = GraphQLClient(url, token=ledger.issue_token(get_settings().ledger_url,
                                                           operator_name).secret)
    college = inn(2)
    uid = f"{college}:L-9"
    started = dt.datetime.now(dt.UTC)

    created = operator.data(
        'mutation($i: EquipmentInput!) { createEquipment(input: $i) { status } }',
        {"i": {"organization": college, "inventoryNumber": "L-9", "type": "LATHE-CNC",
               "site": "M1", "quantity": 2}})
    assert created["createEquipment"]["status"] == "CREATED"
    gid = encode_id("Equipment", uid)
    admin.data('mutation($id: ID!) { updateEquipment(id: $id, patch: {quantity: 5, '
               'status: BROKEN}) { status } }', {"id": gid})
    admin.data('mutation($id: ID!) { retireEquipment(id: $id) { status } }', {"id": gid})

    csv = tmp_path / "sites.csv"
    csv.write_text("organization,code,name,municipality,workplaces\n"
                   f"{college},M7,Лаборатория,22721000,6\n", encoding="utf-8")
    assert main(["load", "sites", str(csv), "--as", operator_name]) == 0

    trail = _changes(admin, uid=uid)
    assert [c["op"] for c in trail] == ["RETIRE", "UPDATE", "CREATE"]  # newest first
    retire, update, create = trail
    actor_of = {c["op"]: c["actor"] for c in trail}
    assert actor_of["CREATE"] == operator_name and actor_of["UPDATE"].startswith("test-admin")
    assert {c["source"] for c in trail} == {"graphql"}
    assert all(c["label"] == "Equipment" for c in trail)
    assert dt.datetime.fromisoformat(create["at"]) >= started - dt.timedelta(seconds=1)
    assert {f["field"]: (f["before"], f["after"]) for f in update["fields"]} == {
        "quantity": ("2", "5"), "status": ('"WORKING"', '"BROKEN"')}
    created_fields = {f["field"]: f for f in create["fields"]}
    assert json.loads(created_fields["quantity"]["after"]) == 2
    assert created_fields["quantity"]["before"] is None
    assert [f["field"] for f in retire["fields"]] == ["retiredAt"]
    assert retire["fields"][0]["before"] == "null"
    assert dt.datetime.fromisoformat(json.loads(retire["fields"][0]["after"])) >= started

    loaded = _changes(admin, source="load:sites.csv")
    assert [(c["uid"], c["op"], c["actor"], c["label"]) for c in loaded] == [
        (f"{college}:M7", "CREATE", operator_name, "Site")]
    assert {f["field"] for f in loaded[0]["fields"]} >= {"name", "workplaces"}

    # filters combine; the operator (its region) reads the trail too
    assert [c["uid"] for c in _changes(operator, actor=operator_name, label="Site")] == [
        f"{college}:M7"]
    assert [c["op"] for c in _changes(admin, uid=uid, op="UPDATE")] == ["UPDATE"]
    assert _changes(admin, uid=uid, until=started.isoformat()) == []
    assert len(_changes(admin, uid=uid, since=started.isoformat())) == 3
    assert _changes(admin, actor="nobody") == []
    # seeding (graph.ingest without an account) is recorded as the system
    assert {c["actor"] for c in _changes(admin, label="Region")} == {"system"}


def test_pages_newest_first_without_gaps(api):
    _, url = api
    admin = GraphQLClient(url)
    everything = admin.data(CHANGES, {"first": 100})["changes"]
    assert not everything["hasNextPage"]
    all_ids = [c["id"] for c in everything["items"]]
    assert len(all_ids) == 12  # seed_region: 1 + 2 + 3 + 2 + 2 + 2 creates
    stamps = [c["at"] for c in everything["items"]]
    assert stamps == sorted(stamps, reverse=True)

    seen, after, pages = [], None, 0
    while True:
        page = admin.data(CHANGES, {"first": 4, "after": after})["changes"]
        seen += [c["id"] for c in page["items"]]
        pages += 1
        if not page["hasNextPage"]:
            break
        after = page["endCursor"]
    assert seen == all_ids and pages == 3
    bad = admin.execute(CHANGES, {"after": "not-a-cursor"})
    assert bad["errors"][0]["extensions"]["code"] == "BAD_CURSOR"


@pytest.mark.parametrize("role,kwargs,code", [
    ("viewer", {}, "FORBIDDEN"),
    ("planner", {}, "FORBIDDEN"),
    ("registrar", {"organizations": [inn(2)]}, "FORBIDDEN"),
    (None, {}, "UNAUTHENTICATED"),
])
def test_only_admin_and_operator_read_the_trail(api, role, kwargs, code):
    _, url = api
    client = GraphQLClient(url, token=token_for(role, **kwargs) if role else None)
    body = client.execute(CHANGES, {})
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == code
    assert "администратору и оператору" in body["errors"][0]["message"] or code != "FORBIDDEN"
    # hidden inside a fragment on the root type: refused too
    body = client.execute("query { ...F } fragment F on Query { changes { items { uid } } }")
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == code
