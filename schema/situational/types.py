"""GraphQL types of the situational centre: activity registry nodes, the dashboard (KPIs,
supply × demand matrix, roadmap tracker) and the learner portfolio."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from graph import activities as _activities  # noqa: F401 - registers the traversals
from graph import enums as e
from graph import kpi as K
from graph.models import join_key
from graph.privacy import BY_LABEL
from graph.reads import TRAVERSALS, traversal_query
from schema.core.node import (
    Node,
    check_limit,
    context,
    load_node,
    load_nodes,
    load_traversal,
    node_type,
    prop,
    wrap,
)
from schema.registry.types import (  # noqa: F401 - names used in string annotations
    PERSONAL_NOTE,
    Competency,
    Municipality,
    Organization,
    Program,
    Region,
    Site,
    Staff,
    guard_record,
    label_of,
    people_forbidden,
    people_scope,
    personal_value,
)

First = Annotated[int, strawberry.argument(description="How many items (at most 100).")]


from schema.core.enums import (
    CareerGuidanceKind,
    DigitalResourceKind,
    EnrollmentStatus,
    LearnerCategory,
    Recurrence,
    ReferenceDocumentKind,
    RoadmapStatus,
)


def _link(label: str, type_name: str, description: str, *keys: str) -> Any:
    async def resolve(root: Any, info: Info) -> Any:
        parts = [root._p.get(k) for k in keys]
        uid = None if any(p is None for p in parts) else join_key(*map(str, parts))
        return await load_node(info, label, uid)

    resolve.__annotations__ = {"root": Any, "info": Info, "return": f"{type_name} | None"}
    return strawberry.field(resolver=resolve, description=description)


def _links(label: str, type_name: str, description: str, key: str) -> Any:
    async def resolve(root: Any, info: Info) -> Any:
        return await load_nodes(info, label, list(root._p.get(key) or []))

    resolve.__annotations__ = {"root": Any, "info": Info, "return": f"list[{type_name}]"}
    return strawberry.field(resolver=resolve, description=description)


def _nested(traversal: str, type_name: str, description: str) -> Any:
    async def resolve(root: Any, info: Info, first: int = 50) -> Any:
        return [n for n, _ in await load_traversal(info, traversal, root._p["uid"], first)]

    resolve.__annotations__ = {"root": Any, "info": Info, "first": First,
                               "return": f"list[{type_name}]"}
    return strawberry.field(resolver=resolve, description=description)


def _people_nested(traversal: str, type_name: str, description: str) -> Any:
    """A nested list of personal records (`graph.privacy`): all for an admin, those in the
    caller's scope for an operator or registrar (filtered in the query, before `first`),
    FORBIDDEN (null) for roles that read no people."""
    target = TRAVERSALS[traversal].target

    async def resolve(root: Any, info: Info, first: int = 50) -> Any:
        scope = people_scope(info)
        if scope.nothing:
            raise people_forbidden(info, scope)
        if scope.everything:
            return [n for n, _ in await load_traversal(info, traversal, root._p["uid"], first)]
        check_limit(first)
        ctx = context(info)

        async def load(uids: list[str]) -> list[Any]:
            query, params = traversal_query(traversal, list(dict.fromkeys(uids)), limit=first,
                                            people=scope.param())
            rows = await ctx.read(query, **params)
            found = {r["uid"]: r["items"] for r in rows}
            return [[wrap(target, i["props"]) for i in found.get(u, [])] for u in uids]

        return await ctx.loader(("people", traversal, first), load).load(root._p["uid"])

    resolve.__annotations__ = {"root": Any, "info": Info, "first": First,
                               "return": f"list[{type_name}] | None"}
    return strawberry.field(resolver=resolve, description=description)


_SCOPED = (" Personal data (152-ФЗ): only those in the caller's scope (admin: all, operator: "
           "cohorts of its region, registrar: cohorts of its organizations); null with "
           "FORBIDDEN for planners and viewers.")
_RECORD = (" Personal data (152-ФЗ): readable by an admin, the region's operator and the "
           "registrar of the organization running the cohort; anyone else gets FORBIDDEN.")


@node_type
@strawberry.type(description="A run of a program (учебная группа).")
class Cohort(Node):
    LABEL = "Cohort"
    program_code: str = prop("program", str, "Program code.")
    code: str = prop("code", str, "Cohort code within the program.")
    organization_inn: str = prop("organization", str, "ИНН of the organization running it.")
    site_keys: list[str] = prop("sites", list[str], "Sites (ИНН:code).")
    starts_on: dt.date = prop("starts_on", dt.date, "First day.")
    ends_on: dt.date = prop("ends_on", dt.date, "Last day.")
    seats: int = prop("seats", int, "Seats.")
    program: Program | None = _link("Program", "Program", "The program.", "program")
    organization: Organization | None = _link("Organization", "Organization",
                                              "Organization running the cohort.", "organization")
    sites: list[Site] = _links("Site", "Site", "Sites where it runs.", "sites")
    enrollments: list[Enrollment] | None = _people_nested("cohort_enrollments", "Enrollment",
                                                          "Enrollments." + _SCOPED)


@node_type
@strawberry.type(description="A pseudonymous learner: external id and category, no name or "
                             "СНИЛС. Still personal data (152-ФЗ): readable by an admin, the "
                             "operator of the learner's region and the registrar of a cohort "
                             "the learner is enrolled in; anyone else gets FORBIDDEN.")
class Learner(Node):
    LABEL = "Learner"

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> Any:
        """Every Learner the API returns passes here: FORBIDDEN outside the caller's scope."""
        return isinstance(obj, cls) and guard_record(info, BY_LABEL[cls.LABEL], obj._p)
    external_id: str = prop("external_id", str, "External id (from the source system).")
    category: LearnerCategory = prop("category", LearnerCategory, "Category.")
    category_label: str | None = label_of(e.LearnerCategory, "category")
    region_code: str = prop("region", str, "Subject code of the region.")
    municipality_code: str | None = prop("municipality", str | None, "ОКТМО.")
    source: str | None = prop("source", str | None, "Source system.")
    enrollments: list[Enrollment] | None = _people_nested("learner_enrollments", "Enrollment",
                                                          "Enrollments." + _SCOPED)
    events: list[CareerGuidanceEvent] = _nested("learner_events", "CareerGuidanceEvent",
                                                "Career-guidance activities attended.")


@node_type
@strawberry.type(description="A learner in a cohort." + _RECORD)
class Enrollment(Node):
    LABEL = "Enrollment"

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> Any:
        """Every Enrollment the API returns passes here: FORBIDDEN outside the caller's scope."""
        return isinstance(obj, cls) and guard_record(info, BY_LABEL[cls.LABEL], obj._p)
    program_code: str = prop("program", str, "Program code.")
    cohort_code: str = prop("cohort", str, "Cohort code.")
    learner_id: str = prop("learner", str, "External id of the learner.")
    status: EnrollmentStatus = prop("status", EnrollmentStatus, "Status.")
    status_label: str | None = label_of(e.EnrollmentStatus, "status")
    enrolled_on: dt.date | None = prop("enrolled_on", dt.date | None, "Enrolled on.")
    completed_on: dt.date | None = prop("completed_on", dt.date | None, "Completed on.")
    certificate_number: str | None = prop("certificate_number", str | None,
                                          "Number of the document issued.")
    cohort: Cohort | None = _link("Cohort", "Cohort", "The cohort.", "program", "cohort")
    learner: Learner | None = _link("Learner", "Learner", "The learner.", "learner")


@node_type
@strawberry.type(description="Профориентационное мероприятие, профессиональная проба или "
                             "обучение первой профессии.")
class CareerGuidanceEvent(Node):
    LABEL = "CareerGuidanceEvent"
    organization_inn: str = prop("organization", str, "ИНН of the organizer.")
    code: str = prop("code", str, "Event code.")
    kind: CareerGuidanceKind = prop("kind", CareerGuidanceKind, "Kind.")
    kind_label: str | None = label_of(e.CareerGuidanceKind)
    name: str = prop("name", str, "Name.")
    held_on: dt.date = prop("held_on", dt.date, "Date.")
    site_key: str | None = prop("site", str | None, "Site (ИНН:code).")
    municipality_code: str | None = prop("municipality", str | None, "ОКТМО.")
    competency_code: str | None = prop("competency", str | None, "Competency code.")
    participants_school: int = prop("participants_school", int, "School students.")
    participants_college: int = prop("participants_college", int, "College students.")
    participants_employed: int = prop("participants_employed", int, "Employed adults.")
    participants_pre_retirement: int = prop("participants_pre_retirement", int,
                                            "Pre-retirement citizens.")
    participants_unemployed: int = prop("participants_unemployed", int, "Unemployed.")
    participants_poo_staff: int = prop("participants_poo_staff", int, "ПОО staff.")

    @strawberry.field(description="Known participants (external ids)." + PERSONAL_NOTE)
    def learner_ids(self, info: Info) -> list[str] | None:
        return personal_value(info, "career_guidance_events", self._p,
                              list(self._p.get("learners") or []))

    @strawberry.field(description="Participants, all categories.")
    def participants(self) -> int:
        return sum(int(self._p.get(f) or 0) for f in (
            "participants_school", "participants_college", "participants_employed",
            "participants_pre_retirement", "participants_unemployed", "participants_poo_staff"))

    organization: Organization | None = _link("Organization", "Organization", "Organizer.",
                                              "organization")
    site: Site | None = _link("Site", "Site", "Site.", "site")
    municipality: Municipality | None = _link("Municipality", "Municipality", "Municipality.",
                                              "municipality")
    competency: Competency | None = _link("Competency", "Competency", "Competency.",
                                          "competency")


@node_type
@strawberry.type(description="Повышение квалификации of a staff member in a competency.")
class StaffTraining(Node):
    LABEL = "StaffTraining"
    organization_inn: str = prop("organization", str, "ИНН of the employer.")
    personnel_number: str = prop("personnel_number", str, "Personnel number.")
    competency_code: str = prop("competency", str, "Competency code.")
    completed_on: dt.date = prop("completed_on", dt.date, "Completed on.")
    document: str = prop("document", str, "Document issued.")
    hours: int | None = prop("hours", int | None, "Hours.")
    provider_inn: str | None = prop("provider", str | None, "ИНН of the training provider.")
    staff: Staff | None = _link("Staff", "Staff", "The staff member.", "organization",
                                "personnel_number")
    competency: Competency | None = _link("Competency", "Competency", "Competency.",
                                          "competency")


@node_type
@strawberry.type(description="Labour-market demand for a competency in a municipality.")
class DemandSignal(Node):
    LABEL = "DemandSignal"
    competency_code: str = prop("competency", str, "Competency code.")
    municipality_code: str = prop("municipality", str, "ОКТМО.")
    source: str = prop("source", str, "Source.")
    starts_on: dt.date = prop("starts_on", dt.date, "Period start.")
    ends_on: dt.date = prop("ends_on", dt.date, "Period end.")
    vacancies: int = prop("vacancies", int, "Vacancies.")
    employer_requests: int = prop("employer_requests", int, "Employer requests for training.")
    survey_answers: int = prop("survey_answers", int, "Survey answers asking for it.")
    competency: Competency | None = _link("Competency", "Competency", "Competency.",
                                          "competency")
    municipality: Municipality | None = _link("Municipality", "Municipality", "Municipality.",
                                              "municipality")


@node_type
@strawberry.type(description="An ICT resource: course, simulator, platform.")
class DigitalResource(Node):
    LABEL = "DigitalResource"
    code: str = prop("code", str, "Code.")
    name: str = prop("name", str, "Name.")
    kind: DigitalResourceKind = prop("kind", DigitalResourceKind, "Kind.")
    kind_label: str | None = label_of(e.DigitalResourceKind)
    url: str | None = prop("url", str | None, "URL.")
    organization_inn: str | None = prop("organization", str | None, "ИНН of the owner.")
    competency_codes: list[str] = prop("competencies", list[str], "Competency codes.")
    program_codes: list[str] = prop("programs", list[str], "Program codes.")
    competencies: list[Competency] = _links("Competency", "Competency", "Competencies.",
                                            "competencies")
    programs: list[Program] = _links("Program", "Program", "Programs.", "programs")


@node_type
@strawberry.type(description="A standard, infrastructure list or normative act.")
class ReferenceDocument(Node):
    LABEL = "ReferenceDocument"
    code: str = prop("code", str, "Code.")
    name: str = prop("name", str, "Name.")
    kind: ReferenceDocumentKind = prop("kind", ReferenceDocumentKind, "Kind.")
    kind_label: str | None = label_of(e.ReferenceDocumentKind)
    number: str | None = prop("number", str | None, "Number.")
    issued_on: dt.date | None = prop("issued_on", dt.date | None, "Issued on.")
    url: str | None = prop("url", str | None, "URL.")
    competency_codes: list[str] = prop("competencies", list[str], "Competency codes.")
    program_codes: list[str] = prop("programs", list[str], "Program codes.")
    competencies: list[Competency] = _links("Competency", "Competency", "Competencies.",
                                            "competencies")
    programs: list[Program] = _links("Program", "Program", "Programs.", "programs")


@node_type
@strawberry.type(description="A roadmap activity of a region (stored state).")
class RoadmapActivity(Node):
    LABEL = "RoadmapActivity"
    region_code: str = prop("region", str, "Subject code.")
    number: int = prop("number", int, "Number in the template (1–66).")
    title: str = prop("title", str, "Title.")
    status: RoadmapStatus = prop("status", RoadmapStatus, "Status.")
    status_label: str | None = label_of(e.RoadmapStatus, "status")
    evidence: list[str] = prop("evidence", list[str], "Links to confirming documents.")
    notes: str | None = prop("notes", str | None, "Notes.")


@node_type
@strawberry.type(description="A control point of a roadmap activity (stored state).")
class ControlPoint(Node):
    LABEL = "ControlPoint"
    region_code: str = prop("region", str, "Subject code.")
    activity: int = prop("activity", int, "Activity number.")
    due_on: dt.date = prop("due_on", dt.date, "Due date.")
    done_on: dt.date | None = prop("done_on", dt.date | None, "Done on.")


@node_type
@strawberry.type(description="An indicator slot (`___`) of a roadmap activity (stored state).")
class IndicatorSlot(Node):
    LABEL = "IndicatorSlot"
    region_code: str = prop("region", str, "Subject code.")
    activity: int = prop("activity", int, "Activity number.")
    index: int = prop("index", int, "Slot number within the activity.")
    description: str = prop("description", str, "The sentence around the blank.")
    target: int | None = prop("target", int | None, "The region's target.")
    kpi: str | None = prop("kpi", str | None, "KPI key the actual comes from.")


# --- Dashboard --------------------------------------------------------------------------------

@strawberry.type(description="A KPI value in one quarter.")
class SeriesPoint:
    period: str = strawberry.field(description="Quarter, e.g. 2025-Q2.")
    value: int = strawberry.field(description="Value in that quarter.")


@strawberry.type(description="A KPI of the period, the previous period and by quarter.")
class Kpi:
    key: str = strawberry.field(description="Stable key, e.g. peopleTrainedCopp.SPO_MODULES; "
                                            "rules: graph/README.md (KPI contract).")
    kind: str = strawberry.field(description="flow (adds up over months, quarters, years), "
                                             "distinct (persons/organizations/programs, never "
                                             "above its flow) or stock (a state on a date).")
    label: str = strawberry.field(description="Russian name.")
    value: int = strawberry.field(description="Value in the period.")
    previous: int = strawberry.field(description="Value in the previous period.")
    change: int = strawberry.field(description="value − previous.")
    series: list[SeriesPoint] = strawberry.field(
        description="Quarters of the previous period and the period.")

    @staticmethod
    def of(k: K.Kpi) -> Kpi:
        return Kpi(key=k.key, kind=K.RULES[k.key.partition(".")[0]].kind, label=k.label,
                   value=k.value, previous=k.previous, change=k.change,
                   series=[SeriesPoint(period=p.period, value=p.value) for p in k.series])


@strawberry.type(description="Supply × demand for a competency in a municipality.")
class MatrixCell:
    competency_code: str
    competency_name: str
    municipality_code: str
    municipality_name: str
    sites: int = strawberry.field(description="Sites fully equipped for the competency.")
    workplaces: int = strawberry.field(
        description="Capacity: deliverable workplaces at those sites (a stock, not in supply).")
    graduates: int = strawberry.field(description="Completions in the period (people).")
    vacancies: int = strawberry.field(
        description="Vacancies of overlapping signals, prorated to the period by each "
                    "signal's own period (rounded half up).")
    employer_requests: int = strawberry.field(
        description="Employer requests, prorated like vacancies.")
    survey_answers: int = strawberry.field(description="Survey answers (not demand).")
    sources: list[str]
    demand: int = strawberry.field(description="People wanted over the period: prorated "
                                               "vacancies + employer requests.")
    supply: int = strawberry.field(description="People trained over the period: graduates.")
    gap: int = strawberry.field(description="demand − supply.")
    shortage: bool = strawberry.field(description="Demand exceeds supply (graduates).")

    @staticmethod
    def of(c: K.MatrixCell) -> MatrixCell:
        return MatrixCell(
            competency_code=c.competency, competency_name=c.competency_name,
            municipality_code=c.municipality, municipality_name=c.municipality_name,
            sites=c.sites, workplaces=c.workplaces, graduates=c.graduates, vacancies=c.vacancies,
            employer_requests=c.employer_requests, survey_answers=c.survey_answers,
            sources=list(c.sources), demand=c.demand, supply=c.supply, gap=c.gap,
            shortage=c.shortage)


@strawberry.type(description="A control point of an activity as of the dashboard date.")
class ControlPointView:
    due_on: dt.date
    done_on: dt.date | None
    overdue: bool


@strawberry.type(description="An indicator slot: the region's target against the live KPI.")
class SlotView:
    index: int
    description: str
    implicit: bool = strawberry.field(description="The template forgot this blank.")
    target: int | None
    kpi: str | None = strawberry.field(description="KPI key bound to the slot.")
    actual: int | None = strawberry.field(description="Live KPI value in the period.")
    progress: float | None = strawberry.field(description="actual / target.")


@strawberry.type(description="A roadmap activity with control points, overdue state and slots.")
class RoadmapActivityView:
    number: int
    group: int
    group_title: str
    title: str
    responsible: list[str]
    due_text: str
    first_due: dt.date
    recurrence: Recurrence
    expected_result: str
    documents: str
    status: RoadmapStatus
    status_label: str
    evidence: list[str]
    notes: str | None
    control_points: list[ControlPointView]
    overdue: bool = strawberry.field(description="A control point before the date is not done.")
    overdue_points: list[dt.date]
    next_due: dt.date | None
    slots: list[SlotView]

    @staticmethod
    def of(a: K.ActivityView) -> RoadmapActivityView:
        late = set(a.overdue_points)
        status = e.RoadmapStatus(a.status)
        return RoadmapActivityView(
            number=a.number, group=a.group, group_title=a.group_title, title=a.title,
            responsible=list(a.responsible), due_text=a.due_text, first_due=a.first_due,
            recurrence=e.Recurrence(a.recurrence), expected_result=a.expected_result,
            documents=a.documents, status=status, status_label=status.label,
            evidence=list(a.evidence), notes=a.notes,
            control_points=[ControlPointView(due_on=d, done_on=done, overdue=d in late)
                            for d, done in a.control_points],
            overdue=a.overdue, overdue_points=list(a.overdue_points), next_due=a.next_due,
            slots=[SlotView(index=s.index, description=s.description, implicit=s.implicit,
                            target=s.target, kpi=s.kpi, actual=s.actual,
                            progress=(s.actual / s.target if s.actual is not None and s.target
                                      else None)) for s in a.slots],
        )


@strawberry.type(description="Situational centre of one region for one period.")
class SituationalCentre:
    _board: strawberry.Private[K.Dashboard]
    region: str = strawberry.field(description="Subject code.")
    period: str = strawberry.field(description="The period, e.g. 2025 or 2025-Q2.")
    period_start: dt.date
    period_end: dt.date
    previous_period: str
    as_of: dt.date = strawberry.field(description="Date the roadmap's overdue state is for.")

    @strawberry.field(description="All KPIs (or those with the given keys).")
    def kpis(self, keys: list[str] | None = None) -> list[Kpi]:
        wanted = keys or list(K.KPI_KEYS)
        return [Kpi.of(self._board.kpis[k]) for k in wanted if k in self._board.kpis]

    @strawberry.field(description="Competency × municipality cells.")
    def matrix(self, only_shortage: bool = False) -> list[MatrixCell]:
        return [MatrixCell.of(c) for c in self._board.matrix if c.shortage or not only_shortage]

    @strawberry.field(description="The region's roadmap (after `hub roadmap init`).")
    def roadmap(self, only_overdue: bool = False) -> list[RoadmapActivityView]:
        return [RoadmapActivityView.of(a) for a in self._board.roadmap
                if a.overdue or not only_overdue]


# --- Portfolio --------------------------------------------------------------------------------

@strawberry.type(description="A program a learner took.")
class PortfolioEnrollment:
    status: EnrollmentStatus
    program_code: str
    program_name: str
    program_type: str
    competencies: list[str]
    hours: int
    cohort_code: str
    starts_on: dt.date
    ends_on: dt.date
    organization_inn: str | None
    organization_name: str | None
    enrolled_on: dt.date | None
    completed_on: dt.date | None
    certificate_number: str | None


@strawberry.type(description="A career-guidance activity a learner attended.")
class PortfolioEvent:
    code: str
    kind: CareerGuidanceKind
    name: str
    held_on: dt.date
    competency_code: str | None
    organization_inn: str


@strawberry.type(description="Everything a learner did, across sources.")
class Portfolio:
    external_id: str
    category: LearnerCategory
    region_code: str
    municipality_code: str | None
    enrollments: list[PortfolioEnrollment]
    events: list[PortfolioEvent]
    completed_count: int

    @staticmethod
    def of(p: K.Portfolio) -> Portfolio:
        return Portfolio(
            external_id=p.external_id, category=e.LearnerCategory(p.category),
            region_code=p.region, municipality_code=p.municipality,
            enrollments=[PortfolioEnrollment(
                status=e.EnrollmentStatus(x.status), program_code=x.program,
                program_name=x.program_name, program_type=x.program_type,
                competencies=list(x.competencies), hours=x.hours, cohort_code=x.cohort,
                starts_on=x.starts_on, ends_on=x.ends_on, organization_inn=x.organization,
                organization_name=x.organization_name, enrolled_on=x.enrolled_on,
                completed_on=x.completed_on, certificate_number=x.certificate)
                for x in p.enrollments],
            events=[PortfolioEvent(code=v.code, kind=e.CareerGuidanceKind(v.kind), name=v.name,
                                   held_on=v.held_on, competency_code=v.competency,
                                   organization_inn=v.organization) for v in p.events],
            completed_count=len(p.completed),
        )
