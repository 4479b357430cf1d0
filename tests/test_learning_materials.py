"""Digital learning materials (ЦОР/ЭОР, issue #18 item 50): a registry declared once
(graph/registries/programs.py) and written through the generic mutations and `hub load` with
the author's rights; linked to modules; usable by a program only when its developer's own or
approved; reviewed with the program (every expert assesses every material of the round),
approved or returned with it; a new edition of an approved material is a draft again."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from hub.cli import main as hub
from tests.factories import inn, seed_region, write
from tests.graphql_client import GraphQLClient, live_server, token_for

COPP, COLLEGE, EMPLOYER = inn(1), inn(2), inn(3)
C1, C2, K1, K2 = f"{COLLEGE}:C-1", f"{COLLEGE}:C-2", f"{COPP}:K-1", f"{COPP}:K-2"
EXPERT = f"{COPP}:E1"

CREATE = """mutation($i: LearningMaterialInput!) { createLearningMaterial(input: $i) {
  status errors { field message } node { id uid version kind kindLabel status statusLabel
  licenseLabel language edition organization { name } } } }"""
UPDATE = """mutation($id: ID!, $p: LearningMaterialPatch!) {
  updateLearningMaterial(id: $id, patch: $p) { status changedFields
  errors { field message } node { status edition approvedOn } } }"""
RETIRE = 'mutation($id: ID!) { retireLearningMaterial(id: $id) { status errors { message } } }'
RESTORE = """mutation($id: ID!) { restoreLearningMaterial(id: $id) {
  status node { hours retiredAt } } }"""
CONSTRUCTOR = """query($p: String!) { programConstructor(program: $p) {
  status problems { code message blocking }
  materials { moduleNumber key name kind status edition own usable reason underReview
              material { uid licenseLabel } }
  materialCriteria { key title }
  reviews { round status decision materials { material edition scores comments verdict
                                              summary } } } }"""
SUBMIT = 'mutation($p: String!) { submitProgramForReview(program: $p) }'
ASSIGN = 'mutation($p: String!, $e: String!) { assignProgramExpert(program: $p, expert: $e) }'
REVIEW = 'mutation($i: ProgramReviewInput!) { submitProgramReview(input: $i) }'
DECIDE = """mutation($p: String!, $d: ReviewDecision!, $r: String) {
  decideProgram(program: $p, decision: $d, reason: $r) }"""


def code(body):
    errors = body.get("errors") or []
    return errors[0]["extensions"]["code"] if errors else None


def message(body):
    return body["errors"][0]["message"]


def gid(uid: str) -> str:
    import base64

    return base64.b64encode(f"LearningMaterial:{uid}".encode()).decode()


def material(organization, code_, name, kind="ONLINE_COURSE", **extra):
    return {"organization": organization, "code": code_, "name": name, "kind": kind,
            "competencies": ["MF-01"], **extra}


def module(number, materials, hours=36, program="P-MAT"):
    return {"program": program, "number": number, "name": f"Модуль {number}", "hours": hours,
            "competency": "MF-01", "materials": materials,
            "requirements": [{"equipment_type": "WELD-INV", "quantity": 1}]}


def assessment(key, verdict="APPROVE", quality=4, summary=None):
    return {"material": key, "verdict": verdict, "summary": summary,
            "scores": {"alignment": 5, "content": 4, "quality": quality, "accessibility": 3},
            "comments": {"accessibility": "Нет субтитров"}}


def review(materials, verdict="APPROVE", summary=None):
    return {"program": "P-MAT", "expert": EXPERT, "verdict": verdict, "summary": summary,
            "scores": {"relevance": 5, "content": 4, "resources": 4, "outcomes": 5},
            "materials": materials}


def statuses(db, *keys):
    records = db.execute_query(
        "UNWIND $k AS k MATCH (t:LearningMaterial {uid: k}) "
        "RETURN t.uid AS uid, t.status AS status, t.approved_on AS on", k=list(keys)).records
    return {r["uid"]: (r["status"], r["on"] and r["on"].to_native()) for r in records}


@pytest.fixture
def world(db, settings):
    seed_region(db)
    rows = {
        "infrastructure_lists": [{"competency": "MF-01", "items": [
            {"equipment_type": "WELD-INV", "quantity": 1}]}],
        "staff": [{"organization": COPP, "personnel_number": "E1", "full_name": "Орлова Е. В.",
                   "role": "EXPERT", "qualifications": [
                       {"competency": "MF-01", "expert_status": "CERTIFIED"}]}],
        "programs": [{"code": "P-MAT", "name": "Сварка с ЦОР", "type": "SECTORAL", "hours": 72,
                      "organization": COLLEGE, "competencies": ["MF-01"]}],
        "learning_materials": [
            material(COLLEGE, "C-1", "Курс по сварке", hours=20),
            material(COLLEGE, "C-2", "Тренажер сварщика", "SIMULATOR", hours=10),
            material(COLLEGE, "C-OLD", "Старый курс", status="ARCHIVED"),
            material(COPP, "K-1", "Банк заданий", "TEST_BANK", hours=20, status="APPROVED",
                     approved_on="2025-01-15", license="CC_BY"),
            material(COPP, "K-2", "Черновик ЦОПП", "VIDEO"),
        ],
        "modules": [module(1, [C1, K1]), module(2, [C2])],
    }
    for name, items in rows.items():
        report = write(db, name, items)
        assert report.ok, (name, report.errors)
    with live_server(settings) as url:
        yield url


def test_registry_through_graphql_with_the_authors_rights(world, db):
    dev = GraphQLClient(world, token=token_for("registrar", organizations=[COLLEGE]))
    op77 = GraphQLClient(world, token=token_for("operator", region="77"))
    op = GraphQLClient(world, token=token_for("operator", region="52"))

    created = dev.data(CREATE, {"i": material(COLLEGE, "V-1", "Видеолекции", "VIDEO",
                                              edition="1", language="Русский",
                                              license="CC_BY_SA")})["createLearningMaterial"]
    assert created["status"] == "CREATED", created
    node = created["node"]
    assert (node["kindLabel"], node["statusLabel"], node["licenseLabel"], node["language"]) == (
        "Видеоматериал", "Черновик", "CC BY-SA", "ru")
    assert node["organization"]["name"] == "Дзержинский технический колледж"
    uid = f"{COLLEGE}:V-1"

    # another organization's material, and the review's statuses, are refused
    foreign = dev.data(CREATE, {"i": material(COPP, "V-2", "Чужой", "VIDEO")})
    assert foreign["createLearningMaterial"]["status"] is None
    assert "не закреплена" in foreign["createLearningMaterial"]["errors"][0]["message"]
    approved = dev.data(CREATE, {"i": material(COLLEGE, "V-3", "Сразу утвержденный",
                                               status="APPROVED")})["createLearningMaterial"]
    assert approved["status"] is None and "экспертиз" in approved["errors"][0]["message"]
    to_review = dev.data(UPDATE, {"id": gid(uid), "p": {"status": "REVIEW"}})
    assert "экспертиз" in to_review["updateLearningMaterial"]["errors"][0]["message"]
    bad = dev.data(CREATE, {"i": material(COLLEGE, "V-4", "Скрипт", location="javascript:x")})
    assert bad["createLearningMaterial"]["errors"][0]["field"] == "location"
    elsewhere = op77.data(UPDATE, {"id": gid(uid), "p": {"hours": 3}})["updateLearningMaterial"]
    assert elsewhere["status"] is None and "вне региона" in elsewhere["errors"][0]["message"]

    moved = op.data(UPDATE, {"id": gid(uid), "p": {"hours": 6, "accessible": True}})
    assert moved["updateLearningMaterial"]["changedFields"] == ["accessible", "hours"]
    assert dev.data(RETIRE, {"id": gid(uid)})["retireLearningMaterial"]["status"] == "RETIRED"
    restored = dev.data(RESTORE, {"id": gid(uid)})["restoreLearningMaterial"]
    assert restored == {"status": "RESTORED", "node": {"hours": 6, "retiredAt": None}}
    changes = op.data('query($u: String!) { changes(filter: {uid: $u}, first: 10) '
                      '{ edges { node { op label version } } } }', {"u": uid})["changes"]
    assert sorted((c["node"]["version"], c["node"]["op"]) for c in changes["edges"]) == [
        (1, "CREATE"), (2, "UPDATE"), (3, "RETIRE"), (4, "RESTORE")]

    # the list, its filters and sorts; the links both ways
    page = op.data("""query($o: [String!]) { learningMaterials(filter: {organization: $o,
        kind: [ONLINE_COURSE, SIMULATOR, VIDEO]}, sort: {field: NAME, direction: ASC}) {
        edges { node { uid usedBy { uid } competencies { code } } } } }""", {"o": [COLLEGE]})
    nodes = [e["node"] for e in page["learningMaterials"]["edges"]]
    assert [n["uid"] for n in nodes] == [uid, C1, f"{COLLEGE}:C-OLD", C2]  # В…, К…, С…, Т…
    assert [m["uid"] for m in nodes[1]["usedBy"]] == ["P-MAT:1"]
    assert nodes[1]["competencies"] == [{"code": "MF-01"}]
    used = op.data('{ learningMaterials(filter: {program: ["P-MAT"], status: [APPROVED]}) '
                   '{ edges { node { uid approvedOn } } } }')["learningMaterials"]["edges"]
    assert [e["node"] for e in used] == [{"uid": K1, "approvedOn": "2025-01-15"}]
    program = op.data("""query($o: [String!]) { programs(filter: {organization: $o}) {
        edges { node { materials { uid } modules { number materialKeys materials { uid kind } }
        } } } }""", {"o": [COLLEGE]})["programs"]["edges"][0]["node"]
    assert [m["uid"] for m in program["materials"]] == [K1, C1, C2]  # by name
    assert [(m["number"], m["materialKeys"], [t["uid"] for t in m["materials"]])
            for m in program["modules"]] == [(1, [C1, K1], [C1, K1]), (2, [C2], [C2])]


def test_loaded_from_clerks_files_with_russian_headers(world, db, tmp_path, capsys):
    path = tmp_path / "цор.csv"
    path.write_text(
        "ИНН автора;Код материала;Наименование;Вид;Формат;Ссылка;Часы;Редакция;Лицензия;"
        "Для лиц с ОВЗ\n"
        f"{COLLEGE};L-1;Видеоуроки по сварке;Видеолекция;MP4;https://video.example.org/1;"
        "8;2;CC BY-SA;да\n"
        f"Дзержинский технический колледж;L-2;Тесты;ФОС;xAPI;moodle:bank/3;;2024-1;"
        "собственная;нет\n", encoding="utf-8")
    assert hub(["load", "learning_materials", str(path)]) == 0, capsys.readouterr()
    bad = tmp_path / "плохо.csv"
    bad.write_text("ИНН автора;Код материала;Наименование;Вид;Ссылка\n"
                   f"{COLLEGE};L-3;Опасная ссылка;Видео;javascript:alert(1)\n",
                   encoding="utf-8")
    assert hub(["load", "learning_materials", str(bad)]) == 1
    out = capsys.readouterr()
    assert "строка 2" in out.out + out.err and "Ссылка" in out.out + out.err

    modules = tmp_path / "модули.csv"
    modules.write_text("Программа;Номер;Наименование модуля;Часы;Материалы\n"
                       f'P-MAT;1;Теория;36;"{COLLEGE}:L-1; {COLLEGE}:L-2"\n'
                       f"P-MAT;2;Практика;36;{C2}\n", encoding="utf-8")
    assert hub(["load", "modules", str(modules)]) == 0, capsys.readouterr()
    rows = db.execute_query("""
        MATCH (m:Module)-[:USES_MATERIAL]->(t:LearningMaterial)
        RETURN m.number AS n, t.uid AS uid, t.kind AS kind, t.edition AS edition,
               t.license AS license, t.accessible AS accessible ORDER BY n, uid""").records
    assert [tuple(r.values()) for r in rows] == [
        (1, f"{COLLEGE}:L-1", "VIDEO", "2", "CC_BY_SA", True),
        (1, f"{COLLEGE}:L-2", "TEST_BANK", "2024-1", "OWN", False),
        (2, C2, "SIMULATOR", "1", "OWN", False)]


def test_usage_rule_and_what_the_constructor_reports(world, db):
    dev = GraphQLClient(world, token=token_for("registrar", organizations=[COLLEGE]))
    assert write(db, "modules", [module(1, [C1, K1, K2, f"{COLLEGE}:C-OLD"]),
                                 module(2, [])]).ok
    view = dev.data(CONSTRUCTOR, {"p": "P-MAT"})["programConstructor"]
    problems = [(p["code"], p["blocking"]) for p in view["problems"]]
    assert sorted(problems) == [("MATERIAL_HOURS_EXCEED_MODULE", False),
                                ("MATERIAL_NOT_USABLE", True), ("MATERIAL_NOT_USABLE", True),
                                ("MODULE_WITHOUT_MATERIALS", False)]
    assert [(m["key"], m["own"], m["usable"], m["underReview"]) for m in view["materials"]] == [
        (C1, True, True, False), (K1, False, True, False), (K2, False, False, False),
        (f"{COLLEGE}:C-OLD", True, False, False)]
    reasons = {m["key"]: m["reason"] for m in view["materials"]}
    assert "другой организации не утвержден" in reasons[K2] and reasons[f"{COLLEGE}:C-OLD"] == \
        "в архиве"
    assert view["materials"][1]["material"] == {"uid": K1, "licenseLabel": "CC BY"}
    assert [c["key"] for c in view["materialCriteria"]] == ["alignment", "content", "quality",
                                                            "accessibility"]
    refused = dev.execute(SUBMIT, {"p": "P-MAT"})
    assert code(refused) == "INCOMPLETE" and K2 in message(refused)

    # a retired material is not usable either; the fixed program goes to review
    assert write(db, "modules", [module(1, [C1, K1]), module(2, [C2])]).ok
    assert dev.data(RETIRE, {"id": gid(C2)})["retireLearningMaterial"]["status"] == "RETIRED"
    view = dev.data(CONSTRUCTOR, {"p": "P-MAT"})["programConstructor"]
    assert [(m["key"], m["reason"]) for m in view["materials"] if not m["usable"]] == [
        (C2, "выведен из реестра")]
    assert code(dev.execute(SUBMIT, {"p": "P-MAT"})) == "INCOMPLETE"
    dev.data(RESTORE, {"id": gid(C2)})
    assert dev.data(SUBMIT, {"p": "P-MAT"}) == {"submitProgramForReview": "REVIEW"}


def test_materials_reviewed_returned_and_approved_with_the_program(world, db):
    dev = GraphQLClient(world, token=token_for("registrar", organizations=[COLLEGE]))
    op = GraphQLClient(world, token=token_for("operator", region="52"))

    dev.data(SUBMIT, {"p": "P-MAT"})
    assert statuses(db, C1, C2, K1) == {C1: ("REVIEW", None), C2: ("REVIEW", None),
                                        K1: ("APPROVED", dt.date(2025, 1, 15))}
    [covered] = db.execute_query("""
        MATCH (rr:ReviewRound {uid: 'P-MAT:1'})-[c:COVERS]->(t)
        WITH rr, c, t ORDER BY t.uid
        RETURN rr.materials AS materials, rr.editions AS editions,
               collect([t.uid, c.edition]) AS covers""").records
    assert (covered["materials"], covered["editions"]) == ([C1, C2], ["1", "1"])
    assert covered["covers"] == [[C1, "1"], [C2, "1"]]
    view = dev.data(CONSTRUCTOR, {"p": "P-MAT"})["programConstructor"]
    assert [(m["key"], m["underReview"]) for m in view["materials"]] == [
        (C1, True), (K1, False), (C2, True)]
    # a new edition while under review is refused
    edition = dev.data(UPDATE, {"id": gid(C1), "p": {"edition": "2"}})["updateLearningMaterial"]
    assert edition["status"] is None and "новая редакция" in edition["errors"][0]["message"]

    # every material of the round, once, scored 1–5 with a verdict
    op.data(ASSIGN, {"p": "P-MAT", "e": EXPERT})
    for wrong, words in (([], "не оценены"), ([assessment(C1)], "не оценены"),
                         ([assessment(C1), assessment(C2), assessment(K1)], "не входят"),
                         ([assessment(C1), assessment(C1), assessment(C2)], "ровно один раз"),
                         ([assessment(C1, quality=6), assessment(C2)], "от 1 до 5"),
                         ([assessment(C1, "REVISE"), assessment(C2)], "пояснения")):
        refused = op.execute(REVIEW, {"i": review(wrong)})
        assert code(refused) == "BAD_REQUEST" and words in message(refused), (wrong, refused)
    op.data(REVIEW, {"i": review([assessment(C1, "REVISE", 2, "Добавить субтитры"),
                                  assessment(C2)], "REVISE", "Доработать курс")})
    [r1] = op.data(CONSTRUCTOR, {"p": "P-MAT"})["programConstructor"]["reviews"]
    assert [(a["material"], a["edition"], a["scores"], a["verdict"]) for a in r1["materials"]] \
        == [(C1, "1", [5, 4, 2, 3], "REVISE"), (C2, "1", [5, 4, 4, 3], "APPROVE")]
    assert r1["materials"][0]["comments"] == [None, None, None, "Нет субтитров"]

    # returned: the program and its materials are drafts again; a new edition is allowed
    op.data(DECIDE, {"p": "P-MAT", "d": "RETURNED", "r": "Доработать курс"})
    assert statuses(db, C1, C2) == {C1: ("DRAFT", None), C2: ("DRAFT", None)}
    assert dev.data(UPDATE, {"id": gid(C1), "p": {"edition": "2"}})[
        "updateLearningMaterial"]["status"] == "UPDATED"

    # round 2 covers the new edition; approval approves the round's materials today
    dev.data(SUBMIT, {"p": "P-MAT"})
    [covered] = db.execute_query("MATCH (rr:ReviewRound {uid: 'P-MAT:2'}) "
                                 "RETURN rr.materials AS m, rr.editions AS e").records
    assert (covered["m"], covered["e"]) == ([C1, C2], ["2", "1"])
    op.data(ASSIGN, {"p": "P-MAT", "e": EXPERT})
    op.data(REVIEW, {"i": review([assessment(C1), assessment(C2)])})
    assert op.data(DECIDE, {"p": "P-MAT", "d": "APPROVED"}) == {"decideProgram": "APPROVED"}
    today = {dt.date.today(), dt.date.today() - dt.timedelta(days=1)}  # the run may pass midnight
    after = statuses(db, C1, C2, K1)
    assert {k: s for k, (s, _) in after.items()} == {C1: "APPROVED", C2: "APPROVED",
                                                     K1: "APPROVED"}
    assert after[C1][1] in today and after[C2][1] in today and after[K1][1] == dt.date(2025, 1, 15)
    view = op.data(CONSTRUCTOR, {"p": "P-MAT"})["programConstructor"]
    assert [(r["round"], r["decision"], [a["edition"] for a in r["materials"]])
            for r in view["reviews"]] == [(2, "APPROVED", ["2", "1"]), (1, "RETURNED", ["1", "1"])]

    # a new edition of an approved material is a draft again, never still approved
    kept = dev.data(UPDATE, {"id": gid(C1), "p": {"edition": "3"}})["updateLearningMaterial"]
    assert kept["status"] is None and "статус DRAFT" in kept["errors"][0]["message"]
    redone = dev.data(UPDATE, {"id": gid(C1), "p": {"edition": "3", "status": "DRAFT"}})
    assert redone["updateLearningMaterial"]["node"]["status"] == "DRAFT"
    again = dev.data(UPDATE, {"id": gid(C1), "p": {"status": "APPROVED"}})
    assert again["updateLearningMaterial"]["status"] is None

    # every status change audited through graph.ingest, the rounds and assessments too
    sets = db.execute_query("""
        MATCH (s:ChangeSet) WHERE s.source = 'review'
          AND s.label IN ['LearningMaterial', 'ReviewRound', 'ProgramReview']
        UNWIND range(0, size(s.uids) - 1) AS i
        RETURN s.label AS label, s.uids[i] AS uid, s.ops[i] AS op, s.after[i] AS after,
               s.actor AS actor ORDER BY s.at, label, uid""").records
    c1 = [json.loads(r["after"])["status"] for r in sets
          if r["label"] == "LearningMaterial" and r["uid"] == C1]
    assert c1 == ["REVIEW", "DRAFT", "REVIEW", "APPROVED"]
    assert [(r["uid"], r["op"]) for r in sets if r["label"] == "ReviewRound"] == [
        ("P-MAT:1", "create"), ("P-MAT:1", "returned"), ("P-MAT:2", "create"),
        ("P-MAT:2", "approved")]
    reviewed = [json.loads(r["after"]) for r in sets
                if r["label"] == "ProgramReview" and r["op"] == "review"]
    assert [[(a["material"], a["verdict"]) for a in x["materials"]] for x in reviewed] == [
        [(C1, "REVISE"), (C2, "APPROVE")], [(C1, "APPROVE"), (C2, "APPROVE")]]


def test_approval_checks_the_materials_in_use(world, db):
    dev = GraphQLClient(world, token=token_for("registrar", organizations=[COLLEGE]))
    op = GraphQLClient(world, token=token_for("operator", region="52"))
    admin = GraphQLClient(world)
    assert write(db, "programs", [{"code": "P-TWO", "name": "Вторая программа",
                                   "type": "SECTORAL", "hours": 36, "organization": COLLEGE,
                                   "competencies": ["MF-01"]}]).ok
    assert write(db, "modules", [module(1, [C2], program="P-TWO")]).ok
    dev.data(SUBMIT, {"p": "P-MAT"})
    dev.data(SUBMIT, {"p": "P-TWO"})
    op.data(ASSIGN, {"p": "P-MAT", "e": EXPERT})
    op.data(REVIEW, {"i": review([assessment(C1), assessment(C2)])})

    # a draft added during the review was not reviewed: no approval
    dev.data(CREATE, {"i": material(COLLEGE, "C-3", "Новый курс")})
    assert write(db, "modules", [module(2, [C2, f"{COLLEGE}:C-3"])]).ok
    refused = op.execute(DECIDE, {"p": "P-MAT", "d": "APPROVED"})
    assert code(refused) == "BAD_STATE" and "C-3 не был на экспертизе" in message(refused)
    assert write(db, "modules", [module(2, [C2])]).ok
    # nor a material changed since (an admin writes past the workflow)
    changed = admin.data(UPDATE, {"id": gid(C1), "p": {"edition": "1а"}})
    assert changed["updateLearningMaterial"]["status"] == "UPDATED"
    refused = op.execute(DECIDE, {"p": "P-MAT", "d": "APPROVED"})
    assert code(refused) == "BAD_STATE" and "редакция 1 → 1а" in message(refused)

    # returned: C-1 is a draft again; C-2 stays under review for the other program's round
    op.data(DECIDE, {"p": "P-MAT", "d": "RETURNED", "r": "Редакция изменилась"})
    assert statuses(db, C1, C2) == {C1: ("DRAFT", None), C2: ("REVIEW", None)}
    assert [m["underReview"] for m in dev.data(CONSTRUCTOR, {"p": "P-TWO"})[
        "programConstructor"]["materials"]] == [True]


E1 = f"{EMPLOYER}:E-1"
# Every filter of the materials list and the modules' material filter, each discriminating
# (tests/test_graphql_reads.py checks every filter of the API has a case).
MATERIAL_FILTERS = [
    ("learningMaterials", f'{{organization: ["{COPP}"]}}', {K1, K2}),
    ("learningMaterials", "{kind: [SIMULATOR]}", {C2}),
    ("learningMaterials", "{status: [APPROVED]}", {K1}),
    ("learningMaterials", "{license: [CC_BY]}", {K1}),
    ("learningMaterials", "{accessible: true}", {E1}),
    ("learningMaterials", '{competency: ["MF-02"]}', {E1}),
    ("learningMaterials", '{program: ["P-MAT"]}', {C1, C2, K1}),
    ("modules", f'{{material: ["{C2}"]}}', {"P-MAT:2"}),
]


def test_every_filter_discriminates(world, db):
    extra = material(EMPLOYER, "E-1", "Доступный курс", competencies=["MF-02"], accessible=True)
    assert write(db, "learning_materials", [extra]).ok
    api = GraphQLClient(world)
    for field, filter_, expected in MATERIAL_FILTERS:
        def uids(f: str, field: str = field) -> set[str]:
            data = api.data(f"{{ {field}(first: 100, filter: {f}) {{ nodes {{ uid }} }} }}")
            return {n["uid"] for n in data[field]["nodes"]}
        assert expected < uids("{}"), (field, filter_)
        assert uids(filter_) == expected, (field, filter_)
