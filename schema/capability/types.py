"""GraphQL types of capability matching and network plans: views over graph/ dataclasses."""

from __future__ import annotations

import base64
import datetime as dt
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from graph import capability as cap
from graph import planning as pl
from graph import privacy
from schema.capability.dataloaders import load_staff_page
from schema.core import enums as E
from schema.core.connection import Connection, Edge, PageInfo
from schema.core.errors import api_error
from schema.core.node import check_limit, load_node
from schema.registry import types as T


async def _organization_region(info: Info, inn: str) -> str | None:
    org = await load_node(info, "Organization", inn)
    return None if org is None else org._p.get("region")


def staff_name(info: Info, staff_uid: str, full_name: str) -> Any:
    """`full_name` when the caller reads the staff member's name (`graph.privacy`), else None;
    an operator's check loads the employer (batched per request)."""
    scope = T.people_scope(info)
    inn = privacy.staff_organization(staff_uid)
    if scope.everything or scope.nothing or scope.region is None:
        return full_name if privacy.readable(scope, (), (inn,)) else None

    async def later() -> str | None:
        region = await _organization_region(info, inn)
        return full_name if privacy.readable(scope, (region,), (inn,)) else None

    return later()


@strawberry.input(description="A point on the map (WGS 84).")
class GeoPointInput:
    lat: float = strawberry.field(description="Latitude, degrees.")
    lon: float = strawberry.field(description="Longitude, degrees.")


# Scalar fields are plain attributes (graphql-core's default resolver: cheap for the hundreds
# of fields a page has); only links to nodes and the staff page have resolvers.


@strawberry.type(description="An infrastructure-list item a site lacks for the cohort.")
class CapabilityGap:
    equipment_type_code: str = strawberry.field(description="Equipment type code.")
    equipment_type_name: str = strawberry.field(description="Equipment type name.")
    scope: E.RequirementScope = strawberry.field(description="Per workplace or per group.")
    required: int = strawberry.field(description="Quantity the cohort needs.")
    available: int = strawberry.field(description="Working quantity at the site.")
    missing: int = strawberry.field(description="required − available.")

    @strawberry.field(description="The equipment type.")
    async def equipment_type(self, info: Info) -> T.EquipmentType | None:
        return await load_node(info, "EquipmentType", self.equipment_type_code)


def _gap(g: cap.Gap) -> CapabilityGap:
    return CapabilityGap(
        equipment_type_code=g.equipment_type, equipment_type_name=g.equipment_type_name,
        scope=E.RequirementScope(g.scope), required=g.required,
        available=g.available, missing=g.missing)


@strawberry.type(description="A staff member qualified in the competency.")
class QualifiedStaffMember:
    _full_name: strawberry.Private[str]
    uid: str = strawberry.field(description="Staff key (ИНН:табельный номер).")
    role: E.StaffRole = strawberry.field(description="Role.")
    expert_status: E.ExpertStatus = strawberry.field(description="Expert status in the competency.")
    valid_until: dt.date | None = strawberry.field(description="Qualification valid until.")

    @strawberry.field(description="Full name (ФИО)." + T.PERSONAL_NOTE)
    def full_name(self, info: Info) -> str | None:
        return staff_name(info, self.uid, self._full_name)

    @strawberry.field(description="The staff member.")
    async def staff(self, info: Info) -> T.Staff | None:
        return await load_node(info, "Staff", self.uid)


def _member(s: cap.QualifiedStaff) -> QualifiedStaffMember:
    return QualifiedStaffMember(
        uid=s.uid, _full_name=s.full_name, role=E.StaffRole(s.role),
        expert_status=E.ExpertStatus(s.expert_status),
        valid_until=s.valid_until)


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
        raise api_error("Неверный курсор", "BAD_CURSOR")
    return uid


@strawberry.type(description="What one site can deliver of a competency for the cohort.")
class SiteCapability:
    _m: strawberry.Private[cap.SiteMatch]
    _competency: strawberry.Private[str]
    _staff_first: strawberry.Private[int | None]  # size of the prefetched staff page
    site_uid: str = strawberry.field(description="Site key (ИНН:code).")
    site_name: str = strawberry.field(description="Site name.")
    organization_inn: str = strawberry.field(description="ИНН of the organization.")
    organization_name: str = strawberry.field(description="Organization name.")
    workplaces: int = strawberry.field(description="Workplaces deliverable: min(site "
                                       "workplaces, per-workplace items' available ÷ quantity).")
    site_workplaces: int = strawberry.field(description="Workplaces of the site.")
    coverage: float = strawberry.field(description="Share of list items (staff requirement "
                                       "included) satisfied for the cohort, 0…1.")
    satisfied_items: int = strawberry.field(description="Items satisfied.")
    total_items: int = strawberry.field(description="Items in the list (staff requirement "
                                        "included).")
    full_coverage: bool = strawberry.field(description="Every item satisfied and the cohort "
                                           "fits at once.")
    distance_km: float | None = strawberry.field(description="Great-circle distance to `near`, "
                                                 "km.")
    gaps: list[CapabilityGap] = strawberry.field(description="Missing equipment for the cohort.")
    staff_missing: bool = strawberry.field(description="The staff requirement is not met.")
    qualified_staff_count: int = strawberry.field(description="Staff of the organization "
                                                  "qualified in the competency.")
    expert_count: int = strawberry.field(description="Of them, with an expert status.")

    @strawberry.field(description="The site.")
    async def site(self, info: Info) -> T.Site | None:
        return await load_node(info, "Site", self.site_uid)

    @strawberry.field(description="The organization.")
    async def organization(self, info: Info) -> T.Organization | None:
        return await load_node(info, "Organization", self.organization_inn)

    @strawberry.field(description="Qualified staff of the organization, a page.")
    def qualified_staff(
        self, info: Info,
        first: Annotated[int, strawberry.argument(description="Page size (≤ 100).")] = 20,
        after: Annotated[str | None, strawberry.argument(description="Cursor.")] = None,
    ) -> Connection[QualifiedStaffMember]:
        check_limit(first)
        prefetched = self._m.staff_page
        if after is None and prefetched is not None and first <= (self._staff_first or 0):
            # answered at once: a page of sites then completes without awaiting each site
            return self._staff_connection(cap.StaffPage(
                prefetched.staff[:first],
                len(prefetched.staff) > first or prefetched.has_next_page), after)
        return self._staff_later(info, first, after)

    def _staff_later(self, info: Info, first: int, after: str | None) -> Any:
        """The page read with the other sites' (one batch per request), as an awaitable."""
        key = cap.StaffKey(self._m.organization, self._competency, first, _staff_after(after))

        async def later() -> Any:
            return self._staff_connection(await load_staff_page(info, key), after)

        return later()

    def _staff_connection(self, page: cap.StaffPage, after: str | None) -> Any:
        edges = [Edge(cursor=_staff_cursor(s.uid), node=_member(s)) for s in page.staff]
        return Connection(edges=edges, page_info=PageInfo(
            has_next_page=page.has_next_page, has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None), total_count=self._m.staff_count)


def site_capability(m: cap.SiteMatch, competency: str,
                    staff_first: int | None) -> SiteCapability:
    return SiteCapability(
        _m=m, _competency=competency, _staff_first=staff_first, site_uid=m.site,
        site_name=m.site_name, organization_inn=m.organization,
        organization_name=m.organization_name, workplaces=m.workplaces,
        site_workplaces=m.site_workplaces, coverage=m.coverage, satisfied_items=m.satisfied,
        total_items=m.items, full_coverage=m.full_coverage, distance_km=m.distance_km,
        gaps=[_gap(g) for g in m.gaps], staff_missing=m.staff_missing,
        qualified_staff_count=m.staff_count, expert_count=m.expert_count)


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


def staff_first_selected(info: Info) -> int | None:
    """The largest `first` of `qualifiedStaff` selections without `after` (None: not asked),
    so the sites query can return those pages itself instead of a second round trip."""
    found: list[int] = []

    def walk(selections: Any) -> None:
        for sel in selections or ():
            if getattr(sel, "name", None) == "qualifiedStaff":
                args = getattr(sel, "arguments", {}) or {}
                if args.get("after") is None:
                    found.append(int(args.get("first", 20)))
            walk(getattr(sel, "selections", None))

    for f in info.selected_fields:
        walk(f.selections)
    return max(found) if found else None


def site_connection(page: cap.SitesPage, after: str | None,
                    staff_first: int | None = None) -> SiteCapabilityConnection:
    edges = [Edge(cursor=m.cursor, node=site_capability(m, page.competency, staff_first))
             for m in page.sites]
    return SiteCapabilityConnection(
        edges=edges,
        page_info=PageInfo(has_next_page=page.has_next_page, has_previous_page=after is not None,
                           start_cursor=edges[0].cursor if edges else None,
                           end_cursor=edges[-1].cursor if edges else None),
        total_count=page.total_count, min_staff=page.min_staff,
        expert_required=page.expert_required)


# ---------------------------------------------------------------- network plans


class NetworkPlanStatus(Enum):
    DRAFT = "DRAFT"
    AGREED = "AGREED"
    RUNNING = "RUNNING"


class UnmetKind(Enum):
    EQUIPMENT = "EQUIPMENT"
    CAPACITY = "CAPACITY"
    STAFF = "STAFF"
    COMBINATION = "COMBINATION"
    PARTNER_LIMIT = "PARTNER_LIMIT"


def _described(cls: type[Enum], description: str, labels: dict[str, str]) -> None:
    """Register the enum with GraphQL; each value's Russian label is its description."""
    strawberry.enum(cls, description=description)
    for value in cls.__strawberry_definition__.values:  # type: ignore[attr-defined]
        value.description = labels[value.value]


_described(NetworkPlanStatus, "Lifecycle of a network plan.", pl.PLAN_STATUS_LABELS)
_described(UnmetKind, "Which requirement of a module nobody meets.", {
    "EQUIPMENT": "Оборудование", "CAPACITY": "Рабочие места", "STAFF": "Кадры",
    "COMBINATION": "Нет площадки со всем сразу", "PARTNER_LIMIT": "Ограничение числа партнёров"})


@strawberry.type(description="A staff member a party provides.")
class PlanStaff:
    _full_name: strawberry.Private[str]
    uid: str = strawberry.field(description="Staff key.")
    expert_status: E.ExpertStatus = strawberry.field(description="Expert status.")

    @strawberry.field(description="Full name (ФИО)." + T.PERSONAL_NOTE)
    def full_name(self, info: Info) -> str | None:
        return staff_name(info, self.uid, self._full_name)


@strawberry.type(description="An equipment item a party provides.")
class PlanEquipment:
    uid: str = strawberry.field(description="Equipment key (ИНН:inventory number).")
    name: str | None = strawberry.field(description="Name.")
    type_code: str = strawberry.field(description="Equipment type code.")
    quantity: int = strawberry.field(description="Quantity.")


def _staff(items: tuple[pl.StaffInfo, ...]) -> list[PlanStaff]:
    return [PlanStaff(uid=s.uid, _full_name=s.full_name,
                      expert_status=E.ExpertStatus(s.expert_status))
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


@strawberry.type(description="Equipment of one type a party provides, counted.")
class AgreementEquipment:
    type_code: str = strawberry.field(description="Equipment type code.")
    name: str = strawberry.field(description="Name: the items' common name, else the type's.")
    quantity: int = strawberry.field(description="Units of the type (summed quantities).")
    line: str = strawberry.field(description="As the agreement states it: «Name — N шт.».")


def _groups(items: tuple[pl.EquipmentGroup, ...]) -> list[AgreementEquipment]:
    return [AgreementEquipment(type_code=g.type, name=g.name, quantity=g.quantity, line=g.line)
            for g in items]


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
    equipment: list[AgreementEquipment] = strawberry.field(
        description="Equipment it provides, by type with a count.")
    staff: list[PlanStaff] = strawberry.field(description="Staff it provides.")


def _party(p: pl.PartyShare) -> AgreementParty:
    return AgreementParty(
        organization_inn=p.organization, name=p.name, role=E.PartyRole(p.role),
        role_label=p.role_label,
        modules=[AgreementModule(number=n, name=name, hours=h) for n, name, h in p.modules],
        hours=p.hours, sites=[AgreementSite(uid=u, name=n) for u, n in p.sites],
        equipment=_groups(p.equipment), staff=_staff(p.staff))


@strawberry.type(description="Which resources of a party serve one module (the order of "
                             "using the parties' resources, 273-ФЗ art. 15).")
class AgreementResourceUse:
    organization_inn: str = strawberry.field(description="ИНН of the party.")
    party_name: str = strawberry.field(description="Name of the party.")
    role: E.PartyRole = strawberry.field(description="Role of the party.")
    module_number: int = strawberry.field(description="Module number.")
    module_name: str = strawberry.field(description="Module name.")
    hours: int = strawberry.field(description="Hours of the module.")
    site_uid: str = strawberry.field(description="Site key.")
    site_name: str = strawberry.field(description="Site name.")
    equipment: list[AgreementEquipment] = strawberry.field(
        description="Equipment used, by type with a count.")
    staff: list[PlanStaff] = strawberry.field(description="Staff who teach it.")


@strawberry.type(description="A document a party issues to learners on completion.")
class AgreementIssuedDocument:
    organization_inn: str = strawberry.field(description="ИНН of the issuing party.")
    issuer: str = strawberry.field(description="Name of the issuing party.")
    role: E.PartyRole = strawberry.field(description="Role of the issuing party.")
    document: str = strawberry.field(description="The document (Russian).")
    module_numbers: list[int] = strawberry.field(description="Modules it covers.")


@strawberry.type(description="An agreement in force between the two parties.")
class ExistingAgreement:
    uid: str = strawberry.field(description="Agreement key (base ИНН:number).")
    number: str = strawberry.field(description="Number.")
    signed_on: dt.date | None = strawberry.field(description="Date signed.")
    title: str = strawberry.field(description="«№ number от dd.mm.yyyy».")

    @strawberry.field(description="The agreement.")
    async def agreement(self, info: Info) -> T.PartnerAgreement | None:
        return await load_node(info, "PartnerAgreement", self.uid)


@strawberry.type(description="Fields of a network agreement (273-ФЗ art. 15) with one partner.")
class NetworkAgreementDraft:
    program_code: str = strawberry.field(description="Program code.")
    program_name: str = strawberry.field(description="Program name.")
    program_hours: int = strawberry.field(description="Program hours.")
    program_kind: str = strawberry.field(description="Kind of the program (вид), Russian.")
    program_level: str = strawberry.field(description="Level of education (уровень), Russian.")
    program_focus: str = strawberry.field(description="Focus (направленность): the "
                                          "competencies the program develops.")
    learners: int = strawberry.field(description="Number of learners.")
    learner_status: str = strawberry.field(description="Status of the learners (they are "
                                           "learners of the base organization), Russian.")
    start: dt.date | None = strawberry.field(description="Term start.")
    end: dt.date | None = strawberry.field(description="Term end.")
    base: AgreementParty = strawberry.field(description="The base organization.")
    participant: AgreementParty = strawberry.field(description="The participant.")
    resources: list[AgreementResourceUse] = strawberry.field(
        description="Order of using the parties' resources: per module, in module order.")
    documents: list[AgreementIssuedDocument] = strawberry.field(
        description="Documents issued on completion, the base organization's first.")
    existing_agreements: list[ExistingAgreement] = strawberry.field(
        description="Agreements the two already have.")


def _draft(d: pl.AgreementDraft) -> NetworkAgreementDraft:
    return NetworkAgreementDraft(
        program_code=d.program, program_name=d.program_name, program_hours=d.program_hours,
        program_kind=d.program_kind, program_level=d.program_level,
        program_focus=d.program_focus, learners=d.learners, learner_status=d.learner_status,
        start=d.start, end=d.end, base=_party(d.base), participant=_party(d.participant),
        resources=[AgreementResourceUse(
            organization_inn=u.organization, party_name=u.party_name,
            role=E.PartyRole(u.role), module_number=u.module_number,
            module_name=u.module_name, hours=u.hours, site_uid=u.site, site_name=u.site_name,
            equipment=_groups(u.equipment), staff=_staff(u.staff)) for u in d.resources],
        documents=[AgreementIssuedDocument(
            organization_inn=x.organization, issuer=x.issuer,
            role=E.PartyRole(x.role), document=x.document,
            module_numbers=list(x.modules)) for x in d.documents],
        existing_agreements=[ExistingAgreement(uid=x.uid, number=x.number,
                                               signed_on=x.signed_on, title=x.label)
                             for x in d.existing_agreements])


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


@strawberry.type(description="A generated document.")
class Document:
    filename: str = strawberry.field(description="Suggested file name.")
    media_type: str = strawberry.field(description="MIME type.")
    content_base64: str = strawberry.field(description="The file, base64.")
