"""Stored network plans, as plans (`graph.writes.Plan`) for `run_plan` / `run_plan_async`:

`(NetworkPlan {status: DRAFT → AGREED → RUNNING})-[:HAS_ASSIGNMENT]->(PlanAssignment)
-[:FOR_MODULE|AT_SITE|BY_ORGANIZATION]->(Module|Site|Organization)`, plus `FOR_PROGRAM` and
`BASE_ORGANIZATION` from the plan; key `home ИНН:program:start`. Reads: `graph.planning.reads`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from typing import Any

from graph.planning.model import NetworkPlan, PlanningError
from graph.writes import Plan

PLAN_STATUSES = ("DRAFT", "AGREED", "RUNNING")
PLAN_STATUS_LABELS = {"DRAFT": "Проект", "AGREED": "Согласован", "RUNNING": "Реализуется"}

SAVE_PLAN_CYPHER = """
MATCH (prog:Program {uid: $plan.program}), (home:Organization {uid: $plan.home})
MERGE (p:NetworkPlan {uid: $plan.uid})
WITH p, prog, home, p.status AS before,
     (p.status IS NULL OR p.status = 'DRAFT') AS writable
CALL (p, prog, home, writable) {
  WITH * WHERE writable
  SET p += $plan.props, p.status = 'DRAFT',
      p.createdAt = coalesce(p.createdAt, $now), p.updatedAt = $now
  MERGE (p)-[:FOR_PROGRAM]->(prog)
  MERGE (p)-[:BASE_ORGANIZATION]->(home)
  WITH p
  OPTIONAL MATCH (p)-[:HAS_ASSIGNMENT]->(old:PlanAssignment)
  WHERE NOT old.uid IN [a IN $plan.assignments | a.uid]
  DETACH DELETE old
}
CALL (p, writable) {
  WITH * WHERE writable
  UNWIND $plan.assignments AS a
  MATCH (m:Module {uid: a.module}), (s:Site {uid: a.site}), (o:Organization {uid: a.organization})
  MERGE (x:PlanAssignment {uid: a.uid})
  SET x += a.props
  MERGE (p)-[:HAS_ASSIGNMENT]->(x)
  WITH x, m, s, o
  CALL (x) { MATCH (x)-[r:FOR_MODULE|AT_SITE|BY_ORGANIZATION]->() DELETE r }
  CREATE (x)-[:FOR_MODULE]->(m), (x)-[:AT_SITE]->(s), (x)-[:BY_ORGANIZATION]->(o)
}
RETURN p.uid AS uid, before, writable
"""


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def save_parameters(plan: NetworkPlan, now: dt.datetime) -> dict[str, Any]:
    assignments = [{
        "uid": f"{plan.uid}:{a.module_number}", "module": a.module, "site": a.site,
        "organization": a.organization,
        "props": {"module": a.module, "site": a.site, "organization": a.organization,
                  "role": a.role, "hours": a.hours, "distance_km": a.distance_km,
                  "staff": _json([asdict(s) for s in a.staff]),
                  "equipment": _json([asdict(u) for u in a.equipment])},
    } for a in plan.assignments]
    props = {
        "program": plan.program, "home_organization": plan.home, "cohort_size": plan.cohort_size,
        "start": plan.start, "end": plan.end, "max_partners": plan.max_partners,
        "main_site": plan.main_site, "exact": plan.exact, "partner_count": len(plan.partners),
        "unplaced": _json([asdict(u) for u in plan.unplaced]),
    }
    return {"plan": {"uid": plan.uid, "program": plan.program, "home": plan.home,
                     "props": props, "assignments": assignments}, "now": now}


def save_plan(plan: NetworkPlan, now: dt.datetime | None = None) -> Plan:
    """MERGE the plan as a graph (one statement); idempotent; its uid. A plan past DRAFT is
    not overwritten."""
    records = yield SAVE_PLAN_CYPHER, save_parameters(plan, now or dt.datetime.now(dt.UTC))
    record = records[0] if records else None
    _check_saved(record, plan)
    assert record is not None  # _check_saved raised otherwise
    return record["uid"]


def _check_saved(record: Any, plan: NetworkPlan) -> None:
    if record is None:
        raise PlanningError(f"программа {plan.program!r} или организация {plan.home!r} не найдены")
    if not record["writable"]:
        raise PlanningError(
            f"план {plan.uid} уже в статусе «{PLAN_STATUS_LABELS[record['before']]}»: "
            "изменять можно только проект")


SET_STATUS_CYPHER = """
MATCH (p:NetworkPlan {uid: $uid})
WITH p, p.status AS before
CALL (p, before) {
  WITH * WHERE before = $from
  SET p.status = $to, p.updatedAt = $now
}
RETURN before
"""


def _transition(uid: str, status: str) -> dict[str, Any]:
    if status not in PLAN_STATUSES[1:]:
        raise PlanningError(f"недопустимый статус плана: {status!r}")
    return {"uid": uid, "to": status, "from": PLAN_STATUSES[PLAN_STATUSES.index(status) - 1]}


def _check_transition(record: Any, params: dict[str, Any]) -> None:
    if record is None:
        raise PlanningError(f"план {params['uid']!r} не найден")
    if record["before"] != params["from"]:
        raise PlanningError(
            f"перевести план в статус «{PLAN_STATUS_LABELS[params['to']]}» можно только из "
            f"статуса «{PLAN_STATUS_LABELS[params['from']]}» (сейчас — "
            f"«{PLAN_STATUS_LABELS.get(record['before'], record['before'])}»)")


def set_plan_status(uid: str, status: str, now: dt.datetime | None = None) -> Plan:
    """DRAFT → AGREED → RUNNING, one step at a time (one statement)."""
    params = {**_transition(uid, status), "now": now or dt.datetime.now(dt.UTC)}
    records = yield SET_STATUS_CYPHER, params
    _check_transition(records[0] if records else None, params)
