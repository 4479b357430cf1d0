"""GraphQL types of the registry nodes, generated from each registry's declaration
(`graph.declare.Api`, `node_class`). Scalars come from stored properties (`prop`), links from
per-request loaders (`link`, `to_many`), nested lists from batched traversals (`nested`,
capped by `first`); every field states the stored properties it reads (`needs`), so reads
project only what a query selects."""

from __future__ import annotations

import datetime as dt
import json
import types
from collections.abc import Awaitable
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Union, get_args, get_origin

import strawberry
from pydantic import BaseModel
from strawberry.types import Info
from strawberry.types.field import StrawberryField

from graph import privacy
from graph.declare import Registry, Shape, ToOne
from graph.enums import LABELS
from graph.models import join_key
from graph.reads import TRAVERSALS, Props, traversal_query, union
from graph.registry import REGISTRIES
from graph.values import date_of, native
from schema.core import enums as E
from schema.core.errors import api_error
from schema.core.node import (
    DEFAULT_NESTED,
    Node,
    check_limit,
    load_nodes,
    load_traversal,
    needs,
    node_of,
    node_type,
    projection,
    prop,
    traversal_of,
    wrap,
)

First = Annotated[int, strawberry.argument(description="How many items (at most 100).")]
IncludeRetired = Annotated[bool, strawberry.argument(description="Include retired items.")]


def _label_field(key: str, enum: type, description: str) -> Any:
    def resolve(root: Any) -> str | None:
        value = root._p.get(key)
        return None if value is None else LABELS[enum][enum(value)]

    resolve.__annotations__ = {"root": Any, "return": str | None}
    return strawberry.field(resolver=resolve, description=description, metadata=needs(key))


def link(label: str, type_name: str, description: str, *keys: str) -> Any:
    """A field loading the `label` node whose uid is the property (or joined properties)."""

    def resolve(root: Any, info: Info) -> Any:
        parts = [root._p.get(k) for k in keys]
        uid = None if any(p is None for p in parts) else join_key(*map(str, parts))
        return node_of(info, label, uid, project=True)

    resolve.__annotations__ = {"root": Any, "info": Info, "return": f"{type_name} | None"}
    return strawberry.field(resolver=resolve, description=description,
                            metadata={**needs(*keys), "link": (label, keys)})


def nested(traversal: str, type_name: str, description: str) -> Any:
    """A capped nested list through `graph.reads.TRAVERSALS[traversal]`."""

    def resolve(root: Any, info: Info, first: int = DEFAULT_NESTED,
                include_retired: bool = False) -> Any:
        items = traversal_of(info, traversal, root._p["uid"], first, include_retired,
                             project=True)
        return [node for node, _ in items] if isinstance(items, list) else _nodes(items)

    resolve.__annotations__ = {"root": Any, "info": Info, "first": First,
                               "include_retired": IncludeRetired,
                               "return": f"list[{type_name}]"}
    return strawberry.field(resolver=resolve, description=description,
                            metadata={**needs(), "related": traversal})


async def _nodes(items: Any) -> list[Any]:
    return [node for node, _ in await items]


# --- personal data (152-ФЗ): the rule is `graph.privacy`; these apply it to API objects --------

def people_scope(info: Any) -> privacy.Scope:
    """The caller's personal-data scope (`info`: Strawberry's or graphql-core's)."""
    return privacy.people_scope(getattr(info.context, "principal", None))


def people_forbidden(info: Any, scope: privacy.Scope | None = None) -> Exception:
    """FORBIDDEN: the role reads no personal records, or this record is outside its scope."""
    scope = scope if scope is not None else people_scope(info)
    principal = getattr(info.context, "principal", None)
    if scope.nothing:
        role = principal.role if principal is not None else "аноним"
        return api_error(privacy.FORBIDDEN_MESSAGE.format(role=role), "FORBIDDEN")
    return api_error(privacy.OUT_OF_SCOPE_MESSAGE, "FORBIDDEN")


async def _owners(info: Any, registry: str, uid: str) -> tuple[list[Any], list[Any]]:
    """Owners of a record read without them (a write's payload); batched per request."""
    ctx = info.context

    async def load(uids: list[str]) -> list[tuple[list[Any], list[Any]]]:
        rows = await ctx.read(privacy.owners_cypher(registry), uids=list(dict.fromkeys(uids)))
        found = {r["uid"]: (r["regions"], r["organizations"]) for r in rows}
        return [found.get(u, ([], [])) for u in uids]

    return await ctx.loader(("owners", registry), load).load(uid)


def may_read(info: Any, registry: str, props: dict[str, Any]) -> bool | Awaitable[bool]:
    """Whether the caller reads the personal data of this record: at once from the owners the
    read projected (`graph.reads.node_map`), else after loading them."""
    scope = people_scope(info)
    decided = privacy.readable_props(scope, props)
    if decided is not None:
        return decided

    async def later() -> bool:
        regions, organizations = await _owners(info, registry, props["uid"])
        return privacy.readable(scope, regions, organizations)

    return later()


def personal_value(info: Any, registry: str, props: dict[str, Any], value: Any) -> Any:
    """`value` when the caller reads this record's personal fields, else None."""
    ok = may_read(info, registry, props)
    if isinstance(ok, bool):
        return value if ok else None

    async def later() -> Any:
        return value if await ok else None

    return later()


def guard_record(info: Any, registry: str, props: dict[str, Any]) -> bool | Awaitable[bool]:
    """True when the caller reads this wholly personal record, else FORBIDDEN (raised)."""
    ok = may_read(info, registry, props)
    if isinstance(ok, bool):
        if not ok:
            raise people_forbidden(info)
        return True

    async def later() -> bool:
        if not await ok:
            raise people_forbidden(info)
        return True

    return later()


PERSONAL_NOTE = (" Personal data (152-ФЗ): null unless the caller is an admin, the operator of "
                 "the owner's region or a registrar of the owner; planners and viewers always "
                 "get null.")


# --- node types, generated from the registries' declarations (`graph.declare.Api`) -----------

_SCOPED = (" Personal data (152-ФЗ): only those in the caller's scope (admin: all, operator: "
           "cohorts of its region, registrar: cohorts of its organizations); null with "
           "FORBIDDEN for planners and viewers.")


def _people_nested(traversal: str, type_name: str, description: str) -> Any:
    """A nested list of personal records (`graph.privacy`): all for an admin, those in the
    caller's scope for an operator or registrar (filtered in the query, before `first`),
    FORBIDDEN (null) for roles that read no people."""
    target = TRAVERSALS[traversal].target

    async def resolve(root: Any, info: Info, first: int = 50,
                      include_retired: bool = False) -> Any:
        scope = people_scope(info)
        if scope.nothing:
            raise people_forbidden(info, scope)
        if scope.everything:
            items = await load_traversal(info, traversal, root._p["uid"], first, include_retired,
                                         project=True)
            return [n for n, _ in items]
        check_limit(first)
        ctx = info.context

        async def load(keys: list[tuple[str, Props]]) -> list[Any]:
            query, params = traversal_query(
                traversal, list(dict.fromkeys(u for u, _ in keys)), limit=first,
                include_retired=include_retired, people=scope.param(),
                props=union([p for _, p in keys]))
            rows = await ctx.read(query, **params)
            found = {r["uid"]: r["items"] for r in rows}
            return [[wrap(target, i["props"]) for i in found.get(u, [])] for u, _ in keys]

        key = ("people", traversal, first, include_retired)
        props = projection(info, target)
        return await ctx.loader(key, load).load((root._p["uid"], props))

    resolve.__annotations__ = {"root": Any, "info": Info, "first": First,
                               "include_retired": IncludeRetired,
                               "return": f"list[{type_name}] | None"}
    return strawberry.field(resolver=resolve, description=description + _SCOPED,
                            metadata=needs())


def to_many(label: str, description: str, key: str) -> Any:
    """A field loading the `label` nodes whose uids the list property `key` holds."""
    async def resolve(root: Any, info: Info) -> Any:
        return await load_nodes(info, label, list(root._p.get(key) or []), project=True)

    resolve.__annotations__ = {"root": Any, "info": Info, "return": f"list[{label}]"}
    return strawberry.field(resolver=resolve, description=description, metadata=needs(key))


def _personal(registry: str, key: str, typ: Any, description: str) -> Any:
    def resolve(root: Any, info: Info) -> Any:
        value = root._p.get(key)
        if isinstance(value, list | tuple):
            value = list(value)
        return personal_value(info, registry, root._p, native(value))

    resolve.__annotations__ = {"root": Any, "info": Info, "return": typ | None}
    return strawberry.field(resolver=resolve, description=description + PERSONAL_NOTE,
                            metadata=needs(key))


def _items(key: str, item_cls: type, defaults: dict[str, Any], description: str) -> Any:
    def resolve(root: Any) -> Any:
        return [item_cls(_p={**defaults, **i}) for i in _json_list(root._p.get(key))]  # type: ignore[call-arg]

    resolve.__annotations__ = {"root": Any, "return": list[item_cls]}  # type: ignore[valid-type]
    return strawberry.field(resolver=resolve, description=description, metadata=needs(key))


def _out_type(annotation: Any) -> Any:
    """The Python type a model field is shown as: enums are GraphQL enums, lists lists."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _out_type(get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return E.ensure_enum(annotation)
    if origin in (Union, types.UnionType):
        inner = [a for a in get_args(annotation) if a is not type(None)]
        return _out_type(inner[0]) | None
    if origin in (tuple, list):
        return list[_out_type(get_args(annotation)[0])]  # type: ignore[misc]
    return annotation


def _shape_fields(shape: Shape, model: type[BaseModel], registry: str | None,
                  item: tuple[str, type, dict[str, Any]] | None) -> dict[str, Any]:
    """Annotations and fields of an object of `model` as `shape` shows it."""
    personal = set(privacy.PERSONAL.get(registry or "", ()))
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {}
    for key, info in model.model_fields.items():
        out = shape.fields.get(key)
        if out is None:
            continue
        name = out.name or key
        typ = _out_type(info.annotation)
        if item is not None and key == item[0]:
            annotations[name] = list[item[1]]  # type: ignore[valid-type]
            namespace[name] = _items(key, item[1], item[2], out.doc)
        elif key in personal and registry is not None:
            annotations[name] = typ | None
            namespace[name] = _personal(registry, key, typ, out.doc)
        else:
            annotations[name] = typ
            namespace[name] = prop(key, typ, out.doc)
        if key in shape.labels:
            enum = next(a for a in (get_args(typ) or (typ,)) if isinstance(a, type))
            annotations[f"{name}_label"] = str | None
            namespace[f"{name}_label"] = _label_field(key, enum, f"Russian label of `{key}`.")
    for lnk in shape.links:
        if isinstance(lnk, ToOne):
            annotations[lnk.name] = f"{lnk.label} | None"
            namespace[lnk.name] = link(lnk.label, lnk.label, lnk.doc, *lnk.keys)
        else:
            annotations[lnk.name] = f"list[{lnk.label}]"
            namespace[lnk.name] = to_many(lnk.label, lnk.doc, lnk.key)
    namespace["__annotations__"] = annotations
    return namespace


_ITEM_TYPES: dict[str, type] = {}


def _item_type(name: str, shape: Shape, model: type[BaseModel]) -> tuple[type, dict[str, Any]]:
    """The GraphQL type of a nested list's items (one per name, shared by registries) and the
    model defaults filled into items stored without them."""
    defaults = {k: (v.default.value if isinstance(v.default, Enum) else v.default)
                for k, v in model.model_fields.items()
                if not v.is_required() and v.default is not None}
    if name not in _ITEM_TYPES:
        namespace = _shape_fields(shape, model, None, None)
        namespace["__annotations__"]["_p"] = strawberry.Private[dict[str, Any]]
        namespace["__module__"] = __name__
        cls = _ITEM_TYPES[name] = strawberry.type(type(name, (), namespace),
                                                  description=shape.doc)
        globals()[name] = cls
    return _ITEM_TYPES[name], defaults


def _item_model(registry: Registry) -> type[BaseModel]:
    assert registry.items is not None
    annotation = _out_type(registry.model.model_fields[registry.items.field].annotation)
    return get_args(annotation)[0]  # type: ignore[no-any-return]


def node_class(registry: Registry, extra: type | None = None) -> type[Node]:
    """The GraphQL node type of a registry: named by its label, fields from its declaration,
    plus the `extra` class's own fields (computed ones the declaration cannot say)."""
    api = registry.api
    item = None
    if api.item is not None and registry.items is not None:
        item_cls, defaults = _item_type(api.item[0], api.item[1], _item_model(registry))
        item = (registry.items.field, item_cls, defaults)
    namespace = _shape_fields(api.node, registry.model, registry.name, item)
    for rel in api.related:
        target = TRAVERSALS[rel.traversal].target
        if privacy.is_personal(BY_LABEL_NAME[target]):
            namespace["__annotations__"][rel.name] = f"list[{target}] | None"
            namespace[rel.name] = _people_nested(rel.traversal, target, rel.doc)
        else:
            namespace["__annotations__"][rel.name] = f"list[{target}]"
            namespace[rel.name] = nested(rel.traversal, target, rel.doc)
    if extra is not None:
        namespace.update({k: v for k, v in vars(extra).items()
                          if isinstance(v, StrawberryField)})
    namespace.update(LABEL=registry.label, __module__=__name__)
    if privacy.is_personal(registry.name):
        namespace["is_type_of"] = classmethod(_guarded)
    cls = strawberry.type(type(registry.label, (Node,), namespace), description=api.node.doc)
    globals()[registry.label] = cls
    return node_type(cls)


def _guarded(cls: Any, obj: Any, info: Any) -> Any:
    """Every record of a wholly personal registry the API returns passes here: FORBIDDEN
    outside the caller's scope."""
    return isinstance(obj, cls) and guard_record(info, BY_LABEL_NAME[cls.LABEL], obj._p)


BY_LABEL_NAME = {r.label: name for name, r in REGISTRIES.items()}


# --- computed fields the declarations cannot say ----------------------------------------------

@strawberry.type(description="A staff member qualified in a competency.")
class QualifiedStaff:
    staff: Staff = strawberry.field(description="The staff member.")
    expert_status: E.ExpertStatus = strawberry.field(description="Expert status.")
    valid_until: dt.date | None = strawberry.field(description="Valid until.")


@strawberry.type(description="A site holding working equipment a competency requires.")
class CompetencySite:
    site: Site = strawberry.field(description="The site.")
    covered_types: int = strawberry.field(
        description="Required equipment types present (working) on the site.")
    required_types: int = strawberry.field(
        description="Equipment types in the infrastructure list.")


class CompetencyExtra:
    _p: dict[str, Any]

    @strawberry.field(description="Staff qualified in the competency.", metadata=needs())
    async def qualified_staff(self, info: Info, first: First = 50,
                              include_retired: IncludeRetired = False) -> list[QualifiedStaff]:
        items = await load_traversal(info, "competency_staff", self._p["uid"], first,
                                     include_retired)
        return [QualifiedStaff(staff=node, expert_status=E.ExpertStatus(
                    (x or {}).get("expert_status") or "NONE"),
                    valid_until=date_of((x or {}).get("valid_until"))) for node, x in items]

    @strawberry.field(description="Sites with working equipment its infrastructure list "
                                  "requires, most types covered first.", metadata=needs())
    async def sites(self, info: Info, first: First = 50,
                    include_retired: IncludeRetired = False) -> list[CompetencySite]:
        items = await load_traversal(info, "competency_sites", self._p["uid"], first,
                                     include_retired)
        return [CompetencySite(site=node, covered_types=(x or {})["covered_types"],
                               required_types=(x or {})["required_types"]) for node, x in items]


PARTICIPANT_FIELDS = ("participants_school", "participants_college", "participants_employed",
                      "participants_pre_retirement", "participants_unemployed",
                      "participants_college_staff")


class CareerGuidanceEventExtra:
    _p: dict[str, Any]

    @strawberry.field(description="Participants, all categories.",
                      metadata=needs(*PARTICIPANT_FIELDS))
    def participants(self) -> int:
        return sum(int(self._p.get(f) or 0) for f in PARTICIPANT_FIELDS)


EXTRA: dict[str, type] = {"Competency": CompetencyExtra,
                          "CareerGuidanceEvent": CareerGuidanceEventExtra}

NODE_CLASSES: dict[str, type[Node]] = {
    r.label: node_class(r, EXTRA.get(r.label)) for r in REGISTRIES.values()}

if TYPE_CHECKING:  # names other modules annotate with; at run time the generated classes
    Region = Node
    Municipality = Node
    Organization = Node
    Site = Node
    EquipmentType = Node
    Equipment = Node
    Staff = Node
    Competency = Node
    InfrastructureList = Node
    Program = Node
    Module = Node
    PartnerAgreement = Node
    Cohort = Node
    Learner = Node
    Enrollment = Node
    CareerGuidanceEvent = Node
    StaffTraining = Node
    DemandSignal = Node
    DigitalResource = Node
    ReferenceDocument = Node
    RoadmapActivity = Node
    ControlPoint = Node
    IndicatorSlot = Node


def _json_list(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    return json.loads(value) if isinstance(value, str) else list(value)
