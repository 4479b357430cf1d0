"""`hub load demo` shows each public-services flow to a new user (issue #18): open applications
(one of them a flagged duplicate), a program under expert review with a submitted review, a
survey with anonymous answers — seen through GraphQL by an operator of the demo region; a
second load changes nothing of them."""

from __future__ import annotations

import json

from graph.public_services.common import canonical_phone
from hub.cli import main as hub
from loaders.demo import demo_today
from tests.graphql_client import GraphQLClient, live_server, token_for

APPLICATIONS = """{ applications(first: 100) { pageInfo { hasNextPage } nodes {
  id kind status region program cohort fullName email phone category inn organizationName
  consentVersion duplicates { id earlier matchedBy } } } }"""
CONSTRUCTOR = """query($p: String!) { programConstructor(program: $p) {
  code status organization problems { code blocking }
  materials { moduleNumber key kind status own usable underReview }
  reviews { id round expert expertName expertOrganization status scores verdict summary
            decision materials { material edition scores verdict } } } }"""
RESULTS = """query($c: String!) { surveyResults(code: $c) {
  total respondents { key count }
  survey { code categories questions { key kind } }
  questions { key kind cells { category answered options { key count } scale { key count }
                               mean texts } } } }"""

STATE_CYPHER = """
MATCH (n) WHERE n:Application OR n:ProgramReview OR n:Survey OR n:SurveyResponse
WITH n ORDER BY n.uid
WITH collect([labels(n)[0], n.uid, coalesce(n.version, 0), n.status]) AS nodes
RETURN nodes,
       COUNT { MATCH (c:ChangeSet)
               WHERE c.label IN ['Application', 'ProgramReview', 'Survey'] } AS audited,
       [(p:Program)<-[:REVIEWS]-(:ProgramReview) | [p.uid, p.status, p.version]] AS programs
"""


def _load(capsys) -> None:
    assert hub(["load", "demo", "--json"]) == 0
    reports = json.loads(capsys.readouterr().out)  # the output stays the registries' JSON
    assert all(r["rejected"] == 0 for r in reports)


def _one(db, query: str, **params):
    records, _, _ = db.execute_query(query, **params)
    return records[0]


def _seen(client: GraphQLClient, program: str, survey: str):
    return (client.data(APPLICATIONS), client.data(CONSTRUCTOR, {"p": program}),
            client.data(RESULTS, {"c": survey}))


def test_demo_shows_public_services_and_a_reload_changes_nothing(db, settings, capsys):
    _load(capsys)
    region = _one(db, "MATCH (o:Organization {kind: 'COPP'}) RETURN o.region AS r")["r"]
    found = _one(db, """
        MATCH (r:ProgramReview)-[:REVIEWS]->(p:Program)
        MATCH (s:Survey)
        RETURN collect(DISTINCT p.uid) AS programs, collect(DISTINCT s.uid) AS surveys""")
    assert len(found["programs"]) == 1 and len(found["surveys"]) == 1
    program, survey = found["programs"][0], found["surveys"][0]
    operator = token_for("operator", region=region)
    with live_server(settings) as url:
        client = GraphQLClient(url, token=operator)
        applications, constructor, results = _seen(client, program, survey)

        # open applications: enrolments NEW and IN_REVIEW to open cohorts, one partner
        nodes = applications["applications"]["nodes"]
        enrol = [a for a in nodes if a["kind"] == "ENROLMENT"]
        partner = [a for a in nodes if a["kind"] == "PARTNERSHIP"]
        assert sum(a["status"] == "NEW" for a in enrol) >= 2
        assert sum(a["status"] == "IN_REVIEW" for a in enrol) >= 1
        assert len(partner) == 1 and partner[0]["status"] == "NEW"
        assert partner[0]["inn"] and partner[0]["organizationName"]
        assert all(a["region"] == region for a in nodes)
        assert all(a["email"].endswith("@example.org") for a in nodes)
        assert all(canonical_phone(a["phone"]).startswith("+7900000") for a in nodes)
        # one applicant applied again (another address, the phone written as 8 (900)…):
        # flagged as a duplicate of her first application
        repeats = [a for a in enrol if any(d["earlier"] for d in a["duplicates"])]
        assert [[d["matchedBy"] for d in a["duplicates"]] for a in repeats] == [[["PHONE"]]]
        [first] = [a for a in enrol if a["id"] == repeats[0]["duplicates"][0]["id"]]
        assert first["phone"] != repeats[0]["phone"] and first["email"] != repeats[0]["email"]
        assert canonical_phone(first["phone"]) == canonical_phone(repeats[0]["phone"])
        cohorts = [(a["program"], a["cohort"]) for a in enrol if a not in repeats]
        assert len(set(cohorts)) == len(cohorts)
        open_cohorts = _one(db, """
            UNWIND $cohorts AS pc
            MATCH (c:Cohort {uid: pc[0] + ':' + pc[1]})-[:OF_PROGRAM]->(p:Program)
            WHERE c.starts_on > $today AND p.status IN ['APPROVED', 'RUNNING']
            RETURN count(c) AS n""", cohorts=[list(c) for c in cohorts], today=demo_today())["n"]
        assert open_cohorts == len(cohorts)  # all of the catalogue, open for enrolment

        # the program under expert review: two experts, not from the developer, one review
        p = constructor["programConstructor"]
        assert p["status"] == "REVIEW"
        reviews = p["reviews"]
        assert len(reviews) == 2 and {r["round"] for r in reviews} == {1}
        assert all(r["expertOrganization"] != p["organization"] for r in reviews)
        assert all(r["expertName"] for r in reviews)  # the region's operator sees names
        done = [r for r in reviews if r["status"] == "DONE"]
        assert len(done) == 1 and done[0]["verdict"] == "APPROVE"
        assert all(1 <= s <= 5 for s in done[0]["scores"]) and done[0]["decision"] is None
        # its modules use materials: the developer's own under review with it (the submitted
        # review assesses each), another organization's approved one
        materials = p["materials"]
        own = sorted({m["key"] for m in materials if m["own"]})
        assert len(own) >= 2 and all(m["usable"] for m in materials)
        assert {(m["own"], m["status"], m["underReview"]) for m in materials} == {
            (True, "REVIEW", True), (False, "APPROVED", False)}
        assert {"ONLINE_COURSE", "SIMULATOR", "TEST_BANK"} <= {m["kind"] for m in materials}
        assert sorted(a["material"] for a in done[0]["materials"]) == own
        assert all(a["verdict"] == "APPROVE" for a in done[0]["materials"])
        assert not [x for x in p["problems"] if x["code"] == "MATERIAL_NOT_USABLE"]
        experts = _one(db, """
            MATCH (p:Program {uid: $p})<-[:REVIEWS]-(:ProgramReview)-[:BY_EXPERT]->(s:Staff)
            RETURN count(s) AS n,
                   all(x IN collect(EXISTS {
                         MATCH (s)-[q:QUALIFIED_IN]->(k:Competency)
                         WHERE k.uid IN p.competencies
                           AND q.expert_status IN ['REGIONAL', 'CERTIFIED', 'CHIEF'] })
                       WHERE x) AS qualified""", p=program)
        assert experts["n"] == 2 and experts["qualified"]

        # the survey: anonymous answers of several categories, aggregates non-empty
        r = results["surveyResults"]
        assert r["total"] >= 20
        assert len(r["respondents"]) >= 3 and len(r["survey"]["categories"]) >= 3
        by_key = {q["key"]: q for q in r["questions"]}
        assert {"SINGLE", "MULTIPLE", "SCALE", "TEXT"} <= {q["kind"] for q in by_key.values()}
        topic = by_key["topic"]["cells"]
        assert len(topic) >= 3 and sum(c["answered"] for c in topic) == r["total"]
        assert sum(o["count"] for c in topic for o in c["options"]) == r["total"]
        assert any(c["mean"] is not None for c in by_key["need"]["cells"])
        assert any(c["texts"] for c in by_key["obstacles"]["cells"])  # operator sees texts
        state = _one(db, STATE_CYPHER)

        # a second load: nothing of them is created or changed
        _load(capsys)
        assert _one(db, STATE_CYPHER) == state
        assert _seen(client, program, survey) == (applications, constructor, results)



def test_every_operation_the_code_audits_reads_back(db, settings, capsys):
    """`changes` knows every op a write path records: the literal ops in the code, the
    application transitions and the review decisions; the demo's log reads back as a page."""
    import re
    from pathlib import Path

    from graph.public_services import applications
    from schema.audit.types import ChangeOp

    root = Path(__file__).resolve().parent.parent
    literal = {m for path in (*root.glob("graph/**/*.py"), *root.glob("schema/**/*.py"))
               for m in re.findall(r'"op": "([a-z_]+)"', path.read_text(encoding="utf-8"))}
    known = {o.value for o in ChangeOp}
    assert literal | set(applications.FROM) | {"approved", "returned"} <= known
    _load(capsys)
    with live_server(settings) as url:
        admin = GraphQLClient(url)
        for label, ops in (("Application", {"CREATE", "TAKE"}),
                           ("ProgramReview", {"ASSIGN", "REVIEW"})):
            page = admin.data('query($l: String) { changes(first: 100, filter: {label: $l}) '
                              '{ nodes { op } } }', {"l": label})["changes"]["nodes"]
            assert ops <= {c["op"] for c in page}, (label, page)
        # applications page as a connection: every one once, in key order, cursors opaque
        query = ('query($a: String) { applications(first: 2, after: $a) { nodes { id } '
                 'pageInfo { hasNextPage endCursor } } }')
        seen, after = [], None
        while True:
            page = admin.data(query, {"a": after})["applications"]
            seen += [n["id"] for n in page["nodes"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert len(seen) == len(set(seen)) >= 6 and seen == sorted(seen)
        forged = admin.execute(query, {"a": seen[0]})
        assert forged["errors"][0]["extensions"]["code"] == "BAD_ARGUMENT"
