"""The program constructor and expert review (template item 50).

    DRAFT --submit (registrar of the developer, admin)--> REVIEW
    REVIEW --assign expert (operator of the region, admin)--> a ProgramReview per expert
    ProgramReview --scores, comments, verdict (operator of the region, the registrar of the
                    expert's own organization, admin)--> DONE
    REVIEW --approve (operator, admin; every assigned review done, at least one)--> APPROVED
    REVIEW --return (operator, admin; with a reason)--> DRAFT, the round's reviews attached

An expert is a staff member with an expert status (REGIONAL, CERTIFIED, CHIEF; not expired)
in one of the program's competencies, NOT employed by the developing organization (conflict
of interest). The program's status (and `approved_on`, which `programsConstructed` counts)
changes through `graph.ingest` with the acting account's rights, audited; the reviews are
`(:ProgramReview {uid: program:staff:round})-[:REVIEWS]->(:Program)`, `-[:BY_EXPERT]->(:Staff)`.

Criteria (each scored 1–5, with a comment): CRITERIA below. Verdict: APPROVE, REVISE, REJECT.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from graph.access import Principal
from graph.ingest import patch_plan
from graph.public_services.common import Refused, audited, now_utc, refuse_report
from graph.registry import REGISTRIES
from graph.writes import Plan

LABEL = "ProgramReview"
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
       coalesce(COLLECT { MATCH (r:ProgramReview)-[:REVIEWS]->(p) WHERE r.decision IS NOT NULL
                          RETURN r.round AS round ORDER BY round DESC LIMIT 1 }[0], 0) AS round,
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


PROBLEMS_CYPHER = """
MATCH (p:Program {uid: $program})
OPTIONAL MATCH (p)-[:DEVELOPED_BY]->(dev:Organization)
CALL (p) {
  OPTIONAL MATCH (p)-[:HAS_MODULE]->(m:Module) WHERE m.retiredAt IS NULL
  WITH m ORDER BY m.number
  RETURN collect(CASE WHEN m IS NULL THEN NULL ELSE m {.uid, .number, .name, .hours,
           .competency, requirements: COUNT { (m)-[:REQUIRES]->() }} END) AS modules
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
                 expert_organization: s.organization} END) AS reviews
}
RETURN p {.code, .name, .status, .hours, .organization, .approved_on} AS program, dev.region AS region, modules, competencies, demand,
       reviews
"""


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
    if not competencies:
        out.append(("NO_COMPETENCIES", "программа не указывает компетенции"))
    for k in competencies:
        if k["name"] is None:
            out.append(("UNKNOWN_COMPETENCY", f"компетенции {k['code']} нет в реестре"))
        elif not k["infrastructure"]:
            out.append(("COMPETENCY_WITHOUT_INFRASTRUCTURE_LIST",
                        f"у компетенции {k['code']} «{k['name']}» нет инфраструктурного листа"))
    return out


BLOCKING = frozenset({"NO_MODULES", "HOURS_MISMATCH", "NO_COMPETENCIES", "UNKNOWN_COMPETENCY"})


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


def review_plan(program: str, staff: str, scores: dict[str, int], comments: dict[str, str],
                verdict: str, summary: str | None, principal: Principal,
                now: dt.datetime | None = None) -> Plan:
    """The expert's scores per criterion (1–5), comments and verdict, entered by the
    operator of the region (from the expert's protocol), a registrar of the expert's own
    organization, or an admin; while the program is in REVIEW."""
    now = now or now_utc()
    if set(scores) != set(CRITERIA):
        raise Refused("Оцените каждый критерий: " + ", ".join(CRITERIA) + ".", "BAD_REQUEST")
    if any(not SCORE_MIN <= v <= SCORE_MAX for v in scores.values()):
        raise Refused(f"Оценка — целое число от {SCORE_MIN} до {SCORE_MAX}.", "BAD_REQUEST")
    if set(comments) - set(CRITERIA) or any(len(c) > 4000 for c in comments.values()):
        raise Refused("Комментарии — к критериям экспертизы, до 4000 символов.", "BAD_REQUEST")
    if verdict not in VERDICTS:
        raise Refused("Заключение: APPROVE, REVISE или REJECT.", "BAD_REQUEST")
    if verdict != "APPROVE" and not (summary or "").strip():
        raise Refused("Заключение «на доработку» или «не рекомендовать» требует пояснения.",
                      "BAD_REQUEST")
    p = yield from _program(program)
    _state(p, "REVIEW")
    uid = review_uid(program, staff, p["round"] + 1)
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
    changes = {**{f"score_{k}": v for k, v in scores.items()},
               **{f"comment_{k}": comments.get(k) for k in CRITERIA},
               "verdict": verdict, "summary": (summary or "").strip() or None,
               "status": "DONE", "submitted_at": now, "submitted_by": principal.name}
    [row] = yield REVIEW_SAVE_CYPHER, {"uid": uid, "set": changes}
    yield from audited(LABEL, [{"uid": uid, "op": "review", "fields": sorted(changes),
                                "before": {"status": r["status"]},
                                "after": {k: v for k, v in changes.items()
                                          if k != "submitted_at"},
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


def decide_plan(program: str, decision: str, principal: Principal, reason: str | None = None,
                today: dt.date | None = None, now: dt.datetime | None = None) -> Plan:
    """`APPROVED` (approval date today) or `RETURNED` to DRAFT with the reviews attached."""
    now = now or now_utc()
    today = today or now.date()
    p = yield from _program(program)
    denial = _operator_denial(principal, p["region"])
    if denial:
        raise Refused(f"Решение по программе принять нельзя: {denial}.", "FORBIDDEN")
    _state(p, "REVIEW")
    round = p["round"] + 1
    reviews = yield ROUND_CYPHER, {"program": program, "round": round}
    if decision == "APPROVED":
        if not reviews:
            raise Refused("Утвердить нельзя: не назначено ни одного эксперта.", "BAD_STATE")
        pending = [r["uid"] for r in reviews if r["status"] != "DONE"]
        if pending:
            raise Refused(f"Утвердить нельзя: нет заключений {len(pending)} экспертов.",
                          "BAD_STATE")
        yield from _status(program, "APPROVED", principal, now, {"approved_on": today})
    elif decision == "RETURNED":
        reason = " ".join((reason or "").split())
        if len(reason) < 3:
            raise Refused("Укажите, что доработать.", "BAD_REQUEST")
        yield from _status(program, "DRAFT", principal, now)
    else:
        raise ValueError(decision)
    reason = reason if decision == "RETURNED" else None
    closed = yield CLOSE_ROUND_CYPHER, {"program": program, "round": round,
                                        "decision": decision, "reason": reason, "now": now}
    after = {"decision": decision, "decision_reason": reason}
    entries = [{"uid": r["uid"], "op": decision.lower(), "fields": sorted(after),
                "after": after, "version": r["version"]} for r in closed]
    # a round without experts: the decision is audited under the round's key
    yield from audited(LABEL, entries or [{
        "uid": f"{program}:-:{round}", "op": decision.lower(), "fields": sorted(after),
        "after": after, "version": 0}], principal, "review", now)
    return decision
