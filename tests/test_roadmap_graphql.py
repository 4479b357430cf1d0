"""Roadmap tracker writes through GraphQL: status, evidence, notes, targets, control points."""

import datetime as dt

import pytest

from graph.roadmap import init_roadmap
from tests.factories import seed_region
from tests.graphql_client import GraphQLClient, live_server


@pytest.fixture
def api(db, settings):
    seed_region(db)
    init_roadmap(db, "52", horizon=dt.date(2021, 12, 31))
    with live_server(settings) as url:
        yield GraphQLClient(url)


def _roadmap(api, as_of):
    data = api.data('query($d: Date) { situationalCentre(region: "52", period: "2020", asOf: $d)'
                    ' { roadmap(onlyOverdue: true) { number overduePoints } } }', {"d": as_of})
    return {a["number"]: a["overduePoints"] for a in data["situationalCentre"]["roadmap"]}


def test_status_evidence_notes(api):
    data = api.data("""mutation { updateRoadmapActivity(region: "52", number: 2, patch: {
        status: DONE, evidence: ["https://copp52.ru/pologenie.pdf"], notes: "Приказ №5" }) {
        activity { number status statusLabel evidence notes } errors { field message } } }""")
    payload = data["updateRoadmapActivity"]
    assert payload["errors"] == []
    assert payload["activity"] == {"number": 2, "status": "DONE", "statusLabel": "Выполнено",
                                   "evidence": ["https://copp52.ru/pologenie.pdf"],
                                   "notes": "Приказ №5"}
    assert 2 not in _roadmap(api, "2020-01-01") and 1 in _roadmap(api, "2020-01-01")
    missing = api.execute('mutation { updateRoadmapActivity(region: "52", number: 90, '
                          'patch: {status: DONE}) { activity { number } errors { message } } }')
    assert missing["data"] is None
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert missing["errors"][0]["message"] == ("Мероприятие 90 дорожной карты региона 52 не "
                                               "найдено")


def test_targets_and_kpi_binding(api):
    data = api.data('mutation { setIndicatorTarget(region: "52", activity: 59, index: 1, '
                    'target: 40) { slot { target kpi description } errors { field } } }')
    assert data["setIndicatorTarget"]["slot"] == {
        "target": 40, "kpi": "careerGuidanceEvents",
        "description": "Организовано проведение ___ профориентационных мероприятий"}
    bad = api.data('mutation { setIndicatorTarget(region: "52", activity: 59, index: 1, '
                   'target: -3) { slot { target } errors { field value message } } }')
    assert bad["setIndicatorTarget"]["errors"][0]["field"] == "target"
    unknown = api.data('mutation { setIndicatorTarget(region: "52", activity: 30, index: 1, '
                       'target: 5, kpi: "expertGroups") { slot { kpi } errors { field } } }')
    assert unknown["setIndicatorTarget"]["errors"][0]["field"] == "kpi"
    bound = api.data('mutation { setIndicatorTarget(region: "52", activity: 30, index: 1, '
                     'target: 5, kpi: "partnerNetwork") { slot { kpi target } } }')
    assert bound["setIndicatorTarget"]["slot"] == {"kpi": "partnerNetwork", "target": 5}


def test_control_points_and_overdue(api):
    assert _roadmap(api, "2020-07-01")[6] == ["2020-03-31", "2020-06-30"]
    data = api.data('mutation { setControlPoint(region: "52", activity: 6, dueOn: "2020-03-31",'
                    ' doneOn: "2020-03-20") { controlPoint { dueOn doneOn } errors { field } } }')
    assert data["setControlPoint"]["controlPoint"] == {"dueOn": "2020-03-31",
                                                       "doneOn": "2020-03-20"}
    assert _roadmap(api, "2020-07-01")[6] == ["2020-06-30"]
    none = api.execute('mutation { setControlPoint(region: "52", activity: 6, '
                       'dueOn: "2020-04-15", doneOn: null) { controlPoint { dueOn } } }')
    assert none["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert "сроком 15.04.2020 не найдена" in none["errors"][0]["message"]
