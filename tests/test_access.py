"""Authorization and audit inside graph.ingest, against the real Neo4j."""

import pytest

from graph.access import Principal
from graph.ingest import ingest, prepare
from graph.registry import REGISTRIES
from tests.factories import audit_trail, inn, seed_region


def _write(driver, registry, rows, principal):
    prepared = prepare(REGISTRIES[registry], rows)
    with driver.session() as session:
        return session.execute_write(lambda tx: ingest(tx, prepared, principal=principal))


def _site(org, code="S9"):
    return {"organization": org, "code": code, "name": "Новая мастерская",
            "municipality": "22701000", "workplaces": 5}


REGISTRAR = Principal("college", "registrar", organizations=frozenset({inn(2)}))
OPERATOR = Principal("copp", "operator", region="52")
OTHER_OPERATOR = Principal("copp77", "operator", region="77")

CASES = [
    (REGISTRAR, "sites", lambda: _site(inn(2)), True),
    (REGISTRAR, "sites", lambda: _site(inn(1)), False),
    (REGISTRAR, "equipment_types", lambda: {"code": "NEW", "name": "Новый тип"}, False),
    (REGISTRAR, "organizations", lambda: {"inn": inn(2), "name": "Колледж (новое имя)",
                                          "kind": "COLLEGE", "region": "52"}, True),
    (REGISTRAR, "organizations", lambda: {"inn": inn(3), "name": "Чужой завод",
                                          "kind": "EMPLOYER", "region": "52"}, False),
    (OPERATOR, "sites", lambda: _site(inn(1)), True),
    (OPERATOR, "equipment_types", lambda: {"code": "NEW", "name": "Новый тип"}, True),
    (OTHER_OPERATOR, "sites", lambda: _site(inn(1)), False),
    (OTHER_OPERATOR, "organizations", lambda: {"inn": inn(9), "name": "Новая", "kind": "OTHER",
                                               "region": "52"}, False),
    (Principal("plan", "planner"), "sites", lambda: _site(inn(1)), False),
    (Principal("view", "viewer"), "equipment_types", lambda: {"code": "N", "name": "Т"}, False),
]


def _graph_state(driver):
    records, _, _ = driver.execute_query(
        "MATCH (n) WHERE NOT n:HubSchema RETURN count(n) AS n, "
        "collect(DISTINCT coalesce(n.name, '')) AS names")
    return records[0]["n"], sorted(records[0]["names"])


@pytest.mark.parametrize("principal,registry,row,allowed", CASES,
                         ids=[f"{c[0].name}-{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_write_rights(db, principal, registry, row, allowed):
    seed_region(db)
    before = _graph_state(db)
    report = _write(db, registry, [row()], principal)
    assert report.written is allowed, report.errors
    if not allowed:
        assert report.errors and _graph_state(db) == before
    else:
        changes = [c for c in audit_trail(db) if c["actor"] != "system"]
        assert [(c["actor"], c["label"]) for c in changes] == [
            (principal.name, REGISTRIES[registry].label)]


def test_audit_records_before_and_after(db):
    seed_region(db)
    _write(db, "sites", [_site(inn(2))], REGISTRAR)
    changed = dict(_site(inn(2)), workplaces=7)
    _write(db, "sites", [changed], REGISTRAR)
    _write(db, "sites", [changed], REGISTRAR)  # unchanged: no record
    update, create = audit_trail(db, uid=f"{inn(2)}:S9")
    assert (create["op"], update["op"]) == ("create", "update")
    assert create["before"] == "" and '"workplaces": 5' in create["after"]
    assert update["fields"] == '["workplaces"]'
    assert (update["before"], update["after"]) == ('{"workplaces": 5}', '{"workplaces": 7}')


def test_change_and_audit_commit_together_or_not_at_all(db):
    seed_region(db)
    prepared = prepare(REGISTRIES["sites"], [_site(inn(2))])

    def failing(tx):
        report = ingest(tx, prepared, principal=REGISTRAR)
        assert report.written
        assert [c["uid"] for c in audit_trail(tx, uid=f"{inn(2)}:S9", actor="college")] == [
            f"{inn(2)}:S9"]
        raise RuntimeError("boom after the change statement")

    with db.session() as session, pytest.raises(RuntimeError, match="boom"):
        session.execute_write(failing)
    records, _, _ = db.execute_query(
        "OPTIONAL MATCH (s:Site {uid: $uid}) OPTIONAL MATCH (c:ChangeSet {actor: 'college'}) "
        "RETURN count(s) AS s, count(c) AS c", uid=f"{inn(2)}:S9")
    assert (records[0]["s"], records[0]["c"]) == (0, 0)
