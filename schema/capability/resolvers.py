"""Query fields: which sites can deliver a competency, network program plans (read-only)."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from graph import capability as cap
from graph import planning as pl
from graph import privacy
from graph.agreement_doc import DOCX_MEDIA_TYPE, agreements_docx, docx_filename
from graph.kpi import UNKNOWN_CODES_CYPHER
from graph.writes import Plan, run_plan_async
from schema.capability.types import (
    Document,
    GeoPointInput,
    NetworkPlan,
    NetworkPlanStatus,
    SiteCapabilityConnection,
    site_connection,
    staff_first_selected,
)
from schema.core.access import requires
from schema.core.connection import Connection, cursor_key, key_cursor, page_of, selects
from schema.core.errors import api_error
from schema.core.node import check_limit, context, load_nodes
from schema.registry.types import people_scope
from schema.situational.resolvers import not_found


def reader(info: Info) -> cap.Read:
    ctx = context(info)
    return lambda query, params: ctx.read(query, **params)


async def _records(rows: list[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    for row in rows:
        yield row


class ContextReads:
    """The request's reads in the shape `graph.writes.run_plan_async` drives (`await
    tx.run(query, params)`, then `async for`): each statement of a read plan is one counted
    read of the request context."""

    def __init__(self, info: Info) -> None:
        self._ctx = context(info)

    async def run(self, query: str, params: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        return _records(await self._ctx.read(query, **params))


async def read_plan(info: Info, plan: Plan) -> Any:
    """Run a read plan (graph/planning) through the request context."""
    return await run_plan_async(ContextReads(info), plan)


def bad(exc: ValueError) -> Exception:
    return api_error(str(exc), "BAD_ARGUMENT")


_WHAT = {"Region": "Регион", "Municipality": "Муниципальное образование",
         "Competency": "Компетенция", "Program": "Программа", "Organization": "Организация"}


async def unknown_codes(info: Info, codes: list[tuple[str, str, str | None]]) -> None:
    """NOT_FOUND for the first argument whose code no node has ((argument, label, value));
    one statement, run only when an answer is empty or refused (the usual answer costs none)."""
    wanted = [{"argument": a, "label": label, "value": v} for a, label, v in codes if v]
    if not wanted:
        return
    rows = await context(info).read(UNKNOWN_CODES_CYPHER, codes=wanted)
    if rows:
        label = next(x["label"] for x in wanted if x["argument"] == rows[0]["argument"])
        raise not_found(rows[0]["argument"], rows[0]["value"], _WHAT[label])


def plan_view(plan: pl.NetworkPlan, drafts: list[pl.AgreementDraft]) -> NetworkPlan:
    return NetworkPlan(_plan=plan, _drafts=drafts)


HIDDEN_NAME = "ФИО скрыто (152-ФЗ), таб. № {number}"


async def names_in_scope(info: Info, plan: pl.NetworkPlan, drafts: list[pl.AgreementDraft]
                         ) -> tuple[pl.NetworkPlan, list[pl.AgreementDraft]]:
    """The plan and drafts with the names of staff outside the caller's personal-data scope
    (`graph.privacy`) replaced by their personnel numbers: the DOCX has no null to show."""
    scope = people_scope(info)
    if scope.everything:
        return plan, drafts
    staff = [s for a in plan.assignments for s in a.staff]
    staff += [s for d in drafts for p in (d.base, d.participant) for s in p.staff]
    staff += [s for d in drafts for u in d.resources for s in u.staff]
    inns = sorted({privacy.staff_organization(s.uid) for s in staff})
    regions: dict[str, str | None] = {}
    if scope.region is not None and inns:
        regions = {o._p["uid"]: o._p.get("region")
                   for o in await load_nodes(info, "Organization", inns)}

    def shown(items: tuple[pl.StaffInfo, ...]) -> tuple[pl.StaffInfo, ...]:
        out = []
        for s in items:
            inn = privacy.staff_organization(s.uid)
            if not privacy.readable(scope, (regions.get(inn),), (inn,)):
                s = replace(s, full_name=HIDDEN_NAME.format(number=s.uid.partition(":")[2]))
            out.append(s)
        return tuple(out)

    plan = replace(plan, assignments=tuple(replace(a, staff=shown(a.staff))
                                           for a in plan.assignments))
    drafts = [replace(d, base=replace(d.base, staff=shown(d.base.staff)),
                      participant=replace(d.participant, staff=shown(d.participant.staff)),
                      resources=tuple(replace(u, staff=shown(u.staff)) for u in d.resources))
              for d in drafts]
    return plan, drafts



@strawberry.type
class Query:
    @strawberry.field(description="Sites that can deliver a competency to a cohort, best first: "
                                  "full coverage, coverage, distance, workplaces.",
                      metadata=requires("read"))
    async def sites_for_competency(
        self, info: Info,
        competency: Annotated[str, strawberry.argument(description="Competency code.")],
        cohort_size: Annotated[int, strawberry.argument(description="Learners in the group.")],
        region: Annotated[str | None, strawberry.argument(description="Subject code.")] = None,
        municipality: Annotated[str | None, strawberry.argument(
            description="ОКТМО of the municipality.")] = None,
        near: Annotated[GeoPointInput | None, strawberry.argument(
            description="Rank by great-circle distance from this point.")] = None,
        require_full_coverage: Annotated[bool, strawberry.argument(
            description="Only sites that cover everything for the whole cohort.")] = False,
        first: Annotated[int, strawberry.argument(description="Page size (≤ 100).")] = 20,
        after: Annotated[str | None, strawberry.argument(description="Cursor.")] = None,
    ) -> SiteCapabilityConnection:
        check_limit(first)
        staff_first = staff_first_selected(info)
        q = cap.SitesQuery(competency, cohort_size, region, municipality,
                           (near.lat, near.lon) if near else None, require_full_coverage,
                           first, after, staff_first=staff_first)
        codes = [("competency", "Competency", competency), ("region", "Region", region),
                 ("municipality", "Municipality", municipality)]
        try:
            page = await cap.sites_for_competency_async(reader(info), q)
        except cap.CapabilityError as exc:
            await unknown_codes(info, codes)
            raise bad(exc) from None
        if page.total_count == 0:  # nothing found: an unknown code is NOT_FOUND, not zeros
            await unknown_codes(info, codes)
        return site_connection(page, after, staff_first)

    @strawberry.field(description="Plan a program in network form (273-ФЗ art. 15): which "
                                  "organization delivers which module, agreements needed. "
                                  "Nothing is stored (see saveNetworkPlan).",
                      metadata=requires("plan"))
    async def plan_network_program(
        self, info: Info,
        program: Annotated[str, strawberry.argument(description="Program code.")],
        cohort_size: Annotated[int, strawberry.argument(description="Learners.")],
        home_organization: Annotated[str, strawberry.argument(
            description="ИНН of the base organization.")],
        max_partners: Annotated[int | None, strawberry.argument(
            description="At most this many partner organizations.")] = None,
        start: Annotated[dt.date | None, strawberry.argument(description="Term start.")] = None,
        end: Annotated[dt.date | None, strawberry.argument(description="Term end.")] = None,
    ) -> NetworkPlan:
        try:
            plan, drafts = await read_plan(info, pl.plan_network_program(
                program, home_organization, cohort_size, max_partners, start, end))
        except pl.PlanningError as exc:
            await unknown_codes(info, [("program", "Program", program),
                                       ("homeOrganization", "Organization", home_organization)])
            raise bad(exc) from None
        return plan_view(plan, drafts)

    @strawberry.field(description="Stored network plans, by key.",
                      metadata=requires("read"))
    async def network_plans(
        self, info: Info,
        program: Annotated[str | None, strawberry.argument(description="Program code.")] = None,
        home_organization: Annotated[str | None, strawberry.argument(
            description="ИНН of the base organization.")] = None,
        status: Annotated[NetworkPlanStatus | None, strawberry.argument(
            description="Status.")] = None,
        first: Annotated[int, strawberry.argument(description="Page size (≤ 100).")] = 20,
        after: Annotated[str | None, strawberry.argument(
            description="`endCursor` of the previous page.")] = None,
    ) -> Connection[NetworkPlan]:
        check_limit(first)
        with_total = selects(info, "totalCount")
        page = await read_plan(info, pl.load_plans(pl.PlanFilter(
            program=program, home=home_organization, status=status.value if status else None,
            first=first, after=cursor_key("networkPlan", after) if after else None,
            with_total=with_total)))
        return page_of([plan_view(p, d) for p, d in page.plans],
                       [key_cursor("networkPlan", p.uid) for p, _ in page.plans],
                       has_next=page.has_next_page, after=after, total=page.total)

    @strawberry.field(description="A stored plan's network-agreement draft (DOCX, Russian): "
                                  "one agreement per partner. Staff names outside the "
                                  "caller's personal-data scope (152-ФЗ; all of them for "
                                  "planners) are replaced by personnel numbers.",
                      metadata=requires("plan"))
    async def network_plan_document(
        self, info: Info, uid: Annotated[str, strawberry.argument(description="Plan key.")],
    ) -> Document:
        try:
            plan, drafts = await read_plan(info, pl.load_plan(uid))
        except pl.PlanningError as exc:
            raise bad(exc) from None
        content = agreements_docx(*await names_in_scope(info, plan, drafts))
        return Document(filename=docx_filename(plan), media_type=DOCX_MEDIA_TYPE,
                        content_base64=base64.b64encode(content).decode())
