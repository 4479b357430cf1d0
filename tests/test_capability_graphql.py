"""sitesForCompetency, planNetworkProgram and network plans through the live GraphQL API."""

import base64
import io

import pytest
from docx import Document

from tests import test_capability as cap_region
from tests import test_planning as plan_region
from tests.factories import inn, write, write_all
from tests.graphql_client import GraphQLClient, live_server

SITES = """
query($first: Int!, $after: String, $near: GeoPointInput) {
  sitesForCompetency(competency: "MF-01", cohortSize: 10, region: "52", near: $near,
                     first: $first, after: $after) {
    totalCount minStaff pageInfo { hasNextPage endCursor }
    edges { cursor node {
      siteUid workplaces coverage fullCoverage distanceKm staffMissing qualifiedStaffCount
      gaps { equipmentTypeCode scope required available missing equipmentType { name } }
      site { name workplaces } organization { name }
      qualifiedStaff(first: 1) { totalCount pageInfo { hasNextPage endCursor }
                                 nodes { uid fullName expertStatus staff { fullName } } }
    } }
  }
}"""


@pytest.fixture
def cap_api(db, settings):
    write_all(db, cap_region.region())
    with live_server(settings) as url:
        yield GraphQLClient(url)


@pytest.fixture
def plan_api(db, settings):
    write_all(db, plan_region.region())
    with live_server(settings) as url:
        yield GraphQLClient(url)


def test_sites_for_competency_one_query_per_level(cap_api):
    data, statements = cap_api.counted(SITES, {"first": 10, "near": {"lat": 56.241,
                                                                      "lon": 43.461}})
    page = data["sitesForCompetency"]
    # the sites query (with each site's first staff page), then one batch each of Site,
    # Organization, EquipmentType and Staff nodes
    assert statements == 5
    assert page["totalCount"] == 6 and page["minStaff"] == 1  # S7 is not retired here
    nodes = [e["node"] for e in page["edges"]]
    codes = [n["siteUid"].split(":")[1] for n in nodes]
    assert codes[:2] == ["S6", "S1"] and {n["fullCoverage"] for n in nodes[2:]} == {False}
    s3 = next(n for n in nodes if n["siteUid"].endswith(":S3"))
    assert s3["coverage"] == 0.75 and s3["workplaces"] == 6 and not s3["fullCoverage"]
    assert s3["gaps"] == [{"equipmentTypeCode": "WELD", "scope": "PER_WORKPLACE",
                           "required": 10, "available": 6, "missing": 4,
                           "equipmentType": {"name": "Сварочный инвертор"}}]
    assert s3["organization"]["name"] == "Организация 3" and s3["site"]["workplaces"] == 20
    assert s3["qualifiedStaff"]["nodes"][0]["expertStatus"] == "REGIONAL"
    assert s3["qualifiedStaff"]["nodes"][0]["staff"]["fullName"] == "Мастер 3-1"
    s2 = next(n for n in nodes if n["siteUid"].endswith(":S2"))
    assert s2["staffMissing"] and s2["qualifiedStaff"]["nodes"] == []


def test_qualified_staff_pages(cap_api, db):
    write(db, "staff", [{"organization": inn(3), "personnel_number": "7", "full_name": "Мастер 3-7",
                         "role": "TEACHER", "qualifications": [{"competency": "MF-01"}]}])
    query = """query($after: String) { sitesForCompetency(competency: "MF-01", cohortSize: 10,
      municipality: "22701000", first: 5) { nodes { siteUid qualifiedStaffCount
        qualifiedStaff(first: 1, after: $after) {
          totalCount pageInfo { hasNextPage endCursor } nodes { fullName } } } } }"""
    data, statements = cap_api.counted(query, {"after": None})
    s3 = next(n for n in data["sitesForCompetency"]["nodes"] if n["siteUid"].endswith(":S3"))
    page = s3["qualifiedStaff"]
    assert (s3["qualifiedStaffCount"], page["totalCount"]) == (2, 2)
    assert page["nodes"] == [{"fullName": "Мастер 3-1"}] and page["pageInfo"]["hasNextPage"]
    assert statements == 1
    data, statements = cap_api.counted(query, {"after": page["pageInfo"]["endCursor"]})
    s3 = next(n for n in data["sitesForCompetency"]["nodes"] if n["siteUid"].endswith(":S3"))
    assert s3["qualifiedStaff"]["nodes"] == [{"fullName": "Мастер 3-7"}]
    assert not s3["qualifiedStaff"]["pageInfo"]["hasNextPage"]
    assert statements == 2  # the sites, then every site's next staff page in one batch


def test_sites_pages_and_errors(cap_api):
    seen, after = [], None
    while True:
        page = cap_api.data(SITES, {"first": 2, "after": after})["sitesForCompetency"]
        seen += [e["node"]["siteUid"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    whole = cap_api.data(SITES, {"first": 50})["sitesForCompetency"]
    assert seen == [e["node"]["siteUid"] for e in whole["edges"]] and len(seen) == 6
    body = cap_api.execute('{ sitesForCompetency(competency: "NOPE", cohortSize: 5) '
                           '{ totalCount } }')
    # an unknown code is NOT_FOUND naming the argument, not an empty or refused answer
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert body["errors"][0]["extensions"]["argument"] == "competency"
    assert "«NOPE»" in body["errors"][0]["message"] and "competency" in body["errors"][0]["message"]


PLAN_FIELDS = """
  uid status exact partnerCount
  assignments { moduleNumber organizationInn role siteUid staff { fullName }
                equipment { uid } module { name } }
  unplaced { moduleNumber reasons { kind equipmentTypeCode required bestAvailable message } }
  agreements { programCode learners start end programKind programLevel programFocus
    learnerStatus existingAgreements { uid number signedOn title agreement { number } }
    base { organizationInn role roleLabel hours modules { number hours } }
    participant { organizationInn role roleLabel hours sites { uid name }
                  equipment { typeCode name quantity line } staff { fullName }
                  modules { number name hours } }
    resources { organizationInn role moduleNumber hours siteName
                equipment { line } staff { fullName } }
    documents { organizationInn role document moduleNumbers } }
"""


def test_plan_network_program(plan_api):
    query = f"""query($home: String!) {{
      planNetworkProgram(program: "P-NET", cohortSize: 10, homeOrganization: $home,
                         start: "2027-09-01", end: "2027-12-25") {{ {PLAN_FIELDS} }} }}"""
    plan, statements = plan_api.counted(query, {"home": inn(plan_region.H)})
    plan = plan["planNetworkProgram"]
    # the program with the region's supply, the chosen parties' details, then the modules
    # (one batch) and the existing agreement (one batch)
    assert statements == 4
    assert plan["exact"] and plan["partnerCount"] == 2 and plan["status"] == "DRAFT"
    assert [a["moduleNumber"] for a in plan["assignments"]] == [1, 2, 3, 4, 5, 6, 7]
    assert plan["assignments"][0]["role"] == "BASE"
    assert plan["assignments"][1]["module"]["name"] == "Модуль 2"
    assert [(u["moduleNumber"], u["reasons"][0]["kind"]) for u in plan["unplaced"]] == [
        (8, "EQUIPMENT"), (9, "STAFF")]
    a = plan["agreements"][0]
    assert a["base"]["roleLabel"] == "Базовая организация" and a["base"]["role"] == "BASE"
    assert a["participant"]["roleLabel"] == "Организация-участник"
    assert (a["learners"], a["start"], a["end"]) == (10, "2027-09-01", "2027-12-25")
    assert [m["number"] for m in a["participant"]["modules"]] == [2, 3, 4]
    assert a["programKind"].startswith("дополнительная профессиональная программа")
    assert a["programFocus"] == "Сварочные технологии, Наставничество"  # modules, in order
    assert "обучающимися базовой организации" in a["learnerStatus"]
    assert a["participant"]["equipment"] == [
        {"typeCode": f"T{k}", "name": f"Станок T{k}", "quantity": 1,
         "line": f"Станок T{k} — 1 шт."} for k in (2, 3, 4)]
    assert [(r["moduleNumber"], r["role"], r["hours"]) for r in a["resources"]] == [
        (1, "BASE", 8), (2, "PARTICIPANT", 12), (3, "PARTICIPANT", 13), (4, "PARTICIPANT", 14)]
    assert a["resources"][1]["equipment"] == [{"line": "Станок T2 — 1 шт."}]
    assert [(d["role"], d["moduleNumbers"]) for d in a["documents"]] == [
        ("BASE", [1, 2, 3, 4, 5, 6, 7]), ("PARTICIPANT", [2, 3, 4])]
    b = plan["agreements"][1]
    assert b["existingAgreements"] == [{"uid": f"{inn(plan_region.H)}:7", "number": "7",
                                        "signedOn": "2025-01-10", "title": "№ 7 от 10.01.2025",
                                        "agreement": {"number": "7"}}]
    minimal = """query($home: String!) { planNetworkProgram(program: "P-NET", cohortSize: 10,
      homeOrganization: $home) { uid agreements { programKind existingAgreements { title } } } }"""
    _, statements = plan_api.counted(minimal, {"home": inn(plan_region.H)})
    assert statements == 2
    body = plan_api.execute(
        '{ planNetworkProgram(program: "NOPE", cohortSize: 5, homeOrganization: "1") { uid } }')
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert body["errors"][0]["extensions"]["argument"] == "program"


def test_save_list_status_and_document(plan_api):
    home = inn(plan_region.H)
    save = f"""mutation($home: String!) {{
      saveNetworkPlan(program: "P-NET", cohortSize: 10, homeOrganization: $home,
                      start: "2027-09-01", end: "2027-12-25") {{
        plan {{ {PLAN_FIELDS} }} errors {{ field message }} }} }}"""
    saved, statements = plan_api.counted(save, {"home": home})
    saved = saved["saveNetworkPlan"]
    # the base organization's rule, the program with the supply, the details, the plan, the
    # audit record; then the modules and the existing agreement (one batch each)
    assert statements == 7
    assert saved["errors"] == [] and saved["plan"]["uid"] == f"{home}:P-NET:2027-09-01"
    uid = saved["plan"]["uid"]
    _, statements = plan_api.counted("""mutation($home: String!) {
      saveNetworkPlan(program: "P-NET", cohortSize: 10, homeOrganization: $home,
                      start: "2027-09-01", end: "2027-12-25") { plan { uid } } }""",
                                     {"home": home})
    assert statements == 5
    listed, statements = plan_api.counted(
        '{ networkPlans(program: "P-NET") { totalCount pageInfo { hasNextPage endCursor } '
        'edges { cursor node { uid status partnerCount assignments { moduleNumber } '
        'agreements { participant { organizationInn } } } } } }')
    assert statements == 1  # the page and totalCount in one statement
    page = listed["networkPlans"]
    nodes = [e["node"] for e in page["edges"]]
    assert [(n["uid"], n["status"], n["partnerCount"]) for n in nodes] == [(uid, "DRAFT", 2)]
    assert len(nodes[0]["assignments"]) == 7 and len(nodes[0]["agreements"]) == 2
    assert page["totalCount"] == 1 and not page["pageInfo"]["hasNextPage"]
    assert page["pageInfo"]["endCursor"] == page["edges"][0]["cursor"] != uid  # opaque

    status = """mutation($uid: String!, $s: NetworkPlanStatus!) {
      setNetworkPlanStatus(uid: $uid, status: $s) { plan { status } errors { message } } }"""
    refused = plan_api.data(status, {"uid": uid, "s": "RUNNING"})["setNetworkPlanStatus"]
    assert refused["plan"] is None and "только из статуса" in refused["errors"][0]["message"]
    ok = plan_api.data(status, {"uid": uid, "s": "AGREED"})["setNetworkPlanStatus"]
    assert ok == {"plan": {"status": "AGREED"}, "errors": []}
    again = plan_api.data(save, {"home": home})["saveNetworkPlan"]
    assert again["plan"] is None and "только проект" in again["errors"][0]["message"]

    audit = plan_api.data('{ changes(filter: {label: "NetworkPlan"}) { nodes { uid op fields { field } } } }')
    assert audit["changes"]["nodes"] == [  # newest first; the refused save wrote nothing
        {"uid": uid, "op": "UPDATE", "fields": [{"field": "status"}]},
        {"uid": uid, "op": "SAVE", "fields": [{"field": "assignments"}]},
        {"uid": uid, "op": "SAVE", "fields": [{"field": "assignments"}]},  # saved twice
    ]

    doc = plan_api.data('query($uid: String!) { networkPlanDocument(uid: $uid) '
                        '{ filename mediaType contentBase64 } }', {"uid": uid})
    doc = doc["networkPlanDocument"]
    assert doc["filename"] == "network-agreement-P-NET-2027-09-01.docx"
    assert doc["mediaType"].endswith("wordprocessingml.document")
    text = "\n".join(p.text for p in Document(io.BytesIO(
        base64.b64decode(doc["contentBase64"]))).paragraphs)
    assert "о сетевой форме реализации образовательной программы" in text
    assert "Численность обучающихся: 10 чел." in text
    # a stored plan's draft states the art. 15 fields too (read back from the graph)
    assert "Действующие соглашения сторон: № 7 от 10.01.2025" in text
    assert "Направленность: Сварочные технологии, Наставничество." in text
    assert "Оборудование: Станок T5 — 1 шт.; Станок T6 — 1 шт.; Станок T7 — 1 шт." in text
    assert "3. Статус обучающихся" in text and "6. Документы, выдаваемые по итогам обучения" \
        in text


def test_network_plans_pages(plan_api):
    home = inn(plan_region.H)
    save = """mutation($home: String!, $start: Date!) {
      saveNetworkPlan(program: "P-NET", cohortSize: 10, homeOrganization: $home,
                      start: $start) { plan { uid } errors { message } } }"""
    uids = [plan_api.data(save, {"home": home, "start": s})["saveNetworkPlan"]["plan"]["uid"]
            for s in ("2028-02-01", "2027-09-01", "2027-11-01")]
    query = """query($after: String, $status: NetworkPlanStatus, $home: String) {
      networkPlans(first: 2, after: $after, homeOrganization: $home, status: $status) {
        totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node { uid } } } }"""
    first = plan_api.data(query, {"after": None, "home": home})["networkPlans"]
    assert [e["node"]["uid"] for e in first["edges"]] == sorted(uids)[:2]
    assert first["totalCount"] == 3
    assert first["pageInfo"]["hasNextPage"] and not first["pageInfo"]["hasPreviousPage"]
    assert first["pageInfo"]["startCursor"] == first["edges"][0]["cursor"]
    second = plan_api.data(query, {"after": first["pageInfo"]["endCursor"],
                                   "home": home})["networkPlans"]
    assert [e["node"]["uid"] for e in second["edges"]] == sorted(uids)[2:]
    assert not second["pageInfo"]["hasNextPage"] and second["pageInfo"]["hasPreviousPage"]
    assert second["totalCount"] == 3
    none = plan_api.data(query, {"after": None, "status": "RUNNING",
                                 "home": home})["networkPlans"]
    assert none["edges"] == [] and none["totalCount"] == 0
    assert none["pageInfo"]["endCursor"] is None
    body = plan_api.execute(query, {"after": uids[0], "home": home})  # a uid is not a cursor
    assert body["errors"][0]["extensions"]["code"] == "BAD_ARGUMENT"
