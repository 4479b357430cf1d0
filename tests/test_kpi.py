"""KPIs, the supply × demand matrix and the learner portfolio on a hand-built region
(tests/factories.activity_rows) where every figure is known; one round trip each."""

import datetime as dt

import pytest

from graph.kpi import (
    KPI_KEYS,
    PeriodError,
    dashboard_cypher,
    dashboard_params,
    fetch_dashboard,
    fetch_portfolio,
    parse_period,
    windows,
)
from graph.access import SYSTEM
from graph.ingest import retire_plan_checked
from graph.registry import REGISTRIES
from graph.writes import run_plan
from tests.factories import inn, seed_activities, write

Y2025 = parse_period("2025")


@pytest.fixture
def region(db):
    seed_activities(db)
    return db


def _values(board, key):
    k = board.kpis[key]
    return k.value, k.previous


def test_periods():
    assert parse_period("2025-Q2").start == dt.date(2025, 4, 1)
    assert parse_period("2025q4").end == dt.date(2025, 12, 31)
    assert parse_period("2025").previous().label == "2024"
    assert parse_period("2025-Q1").previous().label == "2024-Q4"
    assert parse_period("2025-03").previous().label == "2025-02"
    odd = parse_period("2025-01-10..2025-01-19")
    assert (odd.previous().start, odd.previous().end) == (dt.date(2024, 12, 31), dt.date(2025, 1, 9))
    keys = [w["key"] for w in windows(Y2025)]
    assert keys == ["current", "previous", "2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4",
                    "2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"]
    for bad in ("2025-13", "прошлый год", "2025-02-30..2025-03-01"):
        with pytest.raises(PeriodError):
            parse_period(bad)


def test_kpis_of_a_known_region(region):
    board = fetch_dashboard(region, "52", Y2025, parts=("kpis",))
    assert set(board.kpis) == set(KPI_KEYS)
    expected = {
        # enrollments dated by the cohort's start (no enrolled_on): 2025 — L1, L2, L3 (P-EMP1),
        # L1, L4 (P-SPO), L6 (P-PRE); 2024 — L5, L6 (P-EMP2)
        "enrollments": (6, 2),
        "learnersEnrolled": (5, 2),
        "completions": (3, 2),  # L1 twice (06-30, 12-20), L2
        "peopleTrained": (2, 2),
        # every cohort here is offered by the ЦОПП: run by it, or P-SPO developed by it
        "completionsCopp": (3, 2),
        "peopleTrainedCopp.EMPLOYER_ORDERED": (2, 2),
        "programsImplementedCopp.SPO_MODULES": (1, 0),
        "cohortsCompleted": (2, 1),
        "peopleTrained.EMPLOYER_ORDERED": (2, 2),
        "peopleTrained.SPO_MODULES": (1, 0),
        "peopleTrained.PRE_RETIREMENT": (0, 0),
        "programsConstructed": (3, 1),
        "programsConstructed.SPO_MODULES": (1, 0),
        "programsConstructed.EMPLOYER_ORDERED": (1, 1),
        "programsConstructed.PRE_RETIREMENT": (1, 0),
        "programsConstructed.SCHOOL_STUDENTS": (0, 0),  # REVIEW does not count
        "programsImplemented": (2, 1),
        "programsImplemented.EMPLOYER_ORDERED": (1, 1),
        "programsImplemented.SPO_MODULES": (1, 0),
        "programsImplemented.PRE_RETIREMENT": (0, 0),  # its cohort ends in 2026
        "careerGuidanceEvents": (2, 1),
        "careerGuidanceParticipants": (55, 50),
        "professionalTrials": (1, 0),
        "professionalTrialParticipants": (12, 0),
        "firstProfessionTrainees": (8, 0),
        "careerGuidanceAttendance": (55 + 12 + 8, 50),
        # only the college master's training names a provider (the ЦОПП); the ЦОПП staff's
        # trainings have none, so they are the breakdown «elsewhere»
        "staffTrainings": (1, 0),
        "staffTrained": (1, 0),
        "staffTrainedCopp": (0, 0),
        "staffTrainedCollege": (1, 0),
        "staffTrainingsElsewhere": (2, 1),
        "staffTrainedElsewhere": (1, 1),
        "coppStaff": (2, 2),
        "partnerNetwork": (2, 1),
        "partnerNetworkAtEnd": (2, 1),
        # distinct persons: learners L1, L2, L3, L4, L6 and the college master (2024: L5, L6);
        # anonymous attendance is careerGuidanceAttendance, not people
        "peopleCovered": (6, 2),
    }
    assert {k: _values(board, k) for k in expected} == expected


def test_quarterly_series(region):
    board = fetch_dashboard(region, "52", Y2025, parts=("kpis",))

    def series(key):
        return {p.period: p.value for p in board.kpis[key].series}

    assert series("learnersEnrolled") == {  # by the date of enrolment, not cohort overlap
        "2024-Q1": 0, "2024-Q2": 0, "2024-Q3": 0, "2024-Q4": 2,
        "2025-Q1": 3, "2025-Q2": 0, "2025-Q3": 2, "2025-Q4": 1}
    assert series("peopleTrained")["2025-Q2"] == 2 and series("peopleTrained")["2025-Q4"] == 1
    assert series("programsConstructed") == {
        "2024-Q1": 0, "2024-Q2": 0, "2024-Q3": 0, "2024-Q4": 1,
        "2025-Q1": 1, "2025-Q2": 1, "2025-Q3": 1, "2025-Q4": 0}
    assert series("partnerNetwork")["2024-Q4"] == 1 and series("partnerNetwork")["2025-Q1"] == 2
    assert series("careerGuidanceParticipants")["2024-Q2"] == 50
    assert series("staffTrainedCollege")["2025-Q2"] == 1
    assert series("staffTrainedElsewhere")["2025-Q1"] == 1 and series("staffTrainedElsewhere")["2025-Q4"] == 1


def test_other_region_and_retired_rows_do_not_count(region):
    write(region, "regions", [{"code": "33", "name": "Владимирская область"}])
    write(region, "organizations", [{"inn": inn(9), "name": "ЦОПП-33", "kind": "COPP",
                                     "region": "33"}])
    write(region, "career_guidance_events", [
        {"organization": inn(9), "code": "X", "kind": "EVENT", "name": "Чужое",
         "held_on": "2025-04-10", "municipality": "22701000", "participants_school": 999}])
    with region.session() as session:  # retired through the write path, like every write
        session.execute_write(lambda tx: run_plan(tx, retire_plan_checked(
            REGISTRIES["enrollments"], ["P-SPO:G1:L1"], principal=SYSTEM, source="test",
            now=None)))
    board = fetch_dashboard(region, "52", Y2025, parts=("kpis",))
    assert board.kpis["careerGuidanceParticipants"].value == 55
    assert board.kpis["peopleTrained.SPO_MODULES"].value == 0
    assert board.kpis["programsImplemented.SPO_MODULES"].value == 0
    assert fetch_dashboard(region, "33", Y2025, parts=("kpis",)).kpis[
        "careerGuidanceParticipants"].value == 999


def test_supply_demand_matrix(region):
    board = fetch_dashboard(region, "52", Y2025, parts=("matrix",))
    cells = {(c.competency, c.municipality): c for c in board.matrix}
    assert set(cells) == {("MF-01", "22701000"), ("MF-01", "22721000"), ("MF-02", "22701000"),
                          ("MF-02", "22721000")}
    nn = cells[("MF-01", "22701000")]
    assert (nn.sites, nn.workplaces, nn.graduates, nn.vacancies, nn.employer_requests) == (
        1, 10, 2, 15, 3)  # 20 working inverters / 2 per workplace; broken ones ignored
    # supply is people (graduates), like demand; workplaces are capacity, not added
    assert (nn.demand, nn.supply, nn.shortage, nn.gap) == (18, 2, True, 16)
    assert nn.sources == ("trudvsem",)
    dz1 = cells[("MF-01", "22721000")]  # one inverter is short of 2 per workplace
    assert (dz1.workplaces, dz1.graduates, dz1.shortage) == (0, 1, False)
    dz2 = cells[("MF-02", "22721000")]
    # 5 workplaces but nobody trained in MF-02 in 2025: 2 wanted, 0 supplied
    assert (dz2.sites, dz2.workplaces, dz2.vacancies, dz2.supply, dz2.shortage) == (
        1, 5, 2, 0, True)
    nn2 = cells[("MF-02", "22701000")]
    assert (nn2.employer_requests, nn2.survey_answers, nn2.supply, nn2.shortage) == (4, 9, 0, True)
    assert [c.competency_name for c in board.matrix][:1] == ["Сварочные технологии"]
    # the 2024 signal shows up for 2024 only
    old = fetch_dashboard(region, "52", parse_period("2024"), parts=("matrix",))
    old_cells = {(c.competency, c.municipality): c for c in old.matrix}
    assert old_cells[("MF-01", "22701000")].vacancies == 40
    # a quarter gets the share of each signal's own period that lies in it (half up):
    # 15 × 91/365 = 3.74 → 4, 3 × 91/365 = 0.75 → 1; 2 × 91/181 = 1.01 → 1
    q2 = fetch_dashboard(region, "52", parse_period("2025-Q2"), parts=("matrix",))
    q2_cells = {(c.competency, c.municipality): c for c in q2.matrix}
    assert (q2_cells[("MF-01", "22701000")].vacancies,
            q2_cells[("MF-01", "22701000")].employer_requests) == (4, 1)
    assert q2_cells[("MF-02", "22721000")].vacancies == 1
    assert q2_cells[("MF-01", "22701000")].graduates == 2  # both completed on 06-30


def test_portfolio(region):
    p = fetch_portfolio(region, "L1")
    assert (p.external_id, p.category) == ("L1", "SCHOOL_STUDENT")
    assert [(e.program, e.status, e.certificate) for e in p.enrollments] == [
        ("P-EMP1", "COMPLETED", "УД-001"), ("P-SPO", "COMPLETED", "УД-101")]
    assert p.enrollments[0].completed_on == dt.date(2025, 6, 30)
    assert p.enrollments[1].organization == inn(2)
    assert [(e.code, e.kind) for e in p.events] == [("E1", "EVENT"), ("E3", "PROFESSIONAL_TRIAL")]
    assert fetch_portfolio(region, "L3").enrollments[0].status == "DROPPED"
    assert fetch_portfolio(region, "L3").completed == ()
    assert fetch_portfolio(region, "nobody") is None


def test_dashboard_is_one_statement(region):
    """Everything the dashboard shows comes from one statement (one round trip)."""
    query = dashboard_cypher(("kpis", "matrix", "roadmap"))
    records, _, _ = region.execute_query(query, dashboard_params("52", Y2025))
    assert len(records) == 1
    # … and which regions asked for do not exist (an unknown code is NOT_FOUND, never zeros)
    assert set(records[0].keys()) == {"kpiRows", "kpiCounts", "kpiShared", "matrixRows",
                                      "roadmapRows", "unknownRegions"}
    assert records[0]["unknownRegions"] == []
    unknown, _, _ = region.execute_query(query, dashboard_params(["52", "99"], Y2025))
    assert unknown[0]["unknownRegions"] == ["99"]
    # the roadmap needs the KPIs for its slot actuals
    assert "kpiRows" in dashboard_cypher(("roadmap",))
    assert "matrixRows" not in dashboard_cypher(("roadmap",))
    # a roadmap is a region's: over several regions it is left out
    assert "roadmapRows" not in dashboard_cypher(("roadmap",), single=False)
