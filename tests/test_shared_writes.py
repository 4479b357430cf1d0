"""Many writers, one hub: racing patches lose nothing and the audit replays to the graph;
optimistic concurrency; the audit and plans are scoped; the loader follows the same rules.
All through the served app or the CLI against the real Neo4j."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from graph.access import Principal
from graph.audit import REPLAY_CYPHER, as_audited, replay
from graph.checksums import inn_with_checksum
from graph.ingest import ingest, patch, prepare
from graph.registry import REGISTRIES
from hub import ledger
from hub.cli import main
from hub.settings import get_settings
from schema.core.ids import encode_id
from tests.factories import audit_trail, inn, seed_region, write_all
from tests.graphql_client import GraphQLClient, live_server, token_for

A, B, C = inn(2), inn(1), inn_with_checksum("770000010")
ITEM = f"{A}:RACE-1"
ITEM_ID = encode_id("Equipment", ITEM)
PATCH = """mutation($id: ID!, $patch: EquipmentPatch!, $v: Int) {
  updateEquipment(id: $id, patch: $patch, expectedVersion: $v) {
    status changedFields errors { field message } node { version } } }"""


def seed(driver: Any) -> None:
    seed_region(driver)
    write_all(driver, {
        "regions": [{"code": "77", "name": "Москва"}],
        "municipalities": [{"oktmo": "45000000", "name": "г. Москва", "region": "77"}],
        "organizations": [{"inn": C, "name": "Московский колледж", "kind": "ПОО",
                           "region": "77", "municipality": "45000000"}],
        "sites": [{"organization": A, "code": "M2", "name": "Вторая мастерская",
                   "municipality": "22721000", "workplaces": 4}],
        "equipment": [{"organization": A, "inventory_number": "RACE-1", "type": "WELD-INV",
                       "site": "M1", "quantity": 1, "name": "Инвертор", "year": 2000}],
    })


def stored_and_replayed(driver: Any, label: str, uid: str) -> tuple[dict, dict, list[int]]:
    """The node's model fields as stored, as replayed from the audit, and the versions."""
    registry = next(r for r in REGISTRIES.values() if r.label == label)
    [record] = driver.execute_query(
        f"MATCH (n:{label} {{uid: $uid}}) RETURN properties(n) AS p", uid=uid).records
    fields = set(registry.model.model_fields) | {"retiredAt"}
    stored = {k: as_audited(v) for k, v in record["p"].items() if k in fields}
    entries = [r.data() for r in driver.execute_query(REPLAY_CYPHER, label=label, uid=uid).records]
    replayed = {k: v for k, v in replay(entries).items() if k in fields}
    return stored, replayed, [e["version"] for e in entries]


def race(n: int, rounds: int, work: Callable[[int, int], None]) -> None:
    """n threads × rounds; each round starts together (a barrier)."""
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def client(i: int) -> None:
        try:
            for r in range(rounds):
                barrier.wait(30)
                work(i, r)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors


@pytest.fixture
def served(db, settings):
    seed(db)
    with live_server(settings) as url:
        yield db, url


# Eight clients, each its own field (two fields are shared by two clients each).
FIELDS: list[tuple[str, Callable[[int, int], Any]]] = [
    ("quantity", lambda i, r: 10 * r + i + 1),
    ("year", lambda i, r: 2001 + r),
    ("name", lambda i, r: f"Инвертор {r}-{i}"),
    ("status", lambda i, r: ["WORKING", "REPAIR"][r % 2]),
    ("site", lambda i, r: ["M1", "M2"][r % 2]),
    ("type", lambda i, r: ["WELD-INV", "LATHE-CNC"][r % 2]),
    ("quantity", lambda i, r: 10 * r + i + 1),
    ("name", lambda i, r: f"Инвертор {r}-{i}"),
]


def test_racing_patches_of_different_fields_lose_nothing_and_replay(served):
    driver, url = served
    clients = [GraphQLClient(url, token=token_for("registrar", organizations=[A]))
               for _ in FIELDS]
    written: dict[tuple[int, str], set[Any]] = {}
    lost: list[str] = []
    lock = threading.Lock()

    def work(i: int, r: int) -> None:
        field, value_of = FIELDS[i]
        value = value_of(i, r)
        data = clients[i].data(PATCH, {"id": ITEM_ID, "patch": {field: value}})
        assert data["updateEquipment"]["errors"] == [], data
        with lock:
            written.setdefault((r, field), set()).add(value)

    for r in range(10):
        race(len(FIELDS), 1, lambda i, _: work(i, r))
        [node] = driver.execute_query("MATCH (e:Equipment {uid: $u}) RETURN e {.*} AS e",
                                      u=ITEM).records
        for field in {f for f, _ in FIELDS}:
            if node["e"][field] not in written[(r, field)]:
                lost.append(f"round {r}: {field} = {node['e'][field]!r}, "
                            f"written {written[(r, field)]}")
    assert lost == []
    stored, replayed, versions = stored_and_replayed(driver, "Equipment", ITEM)
    assert replayed == stored
    assert versions == list(range(1, len(versions) + 1))  # one version per write, no gaps
    [stocks] = driver.execute_query(
        "MATCH (:Site)-[k:STOCKS]->(:EquipmentType) RETURN sum(k.working) AS w").records
    working = stored["quantity"] if stored["status"] == "WORKING" else 0
    assert stocks["w"] == working  # the derived stock followed every write


def test_racing_writes_of_the_same_field_end_with_the_last_audited_value(served):
    driver, url = served
    clients = [GraphQLClient(url, token=token_for("operator", region="52")) for _ in range(8)]
    upsert = """mutation($input: EquipmentInput!) { createEquipment(input: $input) {
      errors { message } } }"""

    def work(i: int, r: int) -> None:
        if i == 7:  # a full upsert of the record races the patches
            body = clients[i].data(upsert, {"input": {
                "organization": A, "inventoryNumber": "RACE-1", "type": "WELD-INV",
                "site": "M1", "quantity": 500 + r, "name": f"Полная запись {r}"}})
            assert body["createEquipment"]["errors"] == []
            return
        data = clients[i].data(PATCH, {"id": ITEM_ID, "patch": {"quantity": 100 * r + i + 1}})
        assert data["updateEquipment"]["errors"] == []

    race(8, 10, work)
    stored, replayed, versions = stored_and_replayed(driver, "Equipment", ITEM)
    assert replayed == stored
    assert versions == list(range(1, len(versions) + 1))
    last = audit_trail(driver, uid=ITEM)[0]  # newest first
    assert last["version"] == versions[-1]


def test_expected_version_refuses_a_stale_editor(served):
    driver, url = served
    client = GraphQLClient(url, token=token_for("registrar", organizations=[A]))
    read = client.data('query($id: ID!) { node(id: $id) { ... on Equipment { version } } }',
                       {"id": ITEM_ID})
    version = read["node"]["version"]
    assert version == 1
    ok = client.data(PATCH, {"id": ITEM_ID, "patch": {"quantity": 3}, "v": version})
    assert ok["updateEquipment"]["node"]["version"] == version + 1
    stale = client.execute(PATCH, {"id": ITEM_ID, "patch": {"quantity": 4}, "v": version})
    assert stale["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert "версия" in stale["errors"][0]["message"]
    [node] = driver.execute_query("MATCH (e:Equipment {uid: $u}) RETURN e.quantity AS q, "
                                  "e.version AS v", u=ITEM).records
    assert (node["q"], node["v"]) == (3, version + 1)


def test_a_patch_writes_only_the_named_fields(served):
    driver, url = served
    client = GraphQLClient(url, token=token_for("registrar", organizations=[A]))
    # another field changes behind the editor's back (say, a loader)
    driver.execute_query("MATCH (e:Equipment {uid: $u}) SET e.year = 2015", u=ITEM)
    data = client.data(PATCH, {"id": ITEM_ID, "patch": {"name": "Новое имя", "year": None}})
    assert sorted(data["updateEquipment"]["changedFields"]) == ["name", "year"]
    data = client.data(PATCH, {"id": ITEM_ID, "patch": {"quantity": 9}})
    assert data["updateEquipment"]["changedFields"] == ["quantity"]
    [node] = driver.execute_query("MATCH (e:Equipment {uid: $u}) RETURN e {.*} AS e",
                                  u=ITEM).records
    assert node["e"]["name"] == "Новое имя" and "year" not in node["e"]
    assert node["e"]["quantity"] == 9


CHANGES = '{ changes(first: 100) { nodes { uid label } } }'


def test_changes_are_scoped_to_the_operators_region(served):
    driver, url = served
    admin = GraphQLClient(url)
    admin.data("""mutation { updateOrganization(id: "%s", patch: {shortName: "МК"}) {
        errors { message } } }""" % encode_id("Organization", C))
    admin.data(PATCH, {"id": ITEM_ID, "patch": {"quantity": 2}})
    everything = {c["uid"] for c in admin.data(CHANGES)["changes"]["nodes"]}
    assert {ITEM, C} <= everything
    op52 = GraphQLClient(url, token=token_for("operator", region="52"))
    op77 = GraphQLClient(url, token=token_for("operator", region="77"))
    seen52 = {c["uid"] for c in op52.data(CHANGES)["changes"]["nodes"]}
    seen77 = {c["uid"] for c in op77.data(CHANGES)["changes"]["nodes"]}
    assert ITEM in seen52 and C not in seen52 and A in seen52
    assert seen77 == {C, "77", "45000000"}
    by_uid = '{ changes(filter: {uid: "%s"}) { nodes { uid } } }' % ITEM
    assert op77.data(by_uid)["changes"]["nodes"] == []
    assert len(op52.data(by_uid)["changes"]["nodes"]) == 2
    body = GraphQLClient(url, token=token_for("viewer")).execute(CHANGES)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_a_registrar_cannot_move_its_organization_to_another_region(served):
    driver, url = served
    client = GraphQLClient(url, token=token_for("registrar", organizations=[A]))
    body = client.data("""mutation { updateOrganization(id: "%s",
        patch: {region: "77", municipality: "45000000"}) { status errors { message } } }"""
                       % encode_id("Organization", A))
    assert body["updateOrganization"]["status"] is None
    assert "регион" in body["updateOrganization"]["errors"][0]["message"]
    [org] = driver.execute_query("MATCH (o:Organization {uid: $u}) RETURN o.region AS r",
                                 u=A).records
    assert org["r"] == "52"


def test_hub_load_as_cannot_take_cohorts_or_learners_of_another_college(db, tmp_path, capsys):
    seed(db)
    write_all(db, {
        "programs": [{"code": "PB", "name": "Программа Б", "type": "EMPLOYER_ORDERED",
                      "hours": 16, "organization": B}],
        "cohorts": [{"program": "PB", "code": "G1", "organization": B,
                     "starts_on": "2025-03-01", "ends_on": "2025-06-30", "seats": 10}],
        "learners": [{"external_id": "LB", "category": "EMPLOYED", "region": "52"}],
        "enrollments": [{"program": "PB", "cohort": "G1", "learner": "LB"}],
    })
    name = "college-a-loader"
    ledger.create_account(get_settings().ledger_url, name, "registrar", organizations=[A])
    cohorts, learners = tmp_path / "cohorts.csv", tmp_path / "learners.csv"
    cohorts.write_text("program,code,organization,starts_on,ends_on,seats\n"
                       f"PB,G1,{A},2025-03-01,2025-06-30,10\n", encoding="utf-8")
    learners.write_text("external_id,category,region\nLB,UNEMPLOYED,52\nLA,EMPLOYED,52\n",
                        encoding="utf-8")
    before = db.execute_query("MATCH (n) WHERE n:Cohort OR n:Learner "
                              "RETURN collect(n {.*}) AS all").records[0]["all"]
    assert main(["load", "cohorts", str(cohorts), "--as", name]) == 1
    assert "другой организации" in capsys.readouterr().out
    assert main(["load", "learners", str(learners), "--as", name]) == 1
    assert "других организаций" in capsys.readouterr().out
    after = db.execute_query("MATCH (n) WHERE n:Cohort OR n:Learner "
                             "RETURN collect(n {.*}) AS all").records[0]["all"]
    assert after == before  # nothing of either file was written


PLAN_PROGRAM = {"code": "PA", "name": "Сетевая программа", "type": "EMPLOYER_ORDERED",
                "hours": 16, "organization": A}


def test_network_plans_are_written_only_in_the_home_organizations_region(served):
    driver, url = served
    write_all(driver, {"programs": [PLAN_PROGRAM],
                       "modules": [{"program": "PA", "number": 1, "name": "Модуль",
                                    "hours": 8}]})
    save = ('mutation($home: String!) { saveNetworkPlan(program: "PA", cohortSize: 4, '
            'homeOrganization: $home) { plan { uid } errors { message } } }')
    status = ('mutation($uid: String!) { setNetworkPlanStatus(uid: $uid, status: AGREED) '
              '{ plan { status } errors { message } } }')
    op52 = GraphQLClient(url, token=token_for("operator", region="52"))
    op77 = GraphQLClient(url, token=token_for("operator", region="77"))
    registrar = GraphQLClient(url, token=token_for("registrar", organizations=[A]))
    uid = op52.data(save, {"home": A})["saveNetworkPlan"]["plan"]["uid"]
    for client, home in ((op77, A), (registrar, B)):
        body = client.execute(save, {"home": home})
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    body = op77.execute(status, {"uid": uid})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    [plan] = driver.execute_query("MATCH (p:NetworkPlan {uid: $u}) RETURN p.status AS s",
                                  u=uid).records
    assert plan["s"] == "DRAFT"
    assert registrar.data(save, {"home": A})["saveNetworkPlan"]["plan"]["uid"] == uid


def test_program_approval_only_through_the_expert_review(served):
    driver, url = served
    write_all(driver, {"programs": [PLAN_PROGRAM]})
    program = encode_id("Program", "PA")
    update = ('mutation($id: ID!, $s: ProgramStatus!) { updateProgram(id: $id, '
              'patch: {status: $s}) { status errors { message } } }')
    for token in (token_for("registrar", organizations=[A]), token_for("operator", region="52")):
        client = GraphQLClient(url, token=token)
        for status in ("REVIEW", "APPROVED"):
            refused = client.data(update, {"id": program, "s": status})["updateProgram"]
            assert refused["status"] is None and "экспертиз" in refused["errors"][0]["message"]
        created = client.data("""mutation { createProgram(input: {code: "PX", name: "Быстрая",
            type: EMPLOYER_ORDERED, hours: 16, organization: "%s", status: APPROVED}) {
            status errors { message } } }""" % A)["createProgram"]
        assert created["status"] is None
    [p] = driver.execute_query("MATCH (p:Program) RETURN collect(p.status) AS s").records
    assert p["s"] == ["DRAFT"]
    # other statuses stay the owner's to set
    registrar = GraphQLClient(url, token=token_for("registrar", organizations=[A]))
    assert registrar.data(update, {"id": program, "s": "ARCHIVED"})["updateProgram"][
        "status"] == "UPDATED"


def test_a_writer_that_waited_for_a_lock_is_audited_after_the_holder(db):
    """The writer that waited takes its time once it holds the lock, so the audit's time order
    is its version order: newest first, the last version, even when the waiter started first."""
    seed(db)
    registry = REGISTRIES["equipment"]
    operator = Principal("op52", "operator", region="52")
    full = prepare(registry, [{"organization": A, "inventory_number": "RACE-1",
                               "type": "WELD-INV", "site": "M1", "quantity": 7,
                               "name": "Полная запись"}])
    with db.session() as holder_session:
        holder = holder_session.begin_transaction()
        holder.run("MATCH (e:Equipment {uid: $u}) SET e._lock = true REMOVE e._lock",
                   u=ITEM).consume()
        done: list[Any] = []

        def wait_and_write() -> None:
            with db.session() as session:
                done.append(session.execute_write(lambda tx: ingest(tx, full,
                                                                    principal=operator)))

        waiter = threading.Thread(target=wait_and_write)
        waiter.start()  # starts now, then waits for the holder's lock
        waiter.join(1.0)
        assert waiter.is_alive() and not done
        assert patch(holder, registry, ITEM, {"quantity": 3}, principal=operator).written
        holder.commit()
    waiter.join(30)
    assert done and done[0].written
    versions = [c["version"] for c in audit_trail(db, uid=ITEM)]  # newest first
    assert versions == [3, 2, 1]
