"""The vocabulary a registry is declared in: one `Registry` value per registry
(`graph/registries/`), from which the hub derives everything else at one composition point
(`graph/registry.py`): list and traversal reads, indexes, write rights, the audit's region,
GraphQL types, inputs, list fields and mutations, loader columns and export.

Declarations are data. Cypher fragments in them are written by hand (they are tuned); every
value in them is a parameter, labels and types come from here, never from input.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graph.models import Node

Target = tuple[str, dict[str, Any]]  # (target uid, relationship properties)


# --- the graph -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """A relationship derived from a model field on every write."""

    name: str
    rel: str
    target: str
    targets: Callable[[Any], list[Target]]
    outgoing: bool = True  # (n)-[rel]->(target); False: (target)-[rel]->(n)
    fields: tuple[str, ...] = ()  # model fields the link is built from (for error reports)
    with_props: bool = False  # the relationship carries properties (quantity, role...)

    def pattern(self, node: str, rel: str, target: str) -> str:
        if self.outgoing:
            return f"({node})-[{rel}:{self.rel}]->({target}:{self.target})"
        return f"({node})<-[{rel}:{self.rel}]-({target}:{self.target})"


def one(attr: str, key: Callable[[Any], str] | None = None) -> Callable[[Any], list[Target]]:
    """Targets of a link to one node: the field's value (or `key(node)`)."""

    def targets(node: Any) -> list[Target]:
        value = getattr(node, attr)
        if value is None:
            return []
        return [(key(node) if key else str(value), {})]

    return targets


def many(attr: str) -> Callable[[Any], list[Target]]:
    """Targets of a link to the nodes a list field names."""

    def targets(node: Any) -> list[Target]:
        return [(str(v), {}) for v in getattr(node, attr)]

    return targets


def link_to(field: str, rel: str, target: str, outgoing: bool = True) -> Link:
    """The link named like the field holding the target's key."""
    return Link(field, rel, target, one(field), outgoing, fields=(field,))


def links_to(field: str, rel: str, target: str, outgoing: bool = True) -> Link:
    """The links to every node a list field names."""
    return Link(field, rel, target, many(field), outgoing, fields=(field,))


def items_link(field: str, rel: str, target: str, key: str, *props: str) -> Link:
    """Links to what each item of a nested list names (`key`), each carrying the item's
    `props` (enums by value)."""
    def targets(node: Any) -> list[Target]:
        return [(getattr(i, key), {p: getattr(getattr(i, p), "value", getattr(i, p))
                                   for p in props}) for i in getattr(node, field)]

    return Link(field, rel, target, targets, fields=(field,), with_props=True)


@dataclass(frozen=True)
class Owner:
    """What a registry's records belong to, for write rights (`graph.access`).

    kind: "org" (an organization, by ИНН), "program" (its developer organization), "cohort"
    (the organization running it), "municipality" (its region), "region", "learner" (a
    pseudonymous learner: its region, and the organizations whose cohorts enrol it), or
    "catalogue" (reference data of the platform: admin and operators). `fields`: the model
    fields whose joined value is the owner's key.
    """

    kind: str
    fields: tuple[str, ...] = ()

    def key(self, node: Any) -> str | None:
        values = [getattr(node, f) for f in self.fields]
        if any(v is None for v in values):
            return None
        return ":".join(str(v) for v in values)


ORG = Owner("org", ("organization",))
REGION = Owner("region", ("region",))
CATALOGUE = Owner("catalogue")


# --- reads ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sort:
    """A sort key: a Cypher expression over `n` and how its cursor value is typed."""

    expr: str
    kind: str = "string"  # string | int | float | datetime | date


@dataclass(frozen=True)
class Filter:
    """A list filter: a condition on `n` taking its value as `$f_<name>`, and what the value is
    — a list of codes (`str`), a list of an enum's members, or one `bool`."""

    condition: str
    doc: str
    of: Any = str


def field_in(prop: str, doc: str, of: Any = str, name: str | None = None) -> Filter:
    """`n.prop` is one of the values (the filter is called `name`, default `prop`)."""
    return Filter(f"n.{prop} IN $f_{name or prop}", doc, of)


def flag(prop: str, doc: str) -> Filter:
    return Filter(f"n.{prop} = $f_{prop}", doc, bool)


@dataclass(frozen=True)
class ListSpec:
    """How one registry is listed: filters (name → condition on `n`) and sorts.

    `anchors` give, for selective filters over large labels, a MATCH that reaches `n` from an
    indexed node (each `n` at most once) instead of scanning the label; the first anchored
    filter in use replaces its condition.
    """

    filters: Mapping[str, Filter]
    sorts: Mapping[str, Sort]
    default_sort: str = "uid"
    anchors: Mapping[str, str] = field(default_factory=dict)

    def all_sorts(self) -> dict[str, Sort]:
        return {**COMMON_SORTS, **self.sorts}


COMMON_SORTS = {
    "uid": Sort("n.uid"),
    "created_at": Sort("n.createdAt", "datetime"),
    "updated_at": Sort("n.updatedAt", "datetime"),
}


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
        conditions = [c for c in (self.where, RETIRED_FILTER, scope) if c]
        return f"{self.match} WHERE {' AND '.join(conditions)} {self.tail}"


RETIRED_FILTER = "($include_retired OR t.retiredAt IS NULL)"


def traverse(
    source: str, target: str, pattern: str, order: str = "t.uid", rel: bool = False
) -> Traversal:
    """The plain traversal along `pattern` from `(s)` to `(t)`, ordered by `order` then uid;
    `rel`: the relationship `r`'s properties come along as the extra values."""
    x = "properties(r)" if rel else "null"
    return Traversal(
        source,
        target,
        f"MATCH {pattern}",
        f"RETURN DISTINCT t, {x} AS x ORDER BY {order}" + ("" if order == "t.uid" else ", t.uid"),
    )


# --- files ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Items:
    """A nested list field (stored as canonical JSON) and its flat form in files: one row per
    item, the item's fields in columns `prefix + field`."""

    field: str
    prefix: str
    item_fields: tuple[str, ...]

    def column(self, item_field: str) -> str:
        return f"{self.prefix}{item_field}"


# --- the API -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Out:
    """A model field in the API: its GraphQL name (snake case; None: the field's own) and
    description."""

    doc: str
    name: str | None = None


@dataclass(frozen=True)
class ToOne:
    """A field giving the node whose uid is the joined value of `keys`."""

    name: str
    label: str
    keys: tuple[str, ...]
    doc: str


@dataclass(frozen=True)
class ToMany:
    """A field giving the nodes whose uids a list property holds."""

    name: str
    label: str
    key: str
    doc: str


@dataclass(frozen=True)
class Related:
    """A capped nested list through the registry's traversal `traversal`."""

    name: str
    traversal: str
    doc: str


@dataclass(frozen=True)
class Shape:
    """How objects of a model appear in the API: fields (model order; fields without an `Out`
    are not shown), the enum fields that also get a Russian `<name>_label`, and links."""

    doc: str
    fields: Mapping[str, Out]
    labels: tuple[str, ...] = ()
    links: tuple[ToOne | ToMany, ...] = ()


@dataclass(frozen=True)
class Api:
    """The registry's GraphQL: its node type (named by the label), the list field's description
    (None: no list field), nested lists, and the type of its nested list items."""

    node: Shape
    list_doc: str | None
    related: tuple[Related, ...] = ()
    item: tuple[str, Shape] | None = None  # (GraphQL type name, shape)


# --- the registry --------------------------------------------------------------------------


@dataclass(frozen=True)
class Registry:
    """Everything about one registry. `write`: the action whose roles get the generic
    create / update / retire / restore mutations (None: written elsewhere, e.g. the roadmap);
    rows are further limited by `owner`."""

    name: str
    model: type[Node]
    title: str
    owner: Owner
    listing: ListSpec
    api: Api
    links: tuple[Link, ...] = ()
    traversals: Mapping[str, Traversal] = field(default_factory=dict)
    indexes: tuple[str, ...] = ()
    fulltext: bool = False
    items: Items | None = None
    headers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # fields a clerk may fill with a name instead of a code: field ("<list>.<item field>" in
    # nested items) → what it names: "organization", "municipality" or "equipment_type"
    by_name: Mapping[str, str] = field(default_factory=dict)
    read: str = "read"
    write: str | None = "write"

    @property
    def label(self) -> str:
        return self.model.LABEL

    @property
    def json_fields(self) -> tuple[str, ...]:
        return (self.items.field,) if self.items else ()
