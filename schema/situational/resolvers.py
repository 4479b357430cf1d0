"""Queries of the situational centre: the dashboard in one Cypher round trip, the learner
portfolio in one, and list connections of the activity registries (generic machinery)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry
from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from graph import kpi as K
from graph.errors import DomainError, NotFound
from schema.core.access import requires
from schema.core.node import context
from schema.registry.types import people_forbidden, people_scope
from schema.situational import types as T

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


async def situational_centre(info: Info, region: str | None, period: str,
                             as_of: dt.date | None = None,
                             regions: list[str] | None = None) -> T.SituationalCentre:
    """One region, a list of regions, or (neither) every region: the federal view."""
    if region is not None and regions is not None:
        raise DomainError("укажите либо region, либо regions (не оба)", argument="regions")
    if regions is not None and not regions:
        raise DomainError("regions: пустой список; для всей страны не указывайте ни region, "
                          "ни regions", argument="regions")
    p = K.parse_period(period)
    as_of = as_of or dt.date.today()
    parts = parts_for(info)
    ctx = context(info)
    if region is not None:
        names = [region]
    elif regions is not None:
        names = sorted(set(regions))
    else:
        names = sorted((await ctx.read(K.ALL_REGIONS_CYPHER))[0]["regions"])
    query, params = K.dashboard_query(names, p, parts, as_of)

    async def compute() -> K.Dashboard:
        # one statement for everything selected, shared by the screens asking at once; it
        # also names the regions asked for that do not exist
        rows = await ctx.read(query, **params)
        return K.parse_dashboard(rows[0], names, p)

    board = await ctx.dashboards.get((tuple(names), p, as_of, parts), compute)
    if board.unknown_regions:
        argument = "region" if region is not None else "regions"
        raise not_found(argument, board.unknown_regions[0], "Регион")
    return T.SituationalCentre(
        _board=board, region=names[0] if len(names) == 1 else None, regions=names,
        period=p.label, period_start=p.start, period_end=p.end,
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
RegionArg = Annotated[str | None, strawberry.argument(
    description="Subject code, e.g. 52. Without it and without `regions`: every region.")]
RegionsArg = Annotated[list[str] | None, strawberry.argument(
    description="Subject codes: the dashboard of these regions together (flows summed, a "
                "person counted once); instead of `region`.")]
PeriodArg = Annotated[str, strawberry.argument(
    description="2025, 2025-Q2, 2025-05 or 2025-01-01..2025-06-30.")]
AsOfArg = Annotated[dt.date | None, strawberry.argument(
    description="Date for the roadmap's overdue state; default today.")]


@strawberry.type(description="Situational centre: dashboard and portfolio.")
class SituationalQuery:
    # Who reads it: every role (`read`), any region and the federal view alike — the same rule
    # as for one region: aggregate counts, no personal data.
    @strawberry.field(description="KPIs, supply × demand and the roadmap of a region for a "
                                  "period; with `regions` of those regions together, with "
                                  "neither of the whole country (flows summed over the "
                                  "regions, each person counted once; the roadmap is a "
                                  "region's: empty over several) — one database round trip "
                                  "for everything selected.",
                      metadata=requires("read"))
    async def situational_centre(self, info: Info, region: RegionArg = None,
                                 regions: RegionsArg = None, *, period: PeriodArg,
                                 as_of: AsOfArg = None) -> T.SituationalCentre:
        return await situational_centre(info, region, period, as_of, regions)

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


Query = SituationalQuery
