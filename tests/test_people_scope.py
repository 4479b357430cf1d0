"""Reads of people are scoped (152-ФЗ, `graph.privacy`): every role × every personal read
through the live GraphQL API over the real Neo4j.

Two regions (52, 77), three organizations: A and B in 52, C in 77. Staff at each; cohorts run by
A and by C; learners of both regions enrolled across them. Who reads what:

| role                | staff names | learners          | enrollments       |
|---------------------|-------------|-------------------|-------------------|
| admin               | all         | all               | all               |
| operator 52         | A, B        | region 52         | cohorts of A      |
| operator 77         | C           | region 77         | cohorts of C      |
| registrar of A      | A           | enrolled with A   | cohorts of A      |
| registrar of B      | B           | none              | none              |
| planner, viewer     | none (null) | FORBIDDEN         | FORBIDDEN         |
"""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from docx import Document

from graph import privacy
from graph.access import Principal
from graph.checksums import inn_with_checksum
from schema.core.ids import encode_id
from tests import test_planning as plan_region
from tests.factories import inn, seed_region, write_all
from tests.graphql_client import GraphQLClient, count_queries, live_server, token_for

A, B, C = inn(2), inn(1), inn_with_checksum("770000010")
ROLES = ("admin", "operator52", "operator77", "registrarA", "registrarB", "planner", "viewer")
NAMES = {A: "Алексеев А. А.", B: "Борисова Б. Б.", C: "Цветков Ц. Ц."}

# Expected visibility per role.
STAFF_NAMES = {
    "admin": {A, B, C}, "operator52": {A, B}, "operator77": {C}, "registrarA": {A},
    "registrarB": {B}, "planner": set(), "viewer": set(),
}
LEARNERS = {
    "admin": {"L1", "L2", "L3", "L4"}, "operator52": {"L1", "L2"}, "operator77": {"L3", "L4"},
    "registrarA": {"L1", "L3"}, "registrarB": set(), "planner": None, "viewer": None,
}
ENROLLMENTS = {  # by learner: E(A, L1), E(C, L1), E(C, L2), E(A, L3), E(C, L4)
    "admin": {"PA:G1:L1", "PC:G1:L1", "PC:G1:L2", "PA:G1:L3", "PC:G1:L4"},
    "operator52": {"PA:G1:L1", "PA:G1:L3"}, "operator77": {"PC:G1:L1", "PC:G1:L2", "PC:G1:L4"},
    "registrarA": {"PA:G1:L1", "PA:G1:L3"}, "registrarB": set(), "planner": None, "viewer": None,
}


def rows() -> dict[str, list[dict[str, Any]]]:
    staff = [{"organization": org, "personnel_number": "1", "full_name": name, "role": "MASTER",
              "qualifications": [{"competency": "MF-01", "expert_status": "REGIONAL"}]}
             for org, name in NAMES.items()]
    return {
        "regions": [{"code": "77", "name": "Москва"}],
        "municipalities": [{"oktmo": "45000000", "name": "г. Москва", "region": "77"}],
        "organizations": [{"inn": C, "name": "Московский колледж", "kind": "ПОО",
                           "region": "77", "municipality": "45000000"}],
        "sites": [{"organization": C, "code": "M1", "name": "Мастерская Москва",
                   "municipality": "45000000", "workplaces": 10}],
        "infrastructure_lists": [
            {"competency": "MF-01", "items": [{"equipment_type": "WELD-INV", "quantity": 1}]}],
        "equipment": [{"organization": org, "inventory_number": "W-1", "type": "WELD-INV",
                       "site": "M1", "quantity": 20} for org in (A, B, C)],
        "staff": staff,
        "programs": [{"code": f"P{k}", "name": f"Программа {k}", "type": "EMPLOYER_ORDERED",
                      "status": "APPROVED", "hours": 72, "organization": org,
                      "competencies": ["MF-01"]} for k, org in (("A", A), ("C", C))],
        "cohorts": [{"program": f"P{k}", "code": "G1", "organization": org,
                     "starts_on": "2025-03-01", "ends_on": "2025-06-30", "seats": 10}
                    for k, org in (("A", A), ("C", C))],
        "learners": [{"external_id": lid, "category": "EMPLOYED", "region": region}
                     for lid, region in (("L1", "52"), ("L2", "52"), ("L3", "77"),
                                         ("L4", "77"))],
        "enrollments": [{"program": p, "cohort": "G1", "learner": lid}
                        for p, lid in (("PA", "L1"), ("PC", "L1"), ("PC", "L2"), ("PA", "L3"),
                                       ("PC", "L4"))],
        "career_guidance_events": [
            {"organization": A, "code": "E1", "kind": "EVENT", "name": "День открытых дверей",
             "held_on": "2025-04-10", "municipality": "22721000", "participants_school": 3,
             "learners": ["L1"]},
            {"organization": C, "code": "E2", "kind": "EVENT", "name": "Ярмарка",
             "held_on": "2025-05-10", "municipality": "45000000", "participants_school": 3,
             "learners": ["L1", "L4"]}],
    }


def tokens() -> dict[str, str | None]:
    return {
        "admin": token_for("admin"),
        "operator52": token_for("operator", region="52"),
        "operator77": token_for("operator", region="77"),
        "registrarA": token_for("registrar", organizations=[A]),
        "registrarB": token_for("registrar", organizations=[B]),
        "planner": token_for("planner"),
        "viewer": token_for("viewer"),
    }


@pytest.fixture(scope="module")
def api(driver, settings):
    from tests.conftest import wipe

    wipe(driver, settings.neo4j_database)
    seed_region(driver)
    write_all(driver, rows())
    with live_server(settings) as url:
        yield {role: GraphQLClient(url, token=t) for role, t in tokens().items()}
    wipe(driver, settings.neo4j_database)


def forbidden(body: dict[str, Any]) -> bool:
    errors = body.get("errors") or []
    return bool(errors) and all(e["extensions"]["code"] == "FORBIDDEN" and "152-ФЗ" in e["message"]
                                for e in errors)


# --- the declaration -------------------------------------------------------------------------

def test_declaration_is_introspectable():
    assert privacy.PERSONAL["staff"] == ("full_name",)
    assert privacy.PERSONAL["learners"] == privacy.PERSONAL["enrollments"] == (privacy.ALL_FIELDS,)
    assert set(privacy.OWNERS) == set(privacy.PERSONAL)
    assert privacy.people_scope(Principal("a", "admin")).everything
    assert privacy.people_scope(Principal("o", "operator", region="52")).region == "52"
    assert privacy.people_scope(
        Principal("r", "registrar", organizations=frozenset({A}))).organizations == {A}
    for role in ("planner", "viewer"):
        assert privacy.people_scope(Principal("p", role)).nothing
    assert privacy.people_scope(None).nothing
    assert privacy.people_scope(Principal("o", "operator")).nothing  # no region: nothing
    cond = privacy.scope_condition("learners")
    assert "$f__people.region" in cond and "'" not in cond and '"' not in cond  # parameters only


# --- staff names -----------------------------------------------------------------------------

STAFF = '{ staff(first: 50) { totalCount nodes { uid organizationInn fullName role ' \
        'qualifications { competencyCode expertStatus } } } }'


@pytest.mark.parametrize("role", ROLES)
def test_staff_list_names(api, role):
    data = api[role].data(STAFF)["staff"]
    assert data["totalCount"] == 3  # the list stays readable for every role
    named = {n["organizationInn"] for n in data["nodes"] if n["fullName"] is not None}
    assert named == STAFF_NAMES[role]
    for n in data["nodes"]:
        assert n["fullName"] in (None, NAMES[n["organizationInn"]])
        assert n["role"] == "MASTER"  # what planning needs stays
        assert n["qualifications"] == [{"competencyCode": "MF-01", "expertStatus": "REGIONAL"}]


@pytest.mark.parametrize("role", ROLES)
def test_staff_node_and_nested_names(api, role):
    ids = [encode_id("Staff", f"{org}:1") for org in (A, B, C)]
    data = api[role].data('query($ids: [ID!]!) { nodes(ids: $ids) { ... on Staff '
                          '{ organizationInn fullName } } }', {"ids": ids})
    assert {n["organizationInn"] for n in data["nodes"] if n["fullName"]} == STAFF_NAMES[role]
    nested = api[role].data('{ organizations(first: 10) { nodes { inn staff { fullName } } } '
                            'competencies(first: 5) { nodes { code qualifiedStaff '
                            '{ staff { organizationInn fullName } } } } }')
    via_org = {o["inn"] for o in nested["organizations"]["nodes"]
               for s in o["staff"] if s["fullName"]}
    assert via_org == STAFF_NAMES[role]
    mf01 = next(c for c in nested["competencies"]["nodes"] if c["code"] == "MF-01")
    assert len(mf01["qualifiedStaff"]) == 3
    assert {q["staff"]["organizationInn"] for q in mf01["qualifiedStaff"]
            if q["staff"]["fullName"]} == STAFF_NAMES[role]


def test_staff_default_order_and_cursor_carry_no_names(api):
    for role in ("viewer", "registrarA"):
        page = api[role].data('{ staff(first: 1) { edges { cursor } } }')["staff"]["edges"]
        decoded = base64.urlsafe_b64decode(page[0]["cursor"].encode()).decode()
        assert decoded.startswith('["uid"') and not any(n in decoded for n in NAMES.values())
    admin = api["admin"].data('{ staff(first: 3) { nodes { fullName } } }')["staff"]["nodes"]
    assert [n["fullName"] for n in admin] == sorted(NAMES.values())  # admins: by name


@pytest.mark.parametrize("role", ROLES)
def test_staff_search_and_name_sort_are_scoped(api, role):
    search = '{ staff(filter: {search: "Цветков"}) { totalCount nodes { fullName } } }'
    by_name = '{ staff(sort: {field: FULL_NAME}) { totalCount nodes { organizationInn } } }'
    if not STAFF_NAMES[role]:
        assert forbidden(api[role].execute(search))
        assert forbidden(api[role].execute(by_name))
        return
    found = api[role].data(search)["staff"]
    assert found["totalCount"] == (1 if C in STAFF_NAMES[role] else 0)
    sorted_ = api[role].data(by_name)["staff"]
    assert {n["organizationInn"] for n in sorted_["nodes"]} == STAFF_NAMES[role]


# --- learners, enrollments, portfolio --------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_learner_and_enrollment_lists(api, role):
    learners = api[role].execute('{ learners(first: 50) { totalCount nodes { externalId } } }')
    enrollments = api[role].execute('{ enrollments(first: 50) { totalCount nodes { uid } } }')
    if LEARNERS[role] is None:
        assert forbidden(learners) and learners["data"] is None
        assert forbidden(enrollments) and enrollments["data"] is None
        return
    assert not learners.get("errors") and not enrollments.get("errors")
    got = learners["data"]["learners"]
    assert {n["externalId"] for n in got["nodes"]} == LEARNERS[role]
    assert got["totalCount"] == len(LEARNERS[role])
    got = enrollments["data"]["enrollments"]
    assert {n["uid"] for n in got["nodes"]} == ENROLLMENTS[role]
    assert got["totalCount"] == len(ENROLLMENTS[role])


@pytest.mark.parametrize("role", ROLES)
def test_learner_and_enrollment_by_id(api, role):
    for label, uids, expected in (("Learner", ["L1", "L2", "L3", "L4"], LEARNERS[role]),
                                  ("Enrollment", sorted(ENROLLMENTS["admin"]),
                                   ENROLLMENTS[role])):
        for uid in uids:
            body = api[role].execute('query($id: ID!) { node(id: $id) { uid } }',
                                     {"id": encode_id(label, uid)})
            if expected is not None and uid in expected:
                assert body["data"]["node"] == {"uid": uid} and not body.get("errors")
            else:
                assert body["data"]["node"] is None and forbidden(body), (label, uid)


@pytest.mark.parametrize("role", ROLES)
def test_enrollments_nested_in_cohorts_and_learner_links(api, role):
    body = api[role].execute('{ cohorts(first: 10) { nodes { uid enrollments { uid } } } }')
    cohorts = body["data"]["cohorts"]["nodes"]
    assert {c["uid"] for c in cohorts} == {"PA:G1", "PC:G1"}  # cohorts are not personal
    if ENROLLMENTS[role] is None:
        assert forbidden(body) and all(c["enrollments"] is None for c in cohorts)
        return
    assert not body.get("errors")
    assert {e["uid"] for c in cohorts for e in c["enrollments"]} == ENROLLMENTS[role]
    # a readable enrollment's learner: readable only within the learner rule
    for uid in ENROLLMENTS[role]:
        body = api[role].execute('query($id: ID!) { node(id: $id) { ... on Enrollment '
                                 '{ learner { externalId } } } }',
                                 {"id": encode_id("Enrollment", uid)})
        learner = uid.rsplit(":", 1)[1]
        if learner in LEARNERS[role]:
            assert body["data"]["node"]["learner"] == {"externalId": learner}
        else:
            assert body["data"]["node"]["learner"] is None and forbidden(body)


PORTFOLIO = '{ learnerPortfolio(externalId: "L1") { externalId enrollments { programCode } ' \
            'events { code } } }'
# L1: region 52, enrolled with A (PA) and C (PC), attended A's E1 and C's E2.
PORTFOLIOS = {
    "admin": ({"PA", "PC"}, {"E1", "E2"}), "operator52": ({"PA"}, {"E1"}),
    "registrarA": ({"PA"}, {"E1"}),
}


@pytest.mark.parametrize("role", ROLES)
def test_learner_portfolio(api, role):
    body = api[role].execute(PORTFOLIO)
    if role not in PORTFOLIOS:
        assert body["data"] == {"learnerPortfolio": None} and forbidden(body)
        return
    p = body["data"]["learnerPortfolio"]
    programs, events = PORTFOLIOS[role]
    assert p["externalId"] == "L1"
    assert {e["programCode"] for e in p["enrollments"]} == programs
    assert {e["code"] for e in p["events"]} == events
    assert api[role].data('{ learnerPortfolio(externalId: "nobody") { externalId } }') == {
        "learnerPortfolio": None}


@pytest.mark.parametrize("role", ROLES)
def test_event_participants(api, role):
    data = api[role].data('{ careerGuidanceEvents(first: 10) { nodes { organizationInn '
                          'participants learnerIds } } }')
    nodes = data["careerGuidanceEvents"]["nodes"]
    assert all(n["participants"] == 3 for n in nodes)  # counts stay
    assert {n["organizationInn"] for n in nodes if n["learnerIds"] is not None} == (
        STAFF_NAMES[role] - {B})  # same owner rule: organizer in scope (B organizes none)


def test_dashboard_counts_stay_for_viewers(api):
    body = api["viewer"].data('{ situationalCentre(region: "52", period: "2025") '
                              '{ kpis { key value } } }')
    assert body["situationalCentre"]["kpis"]


# --- capability and planning outputs ---------------------------------------------------------

SITES = '{ sitesForCompetency(competency: "MF-01", cohortSize: 5, first: 10) { nodes { ' \
        'organizationInn qualifiedStaffCount qualifiedStaff(first: 5) { nodes { uid fullName ' \
        'expertStatus } } } } }'


@pytest.mark.parametrize("role", ROLES)
def test_sites_for_competency_staff_names(api, role):
    nodes = api[role].data(SITES)["sitesForCompetency"]["nodes"]
    assert {n["organizationInn"] for n in nodes} == {A, B, C}
    named = set()
    for n in nodes:
        assert n["qualifiedStaffCount"] == 1
        member = n["qualifiedStaff"]["nodes"][0]
        assert member["expertStatus"] == "REGIONAL"
        if member["fullName"] is not None:
            assert member["fullName"] == NAMES[n["organizationInn"]]
            named.add(n["organizationInn"])
    assert named == STAFF_NAMES[role]


def test_sites_for_competency_operator_costs_one_statement_per_level(api):
    with count_queries() as seen:
        api["operator52"].data(SITES)
    assert len(seen) == 2  # the sites (with staff pages), then the employers' regions


@pytest.fixture
def plan_api(db, settings):
    write_all(db, plan_region.region())
    with live_server(settings) as url:
        yield {"admin": GraphQLClient(url, token=token_for("admin")),
               "operator52": GraphQLClient(url, token=token_for("operator", region="52")),
               "operator77": GraphQLClient(url, token=token_for("operator", region="77")),
               "planner": GraphQLClient(url, token=token_for("planner"))}


PLAN = """query($home: String!) {
  planNetworkProgram(program: "P-NET", cohortSize: 10, homeOrganization: $home,
                     start: "2027-09-01", end: "2027-12-25") {
    assignments { staff { uid fullName expertStatus } }
    agreements { base { staff { fullName } } participant { staff { fullName } } } } }"""


def test_plan_and_document_staff_names(plan_api):
    home = inn(plan_region.H)
    for role, named in (("admin", True), ("operator52", True), ("operator77", False),
                        ("planner", False)):
        plan = plan_api[role].data(PLAN, {"home": home})["planNetworkProgram"]
        staff = [s for a in plan["assignments"] for s in a["staff"]]
        staff += [s for d in plan["agreements"] for p in ("base", "participant")
                  for s in d[p]["staff"]]
        assert staff and all(s.get("expertStatus", "NONE") for s in staff)
        if named:
            assert all(s["fullName"].startswith("Мастер ") for s in staff), role
        else:
            assert all(s["fullName"] is None for s in staff), role

    saved = plan_api["admin"].data(
        """mutation($home: String!) { saveNetworkPlan(program: "P-NET", cohortSize: 10,
             homeOrganization: $home, start: "2027-09-01", end: "2027-12-25") {
             plan { uid } errors { message } } }""", {"home": home})["saveNetworkPlan"]
    uid = saved["plan"]["uid"]
    listed = plan_api["planner"].data('{ networkPlans { nodes { assignments '
                                      '{ staff { fullName } } } } }')
    assert all(s["fullName"] is None for n in listed["networkPlans"]["nodes"]
               for a in n["assignments"] for s in a["staff"])

    def document(role: str) -> str:
        doc = plan_api[role].data('query($uid: String!) { networkPlanDocument(uid: $uid) '
                                  '{ contentBase64 } }', {"uid": uid})["networkPlanDocument"]
        d = Document(io.BytesIO(base64.b64decode(doc["contentBase64"])))
        cells = [c.text for t in d.tables for r in t.rows for c in r.cells]
        return "\n".join([p.text for p in d.paragraphs] + cells)

    admin_text, planner_text = document("admin"), document("planner")
    assert "Мастер " in admin_text and "ФИО скрыто" not in admin_text
    assert "Мастер " not in planner_text and "ФИО скрыто (152-ФЗ), таб. № 1" in planner_text
