"""Network-format program planning (273-ФЗ art. 15): which partner delivers which module.

The solver: pure — no I/O, plain dataclasses (`graph.planning.model`) in and out.

Its input (`PlanInput`) and the chosen parties' details (`Details`) come from
`graph.planning.reads`; `solve` chooses, `with_details` fills the chosen parties in.

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
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from graph.enums import PartyRole
from graph.planning.model import (
    Assignment,
    Details,
    ModuleInfo,
    NetworkPlan,
    PlanInput,
    PlanningError,
    SiteInfo,
    Unmet,
    Unplaced,
)

EXACT_LIMIT = 12
UNKNOWN_KM = 1000.0
EARTH_RADIUS_KM = 6378.14  # as Neo4j's point.distance for WGS-84


def plan_uid(home: str, program: str, start: dt.date | None) -> str:
    return ":".join([home, program, start.isoformat() if start else "-"])


def check_term(start: dt.date | None, end: dt.date | None) -> None:
    if start and end and end < start:
        raise PlanningError("дата окончания раньше даты начала")


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
    """Without staff and equipment lists: see `with_details`."""
    role = PartyRole.BASE if site.organization == data.home else PartyRole.PARTICIPANT
    return Assignment(
        module.uid, module.number, module.name, module.hours, site.uid, site.name,
        site.organization, data.names.get(site.organization, ""), role.value,
        site_distance(origin, site), (), ())


def with_details(plan: NetworkPlan, data: PlanInput, details: Details) -> NetworkPlan:
    modules = {m.uid: m for m in data.modules}
    out = []
    for a in plan.assignments:
        m = modules[a.module]
        staff = details.staff.get((a.organization, m.competency), ()) if m.competency else ()
        units = tuple(replace(u, type_name=n.name)
                      for n in m.needs for u in details.units.get((a.site, n.type), ()))
        out.append(replace(a, staff=staff, equipment=units))
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
        tuple(unplaced), exact, uid=plan_uid(data.home, data.program, start), info=data.info)

