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
  agreements { programCode learners start end existingAgreements
    base { organizationInn role roleLabel hours modules { number hours } }
    participant { organizationInn role roleLabel hours sites { uid name }
                  equipment { uid } staff { fullName } modules { number name hours } } }
"""


def test_plan_network_program(plan_api):
    query = f"""query($home: String!) {{
      planNetworkProgram(program: "P-NET", cohortSize: 10, homeOrganization: $home,
                         start: "2027-09-01", end: "2027-12-25") {{ {PLAN_FIELDS} }} }}"""
    plan = plan_api.data(query, {"home": inn(plan_region.H)})["planNetworkProgram"]
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
    saved = plan_api.data(save, {"home": home})["saveNetworkPlan"]
    assert saved["errors"] == [] and saved["plan"]["uid"] == f"{home}:P-NET:2027-09-01"
    uid = saved["plan"]["uid"]
    listed = plan_api.data('{ networkPlans(program: "P-NET") { hasNextPage '
                           'nodes { uid status partnerCount assignments { moduleNumber } '
                           'agreements { participant { organizationInn } } } } }')
    nodes = listed["networkPlans"]["nodes"]
    assert [(n["uid"], n["status"], n["partnerCount"]) for n in nodes] == [(uid, "DRAFT", 2)]
    assert len(nodes[0]["assignments"]) == 7 and len(nodes[0]["agreements"]) == 2

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
