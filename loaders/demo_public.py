"""Public services of the demo region (`hub load demo`, after its registries are loaded): what a
new user opens first in each flow, created through the domain functions the API runs
(`graph.public_services`) with the system principal, dated relative to the load day `today`.

- applications: enrolment applications to open cohorts of the catalogue (NEW, some taken to
  IN_REVIEW), one of them repeated by the same person (flagged as a duplicate), and one
  partner application (NEW);
- expert review: a program in status REVIEW with two assigned experts (staff with an expert
  status in its competencies, not from the developing organization), one review submitted;
  its modules use digital learning materials: two of the developer's own, under review with
  the program (the submitted review assesses them), and an approved one of another
  organization of the region;
- a survey of the region for several categories with anonymous answers.

The program under review is one the registries already hold in REVIEW (a reload of the demo
registries keeps its status; it rewrites the modules without materials, and they are linked
again here). Contacts are fictitious (example.org, +7 900 000-00-xx).
Idempotent: an applicant who already has an application, a program that already has reviews,
a survey that already exists are left as they are, so a second load adds nothing. All of it is
written in one transaction: a refusal leaves nothing half-made.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

from graph.access import SYSTEM, Principal
from graph.checksums import inn_with_checksum
from graph.ingest import ingest_plan, patch_plan, prepare
from graph.public_services import applications as ap
from graph.public_services import review as rv
from graph.public_services import surveys as sv
from graph.public_services.common import refuse_report
from graph.registry import REGISTRIES
from graph.writes import run_plan
from loaders.demo import demo_today
from loaders.demo_activities import CATEGORY_BY_TYPE

# fictitious applicants: (full name, e-mail, phone); phones +7 900 000-00-xx
APPLICANTS = (
    ("Иванова Анна Сергеевна", "anna.ivanova@example.org", "+7 900 000-00-01"),
    ("Петров Дмитрий Олегович", "d.petrov@example.org", "+7 900 000-00-02"),
    ("Смирнова Екатерина Андреевна", "e.smirnova@example.org", "+7 900 000-00-03"),
    ("Кузнецов Максим Игоревич", "m.kuznetsov@example.org", "+7 900 000-00-04"),
    ("Соколова Мария Викторовна", "m.sokolova@example.org", "+7 900 000-00-05"),
)
IN_REVIEW = 2  # the first applications are taken into work, the rest stay NEW
# The first applicant applies again to the same cohort a day later, from her work address,
# the phone written the other way: flagged as a duplicate for the handlers (shared phone).
REPEAT = ("Иванова Анна Сергеевна", "a.ivanova.work@example.org", "8 (900) 000-00-01")
COMMENTS = (
    "Хочу получить новую профессию, удобно обучение по вечерам.",
    None,
    "Работаю по смежной специальности, нужен документ о квалификации.",
    None,
    "Направлена центром занятости.",
)
PARTNER = {
    "organization_name": "ООО «Пример-Техника»",
    "kind": "EMPLOYER",
    "contact_person": "Орлов Павел Николаевич",
    "email": "partner@example.org",
    "phone": "+7 900 000-00-10",
    "offer": ("Предоставим площадку для практики (цех на 12 рабочих мест), наставников из числа "
              "мастеров производства и заказ на обучение 20 сотрудников в год."),
}
EXPERTS = 2  # assigned to the program under review; the first one has submitted a review

OPEN_COHORTS_CYPHER = """
MATCH (c:Cohort)-[:OF_PROGRAM]->(p:Program), (c)-[:RUN_BY]->(o:Organization {region: $region})
WHERE c.retiredAt IS NULL AND p.retiredAt IS NULL AND p.status IN $statuses
  AND c.starts_on > $today AND c.ends_on >= $today
WITH c, p, o, c.seats - COUNT { MATCH (en:Enrollment)-[:IN_COHORT]->(c)
                             WHERE en.status IN ['ENROLLED', 'COMPLETED']
                               AND en.retiredAt IS NULL } AS left
WHERE left > 0
RETURN p.uid AS program, p.type AS type, c.code AS cohort, o.municipality AS municipality
ORDER BY c.starts_on, c.uid
LIMIT $limit
"""

# the demo's own fictitious addresses (stored contact keys are scoped to a program or region)
HAS_APPLICATION_CYPHER = """
RETURN EXISTS { MATCH (a:Application) WHERE a.email = $email } AS found
"""

COPP_CYPHER = """
MATCH (o:Organization {kind: 'COPP', region: $region}) WHERE o.retiredAt IS NULL
RETURN o.municipality AS municipality ORDER BY o.uid LIMIT 1
"""

UNDER_REVIEW_CYPHER = """
MATCH (p:Program {status: 'REVIEW'})-[:DEVELOPED_BY]->(dev:Organization {region: $region})
WHERE p.retiredAt IS NULL
CALL (p) {
  MATCH (s:Staff)-[q:QUALIFIED_IN]->(k:Competency)
  WHERE s.retiredAt IS NULL AND k.uid IN p.competencies AND q.expert_status IN $statuses
    AND (q.valid_until IS NULL OR q.valid_until >= $today) AND s.organization <> p.organization
  WITH s, min(CASE q.expert_status WHEN 'CHIEF' THEN 0 WHEN 'CERTIFIED' THEN 1 ELSE 2 END)
       AS rank
  ORDER BY rank, s.uid
  RETURN collect({uid: s.uid, organization: s.organization}) AS experts
}
WITH p, experts WHERE size(experts) >= $experts
RETURN p.uid AS program, experts,
       EXISTS { MATCH (:ProgramReview)-[:REVIEWS]->(p) } AS reviewed
ORDER BY p.uid
LIMIT 1
"""

SURVEY_EXISTS_CYPHER = "RETURN EXISTS { MATCH (s:Survey {uid: $code}) } AS found"

TOPICS_CYPHER = """
MATCH (p:Program)-[:DEVELOPED_BY]->(:Organization {region: $region})
WHERE p.retiredAt IS NULL AND p.status IN $statuses
UNWIND p.competencies AS code
MATCH (k:Competency {uid: code})
WITH k, count(*) AS programs
RETURN k.uid AS code, k.name AS name ORDER BY programs DESC, code LIMIT $limit
"""

MUNICIPALITIES_CYPHER = """
MATCH (m:Municipality {region: $region}) RETURN m.uid AS oktmo ORDER BY oktmo
"""

SURVEY_CATEGORIES = ("SCHOOL_STUDENT", "PARENT", "JOB_SEEKER", "EMPLOYED", "EMPLOYER")
SURVEY_RESPONSES = 24
FORMATS = (("FULL_TIME", "Очно, в дневное время"), ("EVENING", "Очно, по вечерам и выходным"),
           ("BLENDED", "Очно-заочно"), ("DISTANCE", "Дистанционно"))
OBSTACLES = (
    "Не хватает времени из-за работы.",
    "Далеко добираться до колледжа.",
    "Не знаю, какие программы есть в районе.",
    "Нужна бесплатная программа или обучение за счет работодателя.",
    "Хотелось бы больше практики на предприятии.",
)


def _time(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.UTC)


def _region(tx: Any) -> str:
    """The demo region: the one whose ЦОПП the demo loaded (the demo holds one region)."""
    [row] = list(tx.run("MATCH (o:Organization {kind: 'COPP'}) WHERE o.retiredAt IS NULL "
                        "RETURN o.region AS region ORDER BY o.uid LIMIT 1"))
    return row["region"]


def _applications(tx: Any, region: str, today: dt.date, principal: Principal) -> int:
    created = 0
    cohorts = list(tx.run(OPEN_COHORTS_CYPHER, region=region, today=today,
                          statuses=ap.CATALOG_STATUSES, limit=len(APPLICANTS)))
    for i, ((name, email, phone), cohort) in enumerate(zip(APPLICANTS, cohorts, strict=False)):
        [seen] = list(tx.run(HAS_APPLICATION_CYPHER, email=email))
        if seen["found"]:
            continue
        weights = CATEGORY_BY_TYPE.get(cohort["type"], {"EMPLOYED": 1.0})
        data = ap.EnrolmentInput.model_validate({
            "program": cohort["program"], "cohort": cohort["cohort"], "full_name": name,
            "email": email, "phone": phone, "category": max(weights, key=weights.__getitem__),
            "municipality": cohort["municipality"], "comment": COMMENTS[i % len(COMMENTS)],
            "consent": True, "consent_version": ap.CONSENT_VERSION})
        submitted = _time(today - dt.timedelta(days=len(APPLICANTS) - i), 9 + i, 15)
        uid, _token = run_plan(tx, ap.submit_enrolment_plan(data, today, now=submitted))
        if i < IN_REVIEW:
            run_plan(tx, ap.take_plan(uid, principal,
                                      now=submitted + dt.timedelta(hours=20)))
        created += 1
        if i == 0:
            created += _repeat(tx, data, submitted + dt.timedelta(days=1), today)
    [seen] = list(tx.run(HAS_APPLICATION_CYPHER, email=PARTNER["email"]))
    if not seen["found"]:
        [copp] = list(tx.run(COPP_CYPHER, region=region))
        partner = ap.PartnerInput.model_validate({
            **PARTNER, "inn": inn_with_checksum(f"{region:0>2}9999901"[:9]),
            "region": region, "municipality": copp["municipality"], "consent": True,
            "consent_version": ap.CONSENT_VERSION})
        run_plan(tx, ap.submit_partner_plan(partner, now=_time(today - dt.timedelta(days=2), 11)))
        created += 1
    return created


def _repeat(tx: Any, first: ap.EnrolmentInput, at: dt.datetime, today: dt.date) -> int:
    name, email, phone = REPEAT
    [seen] = list(tx.run(HAS_APPLICATION_CYPHER, email=email))
    if seen["found"]:
        return 0
    data = first.model_copy(update={"full_name": name, "email": email, "phone": phone,
                                    "comment": None})
    run_plan(tx, ap.submit_enrolment_plan(data, today, now=at))
    return 1


def _experts(ranked: list[dict[str, str]]) -> list[str]:
    """The best-ranked experts, from different organizations while there are any."""
    chosen: list[dict[str, str]] = []
    for pass_ in (0, 1):
        for s in ranked:
            if len(chosen) < EXPERTS and s not in chosen and (
                    pass_ or all(c["organization"] != s["organization"] for c in chosen)):
                chosen.append(s)
    return [s["uid"] for s in chosen]


MATERIALS_CYPHER = """
MATCH (p:Program {uid: $program})-[:DEVELOPED_BY]->(dev:Organization)
CALL (p) {
  MATCH (p)-[:HAS_MODULE]->(m:Module) WHERE m.retiredAt IS NULL
  WITH m ORDER BY m.number
  RETURN collect(m {.uid, .number, .name, .hours, .competency, .materials}) AS modules
}
CALL (dev) {
  MATCH (o:Organization {region: dev.region}) WHERE o.retiredAt IS NULL AND o.uid <> dev.uid
    AND o.kind IN $authors
  RETURN o.uid AS other ORDER BY o.kind = $authors[0] DESC, o.uid LIMIT 1
}
RETURN dev.uid AS developer, modules, other,
       COLLECT { MATCH (t:LearningMaterial) WHERE t.organization IN [dev.uid, other]
                   AND t.code IN $codes RETURN t.uid } AS stored
"""
MATERIAL_CODES = ("ЦОР-1", "ЦОР-2", "ФОС-1")


def _codes(module: dict[str, Any]) -> list[str]:
    return [module["competency"]] if module["competency"] else []


def _material_rows(developer: str, other: str | None, modules: list[dict[str, Any]],
                   today: dt.date) -> list[tuple[int, dict[str, Any]]]:
    """(module number, material row): the developer's e-course for the first module and
    simulator for the second, another organization's approved bank of assessment tasks for
    the last."""
    first, second, last = modules[0], modules[min(1, len(modules) - 1)], modules[-1]
    rows = [
        (first["number"], {
            "organization": developer, "code": MATERIAL_CODES[0], "kind": "ONLINE_COURSE",
            "name": f"Электронный курс «{first['name']}»", "format": "SCORM 2004",
            "location": "https://lms.example.org/course/demo-1", "edition": "1",
            "hours": max(1, first["hours"] // 2), "competencies": _codes(first),
            "accessible": True, "license": "OWN",
            "description": "Лекции, видеофрагменты и тесты для самопроверки."}),
        (second["number"], {
            "organization": developer, "code": MATERIAL_CODES[1], "kind": "SIMULATOR",
            "name": f"Виртуальный тренажер: {second['name']}", "format": "HTML5",
            "location": "https://lms.example.org/sim/demo-2", "edition": "1",
            "hours": max(1, second["hours"] // 2), "competencies": _codes(second),
            "license": "OWN"}),
    ]
    if other is not None:
        rows.append((last["number"], {
            "organization": other, "code": MATERIAL_CODES[2], "kind": "TEST_BANK",
            "name": "Банк оценочных заданий по компетенции", "format": "xAPI",
            "location": "moodle:question-bank/17", "edition": "2",
            "competencies": _codes(last), "accessible": True, "license": "CC_BY",
            "status": "APPROVED", "approved_on": today - dt.timedelta(days=90)}))
    return rows


def _materials(tx: Any, program: str, today: dt.date, principal: Principal) -> None:
    """The program's materials, created when missing and linked to its modules again (a
    reload of the registries drops the links)."""
    [row] = list(tx.run(MATERIALS_CYPHER, program=program, codes=list(MATERIAL_CODES),
                        authors=["COPP", "COLLEGE"]))
    modules = row["modules"]
    if not modules:
        return
    rows = _material_rows(row["developer"], row["other"], modules, today)
    missing = [r for _, r in rows if f"{r['organization']}:{r['code']}" not in row["stored"]]
    if missing:
        report = run_plan(tx, ingest_plan(
            prepare(REGISTRIES["learning_materials"], missing), partial=False, dry_run=False,
            now=None, principal=principal, source="demo"))
        refuse_report(report, "Материалы демо не записаны")
    added: dict[int, list[str]] = {}
    for number, r in rows:
        added.setdefault(number, []).append(f"{r['organization']}:{r['code']}")
    for m in modules:
        have = list(m["materials"] or [])
        more = [k for k in added.get(m["number"], []) if k not in have]
        if more:
            patched = run_plan(tx, patch_plan(REGISTRIES["modules"], m["uid"],
                                              {"materials": have + more},
                                              principal=principal, source="demo"))
            refuse_report(patched, "Модуль демо не изменен")


def _review(tx: Any, region: str, today: dt.date, principal: Principal) -> int:
    rows = list(tx.run(UNDER_REVIEW_CYPHER, region=region, today=today,
                       statuses=rv.EXPERT_STATUSES, experts=EXPERTS))
    if not rows:
        return 0
    program = rows[0]["program"]
    _materials(tx, program, today, principal)
    if rows[0]["reviewed"]:
        return 0
    # the registries hold the program in REVIEW: its round opens here, as a submission would
    covered = run_plan(tx, rv.cover_plan(program, principal,
                                         now=_time(today - dt.timedelta(days=12), 9)))
    experts = _experts(rows[0]["experts"])
    assigned = _time(today - dt.timedelta(days=10), 10)
    for staff in experts:
        run_plan(tx, rv.assign_plan(program, staff, principal, today=today, now=assigned))
    run_plan(tx, rv.review_plan(
        program, experts[0],
        scores={"relevance": 5, "content": 4, "resources": 4, "outcomes": 5},
        comments={"relevance": "Программа отвечает заявкам работодателей региона.",
                  "content": "Модули выстроены последовательно; практическая часть "
                             "достаточна.",
                  "resources": "Оборудование по инфраструктурному листу есть не на всех "
                               "площадках: часть модулей — в сетевой форме."},
        verdict="APPROVE", summary="Рекомендую к утверждению.", principal=principal,
        now=_time(today - dt.timedelta(days=3), 15),
        materials=[{"material": key, "verdict": "APPROVE",
                    "scores": {"alignment": 5, "content": 4, "quality": 4,
                               "accessibility": 5 if n == 0 else 3},
                    "comments": {"accessibility": "Нет субтитров и альтернативного текста для "
                                                  "лиц с ОВЗ."} if n else {}}
                   for n, key in enumerate(sorted(covered))]))
    return 1


def survey_code(region: str, today: dt.date) -> str:
    return f"demo-{region}-{today.year}"


def _survey(tx: Any, region: str, today: dt.date, principal: Principal) -> int:
    code = survey_code(region, today)
    [seen] = list(tx.run(SURVEY_EXISTS_CYPHER, code=code))
    if seen["found"]:
        return 0
    topics = list(tx.run(TOPICS_CYPHER, region=region, statuses=ap.CATALOG_STATUSES, limit=4))
    munis = [r["oktmo"] for r in tx.run(MUNICIPALITIES_CYPHER, region=region)]
    options = [{"key": f"k{n}", "text": t["name"], "competency": t["code"]}
               for n, t in enumerate(topics, start=1)]
    options.append({"key": "other", "text": "Другое направление"})
    data = sv.SurveyInput.model_validate({
        "code": code, "region": region,
        "title": f"Потребность в профессиональном обучении — {today.year}",
        "description": "Анонимный опрос ЦОПП: какие направления обучения нужны жителям и "
                       "работодателям региона.",
        "categories": list(SURVEY_CATEGORIES),
        "starts_on": today - dt.timedelta(days=21), "ends_on": today + dt.timedelta(days=39),
        "competencies": [t["code"] for t in topics],
        "questions": [
            {"key": "topic", "kind": "SINGLE", "required": True, "options": options,
             "text": "Какое направление обучения вам (вашим сотрудникам, детям) интереснее "
                     "всего?"},
            {"key": "format", "kind": "MULTIPLE", "text": "Какой формат обучения удобен?",
             "options": [{"key": k, "text": t} for k, t in FORMATS]},
            {"key": "need", "kind": "SCALE", "scale_min": 1, "scale_max": 5,
             "text": "Насколько вам нужно обучение в ближайший год (1 — не нужно, 5 — очень "
                     "нужно)?"},
            {"key": "obstacles", "kind": "TEXT",
             "text": "Что мешает пройти обучение? (необязательно)"},
        ],
    })
    run_plan(tx, sv.define_plan(data, principal, now=_time(data.starts_on, 8)))
    rng = random.Random(f"demo-survey:{region}:{today.isoformat()}")
    keys = [o["key"] for o in options]
    for n in range(SURVEY_RESPONSES):
        answers: list[dict[str, Any]] = [
            {"question": "topic", "options": [rng.choice(keys)]},
            {"question": "format",
             "options": sorted(rng.sample([k for k, _ in FORMATS], rng.randint(1, 2)))},
            {"question": "need", "value": rng.choices((1, 2, 3, 4, 5), (1, 1, 2, 4, 4))[0]}]
        if rng.random() < 0.4:
            answers.append({"question": "obstacles", "text": rng.choice(OBSTACLES)})
        response = sv.ResponseInput.model_validate({
            "survey": code, "category": SURVEY_CATEGORIES[n % len(SURVEY_CATEGORIES)],
            "municipality": rng.choice(munis) if munis and rng.random() < 0.9 else None,
            "answers": answers})
        day = data.starts_on + dt.timedelta(days=n * 21 // SURVEY_RESPONSES)
        run_plan(tx, sv.respond_plan(response, today, now=_time(day, 12, n)))
    return SURVEY_RESPONSES


def write_demo_public(driver: Any, database: str | None = None, today: dt.date | None = None,
                      principal: Principal = SYSTEM) -> dict[str, int]:
    """Create the demo's applications, program review and survey (what is missing of them):
    counts of what was created now (zeros on a repeated load)."""
    today = demo_today(today)

    def work(tx: Any) -> dict[str, int]:
        region = _region(tx)
        return {"applications": _applications(tx, region, today, principal),
                "reviews": _review(tx, region, today, principal),
                "survey_responses": _survey(tx, region, today, principal)}

    with driver.session(database=database) as session:
        return session.execute_write(work)


STORED_LINKS_CYPHER = """
UNWIND $uids AS u MATCH (m:Module {uid: u}) RETURN m.uid AS uid, m.materials AS materials
"""


def keep_material_links(driver: Any, database: str | None, directory: Path) -> int:
    """Before a reload of the demo registries: the modules' materials this module linked on
    the first load go into the module rows about to be loaded, so the reload rewrites nothing
    (the links are made again below only where missing). How many rows kept links."""
    path = directory / "modules.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    uids = [f"{r['program']}:{r['number']}" for r in rows]
    records, _, _ = driver.execute_query(STORED_LINKS_CYPHER, uids=uids, database_=database)
    stored = {r["uid"]: list(r["materials"] or []) for r in records}
    kept = 0
    for row, uid in zip(rows, uids, strict=True):
        have = stored.get(uid) or []
        given = list(row.get("materials") or [])
        if set(given) < set(have):
            row["materials"] = given + [k for k in have if k not in given]
            kept += 1
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    return kept
