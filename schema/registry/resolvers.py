"""List fields of the registries: keyset connections with filter and sort inputs.

Filter and sort inputs are generated from each registry's declared listing
(`graph.declare.ListSpec`): a filter declared there appears in the API without more code.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from graph import privacy
from graph.declare import Filter
from graph.reads import LISTS, PEOPLE_FILTER, RELEVANCE
from graph.registry import REGISTRIES
from schema.core.access import requires
from schema.core.connection import Connection, SortDirection, list_connection
from schema.core.errors import api_error
from schema.core.node import context
from schema.registry import types as T

# registry → (GraphQL type, field description): every registry whose declaration has a list.
LIST_FIELDS: dict[str, tuple[type, str]] = {
    name: (T.NODE_CLASSES[r.label], r.api.list_doc)
    for name, r in REGISTRIES.items() if r.api.list_doc is not None
}


def _filter_type(f: Filter) -> Any:
    return bool if f.of is bool else list[f.of]  # type: ignore[name-defined]


def _camel(name: str) -> str:
    return "".join(p.capitalize() for p in name.split("_"))


def _filter_input(registry: str, type_name: str) -> type:
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__annotations__": annotations, "__module__": __name__}
    for name in _public_filters(registry):
        f = LISTS[registry].filters[name]
        annotations[name] = _filter_type(f) | None
        namespace[name] = strawberry.field(default=None, description=f.doc)
    annotations["search"] = str | None
    namespace["search"] = strawberry.field(
        default=None, description="Full-text search over names (Russian stemming).")
    annotations["include_retired"] = bool
    namespace["include_retired"] = strawberry.field(
        default=False, description="Include retired items.")
    cls = type(f"{type_name}Filter", (), namespace)
    return strawberry.input(cls, description=f"Filters of the {registry} list (all must match).")


def _sort_input(registry: str, type_name: str) -> type:
    members = {k.upper(): k for k in [*LISTS[registry].all_sorts(), RELEVANCE]}
    field_enum = strawberry.enum(Enum(f"{type_name}SortField", members),  # type: ignore[call-overload]
                                 description="Sort key (ties broken by uid). RELEVANCE needs "
                                             "a search.")
    annotations = {"field": field_enum, "direction": SortDirection}
    namespace = {
        "__annotations__": annotations, "__module__": __name__,
        "field": strawberry.field(description="Sort key."),
        "direction": strawberry.field(default=SortDirection.ASC, description="Direction."),
    }
    cls = type(f"{type_name}Sort", (), namespace)
    return strawberry.input(cls, description=f"Sort of the {registry} list.")


FILTERS: dict[str, type] = {}
SORTS: dict[str, type] = {}


def _public_filters(registry: str) -> list[str]:
    """Filters of the GraphQL input: hidden ones (`_…`, set by the API) left out."""
    return [f for f in LISTS[registry].filters if not f.startswith("_")]


def people_list(info: Info, registry: str, filters: dict[str, Any], sort: str | None,
                search: str | None) -> str | None:
    """Apply the personal-data scope (`graph.privacy`) to a list of `registry`: adds the
    hidden scope filter to `filters` and returns the sort to use.

    Wholly personal registries (learners, enrollments): FORBIDDEN for roles that read no
    people, else only the records in the caller's scope. Registries with personal fields
    (staff): every record is listed, but a search (over names) or a sort by a personal field
    covers only the records whose personal fields the caller reads (FORBIDDEN for roles that
    read none), and the default sort by name becomes the sort by uid outside an admin's scope.
    """
    if PEOPLE_FILTER not in LISTS[registry].filters:
        return sort
    scope = T.people_scope(info)
    if scope.everything:
        return sort
    if privacy.is_personal(registry):
        if scope.nothing:
            raise T.people_forbidden(info, scope)
        filters[PEOPLE_FILTER] = scope.param()
        return sort
    personal_sorts = set(LISTS[registry].all_sorts()) & set(privacy.PERSONAL[registry])
    if sort is None and search is None and LISTS[registry].default_sort in personal_sorts:
        return "uid"
    if search is not None or sort in personal_sorts:
        if scope.nothing:
            principal = context(info).principal
            role = principal.role if principal is not None else "аноним"
            raise api_error(privacy.NAME_SEARCH_MESSAGE.format(role=role), "FORBIDDEN")
        filters[PEOPLE_FILTER] = scope.param()
    return sort


def _list_field(registry: str, node_cls: Any, description: str) -> Any:
    name = node_cls.__strawberry_definition__.name
    filter_cls = FILTERS[registry] = _filter_input(registry, name)
    sort_cls = SORTS[registry] = _sort_input(registry, name)

    async def resolve(info: Info, first: int = 20, after: str | None = None,
                      filter: Any = None, sort: Any = None) -> Any:
        filters = {k: getattr(filter, k) for k in _public_filters(registry)} if filter else {}
        search = filter.search if filter else None
        sort_name = people_list(info, registry, filters, sort.field.value if sort else None,
                                search)
        return await list_connection(
            info, registry, node_cls.LABEL, filters=filters, sort=sort_name,
            descending=bool(sort and sort.direction == SortDirection.DESC),
            search=search,
            include_retired=filter.include_retired if filter else False,
            first=first, after=after,
        )

    resolve.__annotations__ = {
        "info": Info,
        "first": Annotated[int, strawberry.argument(description="Page size (at most 100).")],
        "after": Annotated[str | None, strawberry.argument(
            description="Cursor of the last item of the previous page.")],
        "filter": Annotated[filter_cls | None, strawberry.argument(description="Filters.")],
        "sort": Annotated[sort_cls | None, strawberry.argument(
            description="Sort; default by name or code, by relevance when searching.")],
        "return": Connection[node_cls],  # type: ignore[valid-type]
    }
    return strawberry.field(resolver=resolve, description=description,
                            metadata=requires(REGISTRIES[registry].read))


Query = strawberry.type(
    type("RegistryQuery", (), {
        "__module__": __name__,
        **{registry: _list_field(registry, cls, desc)
           for registry, (cls, desc) in LIST_FIELDS.items()},
    }),
    description="Reads of the registries.",
)


