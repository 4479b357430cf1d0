"""GraphQL types of capability matching and network plans: views over graph/ dataclasses."""

from __future__ import annotations

import base64
import datetime as dt
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from graph import capability as cap
from graph import planning as pl
from graph.enums import ExpertStatus as ExpertStatusCode
from graph.enums import PartyRole as PartyRoleCode
from schema.core import enums as E
from schema.core.connection import Connection, Edge, PageInfo
from schema.core.node import check_limit, load_node
from schema.registry import types as T
from schema.capability.dataloaders import load_staff_page


@strawberry.input(description="A point on the map (WGS 84).")
class GeoPointInput:
    lat: float = strawberry.field(description="Latitude, degrees.")
    lon: float = strawberry.field(description="Longitude, degrees.")


@strawberry.type(description="An infrastructure-list item a site lacks for the cohort.")
class CapabilityGap:
    _g: strawberry.Private[cap.Gap]

    @strawberry.field(description="Equipment type code.")
    def equipment_type_code(self) -> str:
        return self._g.equipment_type

    @strawberry.field(description="Equipment type name.")
    def equipment_type_name(self) -> str:
        return self._g.equipment_type_name

    @strawberry.field(description="Per workplace or per group.")
    def scope(self) -> E.RequirementScope:
        return E.RequirementScope(self._g.scope)

    @strawberry.field(description="Quantity the cohort needs.")
    def required(self) -> int:
        return self._g.required

    @strawberry.field(description="Working quantity at the site.")
    def available(self) -> int:
        return self._g.available

    @strawberry.field(description="required − available.")
    def missing(self) -> int:
        return self._g.missing

    @strawberry.field(description="The equipment type.")
    async def equipment_type(self, info: Info) -> T.EquipmentType | None:
        return await load_node(info, "EquipmentType", self._g.equipment_type)


@strawberry.type(description="A staff member qualified in the competency.")
class QualifiedStaffMember:
    _s: strawberry.Private[cap.QualifiedStaff]

    @strawberry.field(description="Staff key (ИНН:табельный номер).")
    def uid(self) -> str:
        return self._s.uid

    @strawberry.field(description="Full name.")
    def full_name(self) -> str:
        return self._s.full_name

    @strawberry.field(description="Role.")
    def role(self) -> E.StaffRole:
        return E.StaffRole(self._s.role)

    @strawberry.field(description="Expert status in the competency.")
    def expert_status(self) -> E.ExpertStatus:
        return E.ExpertStatus(self._s.expert_status)

    @strawberry.field(description="Qualification valid until.")
    def valid_until(self) -> dt.date | None:
        return self._s.valid_until

    @strawberry.field(description="The staff member.")
    async def staff(self, info: Info) -> T.Staff | None:
        return await load_node(info, "Staff", self._s.uid)


def _staff_cursor(uid: str) -> str:
    return base64.urlsafe_b64encode(f"staff:{uid}".encode()).decode()


def _staff_after(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        kind, _, uid = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
    except ValueError:
        kind, uid = "", ""
    if kind != "staff" or not uid:
        from schema.core.errors import api_error

        raise api_error("Неверный курсор", "BAD_CURSOR")
    return uid


@strawberry.type(description="What one site can deliver of a competency for the cohort.")
class SiteCapability:
    _m: strawberry.Private[cap.SiteMatch]
    _competency: strawberry.Private[str]

    @strawberry.field(description="Site key (ИНН:code).")
    def site_uid(self) -> str:
        return self._m.site

    @strawberry.field(description="Site name.")
    def site_name(self) -> str:
        return self._m.site_name

    @strawberry.field(description="ИНН of the organization.")
    def organization_inn(self) -> str:
        return self._m.organization

    @strawberry.field(description="Organization name.")
    def organization_name(self) -> str:
        return self._m.organization_name

    @strawberry.field(description="The site.")
    async def site(self, info: Info) -> T.Site | None:
        return await load_node(info, "Site", self._m.site)

    @strawberry.field(description="The organization.")
    async def organization(self, info: Info) -> T.Organization | None:
        return await load_node(info, "Organization", self._m.organization)

    @strawberry.field(description="Workplaces deliverable: min(site workplaces, per-workplace "
                                  "items' available ÷ quantity).")
    def workplaces(self) -> int:
        return self._m.workplaces

    @strawberry.field(description="Workplaces of the site.")
    def site_workplaces(self) -> int:
        return self._m.site_workplaces

    @strawberry.field(description="Share of list items (staff requirement included) satisfied "
                                  "for the cohort, 0…1.")
    def coverage(self) -> float:
        return self._m.coverage

    @strawberry.field(description="Items satisfied.")
    def satisfied_items(self) -> int:
        return self._m.satisfied

    @strawberry.field(description="Items in the list (staff requirement included).")
    def total_items(self) -> int:
        return self._m.items

    @strawberry.field(description="Every item satisfied and the cohort fits at once.")
    def full_coverage(self) -> bool:
        return self._m.full_coverage

    @strawberry.field(description="Great-circle distance to `near`, km.")
    def distance_km(self) -> float | None:
        return self._m.distance_km

    @strawberry.field(description="Missing equipment for the cohort.")
    def gaps(self) -> list[CapabilityGap]:
        return [CapabilityGap(_g=g) for g in self._m.gaps]

    @strawberry.field(description="The staff requirement is not met.")
    def staff_missing(self) -> bool:
        return self._m.staff_missing

    @strawberry.field(description="Staff of the organization qualified in the competency.")
    def qualified_staff_count(self) -> int:
        return self._m.staff_count

    @strawberry.field(description="Of them, with an expert status.")
    def expert_count(self) -> int:
        return self._m.expert_count

    @strawberry.field(description="Qualified staff of the organization, a page.")
    async def qualified_staff(
        self, info: Info,
        first: Annotated[int, strawberry.argument(description="Page size (≤ 100).")] = 20,
        after: Annotated[str | None, strawberry.argument(description="Cursor.")] = None,
    ) -> Connection[QualifiedStaffMember]:
        check_limit(first)
        key = cap.StaffKey(self._m.organization, self._competency, first, _staff_after(after))
        page = await load_staff_page(info, key)
        edges = [Edge(cursor=_staff_cursor(s.uid), node=QualifiedStaffMember(_s=s))
                 for s in page.staff]
        return Connection(edges=edges, page_info=PageInfo(
            has_next_page=page.has_next_page, has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None), total_count=self._m.staff_count)


@strawberry.type(description="Sites able to deliver a competency, best first.")
class SiteCapabilityConnection:
    edges: list[Edge[SiteCapability]] = strawberry.field(description="Sites with cursors.")
    page_info: PageInfo = strawberry.field(description="Paging information.")
    total_count: int = strawberry.field(description="Sites matching the filters.")
    min_staff: int = strawberry.field(description="Qualified staff the list requires.")
    expert_required: bool = strawberry.field(description="The list requires an expert.")

    @strawberry.field(description="Sites of the page without cursors.")
    def nodes(self) -> list[SiteCapability]:
        return [e.node for e in self.edges]


def site_connection(page: cap.SitesPage, after: str | None) -> SiteCapabilityConnection:
    edges = [Edge(cursor=m.cursor, node=SiteCapability(_m=m, _competency=page.competency))
             for m in page.sites]
    return SiteCapabilityConnection(
        edges=edges,
        page_info=PageInfo(has_next_page=page.has_next_page, has_previous_page=after is not None,
                           start_cursor=edges[0].cursor if edges else None,
                           end_cursor=edges[-1].cursor if edges else None),
        total_count=page.total_count, min_staff=page.min_staff,
        expert_required=page.expert_required)


# ---------------------------------------------------------------- network plans


@strawberry.enum(description="Lifecycle of a network plan.")
class NetworkPlanStatus(Enum):
    DRAFT = strawberry.enum_value("DRAFT", description="Проект")
    AGREED = strawberry.enum_value("AGREED", description="Согласован")
    RUNNING = strawberry.enum_value("RUNNING", description="Реализуется")


@strawberry.enum(description="Which requirement of a module nobody meets.")
class UnmetKind(Enum):
    EQUIPMENT = strawberry.enum_value("EQUIPMENT", description="Оборудование")
    CAPACITY = strawberry.enum_value("CAPACITY", description="Рабочие места")
    STAFF = strawberry.enum_value("STAFF", description="Кадры")
    COMBINATION = strawberry.enum_value("COMBINATION", description="Нет площадки со всем сразу")
    PARTNER_LIMIT = strawberry.enum_value("PARTNER_LIMIT",
                                          description="Ограничение числа партнёров")


@strawberry.type(description="A staff member a party provides.")
class PlanStaff:
    uid: str = strawberry.field(description="Staff key.")
    full_name: str = strawberry.field(description="Full name.")
    expert_status: E.ExpertStatus = strawberry.field(description="Expert status.")


@strawberry.type(description="An equipment item a party provides.")
class PlanEquipment:
    uid: str = strawberry.field(description="Equipment key (ИНН:inventory number).")
    name: str | None = strawberry.field(description="Name.")
    type_code: str = strawberry.field(description="Equipment type code.")
    quantity: int = strawberry.field(description="Quantity.")


def _staff(items: tuple[pl.StaffInfo, ...]) -> list[PlanStaff]:
    return [PlanStaff(uid=s.uid, full_name=s.full_name,
                      expert_status=E.ExpertStatus(ExpertStatusCode(s.expert_status)))
            for s in items]


def _units(items: tuple[pl.Unit, ...]) -> list[PlanEquipment]:
    return [PlanEquipment(uid=u.uid, name=u.name, type_code=u.type, quantity=u.quantity)
            for u in items]


@strawberry.type(description="A module placed at a site.")
class NetworkPlanAssignment:
    _a: strawberry.Private[pl.Assignment]

    @strawberry.field(description="Module key (program:number).")
    def module_uid(self) -> str:
        return self._a.module

    @strawberry.field(description="Module number.")
    def module_number(self) -> int:
        return self._a.module_number

    @strawberry.field(description="Module name.")
    def module_name(self) -> str:
        return self._a.module_name

    @strawberry.field(description="Hours.")
    def hours(self) -> int:
        return self._a.hours

    @strawberry.field(description="Site key.")
    def site_uid(self) -> str:
        return self._a.site

    @strawberry.field(description="Site name.")
    def site_name(self) -> str:
        return self._a.site_name

    @strawberry.field(description="ИНН of the organization delivering the module.")
    def organization_inn(self) -> str:
        return self._a.organization

    @strawberry.field(description="Organization name.")
    def organization_name(self) -> str:
        return self._a.organization_name

    @strawberry.field(description="Base organization or participant.")
    def role(self) -> E.PartyRole:
        return E.PartyRole(self._a.role)

    @strawberry.field(description="Distance from the home organization's main site, km.")
    def distance_km(self) -> float | None:
        return self._a.distance_km

    @strawberry.field(description="Staff who can teach the module there.")
    def staff(self) -> list[PlanStaff]:
        return _staff(self._a.staff)

    @strawberry.field(description="Equipment of the required types at the site.")
    def equipment(self) -> list[PlanEquipment]:
        return _units(self._a.equipment)

    @strawberry.field(description="The module.")
    async def module(self, info: Info) -> T.Module | None:
        return await load_node(info, "Module", self._a.module)

    @strawberry.field(description="The site.")
    async def site(self, info: Info) -> T.Site | None:
        return await load_node(info, "Site", self._a.site)

    @strawberry.field(description="The organization.")
    async def organization(self, info: Info) -> T.Organization | None:
        return await load_node(info, "Organization", self._a.organization)


@strawberry.type(description="A requirement nobody in the region meets.")
class UnmetRequirement:
    kind: UnmetKind = strawberry.field(description="Kind of requirement.")
    message: str = strawberry.field(description="Explanation in Russian.")
    equipment_type_code: str | None = strawberry.field(description="Equipment type, if any.")
    required: int | None = strawberry.field(description="Quantity required.")
    best_available: int | None = strawberry.field(description="Most any site/org has.")


@strawberry.type(description="A module no site can take, and why.")
class UnplacedModule:
    module_uid: str = strawberry.field(description="Module key.")
    module_number: int = strawberry.field(description="Module number.")
    module_name: str = strawberry.field(description="Module name.")
    hours: int = strawberry.field(description="Hours.")
    reasons: list[UnmetRequirement] = strawberry.field(description="Unmet requirements.")


@strawberry.type(description="A module a party delivers.")
class AgreementModule:
    number: int = strawberry.field(description="Module number.")
    name: str = strawberry.field(description="Module name.")
    hours: int = strawberry.field(description="Hours.")


@strawberry.type(description="A site a party provides.")
class AgreementSite:
    uid: str = strawberry.field(description="Site key.")
    name: str = strawberry.field(description="Site name.")


@strawberry.type(description="A party of a network agreement and what it contributes.")
class AgreementParty:
    organization_inn: str = strawberry.field(description="ИНН.")
    name: str = strawberry.field(description="Name.")
    role: E.PartyRole = strawberry.field(description="Role.")
    role_label: str = strawberry.field(description="«Базовая организация» / "
                                                   "«Организация-участник».")
    modules: list[AgreementModule] = strawberry.field(description="Modules it delivers.")
    hours: int = strawberry.field(description="Hours it delivers.")
    sites: list[AgreementSite] = strawberry.field(description="Sites it provides.")
    equipment: list[PlanEquipment] = strawberry.field(description="Equipment it provides.")
    staff: list[PlanStaff] = strawberry.field(description="Staff it provides.")


def _party(p: pl.PartyShare) -> AgreementParty:
    return AgreementParty(
        organization_inn=p.organization, name=p.name, role=E.PartyRole(PartyRoleCode(p.role)),
        role_label=p.role_label,
        modules=[AgreementModule(number=n, name=name, hours=h) for n, name, h in p.modules],
        hours=p.hours, sites=[AgreementSite(uid=u, name=n) for u, n in p.sites],
        equipment=_units(p.equipment), staff=_staff(p.staff))


@strawberry.type(description="Fields of a network agreement (273-ФЗ art. 15) with one partner.")
class NetworkAgreementDraft:
    program_code: str = strawberry.field(description="Program code.")
    program_name: str = strawberry.field(description="Program name.")
    program_hours: int = strawberry.field(description="Program hours.")
    learners: int = strawberry.field(description="Number of learners.")
    start: dt.date | None = strawberry.field(description="Term start.")
    end: dt.date | None = strawberry.field(description="Term end.")
    base: AgreementParty = strawberry.field(description="The base organization.")
    participant: AgreementParty = strawberry.field(description="The participant.")
    existing_agreements: list[str] = strawberry.field(
        description="Agreements the two already have (keys).")


def _draft(d: pl.AgreementDraft) -> NetworkAgreementDraft:
    return NetworkAgreementDraft(
        program_code=d.program, program_name=d.program_name, program_hours=d.program_hours,
        learners=d.learners, start=d.start, end=d.end, base=_party(d.base),
        participant=_party(d.participant), existing_agreements=list(d.existing_agreements))


@strawberry.type(description="A network-form plan of a program: who delivers which module.")
class NetworkPlan:
    _plan: strawberry.Private[pl.NetworkPlan]
    _drafts: strawberry.Private[list[pl.AgreementDraft]]

    @strawberry.field(description="Plan key (home ИНН:program:start).")
    def uid(self) -> str | None:
        return self._plan.uid

    @strawberry.field(description="Status (a computed, unsaved plan is DRAFT).")
    def status(self) -> NetworkPlanStatus:
        return NetworkPlanStatus(self._plan.status)

    @strawberry.field(description="Program code.")
    def program_code(self) -> str:
        return self._plan.program

    @strawberry.field(description="Program name.")
    def program_name(self) -> str:
        return self._plan.program_name

    @strawberry.field(description="ИНН of the home (base) organization.")
    def home_organization_inn(self) -> str:
        return self._plan.home

    @strawberry.field(description="Learners in the cohort.")
    def cohort_size(self) -> int:
        return self._plan.cohort_size

    @strawberry.field(description="Term start.")
    def start(self) -> dt.date | None:
        return self._plan.start

    @strawberry.field(description="Term end.")
    def end(self) -> dt.date | None:
        return self._plan.end

    @strawberry.field(description="Partner bound given.")
    def max_partners(self) -> int | None:
        return self._plan.max_partners

    @strawberry.field(description="Main site of the home organization (distance origin).")
    def main_site_uid(self) -> str | None:
        return self._plan.main_site

    @strawberry.field(description="True: provably minimal partner count; false: heuristic.")
    def exact(self) -> bool:
        return self._plan.exact

    @strawberry.field(description="Distinct partner organizations.")
    def partner_count(self) -> int:
        return len(self._plan.partners)

    @strawberry.field(description="Sum of distances from the main site, km.")
    def total_distance_km(self) -> float:
        return round(self._plan.total_distance_km, 3)

    @strawberry.field(description="Modules placed, in module order.")
    def assignments(self) -> list[NetworkPlanAssignment]:
        return [NetworkPlanAssignment(_a=a) for a in self._plan.assignments]

    @strawberry.field(description="Modules that cannot be placed, with reasons.")
    def unplaced(self) -> list[UnplacedModule]:
        return [UnplacedModule(
            module_uid=u.module, module_number=u.module_number, module_name=u.module_name,
            hours=u.hours, reasons=[UnmetRequirement(
                kind=UnmetKind(r.kind), message=r.message, equipment_type_code=r.equipment_type,
                required=r.required, best_available=r.best_available) for r in u.reasons])
            for u in self._plan.unplaced]

    @strawberry.field(description="Network agreements needed, one per partner.")
    def agreements(self) -> list[NetworkAgreementDraft]:
        return [_draft(d) for d in self._drafts]

    @strawberry.field(description="The program.")
    async def program(self, info: Info) -> T.Program | None:
        return await load_node(info, "Program", self._plan.program)

    @strawberry.field(description="The home (base) organization.")
    async def home_organization(self, info: Info) -> T.Organization | None:
        return await load_node(info, "Organization", self._plan.home)


@strawberry.type(description="A page of stored network plans.")
class NetworkPlanConnection:
    nodes: list[NetworkPlan] = strawberry.field(description="Plans, by key.")
    has_next_page: bool = strawberry.field(description="More plans follow.")
    end_cursor: str | None = strawberry.field(description="Pass as `after` for the next page.")


@strawberry.type(description="A generated document.")
class Document:
    filename: str = strawberry.field(description="Suggested file name.")
    media_type: str = strawberry.field(description="MIME type.")
    content_base64: str = strawberry.field(description="The file, base64.")
