"""The program constructor and expert review (template item 50), with the digital learning
materials (ЦОР/ЭОР) the program's modules use.

    DRAFT --submit (registrar of the developer, admin)--> REVIEW, opening a review round
    REVIEW --assign expert (operator of the region, admin)--> a ProgramReview per expert
    ProgramReview --scores, comments, verdict on the program and on every material of the
                    round (operator of the region, the registrar of the expert's own
                    organization, admin)--> DONE
    REVIEW --approve (operator, admin; every assigned review done, at least one)--> APPROVED
    REVIEW --return (operator, admin; with a reason)--> DRAFT, the round's reviews attached

An expert is a staff member with an expert status (REGIONAL, CERTIFIED, CHIEF; not expired)
in one of the program's competencies, NOT employed by the developing organization (conflict
of interest). The program's status (and `approved_on`, which `programsConstructed` counts)
changes through `graph.ingest` with the acting account's rights, audited; the reviews are
`(:ProgramReview {uid: program:staff:round})-[:REVIEWS]->(:Program)`, `-[:BY_EXPERT]->(:Staff)`.

Materials (registry `learning_materials`). A module may use its developer's own materials in
any status but ARCHIVED (they are reviewed with the program), another organization's only
when APPROVED; anything else (or a retired material) refuses submission (MATERIAL_NOT_USABLE).
Submission opens the round `(:ReviewRound {uid: program:round})-[:OF_PROGRAM]->(:Program)`,
`-[:COVERS {edition}]->(:LearningMaterial)`: the developer's own materials in use that are not
approved, at their current edition; the DRAFT ones go to REVIEW. Each expert scores every
material of the round (MATERIAL_CRITERIA, a verdict): `(:MaterialReview)-[:PART_OF]->
(:ProgramReview)`, `-[:REVIEWS]->(:LearningMaterial)`; a review without all of them is refused.
Approval sets the round's materials APPROVED (approved today) and is refused when a material in
use became unusable, was not in the round, or changed edition since; a return sends them back
to DRAFT (unless another program's open round still covers them). Material statuses change
through `graph.ingest` (source "review", the only way into REVIEW and APPROVED:
`graph.access.WORKFLOW_STATES`), audited.

Criteria (each scored 1–5, with a comment): CRITERIA below. Verdict: APPROVE, REVISE, REJECT.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from graph import enums as e
from graph.access import Principal
from graph.ingest import ingest_plan, patch_plan, prepare, stored_plan
from graph.public_services.common import Refused, audited, now_utc, refuse_report
from graph.registry import REGISTRIES, record_from_properties
from graph.writes import Plan

LABEL = "ProgramReview"
ROUND_LABEL = "ReviewRound"
EXPERT_STATUSES = ["REGIONAL", "CERTIFIED", "CHIEF"]

# The documented criteria of the expert review: key → (title, what is assessed).
CRITERIA: dict[str, tuple[str, str]] = {
    "relevance": ("Соответствие потребности",
                  ("программа отвечает потребности рынка труда региона (сигналы спроса, заказ "
                  "работодателей) и категории слушателей")),
    "content": ("Содержание",
                ("модули, их объем в часах и последовательность ведут к заявленным результатам; "
                "соответствие стандартам компетенций")),
    "resources": ("Ресурсное обеспечение",
                  ("площадки, оборудование по инфраструктурным листам и кадры для каждого модуля "
                  "есть в сети региона")),
    "outcomes": ("Результаты обучения",
                 "измеримые результаты, формы аттестации и выдаваемый документ"),
}
# The criteria each expert scores every material of the round by (1–5, with a comment).
MATERIAL_CRITERIA: dict[str, tuple[str, str]] = {
    "alignment": ("Соответствие модулю",
                  "материал соответствует результатам, содержанию, объему и компетенции модуля"),
    "content": ("Содержание",
                "полнота, достоверность и актуальность; соответствие стандартам компетенций"),
    "quality": ("Методическое и техническое качество",
                ("структура, задания и обратная связь; работоспособность, формат (SCORM, xAPI…) "
                 "и совместимость с СДО")),
    "accessibility": ("Доступность и права",
                      ("доступность для лиц с ОВЗ, язык; лицензия и права на использование в "
                       "программе")),
}
VERDICTS = {"APPROVE": "Рекомендовать к утверждению", "REVISE": "Вернуть на доработку",
            "REJECT": "Не рекомендовать"}
SCORE_MIN, SCORE_MAX = 1, 5

PROGRAM_CYPHER = """
MATCH (p:Program {uid: $program})
SET p._lock = true REMOVE p._lock
WITH p
OPTIONAL MATCH (o:Organization {uid: p.organization})
RETURN p.status AS status, p.organization AS organization, o.region AS region,
       p.competencies AS competencies,
       reduce(last = 0, x IN
              COLLECT { MATCH (r:ProgramReview)-[:REVIEWS]->(p) WHERE r.decision IS NOT NULL
                        RETURN r.round } +
              COLLECT { MATCH (rr:ReviewRound)-[:OF_PROGRAM]->(p) WHERE rr.decision IS NOT NULL
                        RETURN rr.round } | CASE WHEN x > last THEN x ELSE last END) AS round,
       p.retiredAt IS NULL AS live
"""


def _program(program: str) -> Plan:
    rows = yield PROGRAM_CYPHER, {"program": program}
    if not rows or not rows[0]["live"]:
        raise Refused("Программа не найдена.", "NOT_FOUND")
    return dict(rows[0])


def _operator_denial(principal: Principal, region: str | None) -> str | None:
    if principal.role == "admin":
        return None
    if principal.role == "operator" and region is not None and region == principal.region:
        return None
    if principal.role == "operator":
        return f"программа вне региона оператора ({principal.region})"
    return f"роль «{principal.role}» не назначает экспертов и не утверждает программы"


def _state(p: dict[str, Any], *allowed: str) -> None:
    if p["status"] not in allowed:
        raise Refused(f"Переход невозможен: программа в статусе {p['status']}, нужен "
                      f"{' или '.join(allowed)}.", "BAD_STATE")


def _status(program: str, status: str, principal: Principal, now: dt.datetime,
            extra: dict[str, Any] | None = None) -> Plan:
    """The program's status through graph.ingest: rights before and after, audited."""
    report = yield from patch_plan(REGISTRIES["programs"], program,
                                   {"status": status, **(extra or {})}, principal=principal,
                                   source="review", now=now)
    if report is None:
        raise Refused("Программа не найдена.", "NOT_FOUND")
    refuse_report(report, "Статус программы не изменен")


# The program's live modules in order, each with the materials it uses (in the module's order;
# a key no longer in the registry as {uid, missing}).
_MODULES = """
CALL (p) {
  OPTIONAL MATCH (p)-[:HAS_MODULE]->(m:Module) WHERE m.retiredAt IS NULL
  WITH m ORDER BY m.number
  CALL (m) {
    UNWIND CASE WHEN m IS NULL THEN [] ELSE coalesce(m.materials, []) END AS key
    OPTIONAL MATCH (t:LearningMaterial {uid: key})
    RETURN collect(coalesce(t {.uid, .organization, .code, .name, .kind, .status, .edition,
                               .hours, retired: t.retiredAt IS NOT NULL},
                            {uid: key, missing: true})) AS materials
  }
  RETURN collect(CASE WHEN m IS NULL THEN NULL ELSE m {.uid, .number, .name, .hours,
           .competency, requirements: COUNT { (m)-[:REQUIRES]->() },
           materials: materials} END) AS modules
}
"""

PROBLEMS_CYPHER = """
MATCH (p:Program {uid: $program})
OPTIONAL MATCH (p)-[:DEVELOPED_BY]->(dev:Organization)
""" + _MODULES + """
CALL (p) {
  OPTIONAL MATCH (rr:ReviewRound)-[:OF_PROGRAM]->(p)
  WITH rr ORDER BY rr.round DESC LIMIT 1
  RETURN rr {.round, .materials, .decision} AS last_round
}
CALL (p) {
  UNWIND coalesce(p.competencies, []) AS code
  OPTIONAL MATCH (k:Competency {uid: code})
  RETURN collect({code: code, name: k.name,
                  infrastructure: EXISTS { (k)-[:HAS_INFRASTRUCTURE_LIST]->() }}) AS competencies
}
CALL (p, dev) {
  OPTIONAL MATCH (p)-[:DEVELOPS]->(:Competency)<-[:FOR_COMPETENCY]-(d:DemandSignal)
                 -[:IN_MUNICIPALITY]->(mu:Municipality)
  WHERE d.retiredAt IS NULL AND mu.region = dev.region AND d.ends_on >= $today
  WITH d, mu ORDER BY d.starts_on DESC, d.uid LIMIT 50
  RETURN collect(CASE WHEN d IS NULL THEN NULL ELSE d {.competency, .source, .starts_on,
           .ends_on, .vacancies, .employer_requests, .survey_answers,
           municipality: mu.name} END) AS demand
}
CALL (p) {
  OPTIONAL MATCH (r:ProgramReview)-[:REVIEWS]->(p)
  OPTIONAL MATCH (r)-[:BY_EXPERT]->(s:Staff)
  WITH r, s ORDER BY r.round DESC, r.uid
  RETURN collect(CASE WHEN r IS NULL THEN NULL ELSE r {.*, expert_name: s.full_name,
                 expert_organization: s.organization,
                 materials: COLLECT { MATCH (mr:MaterialReview)-[:PART_OF]->(r)
                                      WITH mr ORDER BY mr.material
                                      RETURN properties(mr) }} END) AS reviews
}
RETURN p {.code, .name, .status, .hours, .organization, .approved_on} AS program,
       dev.region AS region, modules, last_round, competencies, demand, reviews
"""

MATERIALS_CYPHER = """
MATCH (p:Program {uid: $program})
""" + _MODULES + """
RETURN modules
"""


def unusable(developer: str, material: dict[str, Any]) -> str | None:
    """Why a module of `developer`'s program may not use `material` (Russian), or None: its
    developer's own materials in any status but ARCHIVED, others' only when APPROVED."""
    if material.get("missing"):
        return "нет в реестре материалов"
    if material["retired"]:
        return "выведен из реестра"
    status = e.MaterialStatus(material["status"])
    if status == e.MaterialStatus.ARCHIVED:
        return "в архиве"
    if material["organization"] != developer and status != e.MaterialStatus.APPROVED:
        return f"материал другой организации не утвержден (статус «{status.label}»)"
    return None


def round_materials(developer: str, modules: list[dict[str, Any]]) -> dict[str, str]:
    """The materials a review round covers, {key: edition}: the developer's own usable
    materials in use that are not approved yet."""
    return {t["uid"]: t["edition"] for mo in modules for t in mo["materials"]
            if t.get("organization") == developer and unusable(developer, t) is None
            and t["status"] != e.MaterialStatus.APPROVED.value}


def problems(program: dict[str, Any], modules: list[dict[str, Any]],
             competencies: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """What is missing in a program under construction: (code, Russian message). BLOCKING
    codes refuse submission to review."""
    out: list[tuple[str, str]] = []
    if not modules:
        out.append(("NO_MODULES", "в программе нет модулей"))
    total = sum(m["hours"] for m in modules)
    if modules and total != program["hours"]:
        out.append(("HOURS_MISMATCH", (f"сумма часов модулей {total} не равна объему программы "
                                      f"{program['hours']} ч")))
    for m in modules:
        if not m["requirements"]:
            out.append(("MODULE_WITHOUT_REQUIREMENTS",
                        f"модуль {m['number']} «{m['name']}»: не указано оборудование"))
        if not m.get("competency"):
            out.append(("MODULE_WITHOUT_COMPETENCY",
                        f"модуль {m['number']} «{m['name']}»: не указана компетенция"))
        out += _material_problems(program["organization"], m)
    if not competencies:
        out.append(("NO_COMPETENCIES", "программа не указывает компетенции"))
    for k in competencies:
        if k["name"] is None:
            out.append(("UNKNOWN_COMPETENCY", f"компетенции {k['code']} нет в реестре"))
        elif not k["infrastructure"]:
            out.append(("COMPETENCY_WITHOUT_INFRASTRUCTURE_LIST",
                        f"у компетенции {k['code']} «{k['name']}» нет инфраструктурного листа"))
    return out


def _material_problems(developer: str, m: dict[str, Any]) -> list[tuple[str, str]]:
    where = f"модуль {m['number']} «{m['name']}»"
    materials = m.get("materials") or []
    if not materials:
        return [("MODULE_WITHOUT_MATERIALS",
                 f"{where}: не указаны цифровые образовательные ресурсы")]
    out = [("MATERIAL_NOT_USABLE", f"{where}: материал {t['uid']}"
            + (f" «{t['name']}»" if t.get("name") else "") + f" — {reason}")
           for t in materials if (reason := unusable(developer, t))]
    hours = sum(t.get("hours") or 0 for t in materials)
    if hours > m["hours"]:
        out.append(("MATERIAL_HOURS_EXCEED_MODULE",
                    f"{where}: материалы рассчитаны на {hours} ч, модуль — {m['hours']} ч"))
    return out


BLOCKING = frozenset({"NO_MODULES", "HOURS_MISMATCH", "NO_COMPETENCIES", "UNKNOWN_COMPETENCY",
                      "MATERIAL_NOT_USABLE"})


def _set_materials(keys: list[str], changes: dict[str, Any], principal: Principal,
                   now: dt.datetime) -> Plan:
    """Materials' status (and approval date) through graph.ingest as one audited batch, by the
    review flow with the acting account's rights on each."""
    if not keys:
        return
    registry = REGISTRIES["learning_materials"]
    stored = yield from stored_plan(registry, keys, lock=True)
    records = [{**record_from_properties(registry, stored[k]), **changes} for k in keys
               if k in stored]
    report = yield from ingest_plan(prepare(registry, records), partial=False, dry_run=False,
                                    now=now, principal=principal, source="review",
                                    only=frozenset(changes), stored=stored)
    refuse_report(report, "Статус материалов не изменен")


COVER_CYPHER = """
MATCH (p:Program {uid: $program})
MERGE (rr:ReviewRound {uid: $uid})
ON CREATE SET rr.program = $program, rr.round = $round, rr.version = 0
SET rr.materials = $materials, rr.editions = $editions, rr.submitted_at = $now,
    rr.submitted_by = $actor, rr.version = rr.version + 1
MERGE (rr)-[:OF_PROGRAM]->(p)
WITH rr
CALL (rr) {
  MATCH (rr)-[c:COVERS]->(t:LearningMaterial) WHERE NOT t.uid IN $materials
  DELETE c
}
CALL (rr) {
  UNWIND range(0, size($materials) - 1) AS i
  MATCH (t:LearningMaterial {uid: $materials[i]})
  MERGE (rr)-[c:COVERS]->(t)
  SET c.edition = $editions[i]
}
RETURN rr.version AS version
"""


def round_uid(program: str, round: int) -> str:
    return f"{program}:{round}"


def cover_plan(program: str, principal: Principal, now: dt.datetime | None = None) -> Plan:
    """Open (or, resubmitted before a decision, renew) the review round of a program in
    REVIEW: the developer's own unapproved materials in use, at their editions; the DRAFT
    ones go to REVIEW. Returns the round's {key: edition}."""
    now = now or now_utc()
    p = yield from _program(program)
    _state(p, "REVIEW")
    round = p["round"] + 1
    [row] = yield MATERIALS_CYPHER, {"program": program}
    covered = round_materials(p["organization"], row["modules"])
    keys = sorted(covered)
    uid = round_uid(program, round)
    [saved] = yield COVER_CYPHER, {"program": program, "uid": uid, "round": round,
                                   "materials": keys, "editions": [covered[k] for k in keys],
                                   "now": now, "actor": principal.name}
    after = {"program": program, "round": round, "materials": keys,
             "editions": [covered[k] for k in keys]}
    yield from audited(ROUND_LABEL, [{"uid": uid, "op": "create" if saved["version"] == 1
                                      else "update", "fields": sorted(after), "after": after,
                                      "version": saved["version"]}], principal, "review", now)
    drafts = sorted({t["uid"] for mo in row["modules"] for t in mo["materials"]
                     if t["uid"] in covered and t["status"] == e.MaterialStatus.DRAFT.value})
    yield from _set_materials(drafts, {"status": e.MaterialStatus.REVIEW.value}, principal, now)
    return covered


def submit_plan(program: str, principal: Principal, today: dt.date | None = None,
                now: dt.datetime | None = None) -> Plan:
    """DRAFT → REVIEW by the developer's registrar (or admin), when nothing blocking is
    missing."""
    now = now or now_utc()
    p = yield from _program(program)
    if principal.role not in ("admin", "registrar"):
        raise Refused("На экспертизу программу направляет регистратор организации-"
                      "разработчика.", "FORBIDDEN")
    if principal.role == "registrar" and p["organization"] not in principal.organizations:
        raise Refused("Программа разработана другой организацией.", "FORBIDDEN")
    _state(p, "DRAFT")
    [row] = yield PROBLEMS_CYPHER, {"program": program, "today": today or now.date()}
    blocking = [msg for code, msg in problems(row["program"], row["modules"],
                                              row["competencies"]) if code in BLOCKING]
    if blocking:
        raise Refused("Программа не готова к экспертизе: " + "; ".join(blocking) + ".",
                      "INCOMPLETE")
    yield from _status(program, "REVIEW", principal, now)
    yield from cover_plan(program, principal, now)
    return program


ELIGIBLE_CYPHER = """
MATCH (s:Staff {uid: $staff}) WHERE s.retiredAt IS NULL
OPTIONAL MATCH (s)-[q:QUALIFIED_IN]->(k:Competency)
WHERE k.uid IN $competencies AND q.expert_status IN $statuses
  AND (q.valid_until IS NULL OR q.valid_until >= $today)
RETURN s.organization AS organization, s.full_name AS name,
       collect(k.uid) AS competencies,
       EXISTS { MATCH (r:ProgramReview {uid: $uid}) } AS assigned
"""

ASSIGN_CYPHER = """
MATCH (p:Program {uid: $program}), (s:Staff {uid: $staff})
CREATE (r:ProgramReview {uid: $uid, program: $program, expert: $staff, round: $round,
                         status: 'ASSIGNED', assigned_by: $actor, assigned_at: $now,
                         competencies: $competencies, version: 1})
CREATE (r)-[:REVIEWS]->(p), (r)-[:BY_EXPERT]->(s)
"""


def review_uid(program: str, staff: str, round: int) -> str:
    return f"{program}:{staff}:{round}"


def assign_plan(program: str, staff: str, principal: Principal, today: dt.date | None = None,
                now: dt.datetime | None = None) -> Plan:
    now = now or now_utc()
    today = today or now.date()
    p = yield from _program(program)
    reason = _operator_denial(principal, p["region"])
    if reason:
        raise Refused(f"Назначить эксперта нельзя: {reason}.", "FORBIDDEN")
    _state(p, "REVIEW")
    round = p["round"] + 1
    uid = review_uid(program, staff, round)
    rows = yield ELIGIBLE_CYPHER, {"staff": staff, "competencies": list(p["competencies"] or []),
                                   "statuses": EXPERT_STATUSES, "today": today, "uid": uid}
    if not rows:
        raise Refused("Сотрудник не найден.", "NOT_FOUND")
    s = rows[0]
    if s["organization"] == p["organization"]:
        raise Refused("Конфликт интересов: эксперт работает в организации-разработчике "
                      "программы.", "CONFLICT_OF_INTEREST")
    if not s["competencies"]:
        raise Refused("Сотрудник не имеет действующего статуса эксперта по компетенциям "
                      "программы.", "NOT_AN_EXPERT")
    if s["assigned"]:
        raise Refused("Эксперт уже назначен на эту программу.", "DUPLICATE")
    yield ASSIGN_CYPHER, {"program": program, "staff": staff, "uid": uid, "round": round,
                          "actor": principal.name, "now": now,
                          "competencies": s["competencies"]}
    yield from audited(LABEL, [{"uid": uid, "op": "assign",
                                "fields": ["expert", "program", "round", "status"],
                                "after": {"expert": staff, "program": program, "round": round,
                                          "status": "ASSIGNED"}, "version": 1}],
                       principal, "review", now)
    return uid


REVIEW_LOCK_CYPHER = """
MATCH (r:ProgramReview {uid: $uid})
SET r._lock = true REMOVE r._lock
WITH r
RETURN properties(r) AS r
"""

REVIEW_SAVE_CYPHER = """
MATCH (r:ProgramReview {uid: $uid})
SET r += $set, r.version = r.version + 1
RETURN r.version AS version
"""


def _scored(scores: dict[str, int], comments: dict[str, str], verdict: str,
            summary: str | None, criteria: dict[str, tuple[str, str]], what: str) -> None:
    """Scores 1–5 for every criterion, comments to criteria, a verdict explained unless
    APPROVE (`what`: whose, for the messages)."""
    if set(scores) != set(criteria):
        raise Refused(f"Оцените каждый критерий{what}: " + ", ".join(criteria) + ".",
                      "BAD_REQUEST")
    if any(not SCORE_MIN <= v <= SCORE_MAX for v in scores.values()):
        raise Refused(f"Оценка{what} — целое число от {SCORE_MIN} до {SCORE_MAX}.",
                      "BAD_REQUEST")
    if set(comments) - set(criteria) or any(len(c) > 4000 for c in comments.values()):
        raise Refused(f"Комментарии{what} — к критериям экспертизы, до 4000 символов.",
                      "BAD_REQUEST")
    if verdict not in VERDICTS:
        raise Refused(f"Заключение{what}: APPROVE, REVISE или REJECT.", "BAD_REQUEST")
    if verdict != "APPROVE" and not (summary or "").strip():
        raise Refused(f"Заключение{what} «на доработку» или «не рекомендовать» требует "
                      "пояснения.", "BAD_REQUEST")


def _assessed(a: dict[str, Any], criteria: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """The stored fields of an assessment: score_* and comment_* per criterion, verdict,
    summary."""
    comments = a.get("comments") or {}
    return {**{f"score_{k}": a["scores"][k] for k in criteria},
            **{f"comment_{k}": comments.get(k) for k in criteria},
            "verdict": a["verdict"], "summary": (a.get("summary") or "").strip() or None}


# The round's materials at their editions, and those an approval makes APPROVED: still at
# the edition reviewed, live and not yet approved (OPEN_MATERIAL).
OPEN_MATERIAL = [e.MaterialStatus.DRAFT.value, e.MaterialStatus.REVIEW.value]
ROUND_OF_CYPHER = """
OPTIONAL MATCH (rr:ReviewRound {uid: $uid})
RETURN coalesce(rr.materials, []) AS materials, coalesce(rr.editions, []) AS editions,
       COLLECT { MATCH (rr)-[c:COVERS]->(t:LearningMaterial)
                 WHERE t.retiredAt IS NULL AND t.edition = c.edition
                   AND t.status IN $open
                 RETURN t.uid ORDER BY t.uid } AS approvable
"""

MATERIAL_SAVE_CYPHER = """
MATCH (r:ProgramReview {uid: $review})
UNWIND $rows AS row
MATCH (t:LearningMaterial {uid: row.material})
MERGE (mr:MaterialReview {uid: row.uid})
ON CREATE SET mr.version = 0
SET mr += row.set, mr.version = mr.version + 1
MERGE (mr)-[:PART_OF]->(r)
MERGE (mr)-[:REVIEWS]->(t)
RETURN mr.uid AS uid, mr.version AS version
"""


def review_plan(program: str, staff: str, scores: dict[str, int], comments: dict[str, str],
                verdict: str, summary: str | None, principal: Principal,
                now: dt.datetime | None = None,
                materials: list[dict[str, Any]] | None = None) -> Plan:
    """The expert's scores per criterion (1–5), comments and verdict, on the program and on
    every material of the round (`materials`: {material, scores, comments, verdict,
    summary}), entered by the operator of the region (from the expert's protocol), a registrar
    of the expert's own organization, or an admin; while the program is in REVIEW."""
    now = now or now_utc()
    materials = materials or []
    _scored(scores, comments, verdict, summary, CRITERIA, "")
    for a in materials:
        _scored(a["scores"], a.get("comments") or {}, a["verdict"], a.get("summary"),
                MATERIAL_CRITERIA, f" материала {a['material']}")
    p = yield from _program(program)
    _state(p, "REVIEW")
    round = p["round"] + 1
    uid = review_uid(program, staff, round)
    rows = yield REVIEW_LOCK_CYPHER, {"uid": uid}
    if not rows:
        raise Refused("Эксперт не назначен на эту программу.", "NOT_FOUND")
    r = dict(rows[0]["r"])
    expert_org = staff.split(":", 1)[0]
    if principal.role == "registrar":
        if expert_org not in principal.organizations:
            raise Refused("Заключение вносит оператор ЦОПП или организация эксперта.",
                          "FORBIDDEN")
    else:
        reason = _operator_denial(principal, p["region"])
        if reason:
            raise Refused(f"Заключение внести нельзя: {reason}.", "FORBIDDEN")
    [covered] = yield ROUND_OF_CYPHER, {"uid": round_uid(program, round),
                                           "open": OPEN_MATERIAL}
    editions = dict(zip(covered["materials"], covered["editions"], strict=True))
    given = [a["material"] for a in materials]
    missing = sorted(set(editions) - set(given))
    extra = sorted(set(given) - set(editions))
    if missing or extra or len(given) != len(set(given)):
        raise Refused(
            "Эксперт оценивает каждый материал раунда экспертизы ровно один раз"
            + (f"; не оценены: {', '.join(missing)}" if missing else "")
            + (f"; не входят в раунд: {', '.join(extra)}" if extra else "") + ".",
            "BAD_REQUEST")
    changes = {**_assessed({"scores": scores, "comments": comments, "verdict": verdict,
                            "summary": summary}, CRITERIA),
               "status": "DONE", "submitted_at": now, "submitted_by": principal.name}
    [row] = yield REVIEW_SAVE_CYPHER, {"uid": uid, "set": changes}
    assessed = [{"uid": f"{uid}:{a['material']}", "material": a["material"],
                 "set": {"review": uid, "program": program, "expert": staff, "round": round,
                         "material": a["material"], "edition": editions[a["material"]],
                         **_assessed(a, MATERIAL_CRITERIA), "submitted_at": now,
                         "submitted_by": principal.name}} for a in materials]
    if assessed:
        yield MATERIAL_SAVE_CYPHER, {"review": uid, "rows": assessed}
    after = {k: v for k, v in changes.items() if k != "submitted_at"}
    if assessed:
        after["materials"] = [{k: v for k, v in a["set"].items()
                               if k not in ("submitted_at", "submitted_by", "review",
                                            "program", "expert", "round")} for a in assessed]
    yield from audited(LABEL, [{"uid": uid, "op": "review", "fields": sorted(after),
                                "before": {"status": r["status"]}, "after": after,
                                "version": row["version"]}], principal, "review", now)
    return uid


ROUND_CYPHER = """
MATCH (r:ProgramReview)-[:REVIEWS]->(:Program {uid: $program})
WHERE r.round = $round
RETURN r.uid AS uid, r.status AS status, r.verdict AS verdict
"""

CLOSE_ROUND_CYPHER = """
MATCH (r:ProgramReview)-[:REVIEWS]->(p:Program {uid: $program})
WHERE r.round = $round
SET r.decision = $decision, r.decision_reason = $reason, r.decided_at = $now,
    r.version = r.version + 1
RETURN r.uid AS uid, r.version AS version
"""

# The round's decision; a round opened before materials were reviewed gets its node here.
DECIDE_ROUND_CYPHER = """
MATCH (p:Program {uid: $program})
MERGE (rr:ReviewRound {uid: $uid})
ON CREATE SET rr.program = $program, rr.round = $round, rr.materials = [], rr.editions = [],
              rr.version = 0
MERGE (rr)-[:OF_PROGRAM]->(p)
SET rr.decision = $decision, rr.decision_reason = $reason, rr.decided_at = $now,
    rr.version = rr.version + 1
RETURN rr.version AS version
"""

# Materials of a returned round that go back to DRAFT: those no other program's open round
# still covers.
RELEASED_CYPHER = """
UNWIND $materials AS key
MATCH (t:LearningMaterial {uid: key}) WHERE t.status = $review
  AND NOT EXISTS { MATCH (t)<-[:COVERS]-(rr:ReviewRound)-[:OF_PROGRAM]->(q:Program)
                   WHERE q.uid <> $program AND q.status = $review AND rr.decision IS NULL }
RETURN t.uid AS uid ORDER BY uid
"""


def approval_problems(developer: str, modules: list[dict[str, Any]],
                      covered: dict[str, str]) -> list[str]:
    """Why the materials in use refuse an approval (Russian): unusable now, the developer's
    own and not approved but not in the round (`covered`: {key: edition}), or at another
    edition than the round reviewed."""
    out = []
    for mo in modules:
        for t in mo["materials"]:
            reason = unusable(developer, t)
            where = f"модуль {mo['number']}: материал {t['uid']}"
            if reason:
                out.append(f"{where} — {reason}")
            elif t["organization"] == developer and \
                    t["status"] != e.MaterialStatus.APPROVED.value:
                if t["uid"] not in covered:
                    out.append(f"{where} не был на экспертизе в этом раунде")
                elif covered[t["uid"]] != t["edition"]:
                    out.append(f"{where} изменен после направления на экспертизу (редакция "
                               f"{covered[t['uid']]} → {t['edition']})")
    return sorted(set(out))


def decide_plan(program: str, decision: str, principal: Principal, reason: str | None = None,
                today: dt.date | None = None, now: dt.datetime | None = None) -> Plan:
    """`APPROVED` (approval date today) with the round's materials, or `RETURNED` to DRAFT
    with the reviews attached and the round's materials back in DRAFT."""
    now = now or now_utc()
    today = today or now.date()
    p = yield from _program(program)
    denial = _operator_denial(principal, p["region"])
    if denial:
        raise Refused(f"Решение по программе принять нельзя: {denial}.", "FORBIDDEN")
    _state(p, "REVIEW")
    round = p["round"] + 1
    reviews = yield ROUND_CYPHER, {"program": program, "round": round}
    [covered] = yield ROUND_OF_CYPHER, {"uid": round_uid(program, round),
                                           "open": OPEN_MATERIAL}
    editions = dict(zip(covered["materials"], covered["editions"], strict=True))
    if decision == "APPROVED":
        if not reviews:
            raise Refused("Утвердить нельзя: не назначено ни одного эксперта.", "BAD_STATE")
        pending = [r["uid"] for r in reviews if r["status"] != "DONE"]
        if pending:
            raise Refused(f"Утвердить нельзя: нет заключений {len(pending)} экспертов.",
                          "BAD_STATE")
        [used] = yield MATERIALS_CYPHER, {"program": program}
        blocked = approval_problems(p["organization"], used["modules"], editions)
        if blocked:
            raise Refused("Утвердить нельзя: " + "; ".join(blocked) + ". Верните программу "
                          "на доработку.", "BAD_STATE")
        yield from _status(program, "APPROVED", principal, now, {"approved_on": today})
        yield from _set_materials(covered["approvable"], {
            "status": e.MaterialStatus.APPROVED.value, "approved_on": today}, principal, now)
    elif decision == "RETURNED":
        reason = " ".join((reason or "").split())
        if len(reason) < 3:
            raise Refused("Укажите, что доработать.", "BAD_REQUEST")
        yield from _status(program, "DRAFT", principal, now)
        released = yield RELEASED_CYPHER, {"materials": sorted(editions), "program": program,
                                           "review": e.MaterialStatus.REVIEW.value}
        yield from _set_materials([r["uid"] for r in released],
                                  {"status": e.MaterialStatus.DRAFT.value}, principal, now)
    else:
        raise ValueError(decision)
    reason = reason if decision == "RETURNED" else None
    closed = yield CLOSE_ROUND_CYPHER, {"program": program, "round": round,
                                        "decision": decision, "reason": reason, "now": now}
    after = {"decision": decision, "decision_reason": reason}
    yield from audited(LABEL, [{"uid": r["uid"], "op": decision.lower(), "fields": sorted(after),
                                "after": after, "version": r["version"]} for r in closed],
                       principal, "review", now)
    uid = round_uid(program, round)
    [decided] = yield DECIDE_ROUND_CYPHER, {"program": program, "uid": uid, "round": round,
                                            "decision": decision, "reason": reason, "now": now}
    yield from audited(ROUND_LABEL, [{"uid": uid, "op": decision.lower(),
                                      "fields": sorted(after), "after": after,
                                      "version": decided["version"]}], principal, "review", now)
    return decision
