"""The audit trail through GraphQL: writes by GraphQL and by the loader are listed with actor,
op and fields before → after; filters; keyset pages newest first; admin/operator only."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from graph import audit
from graph.audit_reads import changes_query
from graph.migrations import SCHEMA_VERSION, applied_version_cypher, migrate
from graph.writes import run_plan
from hub import ledger
from hub.cli import main
from hub.settings import get_settings
from schema.core.ids import encode_id
from tests.factories import inn, plan_operators, seed_region
from tests.graphql_client import GraphQLClient, live_server, token_for

CHANGES = """
query($filter: ChangeFilter, $first: Int! = 50, $after: String) {
  changes(filter: $filter, first: $first, after: $after) {
    nodes { id at actor source label uid op fields { field before after } }
    pageInfo { endCursor hasNextPage }
  }
}"""


@pytest.fixture
def api(db, settings):
    seed_region(db)
    with live_server(settings) as url:
        yield db, url


def _changes(client: GraphQLClient, **filter_: object) -> list[dict]:
    return client.data(CHANGES, {"filter": filter_ or None})["changes"]["nodes"]


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
    assert not everything["pageInfo"]["hasNextPage"]
    all_ids = [c["id"] for c in everything["nodes"]]
    assert len(all_ids) == 12  # seed_region: 1 + 2 + 3 + 2 + 2 + 2 creates
    stamps = [c["at"] for c in everything["nodes"]]
    assert stamps == sorted(stamps, reverse=True)

    seen, after, pages = [], None, 0
    while True:
        page = admin.data(CHANGES, {"first": 4, "after": after})["changes"]
        seen += [c["id"] for c in page["nodes"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
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
    body = client.execute("query { ...F } fragment F on Query { changes { nodes { uid } } }")
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == code


@pytest.mark.parametrize("filters", [
    {}, {"op": "create"}, {"source": "api"}, {"label": "Site"}, {"actor": "system"},
    {"since": dt.datetime(2020, 1, 1, tzinfo=dt.UTC), "until": dt.datetime(2100, 1, 1,
                                                                          tzinfo=dt.UTC)},
    {"uid": "x"}, {"uid": "x", "op": "update", "label": "Site"},
])
def test_a_page_seeks_instead_of_scanning_and_sorting_the_log(api, filters):
    db, _ = api
    cypher, params = changes_query(**filters, after=(dt.datetime.now(dt.UTC), "z", 3))
    plan = db.execute_query("EXPLAIN " + cypher, params).summary.plan
    ops = {op for op, _ in plan_operators(plan)}
    assert not ops & {"NodeByLabelScan", "AllNodesScan"}, ops
    if "uid" in filters:  # the sets that mention the uid, from the full-text index
        assert "ProcedureCall" in ops
    else:  # down the `at` index; only the entries of equal (at, set) are sorted
        assert ops & {"NodeIndexScan", "NodeIndexSeekByRange"} and "Sort" not in ops, ops
        assert "Top" not in ops and "PartialTop" in ops, ops


def test_uids_are_matched_exactly(api):
    db, url = api
    odd = ['5260000001:a b', '5260000001:a', 'b', 'x:"q"\\', '5260000001:a/1-2']
    now = dt.datetime.now(dt.UTC)
    with db.session() as session:
        session.execute_write(lambda tx: run_plan(tx, audit.record_plan(
            "Equipment", [{"uid": u, "op": "create", "fields": ["quantity"],
                           "after": {"quantity": i}} for i, u in enumerate(odd)],
            "system", "api", now)))
    admin = GraphQLClient(url)
    for i, uid in enumerate(odd):
        found = _changes(admin, uid=uid)
        assert [(c["uid"], c["fields"][0]["after"]) for c in found] == [(uid, str(i))]
    assert _changes(admin, uid="5260000001:a b c") == _changes(admin, uid="a") == []


OLD_SCHEMA = ["CREATE CONSTRAINT change_id IF NOT EXISTS FOR (c:Change) REQUIRE c.id IS UNIQUE",
              *(f"CREATE INDEX change_{p} IF NOT EXISTS FOR (c:Change) ON (c.{p})"
                for p in ("at", "uid", "actor", "label"))]


def test_migrate_turns_old_change_nodes_into_change_sets(api, settings):
    db, url = api
    for stmt in OLD_SCHEMA:
        db.execute_query(stmt)
    t1 = dt.datetime(2024, 3, 1, 10, 0, tzinfo=dt.UTC)
    t2 = t1 + dt.timedelta(hours=1)
    odd = 'x:"a b"\\'
    old = [  # schema version 1: one Change per row; two writes of t1 (two actors), one of t2
        ("c1", t1, "copp", "graphql", "L-1", "create", ["quantity", "site"], None,
         '{"quantity": 2, "site": "M1"}'),
        ("c2", t1, "copp", "graphql", odd, "create", ["quantity"], None, '{"quantity": 1}'),
        ("c3", t1, "college", "load:e.csv", "L-2", "create", ["quantity"], None,
         '{"quantity": 3}'),
        ("c4", t2, "copp", "graphql", "L-1", "update", ["quantity"], '{"quantity": 2}',
         '{"quantity": 5}'),
    ]
    db.execute_query(
        "UNWIND $rows AS r CREATE (:Change {id: r[0], at: r[1], actor: r[2], source: r[3], "
        "label: 'Equipment', uid: r[4], op: r[5], fields: r[6], before: r[7], after: r[8]})",
        rows=[list(r) for r in old])
    db.execute_query("MATCH (s:HubSchema {id: 'graph'}) SET s.version = 1")

    migrate(db, database=settings.neo4j_database)
    sets = db.execute_query("MATCH (s:ChangeSet {label: 'Equipment'}) "
                            "RETURN s.id AS id, s.uids AS uids ORDER BY s.at, s.actor").records
    assert [r["uids"] for r in sets] == [["L-2"], ["L-1", odd], ["L-1"]]
    left = db.execute_query("MATCH (c:Change) RETURN count(c) AS n").records[0]["n"]
    version = db.execute_query(applied_version_cypher()).records[0]["version"]
    assert left == 0 and version == SCHEMA_VERSION
    names = {r["name"] for r in db.execute_query("SHOW INDEXES YIELD name").records}
    assert not {n for n in names if n.startswith("change_")}
    assert {"changeset_id", "changeset_at", "changeset_keys"} <= names
    migrate(db, database=settings.neo4j_database)  # idempotent: nothing left to convert
    assert db.execute_query("MATCH (s:ChangeSet {label: 'Equipment'}) RETURN s.id AS id, "
                            "s.uids AS uids ORDER BY s.at, s.actor").records == sets

    admin = GraphQLClient(url)
    trail = _changes(admin, label="Equipment")
    rows = [(c["uid"], c["op"], c["actor"], c["source"]) for c in trail]
    assert rows[0] == ("L-1", "UPDATE", "copp", "graphql")
    copp = [(odd, "CREATE", "copp", "graphql"), ("L-1", "CREATE", "copp", "graphql")]
    college = [("L-2", "CREATE", "college", "load:e.csv")]
    assert rows[1:] in (copp + college, college + copp)  # two sets of t1: by set id
    assert [c["op"] for c in _changes(admin, uid="L-1")] == ["UPDATE", "CREATE"]
    update, create = _changes(admin, uid="L-1")
    assert dt.datetime.fromisoformat(update["at"]) == t2
    assert [(f["field"], f["before"], f["after"]) for f in update["fields"]] == [
        ("quantity", "2", "5")]
    assert [(f["field"], f["before"], f["after"]) for f in create["fields"]] == [
        ("quantity", None, "2"), ("site", None, '"M1"')]
    assert [c["uid"] for c in _changes(admin, uid=odd)] == [odd]
