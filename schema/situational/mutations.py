"""Writes of the roadmap tracker's own fields (status, evidence, targets, control points);
the activity registries are written by the generic registry mutations."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry
from strawberry.types import Info
from strawberry.types.unset import UNSET

from graph import kpi as K
from graph import models as m
from graph.registry import REGISTRIES
from graph.roadmap import update_roadmap_async
from graph.validation import RowError
from graph.writes import fetch_cypher
from schema.core.access import requires
from schema.core.enums import RoadmapStatus
from schema.core.errors import FieldError, field_error
from schema.core.node import context, wrap
from schema.registry import types as T
from schema.registry.mutations import principal_of


@strawberry.type(description="Result of a roadmap write: the stored node, or why it was refused.")
class RoadmapPayload:
    activity: T.RoadmapActivity | None = None
    control_point: T.ControlPoint | None = None
    slot: T.IndicatorSlot | None = None
    errors: list[FieldError] = strawberry.field(default_factory=list)


@strawberry.input(description="Changes to a roadmap activity (unset fields untouched).")
class RoadmapActivityPatch:
    status: RoadmapStatus | None = UNSET
    evidence: list[str] | None = strawberry.field(
        default=UNSET, description="Links to confirming documents (replace the list).")
    notes: str | None = UNSET


_FIELD_OF = {"roadmap_activities": "activity", "control_points": "control_point",
             "indicator_slots": "slot"}


def _plain(patch: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in patch.items():
        if v is UNSET:
            continue
        out[k] = v.value if hasattr(v, "value") and not isinstance(v, dt.date) else v
    return out


async def _write(info: Info, registry: str, key: dict[str, Any],
                 patch: dict[str, Any]) -> RoadmapPayload:
    patch = _plain(patch)
    kpi = patch.get("kpi")
    if kpi is not None and kpi not in K.KPI_KEYS:
        return RoadmapPayload(errors=[field_error(RowError(
            1, "kpi", kpi, f"неизвестный показатель; допустимо: {', '.join(K.KPI_KEYS)}"),
            bulk=False)])
    reg = REGISTRIES[registry]
    principal = principal_of(info)

    async def work(tx: Any) -> RoadmapPayload:
        report = await update_roadmap_async(tx, registry, key, patch,
                                            principal=principal, source="graphql")
        if not report.written:
            return RoadmapPayload(errors=[field_error(err, bulk=False) for err in report.errors])
        uid = m.join_key(*(str(key[f]) for f in reg.model.KEY_FIELDS))
        cursor = await tx.run(fetch_cypher(reg), uids=[uid])
        props = [r["props"] async for r in cursor].pop()
        return RoadmapPayload(**{_FIELD_OF[registry]: wrap(reg.label, props)})  # type: ignore[arg-type]

    return await context(info).write(work)


Region = Annotated[str, strawberry.argument(description="Subject code.")]
Number = Annotated[int, strawberry.argument(description="Activity number (1–66).")]


@strawberry.type(description="Writes of the roadmap tracker.")
class RoadmapMutation:
    @strawberry.mutation(description="Set status, evidence links or notes of an activity.",
                         metadata=requires("roadmap"))
    async def update_roadmap_activity(self, info: Info, region: Region, number: Number,
                                      patch: RoadmapActivityPatch) -> RoadmapPayload:
        return await _write(info, "roadmap_activities", {"region": region, "number": number},
                            {"status": patch.status, "evidence": patch.evidence,
                             "notes": patch.notes})

    @strawberry.mutation(description="Set the target (and optionally the bound KPI) of a slot.",
                         metadata=requires("roadmap"))
    async def set_indicator_target(
        self, info: Info, region: Region, activity: Number,
        index: Annotated[int, strawberry.argument(description="Slot number.")],
        target: Annotated[int | None, strawberry.argument(description="Target; null clears.")],
        kpi: Annotated[str | None, strawberry.argument(
            description="KPI key to bind (see situationalCentre.kpis.key).")] = UNSET,
    ) -> RoadmapPayload:
        return await _write(info, "indicator_slots",
                            {"region": region, "activity": activity, "index": index},
                            {"target": target, "kpi": kpi})

    @strawberry.mutation(description="Mark a control point done (or not, with null).",
                         metadata=requires("roadmap"))
    async def set_control_point(
        self, info: Info, region: Region, activity: Number,
        due_on: Annotated[dt.date, strawberry.argument(description="Due date of the point.")],
        done_on: Annotated[dt.date | None, strawberry.argument(description="Done on.")],
    ) -> RoadmapPayload:
        return await _write(info, "control_points",
                            {"region": region, "activity": activity, "due_on": due_on},
                            {"done_on": done_on})


Mutation = RoadmapMutation
