"""The Relay `Node` interface over graph nodes, property fields, and batched loaders.

A GraphQL node object wraps the stored properties of one graph node (`_p`). Scalar fields
are declared with `prop(...)`; nested objects are loaded through per-request DataLoaders:
`load_node` (by label and uid, one query per label per nesting level) and `load_traversal`
(a nested list from `graph.reads.TRAVERSALS`, one query per traversal per level).
"""

import asyncio
import datetime as dt
from collections.abc import Callable
from enum import Enum
from typing import Any, ClassVar, get_args

import strawberry
from strawberry.types import Info

from graph.reads import MAX_PAGE, TRAVERSALS, nodes_cypher, traversal_query
from graph.values import native
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


def prop(key: str, typ: Any, description: str) -> Any:
    """A field read from the stored property `key` by `read_attribute` (a resolver-less field
    skips Strawberry's per-field resolver machinery: most fields of a page are these)."""
    field = strawberry.field(description=description, metadata={"prop": (key, _enum_of(typ))})
    field.init = False  # not a constructor argument: nodes are made from `_p` alone
    return field


def prop_reader(key: str, enum: type[Enum] | None) -> Callable[[Any], Any]:
    """How a `prop` field is read from a node: its stored property, as the field's enum or a
    Python value."""
    def read(source: Any) -> Any:
        value = source._p.get(key)
        if value is None:
            return None
        return enum(value) if enum is not None else native(value)

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

    @strawberry.field(description="Global ID: base64 of \"Label:uid\".")
    def id(self) -> strawberry.ID:
        return strawberry.ID(encode_id(self.LABEL, self._p["uid"]))

    uid: str = prop("uid", str, "Natural key of the node (ИНН, code, ИНН:number…).")

    @strawberry.field(description="When the node was first written.")
    def created_at(self) -> dt.datetime | None:
        return stamp(self._p.get("createdAt"))

    @strawberry.field(description="When the node last changed.")
    def updated_at(self) -> dt.datetime | None:
        return stamp(self._p.get("updatedAt"))

    @strawberry.field(description="When the node was retired; null while active.")
    def retired_at(self) -> dt.datetime | None:
        return stamp(self._p.get("retiredAt"))

    @strawberry.field(description="Incremented by every write of the node (0: not written "
                                  "since versions were introduced); pass it as "
                                  "`expectedVersion` to update only what you read.")
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


async def load_node(info: Info, label: str, uid: str | None) -> Any:
    """The node `label`/`uid` or None; batched per label per request."""
    if uid is None:
        return None
    ctx = context(info)

    async def load(uids: list[str]) -> list[Any]:
        rows = await ctx.read(nodes_cypher(label), uids=list(dict.fromkeys(uids)))
        found = {r["uid"]: r["props"] for r in rows}
        return [wrap(label, found.get(u)) for u in uids]

    return await ctx.loader(("node", label), load).load(uid)


async def load_nodes(info: Info, label: str, uids: list[str]) -> list[Any]:
    nodes = await asyncio.gather(*(load_node(info, label, u) for u in uids))
    return [n for n in nodes if n is not None]


def check_limit(first: int) -> int:
    if first < 0 or first > MAX_PAGE:
        raise api_error(f"first: от 0 до {MAX_PAGE}", "BAD_ARGUMENT")
    return first


async def load_traversal(info: Info, name: str, uid: str, limit: int,
                         include_retired: bool = False) -> list[tuple[Any, dict | None]]:
    """Nested list `name` of the node `uid`: (node, extra) pairs, batched per request."""
    ctx = context(info)
    target = TRAVERSALS[name].target
    check_limit(limit)

    async def load(uids: list[str]) -> list[Any]:
        query, params = traversal_query(name, list(dict.fromkeys(uids)), limit=limit,
                                        include_retired=include_retired)
        rows = await ctx.read(query, **params)
        found = {r["uid"]: r["items"] for r in rows}
        return [[(wrap(target, i["props"]), i["extra"]) for i in found.get(u, [])]
                for u in uids]

    return await ctx.loader(("traversal", name, limit, include_retired), load).load(uid)


async def resolve_node(info: Info, global_id: str) -> Node | None:
    label, uid = decode_id(global_id)
    if label not in NODE_TYPES:
        return None
    return await load_node(info, label, uid)

