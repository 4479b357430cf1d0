"""GraphQL types of the situational centre: the dashboard (KPIs, supply × demand matrix,
roadmap tracker) and the learner portfolio."""

from __future__ import annotations

import datetime as dt

import strawberry

from graph import enums as e
from graph import kpi as K
from schema.core.enums import (
    CareerGuidanceKind,
    EnrollmentStatus,
    LearnerCategory,
    Recurrence,
    RoadmapStatus,
)

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


@strawberry.type(description="Situational centre of a region, of several regions together or "
                             "of the whole country, for one period.")
class SituationalCentre:
    _board: strawberry.Private[K.Dashboard]
    region: str | None = strawberry.field(
        description="Subject code; null when the view covers several regions.")
    regions: list[str] = strawberry.field(description="The subject codes the figures cover.")
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
