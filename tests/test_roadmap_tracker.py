"""A region's roadmap in the graph: init, re-init keeps the region's edits, overdue, slot KPIs."""

import datetime as dt

import pytest

from graph.errors import NotFound
from graph.kpi import KPI_KEYS, fetch_dashboard, parse_period
from graph.roadmap import (
    SLOT_KPIS,
    RoadmapError,
    init_roadmap,
    load_template,
    update_roadmap,
)
from tests.factories import seed_activities, seed_region


def _count(db, label):
    records, _, _ = db.execute_query(f"MATCH (n:{label} {{region: '52'}}) RETURN count(n) AS n")
    return records[0]["n"]


def _patch(db, registry, key, patch):
    with db.session() as s:
        return s.execute_write(lambda tx: update_roadmap(tx, registry, key, patch))


def test_bindings_cover_known_kpis():
    roadmap = load_template()
    slots = {(a.number, s.index) for a in roadmap.activities for s in a.slots}
    assert set(SLOT_KPIS) <= slots
    assert set(SLOT_KPIS.values()) <= set(KPI_KEYS)
    assert (len(SLOT_KPIS), len(slots)) == (24, 27)
    assert SLOT_KPIS[(33, 1)] == "programsConstructed.EMPLOYER_ORDERED"
    assert SLOT_KPIS[(42, 2)] == "peopleTrainedCopp.FUTURE_COMPETENCIES"


def test_init_creates_roadmap_and_is_idempotent(db):
    seed_region(db)
    counts = init_roadmap(db, "52", horizon=dt.date(2021, 12, 31))
    # 9 quarterly activities × 8 points (2020-03-31 … 2021-12-31), 12 annual: 2019..2021 (3)
    assert counts == {"roadmap_activities": 66, "control_points": 66 - 10 + 9 * 8 + 3,
                      "indicator_slots": 27}
    assert (_count(db, "RoadmapActivity"), _count(db, "ControlPoint"),
            _count(db, "IndicatorSlot")) == (66, 131, 27)
    records, _, _ = db.execute_query(
        "MATCH (a:RoadmapActivity {uid: '52:33'})-[:IN_REGION]->(r:Region) "
        "MATCH (a)<-[:SLOT_OF]-(s:IndicatorSlot) MATCH (a)<-[:CONTROL_POINT_OF]-(c) "
        "RETURN r.uid AS r, s.kpi AS kpi, count(c) AS points")
    assert dict(records[0]) == {"r": "52", "kpi": "programsConstructed.EMPLOYER_ORDERED",
                                "points": 8}
    _patch(db, "roadmap_activities", {"region": "52", "number": 33},
           {"status": "IN_PROGRESS", "notes": "идет работа", "evidence": ["https://x.ru/1"]})
    _patch(db, "indicator_slots", {"region": "52", "activity": 33, "index": 1}, {"target": 12})
    again = init_roadmap(db, "52", horizon=dt.date(2021, 12, 31))
    assert again == counts
    records, _, _ = db.execute_query(
        "MATCH (a:RoadmapActivity {uid: '52:33'}), (s:IndicatorSlot {uid: '52:33:1'}) "
        "RETURN a.status AS st, a.notes AS n, a.evidence AS ev, s.target AS t")
    assert dict(records[0]) == {"st": "IN_PROGRESS", "n": "идет работа",
                                "ev": ["https://x.ru/1"], "t": 12}
    assert _count(db, "ControlPoint") == 131


def test_init_needs_the_region(db):
    with pytest.raises(RoadmapError, match="регион 99 не найден"):
        init_roadmap(db, "99")
    assert _count(db, "RoadmapActivity") == 0


def test_patch_refuses_unknown_and_bad_values(db):
    seed_region(db)
    init_roadmap(db, "52", horizon=dt.date(2020, 12, 31))
    with pytest.raises(NotFound, match="Мероприятие 99 дорожной карты региона 52 не найдено"):
        _patch(db, "roadmap_activities", {"region": "52", "number": 99}, {"status": "DONE"})
    with pytest.raises(RoadmapError, match="title"):
        _patch(db, "roadmap_activities", {"region": "52", "number": 1}, {"title": "x"})
    report = _patch(db, "indicator_slots", {"region": "52", "activity": 23, "index": 1},
                    {"target": -1})
    assert not report.written and report.errors[0].field == "target"
    report = _patch(db, "roadmap_activities", {"region": "52", "number": 1},
                    {"status": "Выполнено"})
    assert report.written and report.updated == 1


def test_overdue_as_of_dates(db):
    seed_region(db)
    init_roadmap(db, "52", horizon=dt.date(2021, 12, 31))
    period = parse_period("2020")

    def overdue(as_of):
        board = fetch_dashboard(db, "52", period, as_of=as_of, parts=("roadmap",))
        return {a.number: a for a in board.roadmap if a.overdue}

    assert overdue(dt.date(2019, 8, 25)) == {}  # due that day: not late yet
    assert set(overdue(dt.date(2019, 8, 26))) == {1}
    late = overdue(dt.date(2020, 4, 1))
    assert {6, 29, 36, 12, 22, 23} <= set(late) and 37 not in late
    assert late[6].overdue_points == (dt.date(2020, 3, 31),)
    _patch(db, "roadmap_activities", {"region": "52", "number": 1}, {"status": "DONE"})
    _patch(db, "control_points", {"region": "52", "activity": 6, "due_on": "2020-03-31"},
           {"done_on": "2020-03-30"})
    late = overdue(dt.date(2020, 7, 1))
    assert 1 not in late
    assert late[6].overdue_points == (dt.date(2020, 6, 30),)
    assert late[6].next_due == dt.date(2020, 9, 30)
    everything = overdue(dt.date(2030, 1, 1))
    assert len(everything) == 65


def test_slots_show_target_and_live_actual(db):
    seed_activities(db)
    init_roadmap(db, "52", horizon=dt.date(2026, 12, 31))
    _patch(db, "indicator_slots", {"region": "52", "activity": 33, "index": 1}, {"target": 3})
    board = fetch_dashboard(db, "52", parse_period("2025"), as_of=dt.date(2025, 6, 1))
    acts = {a.number: a for a in board.roadmap}
    s33 = acts[33].slots[0]
    assert (s33.target, s33.kpi, s33.actual) == (3, "programsConstructed.EMPLOYER_ORDERED", 1)
    assert [(s.kpi, s.actual) for s in acts[39].slots] == [
        ("programsImplementedCopp.EMPLOYER_ORDERED", 1), ("peopleTrainedCopp.EMPLOYER_ORDERED", 2)]
    assert [s.actual for s in acts[59].slots + acts[60].slots + acts[61].slots] == [2, 12, 8]
    # slot 25 counts trainings given by the ЦОПП network: the ЦОПП staff's have no provider
    assert acts[23].slots[0].actual == 2 and acts[25].slots[0].actual == 0
    assert acts[30].slots[0].kpi is None and acts[30].slots[0].actual is None
    bound = sum(1 for a in board.roadmap for s in a.slots if s.kpi)
    assert bound == 24
