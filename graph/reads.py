"""Read Cypher of the registries: filtered keyset pages, nodes by uid, batched traversals.

Every value is a parameter; labels, relationship types, properties and sort expressions come
from the tables below, never from input. Callers run the returned text with the returned params.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from graph.declare import Filter, ListSpec, Sort, Traversal
from graph.migrations import FULLTEXT_INDEX
from graph.privacy import BY_LABEL, PERSONAL, owner_projection, scope_condition
from graph.registry import REGISTRIES, Registry
from graph.values import native

MAX_PAGE = 100

# The hidden list filter by which people lists are limited to the caller's scope
# (`graph.privacy`): its value is `Scope.param()`. Not a GraphQL filter.
PEOPLE_FILTER = "_people"


def _listing(registry: Registry) -> ListSpec:
    """The declared listing, plus the hidden people filter when the registry holds personal
    data: it limits a list to the caller's scope (`graph.privacy`)."""
    spec = registry.listing
    if registry.name not in PERSONAL:
        return spec
    people = Filter(scope_condition(registry.name, "n", f"f_{PEOPLE_FILTER}"), "")
    return replace(spec, filters={**spec.filters, PEOPLE_FILTER: people})


LISTS: dict[str, ListSpec] = {name: _listing(r) for name, r in REGISTRIES.items()}

RELEVANCE = "relevance"
_RELEVANCE = Sort("score", "float")


def _param_expr(sort: Sort, param: str) -> str:
    if sort.kind == "datetime":
        return f"datetime(${param})"
    if sort.kind == "date":
        return f"date(${param})"
    return f"${param}"


STAMPS = ("createdAt", "updatedAt", "retiredAt")


Props = tuple[str, ...] | None  # the stored properties a read projects; None: all of them


def node_map(var: str, label: str | None = None, props: Props = None) -> str:
    """The properties of node `var` (`props` of them, uid always; None: all), its timestamps as
    ISO strings: the driver hydrates a DateTime in Python at ~0.1 ms each, which on a page of
    nodes cost more than the query. Nodes of a label holding personal data
    (`graph.privacy.OWNERS`) also carry their owners, so the API decides what the caller may
    read without another round trip."""
    owners = f", {owner_projection(BY_LABEL[label], var)}" if label in BY_LABEL else ""
    if props is None:
        stamps = ", ".join(f"{k}: toString({var}.{k})" for k in STAMPS)
        return f"{var} {{.*, {stamps}{owners}}}"
    names = sorted({"uid", *props})
    if not all(_NAME.fullmatch(p) for p in names):
        raise ValueError(f"not a property name: {names}")
    parts = [f"{k}: toString({var}.{k})" if k in STAMPS else f".{k}" for k in names]
    return f"{var} {{{', '.join(parts)}{owners}}}"


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def union(wanted: Sequence[Props]) -> Props:
    """What one read must project for several callers."""
    if any(w is None for w in wanted):
        return None
    return tuple(sorted({p for w in wanted for p in w or ()}))


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


@dataclass(frozen=True)
class Nest:
    """What a read brings along for each node it returns, inside its own statement: a nested
    list (`traversal`, `$l<path>` per node; retired targets follow the read's
    `$include_retired`) or the node a link names (`label`, whose uid is the node's `keys`
    joined), each with what it projects and what it brings along in turn."""

    traversal: str | None
    props: Props
    children: tuple[Nest, ...] = ()
    label: str | None = None
    keys: tuple[str, ...] = ()


def nest_calls(var: str, nests: tuple[Nest, ...], path: str = "") -> tuple[str, str]:
    """Subqueries reading `nests` from node `var`, and the map entries of their results
    (`n<i>`: the i-th nest's items, each `{props, extra, nested}`; a link's one item or
    null)."""
    calls, entries = "", []
    for i, nest in enumerate(nests):
        p = f"{path}_{i}"
        v = f"v{p}"  # the level's own names: a subquery may not shadow its parents' `t`, `x`
        inner, inner_entries = nest_calls(v, nest.children, p)
        if nest.label is not None:
            uid = " + ':' + ".join(f"toString(s.{k})" for k in nest.keys)
            calls += (f"  CALL ({var}) {{\n  WITH {var} AS s\n"
                      f"  OPTIONAL MATCH (t:{nest.label} {{uid: {uid}}})\n  WITH t AS {v}\n"
                      f"{inner}  RETURN CASE WHEN {v} IS NULL THEN null ELSE "
                      f"{{props: {node_map(v, nest.label, nest.props)}, "
                      f"nested: {{{inner_entries}}}}} END AS items{p}\n  }}\n")
        else:
            t = TRAVERSALS[nest.traversal or ""]
            calls += (f"  CALL ({var}) {{\n  WITH {var} AS s\n"
                      f"  CALL (s) {{ {t.body()} LIMIT $l{p} }}\n"
                      f"  WITH t AS {v}, x AS x{p}\n"
                      f"{inner}  RETURN collect({{props: {node_map(v, t.target, nest.props)}, "
                      f"extra: x{p}, nested: {{{inner_entries}}}}}) AS items{p}\n  }}\n")
        entries.append(f"n{i}: items{p}")
    return calls, ", ".join(entries)


def nest_params(nests: tuple[Nest, ...], limits: Sequence[Any], path: str = ""
                ) -> dict[str, int]:
    """`$l<path>` of every nested list; `limits` mirrors `nests`: (limit or None for a link,
    the children's limits)."""
    out: dict[str, int] = {}
    for i, (nest, (limit, inner)) in enumerate(zip(nests, limits, strict=True)):
        if limit is not None:
            out[f"l{path}_{i}"] = limit
        out.update(nest_params(nest.children, inner, f"{path}_{i}"))
    return out


@lru_cache(maxsize=1024)
def page_cypher(registry: str, filters: tuple[str, ...], sort: str, descending: bool,
                search: bool, after: bool, with_total: bool, props: Props = None,
                nests: tuple[Nest, ...] = ()) -> str:
    """One query: a page of `$limit` nodes after the cursor (with their nested lists
    `nests`), plus the total when asked."""
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
    conds += [spec.filters[f].condition for f in filters]
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
    order = f"ORDER BY k {direction}, n.uid {direction}"
    calls, entries = nest_calls("n", nests)
    nested = ""
    if nests:  # the nested reads after the page's LIMIT, the page's order kept
        names = ", ".join(f"items_{i}" for i in range(len(nests)))
        nested = f"{calls}  WITH n, k, {names} {order}\n"
    return (
        f"{total}CALL () {{\n  {match} AND {where}\n{keyset}"
        f"  WITH n{score}, {key.expr} AS k {order} LIMIT $limit\n{nested}"
        f"  RETURN collect({{props: {node_map('n', label, props)}, key: k, "
        f"nested: {{{entries}}}}}) AS page\n}}\n"
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
               with_total: bool = True, props: Props = None,
               nests: tuple[Nest, ...] = (), nest_limits: Sequence[Any] = ()
               ) -> tuple[str, dict[str, Any]]:
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
                        after is not None, with_total, props, nests)
    params: dict[str, Any] = {f"f_{k}": filters[k] for k in names}
    params.update(include_retired=include_retired, limit=limit)
    if search is not None:
        params["search"] = search
    if after is not None:
        params["after_key"], params["after_uid"] = after
    params.update(nest_params(nests, nest_limits))
    return query, params


@lru_cache
def nodes_cypher(label: str, props: Props = None) -> str:
    if label not in {r.label for r in REGISTRIES.values()}:
        raise ValueError(label)
    return (f"UNWIND $uids AS u MATCH (n:{label} {{uid: u}}) "
            f"RETURN u AS uid, {node_map('n', label, props)} AS props")


TRAVERSALS: dict[str, Traversal] = {
    name: t for r in REGISTRIES.values() for name, t in r.traversals.items()}


@lru_cache
def traversal_cypher(name: str, scoped: bool = False, props: Props = None) -> str:
    """`scoped`: only targets in the caller's people scope (`$people`, `graph.privacy`)."""
    t = TRAVERSALS[name]
    body = t.body(scope_condition(BY_LABEL[t.target], "t", "people") if scoped else None)
    return (
        f"UNWIND $uids AS u\nMATCH (s:{t.source} {{uid: u}})\n"
        f"CALL (s) {{\n  {body}\n  LIMIT $limit\n}}\n"
        f"RETURN u AS uid, collect({{props: {node_map('t', t.target, props)}, extra: x}}) AS items"
    )


def traversal_query(name: str, uids: Sequence[str], *, limit: int,
                    include_retired: bool = False,
                    people: Mapping[str, Any] | None = None,
                    props: Props = None) -> tuple[str, dict[str, Any]]:
    """`people`: a `graph.privacy.Scope.param()` limiting the targets to the caller's scope."""
    params: dict[str, Any] = {"uids": list(uids), "limit": limit,
                              "include_retired": include_retired}
    if people is not None:
        params["people"] = dict(people)
    return traversal_cypher(name, people is not None, props), params
