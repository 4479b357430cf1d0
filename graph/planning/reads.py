"""Network planning's graph reads, as plans (`graph.writes.Plan`): generators that yield
`(cypher, params)` and receive the records, driven by `run_plan(tx, …)` (sync) or
`run_plan_async(tx, …)` (async) — one piece of logic for both.

Planning is two statements: `PLAN_INPUT_CYPHER` (program, modules, home organization, its
agreements, and the region's supply: working quantity per site and required type, qualified
staff per organization and competency, the names of the sites' organizations), then, for the
chosen sites and organizations only, `DETAILS_CYPHER` (equipment items, staff). A choice
without details (the constructor's `placements`) is the first statement alone. The choice between them is
`graph.planning.solver.solve`. Stored plans are read a page per statement (`LOAD_PLANS_CYPHER`).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from graph.planning.drafts import agreements_needed
from graph.planning.model import (
    AgreementDraft,
    Assignment,
    Details,
    ExistingAgreement,
    ModuleInfo,
    Need,
    NetworkPlan,
    PlanInput,
    PlanningError,
    ProgramInfo,
    SiteInfo,
    StaffInfo,
    Unit,
    Unmet,
    Unplaced,
)
from graph.planning.solver import check_term, solve, with_details
from graph.reads import MAX_PAGE
from graph.values import native
from graph.writes import Plan


def focus_cypher(program: str) -> str:
    """The program's focus (направленность): the competencies it develops, else its modules'
    (in module order); a CALL over the variable `program`, returning `focus`."""
    return f"""CALL ({program}) {{
  OPTIONAL MATCH ({program})-[:DEVELOPS]->(k:Competency)
  WITH {program}, k ORDER BY k.name
  WITH {program}, collect(k.name) AS developed
  OPTIONAL MATCH ({program})-[:HAS_MODULE]->(m:Module)-[:FOR_COMPETENCY]->(k:Competency)
  WHERE m.retiredAt IS NULL
  WITH developed, k, min(m.number) AS first ORDER BY first
  WITH developed, collect(k.name) AS taught
  RETURN CASE WHEN size(developed) > 0 THEN developed ELSE taught END AS focus
}}"""

PLAN_INPUT_CYPHER = """
MATCH (p:Program {uid: $program})
OPTIONAL MATCH (home:Organization {uid: $home}) WHERE home.retiredAt IS NULL
CALL (p) {
  OPTIONAL MATCH (p)-[:HAS_MODULE]->(m:Module) WHERE m.retiredAt IS NULL
  CALL (m) {
    OPTIONAL MATCH (m)-[r:REQUIRES]->(t:EquipmentType)
    RETURN collect(CASE WHEN t IS NOT NULL THEN
             {type: t.uid, name: t.name, quantity: r.quantity, scope: r.scope} END) AS needs
  }
  WITH m, needs ORDER BY m.number
  RETURN collect(CASE WHEN m IS NOT NULL THEN
           {uid: m.uid, number: m.number, name: m.name, hours: m.hours,
            competency: m.competency, minStaff: m.min_staff, needs: needs} END) AS modules
}
CALL (home) {
  OPTIONAL MATCH (home)<-[:PARTY]-(a:PartnerAgreement)-[:PARTY]->(o:Organization)
  WHERE a.retiredAt IS NULL AND o <> home
    AND (a.valid_to IS NULL OR $start IS NULL OR a.valid_to >= $start)
  WITH o, a ORDER BY a.uid
  RETURN collect(CASE WHEN o IS NOT NULL THEN
           {organization: o.uid, uid: a.uid, number: a.number, signedOn: a.signed_on} END)
         AS agreements
}
""" + focus_cypher("p") + """
CALL (home) {
  OPTIONAL MATCH (mu:Municipality) WHERE mu.region = home.region
  RETURN collect(mu.uid) AS places
}
CALL (modules, home) {
  // working quantity per site and required type (graph/stock.py), in the home's region
  UNWIND modules AS m
  UNWIND m.needs AS n
  WITH DISTINCT n.type AS type, home.region AS region
  MATCH (s)-[k:STOCKS]->() USING INDEX SEEK k:STOCKS(type, region, municipality)
  WHERE k.type = type AND k.region = region AND k.municipality IS NOT NULL
  WITH s, collect([type, k.working]) AS stock
  WHERE s.retiredAt IS NULL
  RETURN collect(s {.uid, .name, .organization, .workplaces, .latitude, .longitude,
                    stock: stock}) AS stocked
}
CALL (modules, home) {
  // qualified staff per organization of the region and module competency
  UNWIND modules AS m
  WITH DISTINCT m.competency AS comp, home WHERE comp IS NOT NULL
  MATCH (st:Staff)-[q:QUALIFIED_IN]->(:Competency {uid: comp})
  WHERE st.retiredAt IS NULL AND (q.valid_until IS NULL OR q.valid_until >= $today)
  WITH comp, st.organization AS org, count(st) AS n, home
  WHERE EXISTS { (o:Organization {uid: org}) WHERE o.region = home.region }
  RETURN collect([org, comp, n]) AS staffing
}
CALL (modules, staffing, places, home) {
  // sites for modules without equipment requirements: the home's and staffed organizations'
  UNWIND [home.uid] + CASE WHEN any(m IN modules WHERE size(m.needs) = 0)
                          THEN [x IN staffing | x[0]] ELSE [] END AS org
  WITH DISTINCT org, places
  MATCH (:Organization {uid: org})-[:HAS_SITE]->(s:Site)
  WHERE s.retiredAt IS NULL AND s.municipality IN places
  RETURN collect(s {.uid, .name, .organization, .workplaces, .latitude, .longitude,
                    stock: []}) AS plain
}
CALL (stocked, plain) {
  // the names of the organizations whose sites may be chosen
  UNWIND stocked + plain AS s
  WITH DISTINCT s.organization AS org
  MATCH (o:Organization {uid: org})
  RETURN collect([o.uid, o.name]) AS names
}
RETURN p.uid AS program, p.name AS programName, p.hours AS programHours,
       p.type AS programType, focus, home.uid AS home, home.name AS homeName,
       home.region AS region, modules, agreements, stocked, plain, staffing, names
"""

DETAILS_CYPHER = """
CALL () {
  UNWIND $units AS u
  MATCH (s:Site {uid: u.site})-[:HAS_EQUIPMENT]->(e:Equipment)
  WHERE e.type IN u.types AND e.status = 'WORKING' AND e.retiredAt IS NULL
  WITH DISTINCT s, e ORDER BY e.uid
  RETURN collect({site: s.uid, uid: e.uid, name: e.name, type: e.type, quantity: e.quantity})
         AS units
}
CALL () {
  UNWIND $staff AS k
  MATCH (:Organization {uid: k.organization})<-[:WORKS_AT]-(st:Staff)
        -[q:QUALIFIED_IN]->(:Competency {uid: k.competency})
  WHERE st.retiredAt IS NULL AND (q.valid_until IS NULL OR q.valid_until >= $start)
  WITH k, st, q ORDER BY st.uid
  RETURN collect({organization: k.organization, competency: k.competency, uid: st.uid,
                  fullName: st.full_name, expertStatus: q.expert_status}) AS staff
}
RETURN units, staff
"""


def _existing(rows: list[Any]) -> dict[str, tuple[ExistingAgreement, ...]]:
    out: dict[str, dict[str, ExistingAgreement]] = {}
    for a in rows:
        out.setdefault(a["organization"], {}).setdefault(
            a["uid"], ExistingAgreement(a["uid"], a["number"], native(a["signedOn"])))
    return {k: tuple(v.values()) for k, v in out.items()}


def _input_params(program: str, home: str, start: dt.date | None) -> dict[str, Any]:
    return {"program": program, "home": home, "start": start,
            "today": start or dt.date.today()}


def _check_first(first: Any, program: str, home: str) -> None:
    if first is None:
        raise PlanningError(f"программа {program!r} не найдена")
    if first["home"] is None:
        raise PlanningError(f"базовая организация {home!r} не найдена")
    if not first["modules"]:
        raise PlanningError(f"у программы {program!r} нет модулей")


def build_input(first: Any) -> PlanInput:
    modules = tuple(
        ModuleInfo(m["uid"], m["number"], m["name"], m["hours"], m["competency"],
                   m["minStaff"] if m["minStaff"] is not None else 1,
                   tuple(sorted((Need(n["type"], n["name"], n["quantity"], n["scope"])
                                 for n in m["needs"]), key=lambda n: n.type)))
        for m in first["modules"])
    listed: dict[str, Any] = {}
    for s in [*first["stocked"], *first["plain"]]:
        listed.setdefault(s["uid"], s)
    sites = [SiteInfo(s["uid"], s["name"], s["organization"], s["workplaces"], s["latitude"],
                      s["longitude"], {t: n for t, n in s["stock"]})
             for s in listed.values()]
    return PlanInput(
        first["program"], first["programName"], first["programHours"], first["home"],
        first["homeName"], first["region"], modules, tuple(sorted(sites, key=lambda s: s.uid)),
        {(org, comp): n for org, comp, n in first["staffing"]}, _existing(first["agreements"]),
        ProgramInfo(first["programType"], tuple(first["focus"])),
        {uid: name for uid, name in first["names"]})


def build_details(record: Any) -> Details:
    units: dict[tuple[str, str], list[Unit]] = {}
    for u in record["units"]:
        units.setdefault((u["site"], u["type"]), []).append(
            Unit(u["uid"], u["name"], u["type"], u["quantity"]))
    staff: dict[tuple[str, str], list[StaffInfo]] = {}
    for x in record["staff"]:
        staff.setdefault((x["organization"], x["competency"]), []).append(
            StaffInfo(x["uid"], x["fullName"], x["expertStatus"]))
    return Details({k: tuple(v) for k, v in staff.items()},
                   {k: tuple(v) for k, v in units.items()})


def detail_keys(plan: NetworkPlan, data: PlanInput) -> dict[str, Any]:
    """Parameters of DETAILS_CYPHER for the plan's assignments."""
    modules = {m.uid: m for m in data.modules}
    units, staff = [], set()
    for a in plan.assignments:
        m = modules[a.module]
        units.append({"site": a.site, "types": [n.type for n in m.needs]})
        if m.competency:
            staff.add((a.organization, m.competency))
    return {"units": units,
            "staff": [{"organization": o, "competency": c} for o, c in sorted(staff)],
            "start": plan.start or dt.date.today()}


def fetch_input(program: str, home: str, start: dt.date | None = None) -> Plan:
    """The solver's input (one statement)."""
    records = yield PLAN_INPUT_CYPHER, _input_params(program, home, start)
    first = records[0] if records else None
    _check_first(first, program, home)
    return build_input(first)


def plan_network_program(program: str, home: str, cohort: int,
                         max_partners: int | None = None, start: dt.date | None = None,
                         end: dt.date | None = None) -> Plan:
    """(NetworkPlan, agreement drafts). Two statements: the program with the region's supply,
    then the chosen parties' details."""
    check_term(start, end)
    data = yield from fetch_input(program, home, start)
    plan = solve(data, cohort, max_partners, start, end)
    [record] = yield DETAILS_CYPHER, detail_keys(plan, data)
    plan = with_details(plan, data, build_details(record))
    return plan, agreements_needed(plan, data.agreements)


# ---------------------------------------------------------------- stored plans

_PLAN_FILTERS = """($uids IS NULL OR p.uid IN $uids)
    AND ($program IS NULL OR p.program = $program)
    AND ($home IS NULL OR p.home_organization = $home)
    AND ($status IS NULL OR p.status = $status)"""

# One row: `total` (0 unless $with_total) and `page`, the plans after $after by uid.
LOAD_PLANS_CYPHER = """
CALL () {
  MATCH (p:NetworkPlan)
  WHERE $with_total AND """ + _PLAN_FILTERS + """
  RETURN count(p) AS total
}
CALL () {
  MATCH (p:NetworkPlan)
  WHERE """ + _PLAN_FILTERS + """
    AND ($after IS NULL OR p.uid > $after)
  WITH p ORDER BY p.uid LIMIT $limit
  MATCH (p)-[:FOR_PROGRAM]->(prog:Program), (p)-[:BASE_ORGANIZATION]->(home:Organization)
  CALL (p) {
    OPTIONAL MATCH (p)-[:HAS_ASSIGNMENT]->(x:PlanAssignment)-[:FOR_MODULE]->(m:Module),
                   (x)-[:AT_SITE]->(s:Site), (x)-[:BY_ORGANIZATION]->(o:Organization)
    WITH x, m, s, o ORDER BY m.number
    RETURN collect(CASE WHEN x IS NOT NULL THEN
      {x: properties(x), module: m.uid, number: m.number, name: m.name, hours: m.hours,
       site: s.uid, siteName: s.name, organization: o.uid, organizationName: o.name,
       types: [(m)-[:REQUIRES]->(t:EquipmentType) | [t.uid, t.name]]} END) AS rows
  }
  CALL (p, home) {
    OPTIONAL MATCH (home)<-[:PARTY]-(a:PartnerAgreement)-[:PARTY]->(o:Organization)
    WHERE a.retiredAt IS NULL AND o <> home
    WITH o, a ORDER BY a.uid
    RETURN collect(CASE WHEN o IS NOT NULL THEN
             {organization: o.uid, uid: a.uid, number: a.number, signedOn: a.signed_on} END)
           AS agreements
  }
  """ + focus_cypher("prog") + """
  WITH p, prog, home, rows, agreements, focus ORDER BY p.uid
  RETURN collect({plan: p {.*}, programName: prog.name, programHours: prog.hours,
                  programType: prog.type, focus: focus, homeName: home.name, rows: rows,
                  agreements: agreements}) AS page
}
RETURN total, page
"""


def _plan_from_record(r: Any) -> tuple[NetworkPlan, dict[str, tuple[ExistingAgreement, ...]]]:
    p = r["plan"]
    assignments = []
    for row in r["rows"]:
        x = row["x"]
        types = dict(row["types"])
        units = tuple(Unit(**{**u, "type_name": types.get(u["type"], u.get("type_name"))})
                      for u in json.loads(x["equipment"]))
        assignments.append(Assignment(
            row["module"], row["number"], row["name"], row["hours"], row["site"],
            row["siteName"], row["organization"], row["organizationName"], x["role"],
            x.get("distance_km"), tuple(StaffInfo(**s) for s in json.loads(x["staff"])),
            units))
    unplaced = tuple(
        Unplaced(u["module"], u["module_number"], u["module_name"], u["hours"],
                 tuple(Unmet(**m) for m in u["reasons"]))
        for u in json.loads(p.get("unplaced") or "[]"))
    plan = NetworkPlan(
        p["program"], r["programName"], r["programHours"], p["home_organization"], r["homeName"],
        p["cohort_size"], native(p.get("start")), native(p.get("end")), p.get("max_partners"),
        p.get("main_site"), tuple(assignments), unplaced, p.get("exact", True), uid=p["uid"],
        status=p["status"], info=ProgramInfo(r["programType"], tuple(r["focus"])))
    return plan, _existing(r["agreements"])


@dataclass(frozen=True)
class PlanFilter:
    uids: list[str] | None = None
    program: str | None = None
    home: str | None = None
    status: str | None = None
    first: int = 20
    after: str | None = None  # uid of the previous page's last plan
    with_total: bool = False


StoredPlan = tuple[NetworkPlan, list[AgreementDraft]]


@dataclass(frozen=True)
class PlanPage:
    plans: list[StoredPlan]
    has_next_page: bool
    total: int | None  # None unless asked (PlanFilter.with_total)


def _load_params(f: PlanFilter) -> dict[str, Any]:
    return {"uids": f.uids, "program": f.program, "home": f.home, "status": f.status,
            "after": f.after, "limit": max(0, min(f.first, MAX_PAGE)) + 1,
            "with_total": f.with_total}


def load_plans(f: PlanFilter) -> Plan:
    """A keyset page (by uid) of stored plans with their agreement drafts (one statement)."""
    [record] = yield LOAD_PLANS_CYPHER, _load_params(f)
    out = []
    for r in record["page"][: f.first]:
        plan, existing = _plan_from_record(r)
        out.append((plan, agreements_needed(plan, existing)))
    return PlanPage(out, len(record["page"]) > f.first,
                    record["total"] if f.with_total else None)


def load_plan(uid: str) -> Plan:
    """One stored plan with its agreement drafts (one statement)."""
    page = yield from load_plans(PlanFilter(uids=[uid], first=1))
    if not page.plans:
        raise PlanningError(f"план {uid!r} не найден")
    return page.plans[0]
