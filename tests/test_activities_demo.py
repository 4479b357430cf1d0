"""Demo activity rows (loaders/demo_activities.py) on the generated demo region: valid, loadable
through graph.ingest, and giving a populated dashboard for two years."""

import datetime as dt

import pytest

from graph.kpi import fetch_dashboard, parse_period
from graph.registry import LOAD_ORDER, REGISTRIES
from graph.validation import validate_rows
from loaders.demo import DEMO_SEED
from loaders.demo_activities import demo_activities
from loaders.generate import SCALES, build_catalogue, generate_region, region_list
from tests.factories import write

TODAY = dt.date(2026, 6, 15)  # pinned: the demo is dated relative to the day it is loaded


@pytest.fixture(scope="module")
def demo_rows():
    spec = SCALES["demo"]
    cat = build_catalogue(DEMO_SEED, spec.competencies)
    region = generate_region(DEMO_SEED, spec, cat, region_list(spec)[0])
    rows = {name: list(getattr(cat, name)) for name in ("equipment_types", "competencies",
                                                          "infrastructure_lists")}
    rows.update(region)
    activity = demo_activities(region, seed=DEMO_SEED, today=TODAY)
    return rows, activity


def test_rows_are_valid_and_deterministic(demo_rows):
    rows, activity = demo_rows
    for name, items in activity.items():
        _, errors = validate_rows(REGISTRIES[name], items)
        assert errors == [], (name, errors[:3])
    assert min(len(activity[n]) for n in ("cohorts", "learners", "enrollments",
                                          "career_guidance_events", "staff_trainings",
                                          "demand_signals")) > 50
    assert len(activity["roadmap_activities"]) == 66
    region = {k: v for k, v in rows.items()
              if k not in ("equipment_types", "competencies", "infrastructure_lists")}
    again = demo_activities(region, seed=DEMO_SEED, today=TODAY)
    assert again["enrollments"] == activity["enrollments"]


def test_demo_is_dated_relative_to_the_day_it_is_loaded(demo_rows):
    """Open cohorts to enrol in, approvals this year, a network in force today."""
    _, activity = demo_rows
    open_cohorts = [c for c in activity["cohorts"] if c["starts_on"] > TODAY]
    assert len(open_cohorts) >= 10
    assert all(c["starts_on"] <= TODAY + dt.timedelta(days=130) for c in activity["cohorts"])
    assert sum(1 for p in activity["programs"] if p.get("approved_on")
               and p["approved_on"].year == TODAY.year) >= 10
    assert all(p["approved_on"] <= TODAY for p in activity["programs"] if p.get("approved_on"))
    in_force = [a for a in activity["agreements"] if a["valid_from"] <= TODAY <= a["valid_to"]]
    assert len(in_force) >= 30
    assert all(e["held_on"] <= TODAY for e in activity["career_guidance_events"])
    assert all(e.get("completed_on") is None or e["completed_on"] <= TODAY
               for e in activity["enrollments"])
    providers = {t["provider"] for t in activity["staff_trainings"]}
    assert None in providers and len(providers) > 3  # the ЦОПП, employers, unknown
    later = demo_activities({k: v for k, v in demo_rows[0].items()}, seed=DEMO_SEED,
                            today=TODAY + dt.timedelta(days=365))
    assert min(c["starts_on"] for c in later["cohorts"]) > min(
        c["starts_on"] for c in activity["cohorts"])


def test_demo_dashboard_is_populated(db, demo_rows):
    rows, activity = demo_rows
    everything = {**rows, **activity}
    for name in LOAD_ORDER:
        if everything.get(name):
            report = write(db, name, everything[name])
            assert report.ok, (name, report.errors[:3])
    code = rows["regions"][0]["code"]
    board = fetch_dashboard(db, code, parse_period("2025"), as_of=dt.date(2026, 11, 1))
    k = {key: kpi.value for key, kpi in board.kpis.items()}
    for key in ("peopleTrained", "learnersEnrolled", "careerGuidanceEvents",
                "professionalTrialParticipants", "firstProfessionTrainees", "staffTrained",
                "programsImplemented", "partnerNetwork", "coppStaff", "peopleTrainedCopp",
                "programsImplementedCopp", "staffTrainedElsewhere", "partnerNetworkAtEnd"):
        assert k[key] > 0, key
    assert sum(p.value for p in board.kpis["peopleTrained"].series) > 0
    assert any(c.shortage for c in board.matrix) and any(not c.shortage for c in board.matrix)
    statuses = {a.status for a in board.roadmap}
    assert {"DONE", "IN_PROGRESS"} <= statuses
    assert 0 < sum(a.overdue for a in board.roadmap) < 66
