"""situationalCentre and learnerPortfolio through the live GraphQL API: one Cypher round trip."""

import datetime as dt
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from graph.roadmap import init_roadmap
from tests.factories import seed_activities
from tests.graphql_client import GraphQLClient, count_queries, live_server

DASHBOARD = """
query($period: String!, $asOf: Date) {
  situationalCentre(region: "52", period: $period, asOf: $asOf) {
    region period previousPeriod periodStart periodEnd asOf
    kpis { key kind label value previous change series { period value } }
    matrix { competencyCode municipalityCode workplaces graduates demand supply gap shortage }
    roadmap { number title status statusLabel overdue overduePoints nextDue recurrence
              controlPoints { dueOn doneOn overdue }
              slots { index description target kpi actual progress } }
  }
}"""


@pytest.fixture
def api(db, settings):
    seed_activities(db)
    init_roadmap(db, "52", horizon=dt.date(2026, 12, 31))
    with live_server(settings) as url:
        yield GraphQLClient(url)


def test_whole_dashboard_in_one_round_trip(api):
    data, statements = api.counted(DASHBOARD, {"period": "2025", "asOf": "2025-07-01"})
    assert statements == 1
    board = data["situationalCentre"]
    assert (board["period"], board["previousPeriod"], board["periodStart"]) == (
        "2025", "2024", "2025-01-01")
    kpis = {k["key"]: k for k in board["kpis"]}
    assert kpis["peopleTrained"]["value"] == 2 and kpis["peopleCovered"]["value"] == 6
    assert kpis["careerGuidanceAttendance"]["value"] == 75
    assert (kpis["peopleCovered"]["kind"], kpis["completions"]["kind"]) == ("distinct", "flow")
    assert kpis["programsConstructed.EMPLOYER_ORDERED"]["label"] == (
        "Сконструировано (утверждено) программ: Программы под заказ работодателей")
    assert kpis["careerGuidanceParticipants"]["change"] == 5
    assert len(kpis["learnersEnrolled"]["series"]) == 8
    shortage = [(c["competencyCode"], c["municipalityCode"]) for c in board["matrix"]
                if c["shortage"]]
    assert shortage == [("MF-01", "22701000"), ("MF-02", "22701000"), ("MF-02", "22721000")]
    acts = {a["number"]: a for a in board["roadmap"]}
    assert len(acts) == 66
    assert acts[33]["slots"][0]["kpi"] == "programsConstructed.EMPLOYER_ORDERED"
    assert acts[33]["slots"][0]["actual"] == 1
    assert acts[33]["overdue"] and acts[33]["overduePoints"][-1] == "2025-06-30"
    assert acts[33]["nextDue"] == "2025-09-30"
    assert acts[33]["recurrence"] == "QUARTERLY"
    # «… по предлагаемым ЦОПП программам»: bound to the ЦОПП-offered figures
    assert [s["kpi"] for s in acts[39]["slots"]] == [
        "programsImplementedCopp.EMPLOYER_ORDERED", "peopleTrainedCopp.EMPLOYER_ORDERED"]
    assert [s["actual"] for s in acts[39]["slots"]] == [1, 2]


def test_only_selected_parts_are_computed(api):
    data, statements = api.counted(
        '{ situationalCentre(region: "52", period: "2025-Q2") { period '
        '  ...K } } fragment K on SituationalCentre { kpis(keys: ["peopleTrained"]) '
        '{ key value previous series { period } } }')
    assert statements == 1
    kpis = data["situationalCentre"]["kpis"]
    assert kpis == [{"key": "peopleTrained", "value": 2, "previous": 0,
                     "series": [{"period": q} for q in ("2025-Q1", "2025-Q2")]}]
    # nothing computed, but the region is still checked: one statement
    _, statements = api.counted('{ situationalCentre(region: "52", period: "2025") { period } }')
    assert statements == 1


@pytest.mark.parametrize("code", ["99", "Нижегородская", "052"])
def test_unknown_region_is_not_found_in_the_same_statement(api, code):
    query = ('query($r: String!) { situationalCentre(region: $r, period: "2025") '
             '{ kpis { key value } } }')
    with count_queries() as seen:
        body = api.execute(query, {"r": code})
    assert len(seen) == 1
    assert body.get("data") is None or body["data"]["situationalCentre"] is None
    error = body["errors"][0]
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert (error["extensions"]["argument"], error["extensions"]["value"]) == ("region", code)
    assert f"«{code}»" in error["message"] and "region" in error["message"]


def test_unknown_codes_of_sites_for_competency_are_not_found(api):
    q = ('query($c: String!, $r: String, $m: String) { sitesForCompetency(competency: $c, '
         'cohortSize: 5, region: $r, municipality: $m) { totalCount } }')
    for args, argument in ((("MF-01", "99", None), "region"),
                           (("MF-01", None, "00000000"), "municipality"),
                           (("XX-99", "52", None), "competency")):
        body = api.execute(q, dict(zip(("c", "r", "m"), args)))
        ext = body["errors"][0]["extensions"]
        assert (ext["code"], ext["argument"]) == ("NOT_FOUND", argument), body
    # a known region with nothing to offer stays an empty answer
    body = api.execute(q, {"c": "MF-01", "r": "52", "m": None})
    assert "errors" not in body and body["data"]["sitesForCompetency"]["totalCount"] >= 1


def test_bad_period_is_a_clear_error(api):
    body = api.execute('{ situationalCentre(region: "52", period: "вчера") { period } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_ARGUMENT"
    assert "недопустимый период" in body["errors"][0]["message"]
    for bad, words in (("2026-13", "месяц должен быть от 01 до 12"),
                       ("2025-02-30..2025-03-01", "нет 30-го числа"),
                       ("2025-03-01..2025-02-01", "конец периода раньше начала")):
        body = api.execute('query($p: String!) { situationalCentre(region: "52", period: $p) '
                           '{ period } }', {"p": bad})
        message = body["errors"][0]["message"]
        assert words in message and "must" not in message, message


def test_portfolio_in_one_round_trip(api):
    data, statements = api.counted("""{ learnerPortfolio(externalId: "L1") {
        externalId category completedCount
        enrollments { programCode status certificateNumber completedOn organizationName }
        events { code kind heldOn } } }""")
    assert statements == 1
    p = data["learnerPortfolio"]
    assert (p["externalId"], p["category"], p["completedCount"]) == ("L1", "SCHOOL_STUDENT", 2)
    assert [e["certificateNumber"] for e in p["enrollments"]] == ["УД-001", "УД-101"]
    assert [e["kind"] for e in p["events"]] == ["EVENT", "PROFESSIONAL_TRIAL"]
    assert api.data('{ learnerPortfolio(externalId: "nobody") { externalId } }') == {
        "learnerPortfolio": None}


BOARD = """query($asOf: Date) { situationalCentre(region: "52", period: "2025", asOf: $asOf) {
  kpis(keys: ["peopleTrained"]) { value } roadmap { number status } } }"""


def test_screens_asking_at_once_share_one_computation(api):
    first, statements = api.counted(BOARD, {"asOf": "2025-07-01"})
    assert statements == 1
    again, statements = api.counted(BOARD, {"asOf": "2025-07-01"})
    assert (again, statements) == (first, 0)
    # ten screens at the same moment, a dashboard nobody asked for yet: one computation
    with count_queries() as seen, ThreadPoolExecutor(10) as pool:
        boards = list(pool.map(lambda _: api.data(BOARD, {"asOf": "2025-08-01"}), range(10)))
    assert len(seen) == 1 and all(b == boards[0] for b in boards)


def test_a_write_through_the_hub_shows_at_once(api):
    before = api.data(BOARD, {"asOf": "2025-07-01"})
    assert {a["number"]: a["status"] for a in before["situationalCentre"]["roadmap"]}[2] != "DONE"
    api.data('mutation { updateRoadmapActivity(region: "52", number: 2, '
             'patch: {status: DONE, evidence: "Приказ № 1"}) { errors { message } } }')
    after, statements = api.counted(BOARD, {"asOf": "2025-07-01"})
    assert statements == 1
    assert {a["number"]: a["status"] for a in after["situationalCentre"]["roadmap"]}[2] == "DONE"


def test_shared_for_the_configured_seconds_only(db, settings):
    seed_activities(db)
    for ttl, expected in ((0, [1, 1]), (0.3, [1, 0])):
        with live_server(settings.model_copy(update={"dashboard_ttl": ttl})) as url:
            api = GraphQLClient(url)
            counts = [api.counted(BOARD, {"asOf": "2025-07-01"})[1] for _ in range(2)]
            assert counts == expected
            if ttl:
                time.sleep(ttl + 0.1)
                assert api.counted(BOARD, {"asOf": "2025-07-01"})[1] == 1
