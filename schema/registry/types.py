"""GraphQL types of the registry nodes. Scalars come from stored properties (`prop`),
links to one node from per-request loaders (`link`), nested lists from batched traversals
(`nested`, capped by `first`)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from graph import privacy
from graph.enums import LABELS
from graph.models import join_key
from graph.values import date_of
from schema.core import enums as E
from schema.core.errors import api_error
from schema.core.node import Node, load_node, load_nodes, load_traversal, node_type, prop

First = Annotated[int, strawberry.argument(description="How many items (at most 100).")]
IncludeRetired = Annotated[bool, strawberry.argument(description="Include retired items.")]


def _label_field(key: str, enum: type, description: str) -> Any:
    def resolve(root: Any) -> str | None:
        value = root._p.get(key)
        return None if value is None else LABELS[enum][enum(value)]

    resolve.__annotations__ = {"root": Any, "return": str | None}
    return strawberry.field(resolver=resolve, description=description)


def label_of(enum: type, key: str = "kind") -> Any:
    return _label_field(key, enum, f"Russian label of `{key}`.")


def link(label: str, type_name: str, description: str, *keys: str) -> Any:
    """A field loading the `label` node whose uid is the property (or joined properties)."""

    async def resolve(root: Any, info: Info) -> Any:
        parts = [root._p.get(k) for k in keys]
        uid = None if any(p is None for p in parts) else join_key(*map(str, parts))
        return await load_node(info, label, uid)

    resolve.__annotations__ = {"root": Any, "info": Info, "return": f"{type_name} | None"}
    return strawberry.field(resolver=resolve, description=description)


def nested(traversal: str, type_name: str, description: str) -> Any:
    """A capped nested list through `graph.reads.TRAVERSALS[traversal]`."""

    async def resolve(root: Any, info: Info, first: int = 50,
                      include_retired: bool = False) -> Any:
        items = await load_traversal(info, traversal, root._p["uid"], first, include_retired)
        return [node for node, _ in items]

    resolve.__annotations__ = {"root": Any, "info": Info, "first": First,
                               "include_retired": IncludeRetired,
                               "return": f"list[{type_name}]"}
    return strawberry.field(resolver=resolve, description=description)


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


@node_type
@strawberry.type(description="A subject of the Russian Federation.")
class Region(Node):
    LABEL = "Region"
    code: str = prop("code", str, "Subject code (two or three digits).")
    name: str = prop("name", str, "Name.")
    municipalities: list[Municipality] = nested("region_municipalities", "Municipality",
                                                "Municipalities of the region.")
    organizations: list[Organization] = nested("region_organizations", "Organization",
                                               "Organizations registered in the region.")


@node_type
@strawberry.type(description="A municipality (ОКТМО).")
class Municipality(Node):
    LABEL = "Municipality"
    oktmo: str = prop("oktmo", str, "ОКТМО code.")
    name: str = prop("name", str, "Name.")
    region_code: str = prop("region", str, "Subject code of the region.")
    region: Region | None = link("Region", "Region", "The region.", "region")
    organizations: list[Organization] = nested("municipality_organizations", "Organization",
                                               "Organizations in the municipality.")
    sites: list[Site] = nested("municipality_sites", "Site", "Sites in the municipality.")


@node_type
@strawberry.type(description="An organization of the network: ЦОПП, college, employer…")
class Organization(Node):
    LABEL = "Organization"
    inn: str = prop("inn", str, "ИНН (natural key).")
    name: str = prop("name", str, "Full name.")
    short_name: str | None = prop("short_name", str | None, "Short name.")
    kind: E.OrganizationKind = prop("kind", E.OrganizationKind, "Kind of organization.")
    kind_label: str | None = label_of(E.OrganizationKind)
    ogrn: str | None = prop("ogrn", str | None, "ОГРН.")
    region_code: str = prop("region", str, "Subject code of the region.")
    municipality_code: str | None = prop("municipality", str | None, "ОКТМО of the municipality.")
    address: str | None = prop("address", str | None, "Address.")
    website: str | None = prop("website", str | None, "Website.")
    region: Region | None = link("Region", "Region", "The region.", "region")
    municipality: Municipality | None = link("Municipality", "Municipality",
                                             "The municipality.", "municipality")
    sites: list[Site] = nested("organization_sites", "Site", "Sites of the organization.")
    staff: list[Staff] = nested("organization_staff", "Staff", "Staff working here.")
    equipment: list[Equipment] = nested("organization_equipment", "Equipment",
                                        "Equipment at the organization's sites.")
    programs: list[Program] = nested("organization_programs", "Program",
                                     "Programs the organization developed.")
    agreements: list[PartnerAgreement] = nested("organization_agreements", "PartnerAgreement",
                                                "Agreements the organization is a party to.")


@node_type
@strawberry.type(description="A site (площадка, мастерская) of an organization.")
class Site(Node):
    LABEL = "Site"
    organization_inn: str = prop("organization", str, "ИНН of the owner.")
    code: str = prop("code", str, "Site code within the organization.")
    name: str = prop("name", str, "Name.")
    kind: E.SiteKind = prop("kind", E.SiteKind, "Kind of site.")
    kind_label: str | None = label_of(E.SiteKind)
    address: str | None = prop("address", str | None, "Address.")
    municipality_code: str = prop("municipality", str, "ОКТМО of the municipality.")
    latitude: float | None = prop("latitude", float | None, "Latitude (WGS 84).")
    longitude: float | None = prop("longitude", float | None, "Longitude (WGS 84).")
    workplaces: int = prop("workplaces", int, "Number of workplaces.")
    organization: Organization | None = link("Organization", "Organization", "The owner.",
                                             "organization")
    municipality: Municipality | None = link("Municipality", "Municipality",
                                             "The municipality.", "municipality")
    equipment: list[Equipment] = nested("site_equipment", "Equipment", "Equipment on site.")


@node_type
@strawberry.type(description="A catalogue type of equipment.")
class EquipmentType(Node):
    LABEL = "EquipmentType"
    code: str = prop("code", str, "Catalogue code.")
    name: str = prop("name", str, "Name.")
    category: str | None = prop("category", str | None, "Category.")
    unit: str = prop("unit", str, "Unit of measure.")
    equipment: list[Equipment] = nested("equipment_type_equipment", "Equipment",
                                        "Equipment items of this type.")
    required_by: list[InfrastructureList] = nested(
        "equipment_type_required_by", "InfrastructureList",
        "Infrastructure lists requiring this type.")


@node_type
@strawberry.type(description="An equipment item (inventory record) at a site.")
class Equipment(Node):
    LABEL = "Equipment"
    organization_inn: str = prop("organization", str, "ИНН of the owner.")
    inventory_number: str = prop("inventory_number", str, "Inventory number.")
    type_code: str = prop("type", str, "Equipment type code.")
    site_code: str = prop("site", str, "Site code within the organization.")
    name: str | None = prop("name", str | None, "Name (model).")
    quantity: int = prop("quantity", int, "Quantity.")
    status: E.EquipmentStatus = prop("status", E.EquipmentStatus, "Condition.")
    status_label: str | None = label_of(E.EquipmentStatus, "status")
    year: int | None = prop("year", int | None, "Year of manufacture or purchase.")
    type: EquipmentType | None = link("EquipmentType", "EquipmentType", "The type.", "type")
    site: Site | None = link("Site", "Site", "The site.", "organization", "site")
    organization: Organization | None = link("Organization", "Organization", "The owner.",
                                             "organization")


@strawberry.type(description="A staff member's qualification in a competency.")
class Qualification:
    _p: strawberry.Private[dict[str, Any]]
    competency_code: str = prop("competency", str, "Competency code.")
    expert_status: E.ExpertStatus = prop("expert_status", E.ExpertStatus, "Expert status.")
    expert_status_label: str | None = label_of(E.ExpertStatus, "expert_status")

    @strawberry.field(description="Valid until.")
    def valid_until(self) -> dt.date | None:
        return _date(self._p.get("valid_until"))

    @strawberry.field(description="The competency.")
    async def competency(self, info: Info) -> Competency | None:
        return await load_node(info, "Competency", self._p.get("competency"))


@node_type
@strawberry.type(description="A staff member (teacher, master, expert…).")
class Staff(Node):
    LABEL = "Staff"
    organization_inn: str = prop("organization", str, "ИНН of the employer.")
    personnel_number: str = prop("personnel_number", str, "Personnel number.")
    role: E.StaffRole = prop("role", E.StaffRole, "Role.")
    role_label: str | None = label_of(E.StaffRole, "role")
    position: str | None = prop("position", str | None, "Position.")
    organization: Organization | None = link("Organization", "Organization", "The employer.",
                                             "organization")

    @strawberry.field(description="Full name (ФИО)." + PERSONAL_NOTE)
    def full_name(self, info: Info) -> str | None:
        return personal_value(info, "staff", self._p, self._p.get("full_name"))

    @strawberry.field(description="Qualifications per competency.")
    def qualifications(self) -> list[Qualification]:
        return [Qualification(_p={**q, "expert_status": q.get("expert_status", "NONE")})
                for q in _json_list(self._p.get("qualifications"))]


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


@node_type
@strawberry.type(description="A competency (WorldSkills, Профессионалитет, ФГОС…).")
class Competency(Node):
    LABEL = "Competency"
    code: str = prop("code", str, "Code.")
    name: str = prop("name", str, "Name.")
    block_code: str | None = prop("block_code", str | None, "Code of the competency block.")
    block: str | None = prop("block", str | None, "Competency block.")
    standard: E.CompetencyStandard = prop("standard", E.CompetencyStandard, "Standard.")
    is_future: bool = prop("is_future", bool, "A competency of the future.")
    is_digital: bool = prop("is_digital", bool, "A digital economy competency.")
    infrastructure_list: InfrastructureList | None = link(
        "InfrastructureList", "InfrastructureList", "The infrastructure list.", "uid")
    programs: list[Program] = nested("competency_programs", "Program",
                                     "Programs developing the competency.")
    modules: list[Module] = nested("competency_modules", "Module", "Modules for it.")

    @strawberry.field(description="Staff qualified in the competency.")
    async def qualified_staff(self, info: Info, first: First = 50,
                              include_retired: IncludeRetired = False) -> list[QualifiedStaff]:
        items = await load_traversal(info, "competency_staff", self._p["uid"], first,
                                     include_retired)
        return [QualifiedStaff(staff=node, expert_status=E.ExpertStatus(
                    (x or {}).get("expert_status") or "NONE"),
                    valid_until=_date((x or {}).get("valid_until"))) for node, x in items]

    @strawberry.field(description="Sites with working equipment its infrastructure list "
                                  "requires, most types covered first.")
    async def sites(self, info: Info, first: First = 50,
                    include_retired: IncludeRetired = False) -> list[CompetencySite]:
        items = await load_traversal(info, "competency_sites", self._p["uid"], first,
                                     include_retired)
        return [CompetencySite(site=node, covered_types=(x or {})["covered_types"],
                               required_types=(x or {})["required_types"]) for node, x in items]


@strawberry.type(description="An equipment type needed, per workplace or per group.")
class Requirement:
    _p: strawberry.Private[dict[str, Any]]
    equipment_type_code: str = prop("equipment_type", str, "Equipment type code.")
    quantity: int = prop("quantity", int, "Quantity.")
    scope: E.RequirementScope = prop("scope", E.RequirementScope, "Per workplace or group.")
    scope_label: str | None = label_of(E.RequirementScope, "scope")

    @strawberry.field(description="The equipment type.")
    async def equipment_type(self, info: Info) -> EquipmentType | None:
        return await load_node(info, "EquipmentType", self._p.get("equipment_type"))


def _requirements(value: Any) -> list[Requirement]:
    return [Requirement(_p={**r, "scope": r.get("scope", "PER_WORKPLACE")})
            for r in _json_list(value)]


@node_type
@strawberry.type(description="The infrastructure list of a competency.")
class InfrastructureList(Node):
    LABEL = "InfrastructureList"
    competency_code: str = prop("competency", str, "Competency code.")
    name: str | None = prop("name", str | None, "Name.")
    min_staff: int = prop("min_staff", int, "Minimum staff to run it.")
    expert_required: bool = prop("expert_required", bool, "An expert is required.")
    competency: Competency | None = link("Competency", "Competency", "The competency.",
                                         "competency")

    @strawberry.field(description="Equipment types required.")
    def items(self) -> list[Requirement]:
        return _requirements(self._p.get("items"))


@node_type
@strawberry.type(description="An education program (additional professional education).")
class Program(Node):
    LABEL = "Program"
    code: str = prop("code", str, "Code.")
    name: str = prop("name", str, "Name.")
    type: E.ProgramType = prop("type", E.ProgramType, "Type (federal template).")
    type_label: str | None = label_of(E.ProgramType, "type")
    status: E.ProgramStatus = prop("status", E.ProgramStatus, "Lifecycle status.")
    status_label: str | None = label_of(E.ProgramStatus, "status")
    hours: int = prop("hours", int, "Length in academic hours.")
    format: E.ProgramFormat = prop("format", E.ProgramFormat, "Form of study.")
    network: bool = prop("network", bool, "Run in network form (273-ФЗ art. 15).")
    organization_inn: str = prop("organization", str, "ИНН of the developer.")
    competency_codes: list[str] = prop("competencies", list[str], "Competency codes.")
    description: str | None = prop("description", str | None, "Description.")
    approved_on: dt.date | None = prop("approved_on", dt.date | None, "Approval date.")
    organization: Organization | None = link("Organization", "Organization", "The developer.",
                                             "organization")
    modules: list[Module] = nested("program_modules", "Module", "Modules in order.")
    agreements: list[PartnerAgreement] = nested("program_agreements", "PartnerAgreement",
                                                "Agreements to run the program.")

    @strawberry.field(description="Competencies the program develops.")
    async def competencies(self, info: Info) -> list[Competency]:
        return await load_nodes(info, "Competency", list(self._p.get("competencies") or []))


@node_type
@strawberry.type(description="A module of a program.")
class Module(Node):
    LABEL = "Module"
    program_code: str = prop("program", str, "Program code.")
    number: int = prop("number", int, "Number within the program.")
    name: str = prop("name", str, "Name.")
    hours: int = prop("hours", int, "Hours.")
    competency_code: str | None = prop("competency", str | None, "Competency code.")
    min_staff: int = prop("min_staff", int, "Minimum staff.")
    program: Program | None = link("Program", "Program", "The program.", "program")
    competency: Competency | None = link("Competency", "Competency", "The competency.",
                                         "competency")

    @strawberry.field(description="Equipment types required.")
    def requirements(self) -> list[Requirement]:
        return _requirements(self._p.get("requirements"))


@strawberry.type(description="A party to an agreement.")
class Party:
    _p: strawberry.Private[dict[str, Any]]
    organization_inn: str = prop("organization", str, "ИНН of the party.")
    role: E.PartyRole = prop("role", E.PartyRole, "Role.")
    role_label: str | None = label_of(E.PartyRole, "role")
    responsibilities: str | None = prop("responsibilities", str | None, "Responsibilities.")
    organization: Organization | None = link("Organization", "Organization",
                                             "The organization.", "organization")


@node_type
@strawberry.type(description="An agreement between organizations (network form, partnership…).")
class PartnerAgreement(Node):
    LABEL = "PartnerAgreement"
    base_organization_inn: str = prop("base_organization", str, "ИНН of the base organization.")
    number: str = prop("number", str, "Number.")
    kind: E.AgreementKind = prop("kind", E.AgreementKind, "Kind.")
    kind_label: str | None = label_of(E.AgreementKind)
    subject: str = prop("subject", str, "Subject.")
    signed_on: dt.date = prop("signed_on", dt.date, "Signing date.")
    valid_from: dt.date = prop("valid_from", dt.date, "Start date.")
    valid_to: dt.date | None = prop("valid_to", dt.date | None, "End date.")
    program_code: str | None = prop("program", str | None, "Program code (network form).")
    learners: int | None = prop("learners", int | None, "Number of learners.")
    resources: str | None = prop("resources", str | None, "Resources used.")
    documents_issued: str | None = prop("documents_issued", str | None, "Documents issued.")
    program: Program | None = link("Program", "Program", "The program.", "program")

    @strawberry.field(description="Parties with their roles.")
    def parties(self) -> list[Party]:
        return [Party(_p=p) for p in _json_list(self._p.get("parties"))]


def _json_list(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    return json.loads(value) if isinstance(value, str) else list(value)


_date = date_of
