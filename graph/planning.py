"""Network-format program planning (273-ФЗ art. 15): which partner delivers which module.

Data comes in two Cypher queries: `PLAN_INPUT_CYPHER` (program, modules, home organization,
its agreements, and the region's supply: working quantity per site and required type, qualified
staff per organization and competency), then, for the chosen sites and organizations only,
`DETAILS_CYPHER` (equipment items, staff, names). The choice itself is pure Python (`solve`).

A site can take a module for a cohort of N when it seats N (workplaces ≥ N), every module
requirement is satisfied (PER_WORKPLACE: available ≥ quantity × N; PER_GROUP: ≥ quantity; only
working, non-retired equipment) and the site's organization has `min_staff` staff qualified in
the module's competency on the start date (a module without competency has no staff condition).
Only sites of the home organization's region are considered.

Choice:
1. a module the home organization can take stays at home (its nearest suitable site);
2. the other modules go to partners; among all choices the plan minimises, in this order:
   modules left unplaced (only when `max_partners` binds), distinct partner organizations,
   partners without an existing agreement with the home organization, total distance;
3. within a chosen organization a module takes its site nearest to the main site.
The main site of the home organization is its site with most workplaces (ties: lowest uid);
distances are great-circle km from it (unknown coordinates count as `UNKNOWN_KM`).
Exact (branch and bound over partner sets, every set visited once) when at most
`EXACT_LIMIT` modules need partners; beyond that a greedy heuristic: repeatedly take the
organization covering most unplaced modules (ties: existing agreement, smaller summed distance,
lower uid) — within ln(n)+1 of the optimum partner count, as greedy set cover is.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from graph.capability import Read
from graph.enums import PartyRole

EXACT_LIMIT = 12
UNKNOWN_KM = 1000.0
EARTH_RADIUS_KM = 6378.14  # as Neo4j's point.distance for WGS-84


class PlanningError(ValueError):
    """A request that cannot be planned (message in Russian, for users)."""


# ---------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Need:
    type: str
    name: str
    quantity: int
    scope: str

    def required(self, cohort: int) -> int:
        return self.quantity * cohort if self.scope == "PER_WORKPLACE" else self.quantity


@dataclass(frozen=True)
class ModuleInfo:
    uid: str
    number: int
    name: str
    hours: int
    competency: str | None
    min_staff: int
    needs: tuple[Need, ...]


@dataclass(frozen=True)
class Unit:
    uid: str
    name: str | None
    type: str
    quantity: int


@dataclass(frozen=True)
class SiteInfo:
    uid: str
    name: str
    organization: str
    workplaces: int
    latitude: float | None
    longitude: float | None
    stock: Mapping[str, int] = field(default_factory=dict)  # type → working quantity

    def available(self, etype: str) -> int:
        return self.stock.get(etype, 0)


@dataclass(frozen=True)
class StaffInfo:
    uid: str
    full_name: str
    expert_status: str


@dataclass(frozen=True)
class PlanInput:
    program: str
    program_name: str
    program_hours: int
    home: str
    home_name: str
    region: str
    modules: tuple[ModuleInfo, ...]
    sites: tuple[SiteInfo, ...]
    staff: Mapping[tuple[str, str], int]  # (organization, competency) → qualified staff
    agreements: Mapping[str, tuple[str, ...]]  # partner organization → existing agreement uids


# ---------------------------------------------------------------- outputs


@dataclass(frozen=True)
class Assignment:
    module: str
    module_number: int
    module_name: str
    hours: int
    site: str
    site_name: str
    organization: str
    organization_name: str
    role: str  # PartyRole code
    distance_km: float | None
    staff: tuple[StaffInfo, ...]
    equipment: tuple[Unit, ...]


@dataclass(frozen=True)
class Unmet:
    kind: str  # EQUIPMENT | CAPACITY | STAFF | COMBINATION | PARTNER_LIMIT
    message: str
    equipment_type: str | None = None
    required: int | None = None
    best_available: int | None = None


@dataclass(frozen=True)
class Unplaced:
    module: str
    module_number: int
    module_name: str
    hours: int
    reasons: tuple[Unmet, ...]


@dataclass(frozen=True)
class PartyShare:
    organization: str
    name: str
    role: str
    role_label: str
    modules: tuple[tuple[int, str, int], ...]  # (number, name, hours)
    hours: int
    sites: tuple[tuple[str, str], ...]  # (uid, name)
    equipment: tuple[Unit, ...]
    staff: tuple[StaffInfo, ...]


@dataclass(frozen=True)
class AgreementDraft:
    """Fields of a 273-ФЗ art. 15 network agreement between the home org and one partner."""

    program: str
    program_name: str
    program_hours: int
    learners: int
    start: dt.date | None
    end: dt.date | None
    base: PartyShare
    participant: PartyShare
    existing_agreements: tuple[str, ...]


@dataclass(frozen=True)
class NetworkPlan:
    program: str
    program_name: str
    program_hours: int
    home: str
    home_name: str
    cohort_size: int
    start: dt.date | None
    end: dt.date | None
    max_partners: int | None
    main_site: str | None
    assignments: tuple[Assignment, ...]
    unplaced: tuple[Unplaced, ...]
    exact: bool
    uid: str | None = None
    status: str = "DRAFT"

    @property
    def partners(self) -> list[str]:
        seen: dict[str, None] = {}
        for a in self.assignments:
            if a.role == PartyRole.PARTICIPANT.value:
                seen.setdefault(a.organization)
        return list(seen)

    @property
    def total_distance_km(self) -> float:
        return sum(a.distance_km or 0.0 for a in self.assignments)


def plan_uid(home: str, program: str, start: dt.date | None) -> str:
    return ":".join([home, program, start.isoformat() if start else "-"])


# ---------------------------------------------------------------- geometry and coverage


def great_circle_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    la1, lo1, la2, lo2 = map(math.radians, (*a, *b))
    h = (math.sin((la2 - la1) / 2) ** 2
         + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _coords(site: SiteInfo | None) -> tuple[float, float] | None:
    if site is None or site.latitude is None or site.longitude is None:
        return None
    return (site.latitude, site.longitude)


def main_site(data: PlanInput) -> SiteInfo | None:
    """The home organization's site with most workplaces (ties: lowest uid)."""
    own = [s for s in data.sites if s.organization == data.home]
    return min(own, key=lambda s: (-s.workplaces, s.uid)) if own else None


def site_distance(origin: SiteInfo | None, site: SiteInfo) -> float | None:
    a, b = _coords(origin), _coords(site)
    return great_circle_km(a, b) if a and b else None


def covers(data: PlanInput, site: SiteInfo, module: ModuleInfo, cohort: int) -> bool:
    if site.workplaces < cohort:
        return False
    if any(site.available(n.type) < n.required(cohort) for n in module.needs):
        return False
    if module.competency and module.min_staff > 0:
        return data.staff.get((site.organization, module.competency), 0) >= module.min_staff
    return True


def unmet_reasons(data: PlanInput, module: ModuleInfo, cohort: int) -> tuple[Unmet, ...]:
    """Which requirement of the module no site/organization of the region meets."""
    reasons = []
    sites = data.sites
    for need in module.needs:
        best = max((s.available(need.type) for s in sites), default=0)
        required = need.required(cohort)
        if best < required:
            reasons.append(Unmet(
                "EQUIPMENT",
                f"«{need.name}» ({need.type}): требуется {required}, "
                f"на площадках региона не больше {best}",
                need.type, required, best))
    most = max((s.workplaces for s in sites), default=0)
    if most < cohort:
        reasons.append(Unmet(
            "CAPACITY", f"нет площадки на {cohort} рабочих мест (наибольшая — {most})",
            None, cohort, most))
    if module.competency and module.min_staff > 0:
        best = max((n for (org, comp), n in data.staff.items()
                    if comp == module.competency), default=0)
        if best < module.min_staff:
            reasons.append(Unmet(
                "STAFF",
                f"ни в одной организации региона нет {module.min_staff} сотрудн. с действующей "
                f"квалификацией по компетенции {module.competency} (наибольшее число — {best})",
                None, module.min_staff, best))
    if not reasons:
        reasons.append(Unmet(
            "COMBINATION",
            "требования выполняются только по отдельности: ни одна площадка не выполняет "
            "их все одновременно"))
    return tuple(reasons)


# ---------------------------------------------------------------- choosing partners


@dataclass(frozen=True)
class Choice:
    partners: frozenset[str]
    skipped: frozenset[str]
    cost: tuple[int, int, int, float]  # (skipped, partners, without agreement, distance)


def _cost(modules: list[str], cand: Mapping[str, Mapping[str, float]], agreed: set[str],
          chosen: frozenset[str], skipped: frozenset[str]) -> tuple[int, int, int, float]:
    distance = 0.0
    for m in modules:
        if m not in skipped:
            distance += min(d for o, d in cand[m].items() if o in chosen)
    return (len(skipped), len(chosen), len(chosen - agreed), round(distance, 6))


def choose_exact(modules: list[str], cand: Mapping[str, Mapping[str, float]],
                 agreed: set[str], max_partners: int | None) -> Choice:
    """Lexicographically least (skipped, partners, partners without agreement, distance).

    `cand[m]` maps every organization that can take module m to its distance. Branch and
    bound: take the uncovered module with fewest candidates, branch on each of its
    organizations or on leaving it unplaced; every (partners, skipped) state is visited once.
    """
    limit = len(modules) if max_partners is None else max_partners
    best: list[Choice] = []
    seen: set[tuple[frozenset[str], frozenset[str]]] = set()

    def visit(chosen: frozenset[str], skipped: frozenset[str]) -> None:
        if (chosen, skipped) in seen:
            return
        seen.add((chosen, skipped))
        open_ = [m for m in modules if m not in skipped and not (cand[m].keys() & chosen)]
        if best:
            bound = (len(skipped), len(chosen) + (1 if open_ else 0), len(chosen - agreed))
            if bound > best[0].cost[:3]:
                return
        if not open_:
            cost = _cost(modules, cand, agreed, chosen, skipped)
            if not best or cost < best[0].cost:
                best[:] = [Choice(chosen, skipped, cost)]
            return
        m = min(open_, key=lambda x: (len(cand[x]), x))
        if len(chosen) < limit:
            gain = {o: sum(1 for x in open_ if o in cand[x]) for o in cand[m]}
            for o in sorted(cand[m], key=lambda o: (o not in agreed, -gain[o], cand[m][o], o)):
                visit(chosen | {o}, skipped)
        visit(chosen, skipped | {m})

    visit(frozenset(), frozenset())
    return best[0]


def choose_greedy(modules: list[str], cand: Mapping[str, Mapping[str, float]],
                  agreed: set[str], max_partners: int | None) -> Choice:
    limit = len(modules) if max_partners is None else max_partners
    chosen: set[str] = set()
    open_ = set(modules)
    while open_ and len(chosen) < limit:
        gains: dict[str, list[float]] = {}
        for m in open_:
            for o, d in cand[m].items():
                gains.setdefault(o, []).append(d)
        o = min(gains, key=lambda o: (-len(gains[o]), o not in agreed, sum(gains[o]), o))
        chosen.add(o)
        open_ = {m for m in open_ if o not in cand[m]}
    frozen, skipped = frozenset(chosen), frozenset(open_)
    return Choice(frozen, skipped, _cost(modules, cand, agreed, frozen, skipped))


# ---------------------------------------------------------------- the plan


def _nearest(sites: Iterable[SiteInfo], origin: SiteInfo | None) -> SiteInfo:
    def key(s: SiteInfo) -> tuple[float, int, str]:
        d = site_distance(origin, s)
        return (UNKNOWN_KM if d is None else d, -s.workplaces, s.uid)

    return min(sites, key=key)


def _assignment(data: PlanInput, module: ModuleInfo, site: SiteInfo, origin: SiteInfo | None
                ) -> Assignment:
    """Without staff and equipment lists and organization name: see `with_details`."""
    role = PartyRole.BASE if site.organization == data.home else PartyRole.PARTICIPANT
    return Assignment(
        module.uid, module.number, module.name, module.hours, site.uid, site.name,
        site.organization, "", role.value, site_distance(origin, site), (), ())


@dataclass(frozen=True)
class Details:
    """Names, staff and equipment of the chosen organizations and sites (second query)."""

    names: Mapping[str, str]
    staff: Mapping[tuple[str, str], tuple[StaffInfo, ...]]
    units: Mapping[tuple[str, str], tuple[Unit, ...]]  # (site, type) → working units


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
            "organizations": sorted({a.organization for a in plan.assignments}),
            "start": plan.start or dt.date.today()}


def with_details(plan: NetworkPlan, data: PlanInput, details: Details) -> NetworkPlan:
    modules = {m.uid: m for m in data.modules}
    out = []
    for a in plan.assignments:
        m = modules[a.module]
        staff = details.staff.get((a.organization, m.competency), ()) if m.competency else ()
        units = tuple(u for n in m.needs for u in details.units.get((a.site, n.type), ()))
        out.append(replace(a, organization_name=details.names.get(a.organization, ""),
                           staff=staff, equipment=units))
    return replace(plan, assignments=tuple(out))


def solve(data: PlanInput, cohort: int, max_partners: int | None = None,
          start: dt.date | None = None, end: dt.date | None = None,
          exact_limit: int = EXACT_LIMIT) -> NetworkPlan:
    if cohort < 1:
        raise PlanningError("численность группы должна быть не меньше 1")
    if max_partners is not None and max_partners < 0:
        raise PlanningError("maxPartners не может быть отрицательным")
    origin = main_site(data)
    at_home: dict[str, SiteInfo] = {}
    cand_sites: dict[str, dict[str, SiteInfo]] = {}  # module → partner org → its best site
    unplaced: list[Unplaced] = []
    for module in data.modules:
        fit = [s for s in data.sites if covers(data, s, module, cohort)]
        own = [s for s in fit if s.organization == data.home]
        if own:
            at_home[module.uid] = _nearest(own, origin)
            continue
        by_org: dict[str, list[SiteInfo]] = {}
        for s in fit:
            by_org.setdefault(s.organization, []).append(s)
        if not by_org:
            unplaced.append(Unplaced(module.uid, module.number, module.name, module.hours,
                                     unmet_reasons(data, module, cohort)))
            continue
        cand_sites[module.uid] = {o: _nearest(ss, origin) for o, ss in by_org.items()}

    def km(s: SiteInfo) -> float:
        d = site_distance(origin, s)
        return UNKNOWN_KM if d is None else d

    need = sorted(cand_sites)
    cand = {m: {o: km(s) for o, s in cand_sites[m].items()} for m in need}
    agreed = set(data.agreements)
    exact = len(need) <= exact_limit
    choice = (choose_exact if exact else choose_greedy)(need, cand, agreed, max_partners)

    by_uid = {m.uid: m for m in data.modules}
    assignments = []
    for module in data.modules:
        if module.uid in at_home:
            assignments.append(_assignment(data, module, at_home[module.uid], origin))
        elif module.uid in cand_sites and module.uid not in choice.skipped:
            org = min((o for o in cand[module.uid] if o in choice.partners),
                      key=lambda o: (cand[module.uid][o], o))
            assignments.append(_assignment(data, module, cand_sites[module.uid][org], origin))
    for uid in sorted(choice.skipped, key=lambda u: by_uid[u].number):
        module = by_uid[uid]
        unplaced.append(Unplaced(uid, module.number, module.name, module.hours, (Unmet(
            "PARTNER_LIMIT",
            f"модуль могут реализовать только организации сверх ограничения числа партнёров "
            f"(maxPartners = {max_partners})"),)))
    unplaced.sort(key=lambda u: u.module_number)
    return NetworkPlan(
        data.program, data.program_name, data.program_hours, data.home, data.home_name, cohort,
        start, end, max_partners, origin.uid if origin else None, tuple(assignments),
        tuple(unplaced), exact, uid=plan_uid(data.home, data.program, start))


def _share(plan: NetworkPlan, organization: str, name: str, role: PartyRole) -> PartyShare:
    mine = [a for a in plan.assignments if a.organization == organization]
    sites: dict[str, str] = {}
    units: dict[str, Unit] = {}
    staff: dict[str, StaffInfo] = {}
    for a in mine:
        sites.setdefault(a.site, a.site_name)
        for u in a.equipment:
            units.setdefault(u.uid, u)
        for s in a.staff:
            staff.setdefault(s.uid, s)
    return PartyShare(
        organization, name, role.value, role.label,
        tuple((a.module_number, a.module_name, a.hours) for a in mine),
        sum(a.hours for a in mine), tuple(sites.items()),
        tuple(sorted(units.values(), key=lambda u: u.uid)),
        tuple(sorted(staff.values(), key=lambda s: s.uid)))


def agreements_needed(plan: NetworkPlan, existing: Mapping[str, tuple[str, ...]] | None = None
                      ) -> list[AgreementDraft]:
    """One draft per partner: the home organization is the base organization (art. 15)."""
    existing = existing or {}
    names = {a.organization: a.organization_name for a in plan.assignments}
    base = _share(plan, plan.home, plan.home_name, PartyRole.BASE)
    return [
        AgreementDraft(
            plan.program, plan.program_name, plan.program_hours, plan.cohort_size, plan.start,
            plan.end, base, _share(plan, org, names[org], PartyRole.PARTICIPANT),
            tuple(existing.get(org, ())))
        for org in plan.partners
    ]


# ---------------------------------------------------------------- reading the graph

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
  RETURN collect(CASE WHEN o IS NOT NULL THEN {organization: o.uid, agreement: a.uid} END)
         AS agreements
}
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
RETURN p.uid AS program, p.name AS programName, p.hours AS programHours,
       home.uid AS home, home.name AS homeName, home.region AS region, modules, agreements,
       stocked, plain, staffing
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
CALL () {
  UNWIND $organizations AS uid
  MATCH (o:Organization {uid: uid})
  RETURN collect([o.uid, o.name]) AS names
}
RETURN units, staff, names
"""


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
    agreements: dict[str, list[str]] = {}
    for a in first["agreements"]:
        agreements.setdefault(a["organization"], []).append(a["agreement"])
    return PlanInput(
        first["program"], first["programName"], first["programHours"], first["home"],
        first["homeName"], first["region"], modules, tuple(sorted(sites, key=lambda s: s.uid)),
        {(org, comp): n for org, comp, n in first["staffing"]},
        {k: tuple(dict.fromkeys(v)) for k, v in agreements.items()})


def build_details(record: Any) -> Details:
    units: dict[tuple[str, str], list[Unit]] = {}
    for u in record["units"]:
        units.setdefault((u["site"], u["type"]), []).append(
            Unit(u["uid"], u["name"], u["type"], u["quantity"]))
    staff: dict[tuple[str, str], list[StaffInfo]] = {}
    for x in record["staff"]:
        staff.setdefault((x["organization"], x["competency"]), []).append(
            StaffInfo(x["uid"], x["fullName"], x["expertStatus"]))
    return Details({uid: name for uid, name in record["names"]},
                   {k: tuple(v) for k, v in staff.items()},
                   {k: tuple(v) for k, v in units.items()})


def fetch_input(tx: Any, program: str, home: str, start: dt.date | None = None) -> PlanInput:
    first = tx.run(PLAN_INPUT_CYPHER, _input_params(program, home, start)).single()
    _check_first(first, program, home)
    return build_input(first)


def tx_reader(tx: Any) -> Read:
    """A reader over an async transaction (e.g. inside a write transaction function)."""

    async def read(query: str, params: dict[str, Any]) -> list[Any]:
        cursor = await tx.run(query, params)
        return [r async for r in cursor]

    return read


async def _one(read: Read, query: str, params: dict[str, Any]) -> Any:
    rows = await read(query, params)
    return rows[0] if rows else None


async def fetch_input_async(read: Read, program: str, home: str,
                            start: dt.date | None = None) -> PlanInput:
    first = await _one(read, PLAN_INPUT_CYPHER, _input_params(program, home, start))
    _check_first(first, program, home)
    return build_input(first)


def _check_term(start: dt.date | None, end: dt.date | None) -> None:
    if start and end and end < start:
        raise PlanningError("дата окончания раньше даты начала")


def plan_network_program(tx: Any, program: str, home: str, cohort: int,
                         max_partners: int | None = None, start: dt.date | None = None,
                         end: dt.date | None = None) -> tuple[NetworkPlan, list[AgreementDraft]]:
    """Two round trips: the program with the region's supply, then the chosen parties' details."""
    _check_term(start, end)
    data = fetch_input(tx, program, home, start)
    plan = solve(data, cohort, max_partners, start, end)
    details = build_details(tx.run(DETAILS_CYPHER, detail_keys(plan, data)).single())
    plan = with_details(plan, data, details)
    return plan, agreements_needed(plan, data.agreements)


async def plan_network_program_async(read: Read, program: str, home: str, cohort: int,
                                     max_partners: int | None = None,
                                     start: dt.date | None = None, end: dt.date | None = None
                                     ) -> tuple[NetworkPlan, list[AgreementDraft]]:
    _check_term(start, end)
    data = await fetch_input_async(read, program, home, start)
    plan = solve(data, cohort, max_partners, start, end)
    details = build_details(await _one(read, DETAILS_CYPHER, detail_keys(plan, data)))
    plan = with_details(plan, data, details)
    return plan, agreements_needed(plan, data.agreements)


# ---------------------------------------------------------------- stored plans

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


def save_plan(tx: Any, plan: NetworkPlan, now: dt.datetime | None = None) -> str:
    """MERGE the plan as a graph; idempotent. A plan past DRAFT is not overwritten."""
    record = tx.run(SAVE_PLAN_CYPHER, save_parameters(plan, now or dt.datetime.now(dt.UTC))
                    ).single()
    _check_saved(record, plan)
    return record["uid"]


async def save_plan_async(tx: Any, plan: NetworkPlan, now: dt.datetime | None = None) -> str:
    cursor = await tx.run(SAVE_PLAN_CYPHER,
                          save_parameters(plan, now or dt.datetime.now(dt.UTC)))
    record = await cursor.single()
    _check_saved(record, plan)
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


def set_plan_status(tx: Any, uid: str, status: str, now: dt.datetime | None = None) -> None:
    """DRAFT → AGREED → RUNNING, one step at a time."""
    params = {**_transition(uid, status), "now": now or dt.datetime.now(dt.UTC)}
    _check_transition(tx.run(SET_STATUS_CYPHER, params).single(), params)


async def set_plan_status_async(tx: Any, uid: str, status: str,
                                now: dt.datetime | None = None) -> None:
    params = {**_transition(uid, status), "now": now or dt.datetime.now(dt.UTC)}
    cursor = await tx.run(SET_STATUS_CYPHER, params)
    _check_transition(await cursor.single(), params)


LOAD_PLANS_CYPHER = """
MATCH (p:NetworkPlan)
WHERE ($uids IS NULL OR p.uid IN $uids)
  AND ($program IS NULL OR p.program = $program)
  AND ($home IS NULL OR p.home_organization = $home)
  AND ($status IS NULL OR p.status = $status)
  AND ($after IS NULL OR p.uid > $after)
WITH p ORDER BY p.uid LIMIT $limit
MATCH (p)-[:FOR_PROGRAM]->(prog:Program), (p)-[:BASE_ORGANIZATION]->(home:Organization)
CALL (p) {
  OPTIONAL MATCH (p)-[:HAS_ASSIGNMENT]->(x:PlanAssignment)-[:FOR_MODULE]->(m:Module),
                 (x)-[:AT_SITE]->(s:Site), (x)-[:BY_ORGANIZATION]->(o:Organization)
  WITH x, m, s, o ORDER BY m.number
  RETURN collect(CASE WHEN x IS NOT NULL THEN
    {x: properties(x), module: m.uid, number: m.number, name: m.name, hours: m.hours,
     site: s.uid, siteName: s.name, organization: o.uid, organizationName: o.name} END) AS rows
}
CALL (p, home) {
  OPTIONAL MATCH (home)<-[:PARTY]-(a:PartnerAgreement)-[:PARTY]->(o:Organization)
  WHERE a.retiredAt IS NULL AND o <> home
  WITH o, a ORDER BY a.uid
  RETURN collect(CASE WHEN o IS NOT NULL THEN {organization: o.uid, agreement: a.uid} END)
         AS agreements
}
RETURN p {.*} AS plan, prog.name AS programName, prog.hours AS programHours,
       home.name AS homeName, rows, agreements
ORDER BY p.uid
"""


def _native(value: Any) -> Any:
    return value.to_native() if hasattr(value, "to_native") else value


def _plan_from_record(r: Any) -> tuple[NetworkPlan, dict[str, tuple[str, ...]]]:
    p = r["plan"]
    assignments = []
    for row in r["rows"]:
        x = row["x"]
        assignments.append(Assignment(
            row["module"], row["number"], row["name"], row["hours"], row["site"],
            row["siteName"], row["organization"], row["organizationName"], x["role"],
            x.get("distance_km"), tuple(StaffInfo(**s) for s in json.loads(x["staff"])),
            tuple(Unit(**u) for u in json.loads(x["equipment"]))))
    unplaced = tuple(
        Unplaced(u["module"], u["module_number"], u["module_name"], u["hours"],
                 tuple(Unmet(**m) for m in u["reasons"]))
        for u in json.loads(p.get("unplaced") or "[]"))
    plan = NetworkPlan(
        p["program"], r["programName"], r["programHours"], p["home_organization"], r["homeName"],
        p["cohort_size"], _native(p.get("start")), _native(p.get("end")), p.get("max_partners"),
        p.get("main_site"), tuple(assignments), unplaced, p.get("exact", True), uid=p["uid"],
        status=p["status"])
    existing: dict[str, list[str]] = {}
    for a in r["agreements"]:
        existing.setdefault(a["organization"], []).append(a["agreement"])
    return plan, {k: tuple(dict.fromkeys(v)) for k, v in existing.items()}


@dataclass(frozen=True)
class PlanFilter:
    uids: list[str] | None = None
    program: str | None = None
    home: str | None = None
    status: str | None = None
    first: int = 20
    after: str | None = None  # uid of the previous page's last plan


def _load_params(f: PlanFilter) -> dict[str, Any]:
    return {"uids": f.uids, "program": f.program, "home": f.home, "status": f.status,
            "after": f.after, "limit": max(0, min(f.first, 100)) + 1}


StoredPlan = tuple[NetworkPlan, list[AgreementDraft]]


def _stored(records: list[Any], f: PlanFilter) -> tuple[list[StoredPlan], bool]:
    out = []
    for r in records[: f.first]:
        plan, existing = _plan_from_record(r)
        out.append((plan, agreements_needed(plan, existing)))
    return out, len(records) > f.first


def load_plans(tx: Any, f: PlanFilter) -> tuple[list[StoredPlan], bool]:
    """A keyset page of stored plans (by uid) with their agreement drafts; more follow?"""
    return _stored(list(tx.run(LOAD_PLANS_CYPHER, _load_params(f))), f)


async def load_plans_async(read: Read, f: PlanFilter) -> tuple[list[StoredPlan], bool]:
    return _stored(await read(LOAD_PLANS_CYPHER, _load_params(f)), f)


def load_plan_with_agreements(tx: Any, uid: str) -> tuple[NetworkPlan, list[AgreementDraft]]:
    record = tx.run(LOAD_PLANS_CYPHER, _load_params(PlanFilter(uids=[uid], first=1))).single()
    if record is None:
        raise PlanningError(f"план {uid!r} не найден")
    plan, existing = _plan_from_record(record)
    return plan, agreements_needed(plan, existing)


async def load_plan_with_agreements_async(read: Read, uid: str
                                          ) -> tuple[NetworkPlan, list[AgreementDraft]]:
    record = await _one(read, LOAD_PLANS_CYPHER, _load_params(PlanFilter(uids=[uid], first=1)))
    if record is None:
        raise PlanningError(f"план {uid!r} не найден")
    plan, existing = _plan_from_record(record)
    return plan, agreements_needed(plan, existing)
