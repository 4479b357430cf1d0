"""Duplicate applications (issue #18): the same person applying twice to one program with the
same e-mail or phone, however written, is flagged for the handlers and never refused — the
anonymous form answers the same whether or not a contact is on file; handlers see the links
only inside their personal-data scope and merge or decline; keys and links go with the
contacts. Also `hub purge applications`. Against the real Neo4j, through the HTTP API."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest

from graph.public_services import applications as ap
from graph.public_services.common import canonical_email, canonical_phone, contact_keys
from hub.cli import ExitCode
from hub.cli import main as hub
from tests.factories import inn, seed_region, write
from tests.graphql_client import GraphQLClient, free_port, live_server, token_for

COPP, COLLEGE = inn(1), inn(2)
TODAY = dt.date.today()

APPLY = """mutation($i: EnrolmentApplicationInput!) {
  applyToCohort(input: $i) { statusToken status message } }"""
PARTNER = """mutation($i: PartnerApplicationInput!) {
  applyForPartnership(input: $i) { statusToken status message } }"""
STATUS = """query($t: String!) { applicationStatus(token: $t) {
  kind status statusLabel submittedAt updatedAt program programName cohort organizationName
  declineReason } }"""
LIST = """query($d: Boolean) { applications(duplicate: $d, first: 100) { nodes {
  id kind status program cohort fullName email phone mergedInto merged declineReason
  duplicates { id kind status statusLabel program cohort earlier matchedBy matchedLabel } } } }"""
MERGE = """mutation($id: ID!, $into: ID!) { mergeApplication(id: $id, into: $into) {
  id status email phone comment merged duplicates { id status } } }"""
DECLINE = """mutation($id: ID!) { declineApplication(id: $id, reason: "Повторная заявка") {
  status duplicates { id } } }"""


def person(**over):
    return {"program": "P-OPEN", "cohort": "G1", "fullName": "Смирнова Анна Петровна",
            "email": f"{uuid.uuid4().hex[:10]}@example.ru", "category": "EMPLOYED",
            "consent": True, "consentVersion": ap.CONSENT_VERSION, **over}


def error_code(body):
    errors = body.get("errors") or []
    return errors[0]["extensions"]["code"] if errors else None


def by_email(nodes):
    return {n["email"]: n for n in nodes}


@pytest.fixture
def world(db, settings):
    seed_region(db)
    start = TODAY + dt.timedelta(days=20)
    dates = {"starts_on": start.isoformat(),
             "ends_on": (start + dt.timedelta(days=60)).isoformat(), "seats": 30}
    assert write(db, "programs", [
        {"code": code, "name": f"Программа {code}", "type": "EMPLOYER_ORDERED",
         "status": "APPROVED", "hours": 72, "organization": COPP, "competencies": ["MF-01"],
         "approved_on": "2025-01-15"} for code in ("P-OPEN", "P-OTHER")]).ok
    assert write(db, "cohorts", [
        {"program": "P-OPEN", "code": "G1", "organization": COPP, "sites": [f"{COPP}:M1"],
         **dates},
        # the same program, another organization's cohort
        {"program": "P-OPEN", "code": "G2", "organization": COLLEGE,
         "sites": [f"{COLLEGE}:M1"], **dates},
        {"program": "P-OTHER", "code": "G1", "organization": COPP, "sites": [f"{COPP}:M1"],
         **dates}]).ok
    with live_server(settings) as url:
        yield url


def test_canonical_contacts():
    same = ["+7 (900) 123-45-67", "8 900 123 45 67", "89001234567", "+79001234567",
            "7-900-123-45-67", "(900) 123-45-67", "900.123.45.67", "８ ９００ １２３ ４５ ６７",
            "+7 900 123\u201345\u201367"]
    assert {canonical_phone(p) for p in same} == {"+79001234567"}
    assert canonical_phone("+375 29 123-45-67") == "+375291234567"
    assert canonical_phone("+4930123456") != canonical_phone("4930123456")  # foreign ≠ local
    for bad in ("12-34", "+7 900 ABC 45 67", "+7 (900) 123-45-67 доб. 5", "+" + "1" * 16):
        assert canonical_phone(bad) is None
    assert {canonical_email(e) for e in (" Anna@Example.RU ", "anna@example.ru",
                                         "ＡＮＮＡ@ｅｘａｍｐｌｅ.ｒｕ")} == {"anna@example.ru"}
    # keys are scoped: one contact gives unrelated keys in two programs
    one, other = (contact_keys("anna@example.ru", "89001234567", f"program:{p}")
                  for p in ("P-OPEN", "P-OTHER"))
    assert [k[:2] for k in one] == ["e:", "p:"] and not set(one) & set(other)


def test_anonymous_answer_is_the_same_whether_or_not_the_contact_is_known(world, db):
    anon = GraphQLClient(world, token=None)
    first = anon.data(APPLY, {"i": person(email="anna@example.ru",
                                          phone="+7 (900) 123-45-67")})["applyToCohort"]
    # the same person: the e-mail in capitals with spaces; then the phone written as 8…
    # with another address; then somebody new
    again = anon.data(APPLY, {"i": person(email="  ANNA@Example.ru ")})["applyToCohort"]
    phone = anon.data(APPLY, {"i": person(email="anna.work@example.ru",
                                          phone="8 900 123 45 67")})["applyToCohort"]
    fresh = anon.data(APPLY, {"i": person(phone="8 911 000 00 00")})["applyToCohort"]
    tokens = [r.pop("statusToken") for r in (first, again, phone, fresh)]
    assert first == again == phone == fresh  # nothing says a contact is on file
    statuses = [anon.data(STATUS, {"t": t})["applicationStatus"] for t in tokens]
    for s in statuses:
        s.pop("submittedAt"), s.pop("updatedAt")
    assert all(s == statuses[0] for s in statuses)
    assert statuses[0]["status"] == "NEW" and statuses[0]["declineReason"] is None

    copp = GraphQLClient(world, token=token_for("registrar", organizations=[COPP]))
    nodes = by_email(copp.data(LIST)["applications"]["nodes"])
    a, b, c = nodes["anna@example.ru"], nodes["ANNA@Example.ru"], nodes["anna.work@example.ru"]
    assert b["email"] == "ANNA@Example.ru"  # stored as typed; only the key is canonical
    assert [(d["id"], d["matchedBy"], d["earlier"]) for d in b["duplicates"]] == [
        (a["id"], ["EMAIL"], True)]
    assert [(d["id"], d["matchedBy"], d["matchedLabel"]) for d in c["duplicates"]] == [
        (a["id"], ["PHONE"], "совпадает телефон")]  # b has no phone, c another e-mail
    assert [(d["id"], d["earlier"]) for d in a["duplicates"]] == [
        (b["id"], False), (c["id"], False)]
    flagged = copp.data(LIST, {"d": True})["applications"]["nodes"]
    assert {n["id"] for n in flagged} == {a["id"], b["id"], c["id"]}
    [single] = copp.data(LIST, {"d": False})["applications"]["nodes"]
    assert single["duplicates"] == [] and single["phone"] == "8 911 000 00 00"

    # nothing derived from the contacts is readable: no key, no canonical form
    body = json.dumps(copp.data(LIST), ensure_ascii=False)
    stored = db.execute_query("MATCH (x:Application) UNWIND x.contacts AS k RETURN k").records
    assert stored and not any(r["k"] in body or r["k"][2:] in body for r in stored)
    assert "+79001234567" not in body and "anna@example.ru" in body


def test_links_stay_inside_the_readers_scope(world, db):
    anon = GraphQLClient(world, token=None)
    contact = {"phone": "+7 900 555-00-01"}
    anon.data(APPLY, {"i": person(cohort="G1", **contact)})
    anon.data(APPLY, {"i": person(cohort="G2", **contact)})  # the college's cohort
    anon.data(APPLY, {"i": person(program="P-OTHER", cohort="G1", **contact)})
    copp = GraphQLClient(world, token=token_for("registrar", organizations=[COPP]))
    college = GraphQLClient(world, token=token_for("registrar", organizations=[COLLEGE]))
    operator = GraphQLClient(world, token=token_for("operator", region="52"))
    stranger = GraphQLClient(world, token=token_for("operator", region="77"))

    # each organization sees its own application and no sign of the other's
    mine = copp.data(LIST)["applications"]["nodes"]
    assert sorted(n["cohort"] for n in mine) == ["G1", "G1"]
    assert all(n["duplicates"] == [] for n in mine)
    assert copp.data(LIST, {"d": True})["applications"]["nodes"] == []
    [theirs] = college.data(LIST)["applications"]["nodes"]
    assert theirs["cohort"] == "G2" and theirs["duplicates"] == []
    # the region's operator sees the link across the two cohorts of P-OPEN; another
    # program's application is not a duplicate (its keys are another program's)
    both = operator.data(LIST, {"d": True})["applications"]["nodes"]
    assert sorted(n["cohort"] for n in both) == ["G1", "G2"]
    assert all([d["program"] for d in n["duplicates"]] == ["P-OPEN"] for n in both)
    assert stranger.data(LIST)["applications"]["nodes"] == []
    # a transition's answer reads its links in the same scope
    g1 = next(n for n in mine if n["program"] == "P-OPEN")
    take = 'mutation($id: ID!) { takeApplication(id: $id) { status duplicates { id } } }'
    assert copp.data(take, {"id": g1["id"]})["takeApplication"] == {
        "status": "IN_REVIEW", "duplicates": []}
    # merging with an application out of one's scope is refused
    assert error_code(copp.execute(MERGE, {"id": g1["id"], "into": theirs["id"]})) == "FORBIDDEN"
    # the operator merges the college's one into the ЦОПП's: each organization still sees
    # nothing of the other's application, not even its key
    operator.data(MERGE, {"id": theirs["id"], "into": g1["id"]})
    mine = {n["id"]: n for n in copp.data(LIST)["applications"]["nodes"]}
    assert (mine[g1["id"]]["merged"], mine[g1["id"]]["duplicates"]) == ([], [])
    [theirs] = college.data(LIST)["applications"]["nodes"]
    assert (theirs["status"], theirs["mergedInto"], theirs["duplicates"]) == (
        "DECLINED", None, [])
    seen = {n["id"]: n for n in operator.data(LIST)["applications"]["nodes"]}
    assert (seen[g1["id"]]["merged"], seen[theirs["id"]]["mergedInto"]) == (
        [theirs["id"]], g1["id"])
    # a transition's answer: the same scope, one statement for all three link fields
    links = "status duplicates { id } merged mergedInto"
    decline = 'mutation($id: ID!) {{ declineApplication(id: $id, reason: "Нет") {{ {} }} }}'
    data, full = copp.counted(decline.format(links), {"id": g1["id"]})
    assert data["declineApplication"] == {"status": "DECLINED", "duplicates": [],
                                          "merged": [], "mergedInto": None}
    other = next(n for n in copp.data(LIST)["applications"]["nodes"]
                 if n["program"] == "P-OTHER")
    _, bare = copp.counted(decline.format("status"), {"id": other["id"]})
    assert full == bare + 1


def test_merge_and_decline(world, db):
    anon = GraphQLClient(world, token=None)
    first = anon.data(APPLY, {"i": person(email="olga@example.ru", comment=None)})
    second = anon.data(APPLY, {"i": person(email="OLGA@example.ru", phone="8 (900) 777-00-01",
                                           comment="Удобно по вечерам")})
    anon.data(APPLY, {"i": person(email="petr@example.ru")})
    copp = GraphQLClient(world, token=token_for("registrar", organizations=[COPP]))
    college = GraphQLClient(world, token=token_for("registrar", organizations=[COLLEGE]))
    nodes = by_email(copp.data(LIST)["applications"]["nodes"])
    kept, dup, unrelated = (nodes[e]["id"] for e in
                            ("olga@example.ru", "OLGA@example.ru", "petr@example.ru"))

    assert error_code(copp.execute(MERGE, {"id": dup, "into": dup})) == "BAD_REQUEST"
    assert error_code(copp.execute(MERGE, {"id": unrelated, "into": kept})) == "BAD_STATE"
    assert error_code(college.execute(MERGE, {"id": dup, "into": kept})) == "FORBIDDEN"
    assert error_code(anon.execute(MERGE, {"id": dup, "into": kept})) == "UNAUTHENTICATED"
    assert error_code(copp.execute(MERGE, {"id": dup, "into": "0" * 32})) == "NOT_FOUND"

    merged = copp.data(MERGE, {"id": dup, "into": kept})["mergeApplication"]
    # the kept one takes the phone and comment it lacked; its e-mail stays as it was
    assert (merged["id"], merged["status"], merged["email"], merged["phone"],
            merged["comment"], merged["merged"]) == (
        kept, "NEW", "olga@example.ru", "8 (900) 777-00-01", "Удобно по вечерам", [dup])
    assert merged["duplicates"] == [{"id": dup, "status": "DECLINED"}]
    after = by_email(copp.data(LIST)["applications"]["nodes"])["OLGA@example.ru"]
    assert (after["status"], after["mergedInto"], after["declineReason"]) == (
        "DECLINED", kept, ap.MERGED_REASON)
    # the duplicate's status link: declined with the neutral words, nothing of the other
    status = anon.data(STATUS, {"t": second["applyToCohort"]["statusToken"]})
    assert status["applicationStatus"]["declineReason"] == ap.MERGED_REASON
    assert kept not in json.dumps(status)
    assert anon.data(STATUS, {"t": first["applyToCohort"]["statusToken"]})[
        "applicationStatus"]["status"] == "NEW"
    # a merged duplicate cannot merge again; nothing merges into a declined application
    assert error_code(copp.execute(MERGE, {"id": dup, "into": kept})) == "BAD_STATE"
    assert error_code(copp.execute(MERGE, {"id": kept, "into": dup})) == "BAD_STATE"
    # the merged phone now finds the kept application
    anon.data(APPLY, {"i": person(phone="+79007770001")})
    newest = next(n for n in copp.data(LIST)["applications"]["nodes"]
                  if n["phone"] == "+79007770001")
    assert [(d["id"], d["matchedBy"]) for d in newest["duplicates"]] == [(kept, ["PHONE"])]

    # audited: the duplicate declined, the kept one updated; no personal values
    audit = db.execute_query(
        "MATCH (s:ChangeSet {label: 'Application'}) UNWIND range(0, size(s.uids) - 1) AS i "
        "WITH s, i WHERE s.uids[i] IN $u AND s.ops[i] IN ['decline', 'update'] "
        "RETURN s.uids[i] AS uid, s.ops[i] AS op, s.fields[i] AS fields, s.after[i] AS after",
        u=[kept, dup]).records
    assert sorted((r["uid"], r["op"]) for r in audit) == sorted([(kept, "update"),
                                                                 (dup, "decline")])
    text = json.dumps([r["after"] for r in audit], ensure_ascii=False)
    assert "777" not in text and "вечерам" not in text and "olga" not in text.lower()
    assert "phone" in next(r["fields"] for r in audit if r["op"] == "update")

    # a declined application is no longer a duplicate target: the same person may reapply
    other_id = by_email(copp.data(LIST)["applications"]["nodes"])["petr@example.ru"]["id"]
    assert copp.data(DECLINE, {"id": other_id})["declineApplication"]["status"] == "DECLINED"
    anon.data(APPLY, {"i": person(email="Petr@Example.ru")})
    again = by_email(copp.data(LIST)["applications"]["nodes"])["Petr@Example.ru"]
    assert again["duplicates"] == []


def test_partner_duplicates_are_flagged_not_refused(world, db):
    anon = GraphQLClient(world, token=None)
    partner = {"inn": inn(7), "organizationName": "ООО «Станкосервис»", "kind": "EMPLOYER",
               "region": "52", "contactPerson": "Кузнецов Олег", "phone": "+7 831 200-00-00",
               "offer": "Площадка для практики и наставники", "consent": True,
               "consentVersion": ap.CONSENT_VERSION}
    first = anon.data(PARTNER, {"i": partner})["applyForPartnership"]
    second = anon.data(PARTNER, {"i": {**partner, "phone": None,
                                       "email": "hr@example.ru"}})["applyForPartnership"]
    first.pop("statusToken"), second.pop("statusToken")
    assert first == second
    operator = GraphQLClient(world, token=token_for("operator", region="52"))
    nodes = operator.data(LIST, {"d": True})["applications"]["nodes"]
    assert len(nodes) == 2 and all(n["kind"] == "PARTNERSHIP" for n in nodes)
    assert all([d["matchedBy"] for d in n["duplicates"]] == [["INN"]] for n in nodes)


def test_concurrent_submissions_of_one_person_see_each_other(world, db):
    """The program is locked before its applications are searched: three submissions of one
    person at once (the contact's burst) are linked pairwise, each to every one committed
    before it."""
    barrier = threading.Barrier(3)
    out: list[dict] = []

    def submit(i):
        client = GraphQLClient(world, token=None)
        barrier.wait()
        out.append(client.data(APPLY, {"i": person(email=f"race{i}@example.ru",
                                                   phone="+7 900 999-00-00")}))

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(out) == 3
    pairs = db.execute_query(
        "MATCH (a:Application)-[:DUPLICATE_OF]->(b:Application) "
        "RETURN a.uid AS a, b.uid AS b").records
    assert len({frozenset((r["a"], r["b"])) for r in pairs}) == len(pairs) == 3


def _age(db, uids, days):
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    db.execute_query("MATCH (a:Application) WHERE a.uid IN $u SET a.updated_at = $old, "
                     "a.decided_at = CASE WHEN a.decided_at IS NULL THEN NULL ELSE $old END",
                     u=uids, old=old)


def test_hub_purge_applications(world, db, capsys):
    anon = GraphQLClient(world, token=None)
    for name in ("stale", "declined", "fresh"):
        anon.data(APPLY, {"i": person(email=f"{name}@example.ru", phone="+7 900 100-00-00",
                                      comment=name)})
    copp = GraphQLClient(world, token=token_for("registrar", organizations=[COPP]))
    nodes = by_email(copp.data(LIST)["applications"]["nodes"])
    uid = {name: nodes[f"{name}@example.ru"]["id"] for name in ("stale", "declined", "fresh")}
    copp.data(DECLINE, {"id": uid["declined"]})
    _age(db, [uid["stale"], uid["declined"]], 400)
    state = "MATCH (a:Application) RETURN a.uid AS u, a.email AS e, a.version AS v ORDER BY u"
    before = db.execute_query(state).records
    audits = "MATCH (s:ChangeSet {source: 'retention'}) RETURN s.uids AS uids, s.ops AS ops"

    assert hub(["purge", "applications", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Проверка (--dry-run), ничего не изменено. Будут удалены персональные данные " \
           "заявок: 2" in out
    assert "отклоненных более 180 дн. назад: 1" in out and uid["stale"] in out
    assert "stale@" not in out and "Смирнова" not in out
    assert db.execute_query(state).records == before  # nothing changed
    assert db.execute_query(audits).records == []

    assert hub(["purge", "applications"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Удалены персональные данные заявок: 2")
    assert "не рассмотренных 90 дн. (отклоняются как просроченные): 1" in out
    [audit] = db.execute_query(audits).records  # audited as the mutation's purge is
    assert sorted(audit["uids"]) == sorted([uid["stale"], uid["declined"]])
    assert audit["ops"] == ["purge", "purge"]
    rows = {r["u"]: r for r in db.execute_query(
        "MATCH (a:Application) RETURN a.uid AS u, a.email AS e, a.contacts AS k, "
        "COUNT { (a)-[:DUPLICATE_OF]-() } AS links").records}
    assert all(rows[uid[n]]["e"] is None and rows[uid[n]]["k"] is None
               and rows[uid[n]]["links"] == 0 for n in ("stale", "declined"))
    # the fresh one kept its data, and has no more links to purged applications
    assert rows[uid["fresh"]]["e"] == "fresh@example.ru" and rows[uid["fresh"]]["links"] == 0

    assert hub(["purge", "applications"]) == 0
    assert capsys.readouterr().out.startswith("Заявок с истекшим сроком хранения нет")
    with pytest.raises(SystemExit) as usage:
        hub(["purge", "everything"])
    assert usage.value.code == ExitCode.USAGE


def test_hub_purge_exit_codes(tmp_path):
    """README's table: a retention setting below a day is usage (2), before any connection;
    Neo4j down is one Russian line and 4."""
    env = {**os.environ, "HUB_NEO4J_URI": "", "HUB_NEO4J_PORT": str(free_port()),
           "HUB_NEO4J_HOME": str(tmp_path / "neo4j"), "HUB_NEO4J_RETRY_TIME": "0.5"}
    hub_bin = str(Path(sys.executable).with_name("hub"))

    def run(**extra):
        return subprocess.run([hub_bin, "purge", "applications", "--dry-run"], check=False,
                              env={**env, **extra}, capture_output=True, text=True, timeout=120)

    bad = run(HUB_APPLICATION_RETENTION_DAYS="0")
    assert bad.returncode == ExitCode.USAGE and "не меньше 1" in bad.stderr
    down = run()
    assert down.returncode == ExitCode.NEO4J_UNAVAILABLE and "Traceback" not in down.stderr
    [line] = down.stderr.strip().splitlines()
    assert line.startswith("hub purge: Neo4j недоступен") and "ничего" not in down.stdout


def test_upgrade_of_applications_stored_before_duplicates_were_flagged(world, db):
    """`upgrade_plan` (for the schema migration): first-version applications get scoped keys,
    their cohort or region link and their duplicate links; the old `dedupe` key goes."""
    from graph.public_services.common import digest
    from graph.writes import run_plan

    def old(uid, at, **props):
        email = props.get("email")
        unscoped = [digest("email:" + canonical_email(email))] if email else []
        db.execute_query(
            "CREATE (a:Application) SET a = $p, a.submitted_at = $at, a.updated_at = $at",
            p={"uid": uid, "status": "NEW", "consent_version": ap.CONSENT_VERSION,
               "consent_at": at, "contacts": unscoped, "dedupe": digest(uid),
               "dedupe_all": [digest(uid)], **props}, at=at)

    t0 = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    enrol = {"kind": "ENROLMENT", "program": "P-OPEN", "region": "52", "organization": COPP}
    old("u1", t0, cohort="G1", email="ivan@example.ru", **enrol)
    old("u2", t0 + dt.timedelta(hours=1), cohort="G1", email="IVAN@example.ru",
        phone="8 900 1", **enrol)
    old("u3", t0 + dt.timedelta(hours=2), cohort="G1", email="ivan@example.ru",
        purged_at=t0, **{**enrol, "status": "DECLINED"})
    old("u4", t0, kind="PARTNERSHIP", region="52", inn=inn(7), email="hr@example.ru")
    old("u5", t0 + dt.timedelta(hours=3), kind="PARTNERSHIP", region="52", inn=inn(7))
    with db.session() as s:
        assert s.execute_write(lambda tx: run_plan(tx, ap.upgrade_plan())) == 5
        assert s.execute_write(lambda tx: run_plan(tx, ap.upgrade_plan())) == 0  # once
    rows = {r["uid"]: r for r in db.execute_query(
        "MATCH (a:Application) OPTIONAL MATCH (a)-[:APPLIES_TO]->(t) "
        "RETURN a.uid AS uid, a.contacts AS k, a.dedupe AS d, a.dedupe_all AS da, "
        "t.uid AS target, [(a)-[r:DUPLICATE_OF]->(x) | [x.uid, r.by]] AS dups").records}
    assert {u: r["target"] for u, r in rows.items()} == {
        "u1": "P-OPEN:G1", "u2": "P-OPEN:G1", "u3": "P-OPEN:G1", "u4": "52", "u5": "52"}
    assert all(r["d"] is None and r["da"] is None for r in rows.values())
    assert rows["u1"]["k"] == contact_keys("ivan@example.ru", None, "program:P-OPEN")
    assert rows["u3"]["k"] is None
    assert {u: r["dups"] for u, r in rows.items()} == {
        "u1": [], "u2": [["u1", ["EMAIL"]]], "u3": [], "u4": [], "u5": [["u4", ["INN"]]]}
    # and a new submission finds the upgraded ones
    GraphQLClient(world, token=None).data(APPLY, {"i": person(email="Ivan@Example.ru ")})
    newest = db.execute_query(
        "MATCH (a:Application {email: 'Ivan@Example.ru'})-[:DUPLICATE_OF]->(x) "
        "RETURN collect(x.uid) AS x").records[0]["x"]
    assert sorted(newest) == ["u1", "u2"]
