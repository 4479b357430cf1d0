"""Surveys (issue #18, item 54) through the HTTP API: an operator defines, anyone answers
anonymously, aggregates per question and category (free text to the operator only), XLSX,
DemandSignals by the documented rule."""

from __future__ import annotations

import base64
import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from tests.factories import inn, seed_region
from tests.graphql_client import GraphQLClient, live_server, token_for

TODAY = dt.date.today()
DEFINE = """mutation($i: SurveyInput!) { defineSurvey(input: $i) { code questions { key } } }"""
ANSWER = """mutation($i: SurveyResponseInput!) { answerSurvey(input: $i) { accepted } }"""
RESULTS = """query($c: String!) { surveyResults(code: $c) { total respondents { key count }
  questions { key cells { category answered options { key count } scale { key count }
  mean texts } } } }"""


def code(body):
    errors = body.get("errors") or []
    return errors[0]["extensions"]["code"] if errors else None


SURVEY = {
    "code": "S2025", "region": "52", "title": "Какие профессии востребованы",
    "categories": ["SCHOOL_STUDENT", "PARENT", "EMPLOYER"],
    "startsOn": (TODAY - dt.timedelta(days=5)).isoformat(),
    "endsOn": (TODAY + dt.timedelta(days=25)).isoformat(), "competencies": ["MF-01"],
    "questions": [
        {"key": "want", "text": "Чему хотите научиться?", "kind": "MULTIPLE", "required": True,
         "options": [{"key": "weld", "text": "Сварка", "competency": "MF-01"},
                     {"key": "cnc", "text": "Станки с ЧПУ", "competency": "MF-02"},
                     {"key": "none", "text": "Пока не знаю"}]},
        {"key": "when", "text": "Когда удобно учиться?", "kind": "SINGLE",
         "options": [{"key": "day", "text": "Днем"}, {"key": "eve", "text": "Вечером"}]},
        {"key": "cnc_interest", "text": "Интерес к работе на станках с ЧПУ", "kind": "SCALE",
         "scaleMin": 1, "scaleMax": 5, "competency": "MF-02"},
        {"key": "free", "text": "Ваши пожелания", "kind": "TEXT"},
    ],
}


def answer(category="SCHOOL_STUDENT", mun="22701000", want=("weld",), when="day", scale=3,
           text=None, **over):
    answers = [{"question": "want", "options": list(want)},
               {"question": "when", "options": [when]},
               {"question": "cnc_interest", "value": scale}]
    if text:
        answers.append({"question": "free", "text": text})
    return {"survey": "S2025", "category": category, "municipality": mun, "answers": answers,
            **over}


@pytest.fixture
def world(db, settings):
    seed_region(db)
    with live_server(settings.model_copy(update={"public_address_burst": 100})) as url:
        yield url


def test_survey_answers_aggregates_xlsx_demand(world, db):
    op = GraphQLClient(world, token=token_for("operator", region="52"))
    op77 = GraphQLClient(world, token=token_for("operator", region="77"))
    registrar = GraphQLClient(world, token=token_for("registrar", organizations=[inn(1)]))
    viewer = GraphQLClient(world, token=token_for("viewer"))
    anon = GraphQLClient(world, token=None)

    assert code(registrar.execute(DEFINE, {"i": SURVEY})) == "FORBIDDEN"
    assert code(op77.execute(DEFINE, {"i": SURVEY})) == "FORBIDDEN"
    assert code(anon.execute(DEFINE, {"i": SURVEY})) == "UNAUTHENTICATED"
    bad = {**SURVEY, "questions": [{"key": "x", "text": "?", "kind": "SINGLE",
                                    "options": [{"key": "a", "text": "A"}]}]}
    assert code(op.execute(DEFINE, {"i": bad})) == "BAD_USER_INPUT"
    unknown = {**SURVEY, "competencies": ["ZZ-99"]}
    assert code(op.execute(DEFINE, {"i": unknown})) == "NOT_FOUND"
    assert op.data(DEFINE, {"i": SURVEY})["defineSurvey"]["code"] == "S2025"
    assert code(op.execute(DEFINE, {"i": SURVEY})) == "DUPLICATE"

    form = anon.data('{ survey(code: "S2025") { title questions { key kind options { key } } } }')
    assert [q["kind"] for q in form["survey"]["questions"]] == ["MULTIPLE", "SINGLE", "SCALE",
                                                                "TEXT"]
    responses = [
        answer(text="Хочу на сварщика"),
        answer(want=("weld", "cnc"), scale=5),
        answer(category="PARENT", want=("none",), when="eve", scale=4, text="Курсы по выходным"),
        answer(category="EMPLOYER", mun="22721000", want=("cnc",), scale=2),
        answer(category="EMPLOYER", mun=None, want=("weld",), scale=1),
    ]
    for r in responses:
        assert anon.data(ANSWER, {"i": r}) == {"answerSurvey": {"accepted": True}}
    # refused answers
    assert code(anon.execute(ANSWER, {"i": answer(category="JOB_SEEKER")})) == "BAD_REQUEST"
    assert code(anon.execute(ANSWER, {"i": answer(want=("zzz",))})) == "BAD_REQUEST"
    two = answer()
    two["answers"][1]["options"] = ["day", "eve"]  # SINGLE: one option
    assert code(anon.execute(ANSWER, {"i": two})) == "BAD_REQUEST"
    assert code(anon.execute(ANSWER, {"i": answer(scale=9)})) == "BAD_REQUEST"
    missing = answer()
    missing["answers"] = missing["answers"][1:]
    assert code(anon.execute(ANSWER, {"i": missing})) == "BAD_REQUEST"  # required
    assert code(anon.execute(ANSWER, {"i": {**answer(), "survey": "NOPE"}})) == "NOT_FOUND"
    assert anon.data(ANSWER, {"i": answer(website="x")}) == {"answerSurvey": {"accepted": True}}
    n = db.execute_query("MATCH (r:SurveyResponse) RETURN count(r) AS n").records[0]["n"]
    assert n == 5  # the honeypot's answer is not stored

    assert code(anon.execute(RESULTS, {"c": "S2025"})) == "UNAUTHENTICATED"
    seen = viewer.data(RESULTS, {"c": "S2025"})["surveyResults"]
    assert seen["total"] == 5
    assert {r["key"]: r["count"] for r in seen["respondents"]} == {
        "SCHOOL_STUDENT": 2, "PARENT": 1, "EMPLOYER": 2}
    want = {c["category"]: {o["key"]: o["count"] for o in c["options"]}
            for c in seen["questions"][0]["cells"]}
    assert want["SCHOOL_STUDENT"] == {"weld": 2, "cnc": 1, "none": 0}
    assert want["EMPLOYER"] == {"weld": 1, "cnc": 1, "none": 0}
    scale = {c["category"]: c["mean"] for c in seen["questions"][2]["cells"]}
    assert scale == {"SCHOOL_STUDENT": 4.0, "PARENT": 4.0, "EMPLOYER": 1.5}
    assert all(c["texts"] is None for q in seen["questions"] for c in q["cells"])
    texts = op.data(RESULTS, {"c": "S2025"})["surveyResults"]["questions"][3]["cells"]
    assert {c["category"]: c["texts"] for c in texts} == {
        "PARENT": ["Курсы по выходным"], "SCHOOL_STUDENT": ["Хочу на сварщика"]}

    def workbook(client):
        doc = client.data('{ surveyResultsXlsx(code: "S2025") { filename mediaType '
                          'contentBase64 } }')["surveyResultsXlsx"]
        return load_workbook(io.BytesIO(base64.b64decode(doc["contentBase64"])))

    wb = workbook(op)
    assert wb.sheetnames == ["Итоги", "Свободные ответы"]
    rows = [[c.value for c in r] for r in wb["Итоги"].iter_rows()]
    assert ["Чему хотите научиться?", "Сварка", 2, 0, 1, 3] in rows
    assert workbook(viewer).sheetnames == ["Итоги"]

    # demand: weld → MF-01, cnc or scale ≥ 4 → MF-02, by municipality; no municipality: unplaced
    demand = 'mutation { surveyDemandSignals(code: "S2025") { signals { competency ' \
             'municipality surveyAnswers } unplaced } }'
    assert code(registrar.execute(demand)) == "FORBIDDEN"
    assert code(op77.execute(demand)) == "FORBIDDEN"
    out = op.data(demand)["surveyDemandSignals"]
    assert out["unplaced"] == 1
    assert {(s["competency"], s["municipality"]): s["surveyAnswers"] for s in out["signals"]} == {
        ("MF-01", "22701000"): 2, ("MF-02", "22701000"): 2, ("MF-02", "22721000"): 1}
    assert op.data(demand)["surveyDemandSignals"] == out  # idempotent
    stored = db.execute_query("MATCH (d:DemandSignal {source: 'survey-S2025'}) "
                              "RETURN sum(d.survey_answers) AS n, count(d) AS c").records[0]
    assert (stored["n"], stored["c"]) == (5, 3)
    audit = db.execute_query("MATCH (s:ChangeSet {label: 'DemandSignal', source: 'survey'}) "
                             "RETURN count(s) AS n").records[0]["n"]
    assert audit == 1
