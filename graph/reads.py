"""Read Cypher of the registries: filtered keyset pages, nodes by uid, batched traversals.

Every value is a parameter; labels, relationship types, properties and sort expressions come
from the tables below, never from input. Callers run the returned text with the returned params.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from graph.migrations import FULLTEXT_INDEX
from graph.privacy import BY_LABEL, owner_projection, scope_condition
from graph.registry import REGISTRIES
from graph.values import native

MAX_PAGE = 100

# The hidden list filter by which people lists are limited to the caller's scope
# (`graph.privacy`): its value is `Scope.param()`. Not a GraphQL filter.
PEOPLE_FILTER = "_people"


@dataclass(frozen=True)
class Sort:
    """A sort key: a Cypher expression over `n` and how its cursor value is typed."""

    expr: str
    kind: str = "string"  # string | int | float | datetime | date


_COMMON_SORTS = {
    "uid": Sort("n.uid"),
    "created_at": Sort("n.createdAt", "datetime"),
    "updated_at": Sort("n.updatedAt", "datetime"),
}


def _in(prop: str, param: str) -> str:
    return f"n.{prop} IN ${param}"


_SITE_COMPETENCY = (
    "EXISTS {{ MATCH (c:Competency)-[:HAS_INFRASTRUCTURE_LIST]->(:InfrastructureList)"
    "-[:REQUIRES]->(:EquipmentType)<-[:OF_TYPE]-(e:Equipment)<-[:HAS_EQUIPMENT]-(n) "
    "WHERE c.{prop} IN ${param} AND e.retiredAt IS NULL }}"
)


@dataclass(frozen=True)
class ListSpec:
    """How one registry is listed: filters (name → condition on `n`) and sorts.

    `anchors` give, for selective filters over large labels, a MATCH that reaches `n` from an
    indexed node (each `n` at most once) instead of scanning the label; the first anchored
    filter in use replaces its condition.
    """

    filters: Mapping[str, str]
    sorts: Mapping[str, Sort]
    default_sort: str = "uid"
    anchors: Mapping[str, str] = field(default_factory=dict)

    def all_sorts(self) -> dict[str, Sort]:
        return {**_COMMON_SORTS, **self.sorts}


LISTS: dict[str, ListSpec] = {
    "regions": ListSpec({}, {"name": Sort("n.name"), "code": Sort("n.code")}, "code"),
    "municipalities": ListSpec(
        {"region": _in("region", "f_region")},
        {"name": Sort("n.name"), "oktmo": Sort("n.oktmo")}, "name",
    ),
    "organizations": ListSpec(
        {
            "region": _in("region", "f_region"),
            "municipality": _in("municipality", "f_municipality"),
            "kind": _in("kind", "f_kind"),
            "competency": "EXISTS { MATCH (n)<-[:WORKS_AT]-(s:Staff)-[:QUALIFIED_IN]->(c:Competency) "
                          "WHERE s.retiredAt IS NULL AND c.uid IN $f_competency }",
        },
        {"name": Sort("n.name"), "inn": Sort("n.inn")}, "name",
    ),
    "sites": ListSpec(
        {
            "organization": _in("organization", "f_organization"),
            "municipality": _in("municipality", "f_municipality"),
            "region": "EXISTS { MATCH (n)-[:IN_MUNICIPALITY]->(m:Municipality) "
                      "WHERE m.region IN $f_region }",
            "organization_kind": "EXISTS { MATCH (o:Organization)-[:HAS_SITE]->(n) "
                                 "WHERE o.kind IN $f_organization_kind }",
            "kind": _in("kind", "f_kind"),
            "competency": _SITE_COMPETENCY.format(prop="uid", param="f_competency"),
            "competency_block": _SITE_COMPETENCY.format(prop="block_code",
                                                        param="f_competency_block"),
        },
        {"name": Sort("n.name"), "workplaces": Sort("n.workplaces", "int")}, "name",
    ),
    "equipment_types": ListSpec(
        {
            "category": _in("category", "f_category"),
            "competency": "EXISTS { MATCH (c:Competency)-[:HAS_INFRASTRUCTURE_LIST]->"
                          "(:InfrastructureList)-[:REQUIRES]->(n) WHERE c.uid IN $f_competency }",
        },
        {"name": Sort("n.name"), "code": Sort("n.code")}, "name",
    ),
    "equipment": ListSpec(
        {
            "organization": _in("organization", "f_organization"),
            "site": "EXISTS { MATCH (s:Site)-[:HAS_EQUIPMENT]->(n) WHERE s.uid IN $f_site }",
            "type": _in("type", "f_type"),
            "status": _in("status", "f_status"),
            "municipality": "EXISTS { MATCH (s:Site)-[:HAS_EQUIPMENT]->(n) "
                            "WHERE s.municipality IN $f_municipality }",
            "region": "EXISTS { MATCH (m:Municipality)<-[:IN_MUNICIPALITY]-(:Site)-[:HAS_EQUIPMENT]->(n) "
                      "WHERE m.region IN $f_region }",
            "competency": "EXISTS { MATCH (c:Competency)-[:HAS_INFRASTRUCTURE_LIST]->"
                          "(:InfrastructureList)-[:REQUIRES]->(:EquipmentType)<-[:OF_TYPE]-(n) "
                          "WHERE c.uid IN $f_competency }",
        },
        {"inventory_number": Sort("n.inventory_number"), "quantity": Sort("n.quantity", "int")},
        "uid",
        anchors={
            "site": "MATCH (s:Site)-[:HAS_EQUIPMENT]->(n:Equipment) WHERE s.uid IN $f_site",
            "municipality": "MATCH (s:Site)-[:HAS_EQUIPMENT]->(n:Equipment) "
                            "WHERE s.municipality IN $f_municipality",
            "region": "MATCH (m:Municipality)<-[:IN_MUNICIPALITY]-(:Site)-[:HAS_EQUIPMENT]->"
                      "(n:Equipment) WHERE m.region IN $f_region",
        },
    ),
    "staff": ListSpec(
        {
            "organization": _in("organization", "f_organization"),
            "role": _in("role", "f_role"),
            "region": "EXISTS { MATCH (n)-[:WORKS_AT]->(o:Organization) "
                      "WHERE o.region IN $f_region }",
            "organization_kind": "EXISTS { MATCH (n)-[:WORKS_AT]->(o:Organization) "
                                 "WHERE o.kind IN $f_organization_kind }",
            "competency": "EXISTS { MATCH (n)-[:QUALIFIED_IN]->(c:Competency) "
                          "WHERE c.uid IN $f_competency }",
            "competency_block": "EXISTS { MATCH (n)-[:QUALIFIED_IN]->(c:Competency) "
                                "WHERE c.block_code IN $f_competency_block }",
            "expert_status": "EXISTS { MATCH (n)-[q:QUALIFIED_IN]->(:Competency) "
                             "WHERE q.expert_status IN $f_expert_status }",
            # searching or sorting by full name: only staff whose names the caller reads
            PEOPLE_FILTER: scope_condition("staff", "n", f"f_{PEOPLE_FILTER}"),
        },
        {"full_name": Sort("n.full_name")}, "full_name",
        anchors={
            "region": "MATCH (o:Organization)<-[:WORKS_AT]-(n:Staff) WHERE o.region IN $f_region",
        },
    ),
    "competencies": ListSpec(
        {
            "competency_block": _in("block_code", "f_competency_block"),
            "standard": _in("standard", "f_standard"),
            "is_future": "n.is_future = $f_is_future",
            "is_digital": "n.is_digital = $f_is_digital",
        },
        {"name": Sort("n.name"), "code": Sort("n.code")}, "code",
    ),
    "infrastructure_lists": ListSpec(
        {
            "competency": _in("competency", "f_competency"),
            "competency_block": "EXISTS { MATCH (c:Competency)-[:HAS_INFRASTRUCTURE_LIST]->(n) "
                                "WHERE c.block_code IN $f_competency_block }",
        },
        {}, "uid",
    ),
    "programs": ListSpec(
        {
            "type": _in("type", "f_type"),
            "status": _in("status", "f_status"),
            "organization": _in("organization", "f_organization"),
            "network": "n.network = $f_network",
            "region": "EXISTS { MATCH (n)-[:DEVELOPED_BY]->(o:Organization) "
                      "WHERE o.region IN $f_region }",
            "competency": "EXISTS { MATCH (n)-[:DEVELOPS]->(c:Competency) "
                          "WHERE c.uid IN $f_competency }",
            "competency_block": "EXISTS { MATCH (n)-[:DEVELOPS]->(c:Competency) "
                                "WHERE c.block_code IN $f_competency_block }",
        },
        {"name": Sort("n.name"), "code": Sort("n.code"), "hours": Sort("n.hours", "int")},
        "name",
    ),
    "modules": ListSpec(
        {
            "program": _in("program", "f_program"),
            "competency": _in("competency", "f_competency"),
        },
        {"name": Sort("n.name"), "number": Sort("n.number", "int"),
         "hours": Sort("n.hours", "int")}, "uid",
    ),
    "agreements": ListSpec(
        {
            "kind": _in("kind", "f_kind"),
            "organization": "EXISTS { MATCH (n)-[:PARTY]->(o:Organization) "
                            "WHERE o.uid IN $f_organization }",
            "program": _in("program", "f_program"),
        },
        {"signed_on": Sort("n.signed_on", "date"), "number": Sort("n.number")}, "signed_on",
    ),
}

RELEVANCE = "relevance"
_RELEVANCE = Sort("score", "float")


def _param_expr(sort: Sort, param: str) -> str:
    if sort.kind == "datetime":
        return f"datetime(${param})"
    if sort.kind == "date":
        return f"date(${param})"
    return f"${param}"


STAMPS = ("createdAt", "updatedAt", "retiredAt")


def node_map(var: str, label: str | None = None) -> str:
    """The properties of node `var`, its timestamps as ISO strings: the driver hydrates a
    DateTime in Python at ~0.1 ms each, which on a page of nodes cost more than the query.
    Nodes of a label holding personal data (`graph.privacy.OWNERS`) also carry their owners,
    so the API decides what the caller may read without another round trip."""
    stamps = ", ".join(f"{k}: toString({var}.{k})" for k in STAMPS)
    owners = f", {owner_projection(BY_LABEL[label], var)}" if label in BY_LABEL else ""
    return f"{var} {{.*, {stamps}{owners}}}"



# Labels outside the full-text index, searched through the indexed nodes they belong to: an
# infrastructure list is found by its competency's name and by the names of the equipment
# types it requires (the words that find the competency's sites, programs and equipment);
# a list's score is its best hit.
SEARCH_THROUGH: dict[str, str] = {
    "InfrastructureList": (
        "CALL () { "
        f"CALL db.index.fulltext.queryNodes('{FULLTEXT_INDEX}', $search) YIELD node AS hit, score "
        "WHERE hit:Competency OR hit:EquipmentType "
        "MATCH (hit)-[:HAS_INFRASTRUCTURE_LIST|REQUIRES]-(n:InfrastructureList) "
        "RETURN n, max(score) AS score } WITH n, score WHERE true"),
}


@lru_cache(maxsize=1024)
def page_cypher(registry: str, filters: tuple[str, ...], sort: str, descending: bool,
                search: bool, after: bool, with_total: bool) -> str:
    """One query: a page of `$limit` nodes after the cursor, plus the total when asked."""
    spec = LISTS[registry]
    label = REGISTRIES[registry].label
    key = _RELEVANCE if sort == RELEVANCE else spec.all_sorts()[sort]
    if search and label in SEARCH_THROUGH:
        match = SEARCH_THROUGH[label]
    elif search:
        match = (f"CALL db.index.fulltext.queryNodes('{FULLTEXT_INDEX}', $search) "
                 f"YIELD node AS n, score WHERE n:{label}")
    else:
        anchored = next((f for f in filters if f in spec.anchors), None)
        match = spec.anchors[anchored] if anchored else f"MATCH (n:{label}) WHERE true"
        filters = tuple(f for f in filters if f != anchored)
        if sort == RELEVANCE:
            key = Sort("n.uid")
    conds = ["($include_retired OR n.retiredAt IS NULL)"]
    conds += [spec.filters[f] for f in filters]
    where = " AND ".join(conds)
    op = "<" if descending else ">"
    direction = "DESC" if descending else "ASC"
    score = ", score" if search else ""
    keyset = ""
    if after:
        # on the projected key: a predicate on n.uid itself would tempt the planner into a
        # range seek over the whole label instead of the anchor
        v = _param_expr(key, "after_key")
        keyset = (f"  WITH n{score}, {key.expr} AS k\n"
                  f"  WHERE k {op} {v} OR (k = {v} AND n.uid {op} $after_uid)\n")
    total = ""
    if with_total:
        total = f"CALL () {{ {match} AND {where} RETURN count(n) AS total }}\n"
    return (
        f"{total}CALL () {{\n  {match} AND {where}\n{keyset}"
        f"  WITH n{score}, {key.expr} AS k ORDER BY k {direction}, n.uid {direction} "
        f"LIMIT $limit\n  RETURN collect({{props: {node_map('n', label)}, key: k}}) AS page\n}}\n"
        f"RETURN page{', total' if with_total else ', null AS total'}"
    )


def cursor_value(value: Any) -> Any:
    """A sort value as it travels inside a cursor (JSON)."""
    value = native(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def page_query(registry: str, *, filters: Mapping[str, Any] | None = None,
               sort: str | None = None, descending: bool = False, search: str | None = None,
               include_retired: bool = False, limit: int = 20,
               after: tuple[Any, str] | None = None,
               with_total: bool = True) -> tuple[str, dict[str, Any]]:
    """Cypher and parameters of one page. `filters` holds only the filters in use."""
    spec = LISTS[registry]
    filters = {k: v for k, v in (filters or {}).items() if v is not None}
    unknown = set(filters) - set(spec.filters)
    if unknown:
        raise ValueError(f"unknown filters for {registry}: {sorted(unknown)}")
    sort = sort or (RELEVANCE if search else spec.default_sort)
    if sort != RELEVANCE and sort not in spec.all_sorts():
        raise ValueError(f"unknown sort for {registry}: {sort}")
    names = tuple(sorted(filters))
    query = page_cypher(registry, names, sort, descending, search is not None,
                        after is not None, with_total)
    params: dict[str, Any] = {f"f_{k}": filters[k] for k in names}
    params.update(include_retired=include_retired, limit=limit)
    if search is not None:
        params["search"] = search
    if after is not None:
        params["after_key"], params["after_uid"] = after
    return query, params


@lru_cache
def nodes_cypher(label: str) -> str:
    if label not in {r.label for r in REGISTRIES.values()}:
        raise ValueError(label)
    return (f"UNWIND $uids AS u MATCH (n:{label} {{uid: u}}) "
            f"RETURN u AS uid, {node_map('n', label)} AS props")


@dataclass(frozen=True)
class Traversal:
    """A nested list from node `s` (label `source`): a subquery returning `t` and `x`.

    `match` reaches the targets `t`; `where` adds conditions on them; `tail` returns `t` and
    `x` (a map of extra values — relationship properties, computed figures — or null) and
    ends with ORDER BY. The runner adds the retired filter, the caller's scope and LIMIT.
    """

    source: str
    target: str
    match: str
    tail: str
    where: str = ""

    def body(self, scope: str | None = None) -> str:
        conditions = [c for c in (self.where, _RETIRED_FILTER, scope) if c]
        return f"{self.match} WHERE {' AND '.join(conditions)} {self.tail}"


_RETIRED_FILTER = "($include_retired OR t.retiredAt IS NULL)"


def _simple(source: str, target: str, pattern: str, order: str = "t.uid",
            rel: bool = False) -> Traversal:
    x = "properties(r)" if rel else "null"
    return Traversal(source, target, f"MATCH {pattern}",
                     f"RETURN DISTINCT t, {x} AS x ORDER BY {order}"
                     + ("" if order == "t.uid" else ", t.uid"))


TRAVERSALS: dict[str, Traversal] = {
    "region_municipalities": _simple("Region", "Municipality",
                                     "(s)<-[:IN_REGION]-(t:Municipality)", "t.name"),
    "region_organizations": _simple("Region", "Organization",
                                    "(s)<-[:IN_REGION]-(t:Organization)", "t.name"),
    "municipality_organizations": _simple("Municipality", "Organization",
                                          "(s)<-[:IN_MUNICIPALITY]-(t:Organization)", "t.name"),
    "municipality_sites": _simple("Municipality", "Site",
                                  "(s)<-[:IN_MUNICIPALITY]-(t:Site)", "t.name"),
    "organization_sites": _simple("Organization", "Site", "(s)-[:HAS_SITE]->(t:Site)", "t.name"),
    "organization_staff": _simple("Organization", "Staff", "(s)<-[:WORKS_AT]-(t:Staff)",
                                  "t.full_name"),
    "organization_equipment": _simple(
        "Organization", "Equipment", "(s)-[:HAS_SITE]->(:Site)-[:HAS_EQUIPMENT]->(t:Equipment)"),
    "organization_programs": _simple("Organization", "Program",
                                     "(s)<-[:DEVELOPED_BY]-(t:Program)", "t.name"),
    "organization_agreements": _simple("Organization", "PartnerAgreement",
                                       "(s)<-[r:PARTY]-(t:PartnerAgreement)", "t.signed_on",
                                       rel=True),
    "site_equipment": _simple("Site", "Equipment", "(s)-[:HAS_EQUIPMENT]->(t:Equipment)"),
    "equipment_type_equipment": _simple("EquipmentType", "Equipment",
                                        "(s)<-[:OF_TYPE]-(t:Equipment)"),
    "equipment_type_required_by": _simple(
        "EquipmentType", "InfrastructureList", "(s)<-[r:REQUIRES]-(t:InfrastructureList)",
        rel=True),
    "competency_staff": _simple("Competency", "Staff", "(s)<-[r:QUALIFIED_IN]-(t:Staff)",
                                "t.full_name", rel=True),
    "competency_programs": _simple("Competency", "Program", "(s)<-[:DEVELOPS]-(t:Program)",
                                   "t.name"),
    "competency_modules": _simple("Competency", "Module", "(s)<-[:FOR_COMPETENCY]-(t:Module)"),
    # Sites holding working equipment of the types the competency's infrastructure list
    # requires, most types covered first.
    "competency_sites": Traversal(
        "Competency", "Site",
        match="MATCH (s)-[:HAS_INFRASTRUCTURE_LIST]->(l:InfrastructureList) "
              "WHERE l.retiredAt IS NULL "
              "MATCH (l)-[:REQUIRES]->(et:EquipmentType)<-[:OF_TYPE]-(e:Equipment)"
              "<-[:HAS_EQUIPMENT]-(t:Site)",
        where="e.retiredAt IS NULL AND e.status = 'WORKING'",
        tail="WITH l, t, count(DISTINCT et) AS covered "
             "RETURN t, {covered_types: covered, required_types: "
             "COUNT { (l)-[:REQUIRES]->() }} AS x ORDER BY covered DESC, t.uid",
    ),
    "program_modules": _simple("Program", "Module", "(s)-[:HAS_MODULE]->(t:Module)",
                               "t.number"),
    "program_agreements": _simple("Program", "PartnerAgreement",
                                  "(s)<-[:FOR_PROGRAM]-(t:PartnerAgreement)", "t.signed_on"),
}



@lru_cache
def traversal_cypher(name: str, scoped: bool = False) -> str:
    """`scoped`: only targets in the caller's people scope (`$people`, `graph.privacy`)."""
    t = TRAVERSALS[name]
    body = t.body(scope_condition(BY_LABEL[t.target], "t", "people") if scoped else None)
    return (
        f"UNWIND $uids AS u\nMATCH (s:{t.source} {{uid: u}})\n"
        f"CALL (s) {{\n  {body}\n  LIMIT $limit\n}}\n"
        f"RETURN u AS uid, collect({{props: {node_map('t', t.target)}, extra: x}}) AS items"
    )


def traversal_query(name: str, uids: Sequence[str], *, limit: int,
                    include_retired: bool = False,
                    people: Mapping[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """`people`: a `graph.privacy.Scope.param()` limiting the targets to the caller's scope."""
    params: dict[str, Any] = {"uids": list(uids), "limit": limit,
                              "include_retired": include_retired}
    if people is not None:
        params["people"] = dict(people)
    return traversal_cypher(name, people is not None), params
