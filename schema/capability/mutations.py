"""Mutations of network plans: save a computed plan, move it DRAFT → AGREED → RUNNING."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from graph import audit
from graph import planning as pl
from graph.access import plan_denial
from graph.writes import run_plan_async
from schema.capability.resolvers import plan_view
from schema.capability.types import NetworkPlan, NetworkPlanStatus
from schema.core.access import requires
from schema.core.errors import FieldError, api_error
from schema.core.node import context


@strawberry.type(description="Result of a plan mutation: the plan, or why it was refused.")
class NetworkPlanPayload:
    plan: NetworkPlan | None = strawberry.field(description="The stored plan.")
    errors: list[FieldError] = strawberry.field(description="Why it was refused.")


def _refused(field: str, value: Any, exc: Exception) -> NetworkPlanPayload:
    return NetworkPlanPayload(plan=None, errors=[FieldError(
        index=None, path=[field], field=field, value=None if value is None else str(value),
        message=str(exc))])


PLAN_HOME_CYPHER = """
OPTIONAL MATCH (o:Organization {uid: $home})
OPTIONAL MATCH (:NetworkPlan {uid: $plan})-[:BASE_ORGANIZATION]->(b:Organization)
RETURN coalesce(b.uid, o.uid) AS home, coalesce(b.region, o.region) AS region
"""


async def _checked_actor(info: Info, tx: Any, *, home: str | None = None,
                         plan: str | None = None) -> str:
    """Who writes, after the row-level rule (`graph.access.plan_denial`) on the plan's base
    organization: the one given (save) or the stored plan's (status)."""
    principal = context(info).principal
    if principal is None:
        raise pl.PlanningError("требуется токен доступа")
    cursor = await tx.run(PLAN_HOME_CYPHER, home=home, plan=plan)
    record = await cursor.single()
    if record["home"] is None:
        raise pl.PlanningError("план не найден" if plan else
                               f"организация {home!r} не найдена")
    reason = plan_denial(principal, record["home"], record["region"])
    if reason:
        raise PlanRefused(reason)
    return principal.name


class PlanRefused(Exception):
    """The principal may not write plans of this base organization."""


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Plan the program (as planNetworkProgram) and store the "
                                     "plan as a graph in status DRAFT; saving again replaces "
                                     "a DRAFT, agreed or running plans are kept.",
                         metadata=requires("plan"))
    async def save_network_plan(
        self, info: Info,
        program: Annotated[str, strawberry.argument(description="Program code.")],
        cohort_size: Annotated[int, strawberry.argument(description="Learners.")],
        home_organization: Annotated[str, strawberry.argument(
            description="ИНН of the base organization.")],
        max_partners: Annotated[int | None, strawberry.argument(
            description="At most this many partner organizations.")] = None,
        start: Annotated[dt.date | None, strawberry.argument(description="Term start.")] = None,
        end: Annotated[dt.date | None, strawberry.argument(description="Term end.")] = None,
    ) -> NetworkPlanPayload:
        async def work(tx: Any) -> tuple[pl.NetworkPlan, list[pl.AgreementDraft]]:
            actor = await _checked_actor(info, tx, home=home_organization)
            now = dt.datetime.now(dt.UTC)
            plan, drafts = await run_plan_async(tx, pl.plan_network_program(
                program, home_organization, cohort_size, max_partners, start, end))
            uid = await run_plan_async(tx, pl.save_plan(plan, now))
            await audit.record_async(tx, "NetworkPlan", [{
                "uid": uid, "op": "save", "fields": ["assignments"],
                "after": {"modules": len(plan.assignments), "unplaced": len(plan.unplaced)},
            }], actor, "graphql", now)
            return plan, drafts

        try:
            plan, drafts = await context(info).write(work)
        except pl.PlanningError as exc:
            return _refused("program", program, exc)
        except PlanRefused as exc:
            raise api_error(str(exc), "FORBIDDEN") from exc
        return NetworkPlanPayload(plan=plan_view(plan, drafts), errors=[])

    @strawberry.mutation(description="Move a stored plan one step: DRAFT → AGREED → RUNNING.",
                         metadata=requires("plan"))
    async def set_network_plan_status(
        self, info: Info,
        uid: Annotated[str, strawberry.argument(description="Plan key.")],
        status: Annotated[NetworkPlanStatus, strawberry.argument(description="New status.")],
    ) -> NetworkPlanPayload:
        async def work(tx: Any) -> tuple[pl.NetworkPlan, list[pl.AgreementDraft]]:
            actor = await _checked_actor(info, tx, plan=uid)
            now = dt.datetime.now(dt.UTC)
            await run_plan_async(tx, pl.set_plan_status(uid, status.value, now))
            await audit.record_async(tx, "NetworkPlan", [{
                "uid": uid, "op": "update", "fields": ["status"],
                "after": {"status": status.value}}], actor, "graphql", now)
            return await run_plan_async(tx, pl.load_plan(uid))

        try:
            plan, drafts = await context(info).write(work)
        except pl.PlanningError as exc:
            return _refused("status", status.value, exc)
        except PlanRefused as exc:
            raise api_error(str(exc), "FORBIDDEN") from exc
        return NetworkPlanPayload(plan=plan_view(plan, drafts), errors=[])
