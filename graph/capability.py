"""Which sites can deliver a competency for a cohort, and what is missing where.

One Cypher query per call (`sites_cypher`). It starts from the competency's infrastructure list
(unique-index seek on the competency), goes to the listed equipment types and from each type to
the sites stocking it through the derived `STOCKS {working}` relationships (graph/stock.py: the
summed quantity of WORKING, non-retired equipment per site and type, kept in step by every
equipment write) — within a region or municipality through their index on (type, region,
municipality), so the federation's other regions are not read — and neither Equipment nor Site
is scanned. A site is a candidate when it holds at least one working unit of a listed type;
sites with nothing listed are not returned. Every candidate is scored from its (site, type)
rows in one aggregation; its distance only when it can be on the page (distance orders
sites within a group of equal full coverage and satisfied items); gaps and staff lists are
built only for the page's sites.

Per site, for a cohort of N:
- an item is satisfied when the working, non-retired quantity at the site is ≥ quantity × N
  (`PER_WORKPLACE`) or ≥ quantity (`PER_GROUP`);
- deliverable workplaces = min(site workplaces, min over PER_WORKPLACE items ⌊available/quantity⌋);
- the staff requirement (`min_staff` staff of the site's organization qualified in the
  competency, valid on `today`; `expert_required` → at least one with an expert status other
  than NONE) counts as one more item when the list has one (min_staff > 0 or expert_required);
- coverage = satisfied items / items; full coverage = every item satisfied and deliverable
  workplaces ≥ N (the site can take the whole cohort at once).
Ranking: full coverage first, then coverage desc, distance asc (unknown last), deliverable
workplaces desc, site uid asc. Pages are keyset pages over that order.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from graph.reads import MAX_PAGE

# An async reader: (query, params) → records (mappings). The GraphQL context provides one.
Read = Callable[[str, dict[str, Any]], Awaitable[list[Any]]]

# Sort key of a site without a known distance (no `near`, or no coordinates): after all others.
NO_DISTANCE = 1.0e12


class CapabilityError(ValueError):
    """A request that cannot be answered (message in Russian, for users)."""


@dataclass(frozen=True)
class Gap:
    equipment_type: str
    equipment_type_name: str
    scope: str
    required: int
    available: int

    @property
    def missing(self) -> int:
        return self.required - self.available


@dataclass(frozen=True)
class SiteMatch:
    site: str
    site_name: str
    organization: str
    organization_name: str
    municipality: str
    latitude: float | None
    longitude: float | None
    site_workplaces: int
    workplaces: int  # deliverable workplaces
    satisfied: int
    items: int
    full_coverage: bool
    staff_count: int
    expert_count: int
    staff_missing: bool
    distance_km: float | None
    gaps: tuple[Gap, ...]
    cursor: str
    staff_page: StaffPage | None = None  # first page of qualified staff, when asked for

    @property
    def coverage(self) -> float:
        return self.satisfied / self.items if self.items else 1.0


@dataclass(frozen=True)
class SitesPage:
    competency: str
    cohort_size: int
    total_count: int
    sites: list[SiteMatch] = field(default_factory=list)
    has_next_page: bool = False
    min_staff: int = 1
    expert_required: bool = False


@dataclass(frozen=True)
class SitesQuery:
    competency: str
    cohort_size: int
    region: str | None = None
    municipality: str | None = None
    near: tuple[float, float] | None = None  # (latitude, longitude)
    require_full_coverage: bool = False
    first: int = 20
    after: str | None = None
    today: dt.date | None = None
    staff_first: int | None = None  # also return each site's first page of qualified staff


def encode_cursor(key: list[Any]) -> str:
    raw = json.dumps(key, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
        full, satisfied, dkey, workplaces, uid = key
        if not (isinstance(full, int) and isinstance(satisfied, int)
                and isinstance(dkey, int | float) and isinstance(workplaces, int)
                and isinstance(uid, str)):
            raise TypeError
        return [full, satisfied, float(dkey), workplaces, uid]
    except (ValueError, TypeError) as exc:
        raise CapabilityError(f"недействительный курсор: {cursor!r}") from exc


_SITES = """
MATCH (c:Competency {uid: $competency})-[:HAS_INFRASTRUCTURE_LIST]->(l:InfrastructureList)
WHERE l.retiredAt IS NULL
CALL (l) {
  MATCH (l)-[r:REQUIRES]->(t:EquipmentType)
  RETURN collect({type: t.uid, name: t.name, quantity: r.quantity, scope: r.scope,
                  required: CASE r.scope WHEN 'PER_WORKPLACE' THEN r.quantity * $cohort
                                         ELSE r.quantity END}) AS items
}
CALL (c) {
  OPTIONAL MATCH (st:Staff)-[q:QUALIFIED_IN]->(c)
  WHERE st.retiredAt IS NULL AND (q.valid_until IS NULL OR q.valid_until >= $today)
  WITH st, q ORDER BY st.uid
  WITH st.organization AS org, count(st) AS n,
       count(CASE WHEN q.expert_status <> 'NONE' THEN 1 END) AS experts,
       collect({uid: st.uid, fullName: st.full_name, role: st.role, position: st.position,
                expertStatus: q.expert_status, validUntil: q.valid_until}) AS members
  WHERE org IS NOT NULL
  RETURN collect({org: org, n: n, experts: experts, members: members}) AS staffing
}
WITH l, items, staffing, (l.min_staff > 0 OR l.expert_required) AS staffItem,
     coalesce($region, COLLECT { MATCH (m:Municipality {uid: $municipality})
                                 RETURN m.region }[0]) AS region,
     [x IN staffing WHERE x.n >= l.min_staff AND (NOT l.expert_required OR x.experts > 0)
      | x.org] AS staffedOrgs,
     size([it IN items WHERE it.scope = 'PER_WORKPLACE']) AS perWorkplace
CALL (items, region, staffedOrgs, perWorkplace, staffItem) {
  // per site, from its stock of the listed types: items satisfied for the cohort, and the
  // per-workplace items it holds with the fewest workplaces they equip
  CALL (items, region) {
    UNWIND items AS it
    {stock_match}
    WITH s, it, k.working AS working  // one property read per stock row
    WITH s, count(CASE WHEN working >= it.required THEN 1 END) AS held,
         count(CASE WHEN it.scope = 'PER_WORKPLACE' THEN 1 END) AS perWorkplaceHeld,
         min(CASE WHEN it.scope = 'PER_WORKPLACE' THEN working / it.quantity END) AS equipped,
         collect(it.type) AS types, collect(working) AS counts
    WHERE s.retiredAt IS NULL
    RETURN s, held, perWorkplaceHeld, equipped, types, counts
  }
  WITH s, types, counts, held, size(items) AS listed, staffItem,
       s.organization IN staffedOrgs AS staffOk,
       CASE WHEN perWorkplaceHeld < perWorkplace THEN 0
            WHEN equipped IS NULL OR s.workplaces < equipped THEN s.workplaces
            ELSE equipped END AS workplaces
  WITH s, types, counts, staffOk, workplaces,
       listed + CASE WHEN staffItem THEN 1 ELSE 0 END AS total,
       held + CASE WHEN staffItem AND staffOk THEN 1 ELSE 0 END AS satisfied
  WITH s, types, counts, staffOk, workplaces, total, satisfied,
       CASE WHEN satisfied = total AND workplaces >= $cohort THEN 1 ELSE 0 END AS full
  WHERE NOT $requireFull OR full = 1
  RETURN collect({s: s, types: types, counts: counts, workplaces: workplaces,
                  staffOk: staffOk, total: total, satisfied: satisfied, full: full}) AS scored
}
// Distance orders sites only within a (full, satisfied) group, so it is computed only for the
// groups the page can come from: from the cursor's group on, until they hold $limit rows for
// sure (the cursor's own group counts for none: some of its rows are before the cursor).
CALL (scored) {
  UNWIND scored AS r
  WITH r WHERE $after IS NULL OR r.full < $after[0]
               OR (r.full = $after[0] AND r.satisfied <= $after[1])
  WITH r.full AS full, r.satisfied AS satisfied, count(*) AS n
  ORDER BY full DESC, satisfied DESC
  WITH collect({full: full, satisfied: satisfied,
                n: CASE WHEN full = $after[0] AND satisfied = $after[1] THEN 0 ELSE n END})
       AS groups
  RETURN reduce(last = {n: 0}, g IN groups |
                CASE WHEN last.n >= $limit THEN last
                     ELSE g {.full, .satisfied, n: last.n + g.n} END) AS last
}
CALL (scored, last) {
  UNWIND scored AS r
  WITH r WHERE (r.full > last.full OR (r.full = last.full AND r.satisfied >= last.satisfied))
               AND ($after IS NULL OR r.full < $after[0]
                    OR (r.full = $after[0] AND r.satisfied <= $after[1]))
  WITH r, r.s.uid AS uid,
       CASE WHEN $near IS NULL OR r.s.latitude IS NULL THEN null
            ELSE point.distance(point({latitude: r.s.latitude, longitude: r.s.longitude}),
                                point({latitude: $near.lat, longitude: $near.lon})) / 1000.0
       END AS distance
  WITH r, uid, distance, coalesce(distance, $noDistance) AS dkey
  WHERE $after IS NULL
        OR r.full < $after[0]
        OR (r.full = $after[0] AND (r.satisfied < $after[1]
        OR (r.satisfied = $after[1] AND (dkey > $after[2]
        OR (dkey = $after[2] AND (r.workplaces < $after[3]
        OR (r.workplaces = $after[3] AND uid > $after[4])))))))
  WITH r {.*, distance: distance, dkey: dkey} AS r
  ORDER BY r.full DESC, r.satisfied DESC, r.dkey ASC, r.workplaces DESC, r.s.uid ASC
  LIMIT $limit
  RETURN collect(r) AS page
}
WITH l, items, staffing, size(scored) AS totalCount, page
// gaps and staff only for the page's sites
WITH l, items, totalCount,
     [r IN page | r {.*, staff: coalesce(head([x IN staffing WHERE x.org = r.s.organization]),
                                         {n: 0, experts: 0})}] AS page
RETURN l.min_staff AS minStaff, l.expert_required AS expertRequired, totalCount,
  [r IN page | {
    site: r.s.uid, siteName: r.s.name, organization: r.s.organization,
    organizationName: COLLECT { MATCH (o:Organization {uid: r.s.organization})
                                RETURN o.name }[0],
    municipality: r.s.municipality, latitude: r.s.latitude, longitude: r.s.longitude,
    siteWorkplaces: r.s.workplaces, workplaces: r.workplaces, satisfied: r.satisfied,
    total: r.total, full: r.full, staffCount: r.staff.n, expertCount: r.staff.experts,
    staffMissing: (l.min_staff > 0 OR l.expert_required) AND NOT r.staffOk,  // none required: never
    distance: r.distance, dkey: r.dkey,
    gaps: [g IN [it IN items | it {.type, .name, .scope, .required,
                   available: coalesce(head([i IN range(0, size(r.types) - 1)
                                             WHERE r.types[i] = it.type | r.counts[i]]), 0)}]
           WHERE g.available < g.required],
    staff: CASE WHEN $staffLimit IS NULL THEN null
                ELSE coalesce(r.staff.members, [])[..$staffLimit] END
  }] AS page
"""


# Where the candidate sites come from: within a region or municipality, the STOCKS index on
# (type, region, municipality) gives just that place's stock of each type (the municipality
# condition on a region search lets the index answer it; the seek hint keeps the planner on
# one seek per type, not a scan of the whole index, whatever the graph's statistics say);
# without, every site stocking the type.
_STOCK_IN_PLACE = ("MATCH (s)-[k:STOCKS]->() "
                   "USING INDEX SEEK k:STOCKS(type, region, municipality) "
                   "WHERE k.type = it.type AND k.region = region AND ")
_STOCK_IN_REGION = _STOCK_IN_PLACE + "k.municipality IS NOT NULL"
_STOCK_IN_MUNICIPALITY = _STOCK_IN_PLACE + "k.municipality = $municipality"
_STOCK_ANYWHERE = "MATCH (:EquipmentType {uid: it.type})<-[k:STOCKS]-(s)"
SITES_IN_REGION_CYPHER = _SITES.replace("{stock_match}", _STOCK_IN_REGION)
SITES_IN_MUNICIPALITY_CYPHER = _SITES.replace("{stock_match}", _STOCK_IN_MUNICIPALITY)
SITES_CYPHER = _SITES.replace("{stock_match}", _STOCK_ANYWHERE)


def sites_cypher(q: SitesQuery) -> str:
    if q.municipality:
        return SITES_IN_MUNICIPALITY_CYPHER
    return SITES_IN_REGION_CYPHER if q.region else SITES_CYPHER


def sites_parameters(q: SitesQuery) -> dict[str, Any]:
    if q.cohort_size < 1:
        raise CapabilityError("численность группы должна быть не меньше 1")
    if not 0 <= q.first <= MAX_PAGE:
        raise CapabilityError(f"размер страницы должен быть от 0 до {MAX_PAGE}")
    return {
        "competency": q.competency,
        "cohort": q.cohort_size,
        "region": q.region,
        "municipality": q.municipality,
        "near": {"lat": q.near[0], "lon": q.near[1]} if q.near else None,
        "requireFull": q.require_full_coverage,
        "after": decode_cursor(q.after) if q.after else None,
        "limit": q.first + 1,
        "today": q.today or dt.date.today(),
        "noDistance": NO_DISTANCE,
        "staffLimit": None if q.staff_first is None else min(q.staff_first, MAX_PAGE) + 1,
    }


def _match(row: dict[str, Any], staff_first: int | None) -> SiteMatch:
    key = [row["full"], row["satisfied"], row["dkey"], row["workplaces"], row["site"]]
    staff = None
    if staff_first is not None and row["staff"] is not None:
        staff = _staff_page(row["staff"], min(staff_first, MAX_PAGE))
    return SiteMatch(
        site=row["site"], site_name=row["siteName"], organization=row["organization"],
        organization_name=row["organizationName"] or "", municipality=row["municipality"],
        latitude=row["latitude"], longitude=row["longitude"],
        site_workplaces=row["siteWorkplaces"], workplaces=row["workplaces"],
        satisfied=row["satisfied"], items=row["total"], full_coverage=bool(row["full"]),
        staff_count=row["staffCount"], expert_count=row["expertCount"],
        staff_missing=row["staffMissing"], distance_km=row["distance"],
        gaps=tuple(Gap(g["type"], g["name"], g["scope"], g["required"], g["available"])
                   for g in row["gaps"]),
        cursor=encode_cursor(key), staff_page=staff,
    )


def page_from_record(q: SitesQuery, record: Any) -> SitesPage:
    if record is None:
        raise CapabilityError(
            f"у компетенции {q.competency!r} нет инфраструктурного листа (или нет такой компетенции)"
        )
    rows = record["page"]
    return SitesPage(
        competency=q.competency, cohort_size=q.cohort_size, total_count=record["totalCount"],
        sites=[_match(r, q.staff_first) for r in rows[: q.first]],
        has_next_page=len(rows) > q.first,
        min_staff=record["minStaff"], expert_required=record["expertRequired"],
    )


def sites_for_competency(tx: Any, q: SitesQuery) -> SitesPage:
    """Run in a (sync) read transaction or session."""
    return page_from_record(q, tx.run(sites_cypher(q), sites_parameters(q)).single())


async def sites_for_competency_async(read: Read, q: SitesQuery) -> SitesPage:
    """`read(query, params)` returns the records (e.g. the GraphQL request context's read)."""
    rows = await read(sites_cypher(q), sites_parameters(q))
    return page_from_record(q, rows[0] if rows else None)


# Qualified staff of organizations in competencies, a page per (organization, competency):
# one round trip for a whole level of the GraphQL result (DataLoader batch).
QUALIFIED_STAFF_CYPHER = """
UNWIND $keys AS k
CALL (k) {
  MATCH (o:Organization {uid: k.organization})<-[:WORKS_AT]-(st:Staff)
        -[q:QUALIFIED_IN]->(:Competency {uid: k.competency})
  WHERE st.retiredAt IS NULL AND (q.valid_until IS NULL OR q.valid_until >= $today)
    AND (k.after IS NULL OR st.uid > k.after)
  WITH st, q ORDER BY st.uid
  WITH collect({uid: st.uid, fullName: st.full_name, role: st.role, position: st.position,
                expertStatus: q.expert_status, validUntil: q.valid_until}) AS staff
  RETURN staff[..k.limit] AS staff
}
RETURN k.organization AS organization, k.competency AS competency, k.after AS after, staff
"""


@dataclass(frozen=True)
class StaffKey:
    organization: str
    competency: str
    first: int = 20
    after: str | None = None  # staff uid of the previous page's last row


@dataclass(frozen=True)
class QualifiedStaff:
    uid: str
    full_name: str
    role: str
    position: str | None
    expert_status: str
    valid_until: dt.date | None


@dataclass(frozen=True)
class StaffPage:
    staff: list[QualifiedStaff]
    has_next_page: bool


def staff_parameters(keys: list[StaffKey], today: dt.date | None) -> dict[str, Any]:
    return {
        "keys": [{"organization": k.organization, "competency": k.competency, "after": k.after,
                  "limit": min(k.first, MAX_PAGE) + 1} for k in keys],
        "today": today or dt.date.today(),
    }


def _staff_page(rows: list[Any], first: int) -> StaffPage:
    return StaffPage(
        [QualifiedStaff(r["uid"], r["fullName"], r["role"], r["position"], r["expertStatus"],
                        r["validUntil"].to_native() if r["validUntil"] else None)
         for r in rows[:first]],
        has_next_page=len(rows) > first)


def _staff_pages(keys: list[StaffKey], records: list[Any]) -> list[StaffPage]:
    by_key = {(r["organization"], r["competency"], r["after"]): r["staff"] for r in records}
    return [_staff_page(by_key.get((k.organization, k.competency, k.after), []),
                        min(k.first, MAX_PAGE)) for k in keys]


def qualified_staff(tx: Any, keys: list[StaffKey], today: dt.date | None = None
                    ) -> list[StaffPage]:
    """Pages in the order of `keys`."""
    return _staff_pages(keys, list(tx.run(QUALIFIED_STAFF_CYPHER, staff_parameters(keys, today))))


async def qualified_staff_async(read: Read, keys: list[StaffKey],
                                today: dt.date | None = None) -> list[StaffPage]:
    return _staff_pages(keys, await read(QUALIFIED_STAFF_CYPHER, staff_parameters(keys, today)))
