"""List fields of the registries: keyset connections with filter and sort inputs.

Filter and sort inputs are generated from `graph.reads.LISTS`, so a filter added there (with
its GraphQL type in `FILTER_TYPES`) appears in the API without more code.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from graph.reads import LISTS, RELEVANCE
from schema.core import enums as E
from schema.core.connection import Connection, SortDirection, list_connection
from schema.core.node import NODE_TYPES
from schema.registry import types as T

# registry → (GraphQL type, field description)
LIST_FIELDS: dict[str, tuple[type, str]] = {
    "regions": (T.Region, "Regions."),
    "municipalities": (T.Municipality, "Municipalities."),
    "organizations": (T.Organization, "Organizations of the network."),
    "sites": (T.Site, "Sites (площадки, мастерские)."),
    "equipment_types": (T.EquipmentType, "Equipment types (catalogue)."),
    "equipment": (T.Equipment, "Equipment items."),
    "staff": (T.Staff, "Staff members."),
    "competencies": (T.Competency, "Competencies."),
    "infrastructure_lists": (T.InfrastructureList, "Infrastructure lists of competencies."),
    "programs": (T.Program, "Education programs."),
    "modules": (T.Module, "Program modules."),
    "agreements": (T.PartnerAgreement, "Agreements between organizations."),
}

_CODES = list[str]
# Filter name → (type, description); per-registry overrides below.
FILTER_TYPES: dict[str, tuple[Any, str]] = {
    "region": (_CODES, "Subject codes of regions."),
    "municipality": (_CODES, "ОКТМО codes of municipalities."),
    "organization": (_CODES, "ИНН of organizations."),
    "organization_kind": (list[E.OrganizationKind], "Kinds of the organization."),
    "competency": (_CODES, "Competency codes."),
    "competency_block": (_CODES, "Competency block codes."),
    "site": (_CODES, "Site keys (ИНН:code)."),
    "type": (_CODES, "Equipment type codes."),
    "status": (list[E.EquipmentStatus], "Equipment statuses."),
    "role": (list[E.StaffRole], "Staff roles."),
    "expert_status": (list[E.ExpertStatus], "Expert statuses in any qualification."),
    "standard": (list[E.CompetencyStandard], "Competency standards."),
    "is_future": (bool, "Competencies of the future only (true) or others (false)."),
    "is_digital": (bool, "Digital competencies only (true) or others (false)."),
    "network": (bool, "Network-form programs only (true) or others (false)."),
    "category": (_CODES, "Equipment categories."),
    "program": (_CODES, "Program codes."),
}
FILTER_OVERRIDES: dict[str, dict[str, tuple[Any, str]]] = {
    "organizations": {"kind": (list[E.OrganizationKind], "Kinds of organization.")},
    "sites": {"kind": (list[E.SiteKind], "Kinds of site.")},
    "agreements": {"kind": (list[E.AgreementKind], "Kinds of agreement."),
                   "organization": (_CODES, "ИНН of a party.")},
    "programs": {"type": (list[E.ProgramType], "Program types."),
                 "status": (list[E.ProgramStatus], "Program statuses."),
                 "organization": (_CODES, "ИНН of the developer.")},
    "staff": {"organization": (_CODES, "ИНН of the employer.")},
}


def _camel(name: str) -> str:
    return "".join(p.capitalize() for p in name.split("_"))


def _filter_input(registry: str, type_name: str) -> type:
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__annotations__": annotations, "__module__": __name__}
    for name in LISTS[registry].filters:
        typ, description = FILTER_OVERRIDES.get(registry, {}).get(name) or FILTER_TYPES[name]
        annotations[name] = typ | None
        namespace[name] = strawberry.field(default=None, description=description)
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
    field_enum = strawberry.enum(Enum(f"{type_name}SortField", members),
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


def _list_field(registry: str, node_cls: type, description: str) -> Any:
    name = node_cls.__strawberry_definition__.name
    filter_cls = FILTERS[registry] = _filter_input(registry, name)
    sort_cls = SORTS[registry] = _sort_input(registry, name)

    async def resolve(info: Info, first: int = 20, after: str | None = None,
                      filter: Any = None, sort: Any = None) -> Any:
        filters = {k: getattr(filter, k) for k in LISTS[registry].filters} if filter else {}
        return await list_connection(
            info, registry, node_cls.LABEL, filters=filters,
            sort=sort.field.value if sort else None,
            descending=bool(sort and sort.direction == SortDirection.DESC),
            search=filter.search if filter else None,
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
        "return": Connection[node_cls],
    }
    return strawberry.field(resolver=resolve, description=description)


Query = strawberry.type(
    type("RegistryQuery", (), {
        "__module__": __name__,
        **{registry: _list_field(registry, cls, desc)
           for registry, (cls, desc) in LIST_FIELDS.items()},
    }),
    description="Reads of the registries.",
)

assert set(NODE_TYPES) >= {cls.LABEL for cls, _ in LIST_FIELDS.values()}
