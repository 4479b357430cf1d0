"""Queries of the situational centre: the dashboard in one Cypher round trip, the learner
portfolio in one, and list connections of the activity registries (generic machinery)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry
from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from graph import activities as _activities  # noqa: F401 - registers list specs
from graph import kpi as K
from graph.errors import NotFound
from schema.core.access import requires
from schema.core.node import context
from schema.registry.resolvers import FILTER_OVERRIDES, FILTER_TYPES, _list_field
from schema.registry.types import people_forbidden, people_scope
from schema.situational import types as T

_CODES = list[str]
FILTER_TYPES.setdefault("learner", (_CODES, "External ids of learners."))
FILTER_OVERRIDES.update({
    "learners": {"category": (list[T.LearnerCategory], "Learner categories.")},
    "enrollments": {"status": (list[T.EnrollmentStatus], "Enrollment statuses.")},
    "career_guidance_events": {"kind": (list[T.CareerGuidanceKind], "Kinds of activity."),
                               "organization": (_CODES, "ИНН of the organizer.")},
    "digital_resources": {"kind": (list[T.DigitalResourceKind], "Kinds of resource.")},
    "reference_documents": {"kind": (list[T.ReferenceDocumentKind], "Kinds of document.")},
    "cohorts": {"organization": (_CODES, "ИНН of the organization running the cohort.")},
})

LIST_FIELDS: dict[str, tuple[type, str]] = {
    "cohorts": (T.Cohort, "Cohorts (program runs)."),
    "learners": (T.Learner, ("Pseudonymous learners. Personal data (152-ФЗ): an admin lists "
                            "all, a region's operator the learners of its region, a registrar "
                            "the learners enrolled in cohorts its organizations run; FORBIDDEN "
                            "for planners and viewers (dashboards give the counts).")),
    "enrollments": (T.Enrollment, ("Enrollments of learners in cohorts. Personal data "
                                  "(152-ФЗ): an admin lists all, a region's operator those in "
                                  "cohorts of organizations of its region, a registrar those "
                                  "in cohorts its organizations run; FORBIDDEN for planners "
                                  "and viewers (dashboards give the counts).")),
    "career_guidance_events": (T.CareerGuidanceEvent, "Career-guidance activities."),
    "staff_trainings": (T.StaffTraining, "Staff qualification upgrades."),
    "demand_signals": (T.DemandSignal, "Labour-market demand signals."),
    "digital_resources": (T.DigitalResource, "ICT resources."),
    "reference_documents": (T.ReferenceDocument, "Reference documents."),
}

# Dashboard fields → the query parts they need.
_PARTS = {"kpis": "kpis", "matrix": "matrix", "roadmap": "roadmap"}


def _selected(selections: list[Any]) -> set[str]:
    names: set[str] = set()
    for sel in selections:
        if isinstance(sel, SelectedField):
            names.add(sel.name)
        elif isinstance(sel, FragmentSpread | InlineFragment):
            names |= _selected(sel.selections)
    return names


def parts_for(info: Info) -> tuple[str, ...]:
    names = _selected(info.selected_fields[0].selections)
    return tuple(p for f, p in _PARTS.items() if f in names)


def not_found(argument: str, value: str, what: str) -> NotFound:
    """An unknown code in an argument: NOT_FOUND naming the argument and the value."""
    return NotFound(f"Нет такого кода: {what.lower()} «{value}» (аргумент {argument})",
                    argument=argument, value=value)


async def situational_centre(info: Info, region: str, period: str,
                             as_of: dt.date | None = None) -> T.SituationalCentre:
    p = K.parse_period(period)
    as_of = as_of or dt.date.today()
    parts = parts_for(info)
    ctx = context(info)

    async def compute() -> K.Dashboard:
        # one statement for everything selected (or just the region check), shared by the
        # screens asking at once; it also says whether the region exists
        rows = await ctx.read(K.dashboard_cypher(parts), **K.dashboard_params(region, p, as_of))
        return K.parse_dashboard(rows[0], region, p)

    board = await ctx.dashboards.get((region, p, as_of, parts), compute)
    if not board.region_known:
        raise not_found("region", region, "Регион")
    return T.SituationalCentre(
        _board=board, region=region, period=p.label, period_start=p.start, period_end=p.end,
        previous_period=board.previous.label, as_of=as_of)


async def learner_portfolio(info: Info, external_id: str) -> T.Portfolio | None:
    scope = people_scope(info)
    if scope.nothing:
        raise people_forbidden(info, scope)
    rows = await context(info).read(K.PORTFOLIO_CYPHER, externalId=external_id,
                                    people=scope.param())
    if rows and not rows[0]["readable"]:
        raise people_forbidden(info, scope)
    portfolio = K.parse_portfolio(rows[0] if rows else None)
    return None if portfolio is None else T.Portfolio.of(portfolio)


# The arguments of a dashboard, for the query and its subscription alike.
RegionArg = Annotated[str, strawberry.argument(description="Subject code, e.g. 52.")]
PeriodArg = Annotated[str, strawberry.argument(
    description="2025, 2025-Q2, 2025-05 or 2025-01-01..2025-06-30.")]
AsOfArg = Annotated[dt.date | None, strawberry.argument(
    description="Date for the roadmap's overdue state; default today.")]


@strawberry.type(description="Situational centre: dashboard, portfolio, activity registries.")
class SituationalQuery:
    @strawberry.field(description="KPIs, supply × demand and the roadmap of a region for a "
                                  "period — one database round trip for everything selected.",
                      metadata=requires("read"))
    async def situational_centre(self, info: Info, region: RegionArg, period: PeriodArg,
                                 as_of: AsOfArg = None) -> T.SituationalCentre:
        return await situational_centre(info, region, period, as_of)

    @strawberry.field(description="Everything a learner completed and attended, by external id. "
                                  "Personal data (152-ФЗ): readable by an admin, the operator "
                                  "of the learner's region and a registrar of a cohort the "
                                  "learner is enrolled in, and holding only the enrollments "
                                  "and activities in the caller's scope; FORBIDDEN otherwise "
                                  "(always for planners and viewers).",
                      metadata=requires("read"))
    async def learner_portfolio(
        self, info: Info,
        external_id: Annotated[str, strawberry.argument(description="External id.")],
    ) -> T.Portfolio | None:
        return await learner_portfolio(info, external_id)


Query = strawberry.type(
    type("SituationalQuery", (SituationalQuery,), {
        "__module__": __name__,
        **{registry: _list_field(registry, cls, desc)
           for registry, (cls, desc) in LIST_FIELDS.items()},
    }),
    description="Situational centre: dashboard, portfolio, activity registries.",
)
