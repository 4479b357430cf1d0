"""The Relay `Node` interface over graph nodes, property fields, and batched loaders.

A GraphQL node object wraps the stored properties of one graph node (`_p`). Scalar fields
are declared with `prop(...)`; nested objects are loaded through per-request DataLoaders:
`load_node` (by label and uid, one query per label per nesting level) and `load_traversal`
(a nested list from `graph.reads.TRAVERSALS`, one query per traversal per level).
"""

import asyncio
import datetime as dt
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar, get_args

import strawberry
from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField
from strawberry.utils.str_converters import to_camel_case

from graph.models import join_key
from graph.reads import (
    MAX_PAGE,
    TRAVERSALS,
    Nest,
    Props,
    nodes_cypher,
    traversal_query,
    union,
)
from graph.values import date_of, native
from schema.core.context import HubContext
from schema.core.errors import api_error
from schema.core.ids import decode_id, encode_id


def stamp(value: Any) -> dt.datetime | None:
    """A timestamp: ISO string from `graph.reads.node_map` reads, DateTime from writes."""
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else native(value)


def _enum_of(typ: Any) -> type[Enum] | None:
    for arg in get_args(typ) or (typ,):
        if isinstance(arg, type) and issubclass(arg, Enum):
            return arg
    return None


def needs(*props: str) -> dict[str, tuple[str, ...]]:
    """Field metadata: the stored properties (besides uid) a resolver reads from `_p`; reads
    project only what the selected fields need (`wanted`). A field without it needs all."""
    return {"needs": props}


def prop(key: str, typ: Any, description: str) -> Any:
    """A field read from the stored property `key` by `read_attribute` (a resolver-less field
    skips Strawberry's per-field resolver machinery: most fields of a page are these)."""
    is_date = dt.date in (get_args(typ) or (typ,))
    field = strawberry.field(description=description,
                             metadata={"prop": (key, _enum_of(typ), is_date)})
    field.init = False  # not a constructor argument: nodes are made from `_p` alone
    return field


def prop_reader(key: str, enum: type[Enum] | None, is_date: bool = False
                ) -> Callable[[Any], Any]:
    """How a `prop` field is read from a node: its stored property, as the field's enum, a
    date (stored, or ISO text inside a nested list's JSON) or a Python value."""
    def read(source: Any) -> Any:
        value = source._p.get(key)
        if value is None:
            return None
        if enum is not None:
            return enum(value)
        return date_of(value) if is_date else native(value)

    return read


_READERS: dict[type, dict[str, Callable[[Any], Any]]] = {}


def _readers_of(cls: type) -> dict[str, Callable[[Any], Any]]:
    found = _READERS.get(cls)
    if found is None:
        definition = getattr(cls, "__strawberry_definition__", None)
        fields = definition.fields if definition else []
        found = _READERS[cls] = {f.python_name: prop_reader(*f.metadata["prop"])
                                 for f in fields if "prop" in f.metadata}
    return found


def read_attribute(source: Any, name: str) -> Any:
    """Strawberry's default resolver: `prop` fields from the stored properties, else the
    attribute."""
    read = _readers_of(type(source)).get(name)
    return getattr(source, name) if read is None else read(source)


@strawberry.interface(description="An object with a global ID; graph nodes keep their history.")
class Node:
    _p: strawberry.Private[dict[str, Any]]
    LABEL: ClassVar[str] = ""

    @strawberry.field(description="Global ID: base64 of \"Label:uid\".", metadata=needs())
    def id(self) -> strawberry.ID:
        return strawberry.ID(encode_id(self.LABEL, self._p["uid"]))

    uid: str = prop("uid", str, "Natural key of the node (ИНН, code, ИНН:number…).")

    @strawberry.field(description="When the node was first written.",
                      metadata=needs("createdAt"))
    def created_at(self) -> dt.datetime | None:
        return stamp(self._p.get("createdAt"))

    @strawberry.field(description="When the node last changed.", metadata=needs("updatedAt"))
    def updated_at(self) -> dt.datetime | None:
        return stamp(self._p.get("updatedAt"))

    @strawberry.field(description="When the node was retired; null while active.",
                      metadata=needs("retiredAt"))
    def retired_at(self) -> dt.datetime | None:
        return stamp(self._p.get("retiredAt"))

    @strawberry.field(description="Incremented by every write of the node (0: not written "
                                  "since versions were introduced); pass it as "
                                  "`expectedVersion` to update only what you read.",
                      metadata=needs("version"))
    def version(self) -> int:
        return self._p.get("version") or 0


NODE_TYPES: dict[str, type[Node]] = {}


def node_type(cls: type[Node]) -> type[Node]:
    """Register a GraphQL node type under its graph label (for `node(id)` and loaders)."""
    NODE_TYPES[cls.LABEL] = cls
    return cls


def context(info: Info) -> HubContext:
    return info.context


def wrap(label: str, props: dict[str, Any] | None) -> Node | None:
    return None if props is None else NODE_TYPES[label](_p=props)


_NEEDS: dict[type, dict[str, tuple[str, ...] | None]] = {}


def _needs_of(cls: type) -> dict[str, tuple[str, ...] | None]:
    """GraphQL field name → stored properties it reads (None: unknown, so all)."""
    found = _NEEDS.get(cls)
    if found is None:
        found = {"__typename": ()}
        for f in cls.__strawberry_definition__.fields:  # type: ignore[attr-defined]
            name = f.graphql_name or to_camel_case(f.python_name)
            if "prop" in f.metadata:
                found[name] = (f.metadata["prop"][0],)
            else:
                found[name] = f.metadata.get("needs")
        _NEEDS[cls] = found
    return found


def wanted(selections: list[Any], label: str) -> Props:
    """The stored properties of `label` nodes that `selections` read (None: all)."""
    cls = NODE_TYPES.get(label)
    if cls is None:
        return None
    table = _needs_of(cls)
    props: set[str] = set()

    def walk(sels: list[Any]) -> bool:
        for sel in sels:
            if isinstance(sel, SelectedField):
                need = table.get(sel.name)
                if need is None:
                    return False
                props.update(need)
            elif (isinstance(sel, InlineFragment | FragmentSpread)
                  and sel.type_condition in (None, label, "Node")
                  and not walk(sel.selections)):
                return False
        return True

    return tuple(sorted(props)) if walk(selections) else None


def selections(info: Info) -> list[Any]:
    """What the caller selected under the current field."""
    return list(info.selected_fields[0].selections) if info.selected_fields else []


def projection(info: Info, label: str) -> Props:
    """`wanted` of the current field's selection, worked out once per field of the request
    (a nested list's field is resolved once per parent)."""
    node = info._raw_info.field_nodes[0]
    memo = context(info).memo
    key = ("wanted", id(node), label)
    found = memo.get(key)
    if found is None or found[0] is not node:  # the node is held: its id is not reused
        found = memo[key] = (node, wanted(selections(info), label))
    return found[1]  # type: ignore[no-any-return]


MISSING = object()


def node_loader(ctx: HubContext, label: str) -> Any:
    """The request's loader of `label` nodes (keys: (uid, projected properties))."""
    async def load(keys: list[tuple[str, Props]]) -> list[Any]:
        uids = list(dict.fromkeys(u for u, _ in keys))
        rows = await ctx.read(nodes_cypher(label, union([p for _, p in keys])), uids=uids)
        found = {r["uid"]: r["props"] for r in rows}
        return [wrap(label, found.get(u)) for u, _ in keys]

    return ctx.loader(("node", label), load)


def node_of(info: Info, label: str, uid: str | None, *, project: bool = False) -> Any:
    """The node `label`/`uid` (or None) when its parent's read brought it along (`folds`),
    else an awaitable of it, batched per label per request. `project`: read only what the
    current field's selection needs (for fields returning the node itself)."""
    if uid is None:
        return None
    props = projection(info, label) if project else None
    ctx = context(info)
    got = ctx.folded.get(("node", label, uid, props), MISSING)
    if got is not MISSING:
        return got
    return node_loader(ctx, label).load((uid, props))


async def load_node(info: Info, label: str, uid: str | None, *, project: bool = False) -> Any:
    """`node_of`, awaited."""
    got = node_of(info, label, uid, project=project)
    return await got if inspect.isawaitable(got) else got


async def load_nodes(info: Info, label: str, uids: list[str], *, project: bool = False
                     ) -> list[Any]:
    nodes = await asyncio.gather(*(load_node(info, label, u, project=project) for u in uids))
    return [n for n in nodes if n is not None]


def check_limit(first: int) -> int:
    if first < 0 or first > MAX_PAGE:
        raise api_error(f"first: от 0 до {MAX_PAGE}", "BAD_ARGUMENT")
    return first


def traversal_loader(ctx: HubContext, name: str, limit: int, include_retired: bool
                     ) -> Any:
    """The request's loader of nested list `name` (keys: (uid, projected properties))."""
    target = TRAVERSALS[name].target

    async def load(keys: list[tuple[str, Props]]) -> list[Any]:
        query, params = traversal_query(name, list(dict.fromkeys(u for u, _ in keys)),
                                        limit=limit, include_retired=include_retired,
                                        props=union([p for _, p in keys]))
        rows = await ctx.read(query, **params)
        found = {r["uid"]: r["items"] for r in rows}
        return [[(wrap(target, i["props"]), i["extra"]) for i in found.get(u, [])]
                for u, _ in keys]

    return ctx.loader(("traversal", name, limit, include_retired), load)


def traversal_of(info: Info, name: str, uid: str, limit: int, include_retired: bool = False,
                 *, project: bool = False) -> Any:
    """Nested list `name` of the node `uid` — (node, extra) pairs — when its parent's read
    brought it along (`folds`), else an awaitable of it, batched per request. `project`: read
    only what the current field's selection needs of the targets."""
    check_limit(limit)
    props = projection(info, TRAVERSALS[name].target) if project else None
    ctx = context(info)
    got = ctx.folded.get(("list", name, limit, include_retired, uid, props), MISSING)
    if got is not MISSING:
        return got
    return traversal_loader(ctx, name, limit, include_retired).load((uid, props))


async def load_traversal(info: Info, name: str, uid: str, limit: int,
                         include_retired: bool = False, *, project: bool = False
                         ) -> list[tuple[Any, dict | None]]:
    """`traversal_of`, awaited."""
    got = traversal_of(info, name, uid, limit, include_retired, project=project)
    return await got if inspect.isawaitable(got) else got  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Fold:
    """A nested list a parent's read brings along (`graph.reads.Nest`), with its page size."""

    nest: Nest
    limit: int | None  # None: a link to one node
    children: tuple["Fold", ...] = ()


def folds(sels: list[Any], label: str, include_retired: bool) -> tuple[Fold, ...]:
    """What the fields selected under `label` nodes read that the nodes' own statement can
    read along: links to one node (metadata `link`) and nested lists (metadata `related`)
    asked with the read's `includeRetired` — the rest load on their own."""
    cls = NODE_TYPES.get(label)
    if cls is None:
        return ()
    fields = {f.graphql_name or to_camel_case(f.python_name): f.metadata
              for f in cls.__strawberry_definition__.fields}  # type: ignore[attr-defined]
    out: list[Fold] = []
    for sel in _fields(sels, label):
        meta = fields.get(sel.name) or {}
        if "link" in meta:
            target, keys = meta["link"]
            children = folds(sel.selections, target, include_retired)
            out.append(Fold(Nest(None, wanted(sel.selections, target),
                                 tuple(c.nest for c in children), target, keys), None, children))
            continue
        name = meta.get("related")
        # literal arguments come as their source text, variables as values
        first = str(sel.arguments.get("first", DEFAULT_NESTED))
        retired = str(sel.arguments.get("includeRetired", False)).lower() == "true"
        if (name is None or retired != include_retired or not first.isdigit()
                or int(first) > MAX_PAGE):
            continue
        target = TRAVERSALS[name].target
        children = folds(sel.selections, target, include_retired)
        nest = Nest(name, wanted(sel.selections, target), tuple(c.nest for c in children))
        out.append(Fold(nest, int(first), children))
    return tuple(out)


DEFAULT_NESTED = 50  # `first` of a nested list when not given (schema.registry.types)


def _fields(sels: list[Any], label: str) -> list[SelectedField]:
    out: list[SelectedField] = []
    for sel in sels:
        if isinstance(sel, SelectedField):
            out.append(sel)
        elif (isinstance(sel, InlineFragment | FragmentSpread)
              and sel.type_condition in (None, label, "Node")):
            out += _fields(sel.selections, label)
    return out


def fold_limits(found: tuple[Fold, ...]) -> list[Any]:
    return [(f.limit, fold_limits(f.children)) for f in found]


def prime(ctx: HubContext, found: tuple[Fold, ...], props: dict[str, Any],
          nested: dict[str, Any], include_retired: bool) -> None:
    """Keep what a read brought along for the node `props` where its fields look first
    (`node_of`, `traversal_of`)."""
    for i, fold in enumerate(found):
        nest, got = fold.nest, nested.get(f"n{i}")
        if nest.label is not None:
            parts = [props.get(k) for k in nest.keys]
            if any(p is None for p in parts):
                continue
            uid = join_key(*map(str, parts))
            ctx.folded[("node", nest.label, uid, nest.props)] = (
                wrap(nest.label, got["props"]) if got else None)
            items = [got] if got else []
        else:
            items = got or []
            target = TRAVERSALS[nest.traversal or ""].target
            ctx.folded[("list", nest.traversal, fold.limit, include_retired, props["uid"],
                        nest.props)] = [(wrap(target, it["props"]), it["extra"])
                                        for it in items]
        if fold.children:
            for it in items:
                prime(ctx, fold.children, it["props"], it["nested"], include_retired)


async def resolve_node(info: Info, global_id: str) -> Node | None:
    label, uid = decode_id(global_id)
    if label not in NODE_TYPES:
        return None
    return await load_node(info, label, uid, project=True)
