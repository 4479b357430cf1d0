"""The program constructor and expert review (issue #18, item 50) through the HTTP API:
submit → assign (conflict of interest refused) → review → return → resubmit → approve → KPI;
every refused role and state."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.factories import inn, seed_region, write
from tests.graphql_client import GraphQLClient, live_server, token_for

COPP, COLLEGE, EMPLOYER = inn(1), inn(2), inn(3)
TODAY = dt.date.today()

CONSTRUCTOR = """query($p: String!) { programConstructor(program: $p, cohortSize: 8) {
  status hours moduleHours approvedOn problems { code blocking }
  demand { competency source vacancies }
  reviews { id round expert expertName status scores verdict decision decisionReason }
  criteria { key title }
  placements { moduleNumber site organization reasons } } }"""
SUBMIT = 'mutation($p: String!) { submitProgramForReview(program: $p) }'
ASSIGN = 'mutation($p: String!, $e: String!) { assignProgramExpert(program: $p, expert: $e) }'
REVIEW = """mutation($i: ProgramReviewInput!) { submitProgramReview(input: $i) }"""
DECIDE = """mutation($p: String!, $d: ReviewDecision!, $r: String) {
  decideProgram(program: $p, decision: $d, reason: $r) }"""


def code(body):
    errors = body.get("errors") or []
    return errors[0]["extensions"]["code"] if errors else None


def review(expert, verdict="APPROVE", relevance=5, summary=None):
    return {"program": "P-NEW", "expert": expert, "verdict": verdict, "summary": summary,
            "scores": {"relevance": relevance, "content": 4, "resources": 4, "outcomes": 5},
            "comments": {"content": "Модули выстроены последовательно"}}


@pytest.fixture
def world(db, settings):
    seed_region(db)
    rows = {
        "infrastructure_lists": [{"competency": "MF-01", "items": [
            {"equipment_type": "WELD-INV", "quantity": 1}]}],
        "equipment": [{"organization": COPP, "inventory_number": "W-1", "type": "WELD-INV",
                       "site": "M1", "quantity": 20}],
        "staff": [
            {"organization": COPP, "personnel_number": "E1", "full_name": "Орлова Е. В.",
             "role": "EXPERT", "qualifications": [
                 {"competency": "MF-01", "expert_status": "CERTIFIED"}]},
            {"organization": COLLEGE, "personnel_number": "E2", "full_name": "Лебедев К. С.",
             "role": "EXPERT", "qualifications": [
                 {"competency": "MF-01", "expert_status": "CHIEF"}]},
            {"organization": EMPLOYER, "personnel_number": "T1", "full_name": "Зайцев Д. Д.",
             "role": "TEACHER", "qualifications": [{"competency": "MF-01"}]},
            {"organization": EMPLOYER, "personnel_number": "E3", "full_name": "Волков А. А.",
             "role": "EXPERT", "qualifications": [
                 {"competency": "MF-01", "expert_status": "REGIONAL",
                  "valid_until": "2020-01-01"}]},
        ],
        "programs": [{"code": "P-NEW", "name": "Сварка для предприятий", "type": "SECTORAL",
                      "hours": 80, "organization": COLLEGE, "competencies": ["MF-01"]}],
        "modules": [{"program": "P-NEW", "number": n, "name": f"Модуль {n}", "hours": 36,
                     "competency": "MF-01",
                     "requirements": [{"equipment_type": "WELD-INV", "quantity": 1}]}
                    for n in (1, 2)],
        "demand_signals": [{"competency": "MF-01", "municipality": "22701000",
                            "source": "trudvsem", "starts_on": "2025-01-01",
                            "ends_on": (TODAY + dt.timedelta(days=90)).isoformat(),
                            "vacancies": 12}],
    }
    for name, items in rows.items():
        report = write(db, name, items)
        assert report.ok, (name, report.errors)
    with live_server(settings) as url:
        yield url


def test_submit_assign_review_return_approve(world, db):
    dev = GraphQLClient(world, token=token_for("registrar", organizations=[COLLEGE]))
    other = GraphQLClient(world, token=token_for("registrar", organizations=[COPP]))
    op = GraphQLClient(world, token=token_for("operator", region="52"))
    op77 = GraphQLClient(world, token=token_for("operator", region="77"))
    viewer = GraphQLClient(world, token=token_for("viewer"))
    anon = GraphQLClient(world, token=None)
    expert, conflicted = f"{COPP}:E1", f"{COLLEGE}:E2"

    # the constructor says what is missing: hours do not add up (72 of 80)
    view = viewer.data(CONSTRUCTOR, {"p": "P-NEW"})["programConstructor"]
    assert (view["status"], view["hours"], view["moduleHours"]) == ("DRAFT", 80, 72)
    assert {p["code"]: p["blocking"] for p in view["problems"]} == {
        "HOURS_MISMATCH": True, "MODULE_WITHOUT_MATERIALS": False}  # materials: optional
    assert [d["vacancies"] for d in view["demand"]] == [12]
    assert [c["key"] for c in view["criteria"]] == ["relevance", "content", "resources",
                                                    "outcomes"]
    assert [(p["moduleNumber"], p["site"]) for p in view["placements"]] == [
        (1, f"{COPP}:M1"), (2, f"{COPP}:M1")]  # the college has no welding equipment
    assert code(dev.execute(SUBMIT, {"p": "P-NEW"})) == "INCOMPLETE"
    assert write(db, "programs", [{"code": "P-NEW", "name": "Сварка для предприятий",
                                   "type": "SECTORAL", "hours": 72, "organization": COLLEGE,
                                   "competencies": ["MF-01"]}]).ok

    # submit: only the developer's registrar (or admin), only from DRAFT
    assert code(anon.execute(SUBMIT, {"p": "P-NEW"})) == "UNAUTHENTICATED"
    assert code(other.execute(SUBMIT, {"p": "P-NEW"})) == "FORBIDDEN"
    assert code(op.execute(SUBMIT, {"p": "P-NEW"})) == "FORBIDDEN"
    assert code(viewer.execute(SUBMIT, {"p": "P-NEW"})) == "FORBIDDEN"
    assert dev.data(SUBMIT, {"p": "P-NEW"}) == {"submitProgramForReview": "REVIEW"}
    assert code(dev.execute(SUBMIT, {"p": "P-NEW"})) == "BAD_STATE"
    assert code(op.execute(DECIDE, {"p": "P-NEW", "d": "APPROVED"})) == "BAD_STATE"  # no experts

    # assign: the region's operator; experts of the competency, not of the developer
    assert code(dev.execute(ASSIGN, {"p": "P-NEW", "e": expert})) == "FORBIDDEN"
    assert code(op77.execute(ASSIGN, {"p": "P-NEW", "e": expert})) == "FORBIDDEN"
    assert code(op.execute(ASSIGN, {"p": "P-NEW", "e": conflicted})) == "CONFLICT_OF_INTEREST"
    assert code(op.execute(ASSIGN, {"p": "P-NEW", "e": f"{EMPLOYER}:T1"})) == "NOT_AN_EXPERT"
    assert code(op.execute(ASSIGN, {"p": "P-NEW", "e": f"{EMPLOYER}:E3"})) == "NOT_AN_EXPERT"
    assert op.data(ASSIGN, {"p": "P-NEW", "e": expert})["assignProgramExpert"] == \
        f"P-NEW:{expert}:1"
    assert code(op.execute(ASSIGN, {"p": "P-NEW", "e": expert})) == "DUPLICATE"
    assert code(op.execute(DECIDE, {"p": "P-NEW", "d": "APPROVED"})) == "BAD_STATE"  # pending

    # review: scores 1–5 per criterion, verdict; not by the developer
    assert code(dev.execute(REVIEW, {"i": review(expert)})) == "FORBIDDEN"
    assert code(op.execute(REVIEW, {"i": review(expert, relevance=7)})) == "BAD_REQUEST"
    assert code(op.execute(REVIEW, {"i": review(expert, "REVISE")})) == "BAD_REQUEST"  # why?
    assert code(op.execute(REVIEW, {"i": review(conflicted)})) == "NOT_FOUND"
    other.data(REVIEW, {"i": review(expert, "REVISE", relevance=3,
                                    summary="Добавить модуль по охране труда")})
    assert code(op.execute(DECIDE, {"p": "P-NEW", "d": "RETURNED"})) == "BAD_REQUEST"  # reason
    assert op.data(DECIDE, {"p": "P-NEW", "d": "RETURNED", "r": "Доработать по замечаниям"}) \
        == {"decideProgram": "DRAFT"}
    view = dev.data(CONSTRUCTOR, {"p": "P-NEW"})["programConstructor"]
    [r1] = view["reviews"]
    assert (view["status"], r1["decision"], r1["decisionReason"], r1["scores"]) == (
        "DRAFT", "RETURNED", "Доработать по замечаниям", [3, 4, 4, 5])
    assert r1["expertName"] is None  # the developer does not read the expert's name
    assert op.data(CONSTRUCTOR, {"p": "P-NEW"})["programConstructor"]["reviews"][0][
        "expertName"] == "Орлова Е. В."
    assert code(op.execute(DECIDE, {"p": "P-NEW", "d": "APPROVED"})) == "BAD_STATE"

    # round 2
    dev.data(SUBMIT, {"p": "P-NEW"})
    assert op.data(ASSIGN, {"p": "P-NEW", "e": expert})["assignProgramExpert"] == \
        f"P-NEW:{expert}:2"
    op.data(REVIEW, {"i": review(expert)})
    assert code(dev.execute(DECIDE, {"p": "P-NEW", "d": "APPROVED"})) == "FORBIDDEN"
    assert code(op77.execute(DECIDE, {"p": "P-NEW", "d": "APPROVED"})) == "FORBIDDEN"
    assert op.data(DECIDE, {"p": "P-NEW", "d": "APPROVED"}) == {"decideProgram": "APPROVED"}
    view = op.data(CONSTRUCTOR, {"p": "P-NEW"})["programConstructor"]
    assert view["status"] == "APPROVED"  # approved today (the run may pass midnight)
    assert view["approvedOn"] in {TODAY.isoformat(), dt.date.today().isoformat()}
    assert [(r["round"], r["decision"]) for r in view["reviews"]] == [(2, "APPROVED"),
                                                                      (1, "RETURNED")]
    assert code(op.execute(REVIEW, {"i": review(expert)})) == "BAD_STATE"

    # programsConstructed counts the approval in its window
    kpis = op.data('query($p: String!) { situationalCentre(region: "52", period: $p) '
                   '{ kpis { key value } } }', {"p": str(TODAY.year)})
    values = {k["key"]: k["value"] for k in kpis["situationalCentre"]["kpis"]}
    assert values["programsConstructed.SECTORAL"] == 1 and values["programsConstructed"] == 1

    # every transition audited: the program's status through graph.ingest, the reviews
    rows = db.execute_query(
        "MATCH (s:ChangeSet) WHERE s.label IN ['Program', 'ProgramReview'] AND "
        "s.source = 'review' UNWIND s.ops AS op RETURN s.label AS l, op, s.actor AS actor")
    ops = [(r["l"], r["op"]) for r in rows.records]
    assert ops.count(("Program", "update")) == 4  # REVIEW, DRAFT, REVIEW, APPROVED
    assert {("ProgramReview", o) for o in ("assign", "review", "returned", "approved")} <= set(ops)
