"""graph.ingest writes new rows grouped by their link targets (`fresh_cypher`) and the rest
through the compare-and-update statement; the audit takes an organization-owned record's
region from the owners the writer knows. Neither changes what is written or audited."""

from __future__ import annotations

import datetime as dt

import pytest

from graph import audit, writes
from graph.access import Principal
from graph.audit import REPLAY_CYPHER, as_audited, replay
from graph.errors import Conflict
from graph.ingest import ingest, prepare
from graph.registry import REGISTRIES
from graph.writes import run_plan, upsert
from tests.factories import inn, seed_region, write

OPERATOR = Principal("copp", "operator", region="52")


def _item(n: int, org: int = 1, **extra):
    return {"organization": inn(org), "inventory_number": f"ИНВ-{n:04d}", "type": "WELD-INV",
            "site": "M1", "quantity": 2, "status": "WORKING", "year": 2021, **extra}


def _second_region(db) -> None:
    rows = {
        "regions": [{"code": "77", "name": "Москва"}],
        "municipalities": [{"oktmo": "45000000", "name": "Москва", "region": "77"}],
        "organizations": [{"inn": inn(4), "name": "Московский колледж", "kind": "COLLEGE",
                           "region": "77", "municipality": "45000000"}],
        "sites": [{"organization": inn(4), "code": "M1", "name": "Мастерская",
                   "municipality": "45000000", "workplaces": 4}],
    }
    for name, items in rows.items():
        assert write(db, name, items).ok


def _stored(db) -> dict[str, dict]:
    records, _, _ = db.execute_query(
        "MATCH (e:Equipment) RETURN e.uid AS uid, properties(e) AS p, "
        "[(s:Site)-[:HAS_EQUIPMENT]->(e) | s.uid] AS sites, "
        "[(e)-[:OF_TYPE]->(t) | t.uid] AS types")
    return {r["uid"]: {**r["p"], "sites": r["sites"], "types": r["types"]} for r in records}


def _working(db) -> dict[tuple[str, str], int]:
    records, _, _ = db.execute_query(
        "MATCH (s:Site)-[k:STOCKS]->(t:EquipmentType) RETURN s.uid AS s, t.uid AS t, "
        "k.working AS w")
    return {(r["s"], r["t"]): r["w"] for r in records}


@pytest.fixture
def fresh_always(monkeypatch):
    """Rows not looked up are tried as new however few (a load's thousands are)."""
    monkeypatch.setattr(writes, "FRESH_MIN_ROWS", 1)


@pytest.mark.parametrize("principal", [None, OPERATOR], ids=["system", "operator"])
def test_new_changed_and_unchanged_rows_in_one_batch(db, principal, fresh_always):
    seed_region(db)
    assert write(db, "equipment", [_item(1), _item(2), _item(3, org=2)]).created == 3
    first = _stored(db)
    rows = [_item(1), _item(2, quantity=5), _item(4), _item(5, org=2, type="LATHE-CNC")]
    prepared = prepare(REGISTRIES["equipment"], rows)
    kwargs = {"principal": principal} if principal else {}
    with db.session() as session:
        report = session.execute_write(lambda tx: ingest(tx, prepared, **kwargs))
    assert report.ok, report.errors
    assert (report.created, report.updated, report.unchanged) == (2, 1, 1)
    assert [c["op"] for c in report.changes] == ["update", "create", "create"]
    stored = _stored(db)
    one, two, four, five = (f"{inn(o)}:ИНВ-{n:04d}" for o, n in
                            ((1, 1), (1, 2), (1, 4), (2, 5)))
    assert stored[one] == first[one]  # unchanged: not even its timestamp
    assert stored[two]["version"] == 2 and stored[two]["quantity"] == 5
    assert stored[two]["createdAt"] < stored[two]["updatedAt"]
    for uid in (four, five):
        assert stored[uid]["version"] == 1
        assert stored[uid]["createdAt"] == stored[uid]["updatedAt"]
    assert stored[four]["sites"] == [f"{inn(1)}:M1"] and stored[four]["types"] == ["WELD-INV"]
    assert stored[five]["sites"] == [f"{inn(2)}:M1"] and stored[five]["types"] == ["LATHE-CNC"]
    assert all(len(s["sites"]) == 1 and len(s["types"]) == 1 for s in stored.values())
    assert _working(db) == {(f"{inn(1)}:M1", "WELD-INV"): 2 + 5 + 2,
                            (f"{inn(2)}:M1", "WELD-INV"): 2,
                            (f"{inn(2)}:M1", "LATHE-CNC"): 2}
    for uid, props in stored.items():  # the audit replays to the graph
        entries = [r.data() for r in db.execute_query(
            REPLAY_CYPHER, label="Equipment", uid=uid).records]
        fields = REGISTRIES["equipment"].model.model_fields
        assert replay(entries) == {k: as_audited(v) for k, v in props.items() if k in fields}
    # a rerun changes nothing
    with db.session() as session:
        again = session.execute_write(lambda tx: ingest(tx, prepared, **kwargs))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert _stored(db) == stored


def test_audit_regions_are_the_owners_regions(db, fresh_always):
    seed_region(db)
    _second_region(db)
    report = write(db, "equipment", [_item(1), _item(2, org=4), _item(3, org=2)])
    assert report.created == 3
    records, _, _ = db.execute_query(
        "MATCH (s:ChangeSet {label: 'Equipment'}) RETURN s.uids AS uids, s.regions AS regions")
    [entry] = records
    assert dict(zip(entry["uids"], entry["regions"])) == {
        f"{inn(1)}:ИНВ-0001": "52", f"{inn(4)}:ИНВ-0002": "77", f"{inn(2)}:ИНВ-0003": "52"}
    # the per-node lookup (no owners given) records the same
    with db.session() as session:
        session.execute_write(lambda tx: run_plan(tx, audit.record_plan(
            "Equipment", report.changes, "t", "test", dt.datetime.now(dt.UTC))))
    records, _, _ = db.execute_query(
        "MATCH (s:ChangeSet {label: 'Equipment', source: 'test'}) "
        "RETURN s.uids AS uids, s.regions AS regions")
    assert dict(zip(records[0]["uids"], records[0]["regions"])) == dict(
        zip(entry["uids"], entry["regions"]))


def test_owners_only_for_organization_owned_registries():
    equipment, municipalities = REGISTRIES["equipment"], REGISTRIES["municipalities"]
    [(_, node)] = prepare(equipment, [_item(1)]).valid
    assert audit.owners_of(equipment, [node]) == {node.uid: inn(1)}
    [(_, place)] = prepare(municipalities, [
        {"oktmo": "22701000", "name": "г. Нижний Новгород", "region": "52"}]).valid
    assert audit.owners_of(municipalities, [place]) is None
    assert audit.owners_of(REGISTRIES["organizations"], []) is None


def test_a_new_row_whose_site_is_gone_is_refused_whole(db, fresh_always):
    seed_region(db)
    nodes = [n for _, n in prepare(REGISTRIES["equipment"],
                                   [_item(1), _item(2, site="GONE")]).valid]
    with db.session() as session, pytest.raises(Conflict):
        session.execute_write(lambda tx: upsert(tx, REGISTRIES["equipment"], nodes))
    assert _stored(db) == {}


def test_few_rows_not_looked_up_take_one_statement(db, monkeypatch):
    seed_region(db)
    write(db, "equipment", [_item(1)])
    queries: list[str] = []
    run = writes.run_plan

    def counted(tx, plan):
        class Tx:
            def run(self, query, params):
                queries.append(query)
                return tx.run(query, params)
        return run(Tx(), plan)

    monkeypatch.setattr("graph.ingest.run_plan", counted)
    report = write(db, "equipment", [_item(1), _item(2)])
    assert (report.created, report.unchanged) == (1, 1)
    assert writes.node_cypher("equipment") in queries
    assert writes.fresh_cypher("equipment") not in queries


def test_restored_rows_are_written_as_existing(db, fresh_always):
    seed_region(db)
    write(db, "equipment", [_item(1), _item(2)])
    uid = f"{inn(1)}:ИНВ-0001"
    with db.session() as session:
        session.execute_write(lambda tx: writes.retire(tx, REGISTRIES["equipment"], [uid]))
    prepared = prepare(REGISTRIES["equipment"], [_item(1, quantity=7), _item(3)])
    with db.session() as session:
        report = session.execute_write(lambda tx: ingest(tx, prepared, restore=True))
    assert (report.restored, report.created, report.updated) == (1, 1, 1)
    stored = _stored(db)
    assert stored[uid].get("retiredAt") is None and stored[uid]["quantity"] == 7
    assert stored[uid]["version"] == 4  # created, retired, restored, updated
    assert len(stored[uid]["sites"]) == 1 and len(stored[uid]["types"]) == 1
    records, _, _ = db.execute_query(
        "MATCH (s:ChangeSet {label: 'Equipment'}) UNWIND range(0, size(s.uids) - 1) AS i "
        "WITH s.uids[i] AS uid, s.ops[i] AS op, s.regions[i] AS region WHERE uid = $uid "
        "RETURN op, region ORDER BY op", uid=uid)
    # writes.retire itself is not audited
    assert [(r["op"], r["region"]) for r in records] == [
        ("create", "52"), ("restore", "52"), ("update", "52")]


@pytest.mark.parametrize("quantity", [2, 9], ids=["same", "changed"])
def test_a_record_created_after_the_rights_check_is_a_conflict(db, quantity):
    """The caller found the key absent (its rights were checked on a new record); another
    writer created it since: the write is refused whole, not turned into an update."""
    seed_region(db)
    write(db, "equipment", [_item(1)])
    before = _stored(db)
    nodes = [n for _, n in prepare(REGISTRIES["equipment"],
                                   [_item(1, quantity=quantity), _item(2)]).valid]
    with db.session() as session, pytest.raises(Conflict, match="создана другим запросом"):
        session.execute_write(lambda tx: run_plan(tx, writes.upsert_plan(
            REGISTRIES["equipment"], nodes, stored=())))
    assert _stored(db) == before
