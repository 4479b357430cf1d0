"""Registries of a region's roadmap (made from the federal template by `hub roadmap init`,
written through the roadmap mutations, not the generic ones)."""

from __future__ import annotations

from graph import models as m
from graph.declare import (
    REGION,
    Api,
    Link,
    ListSpec,
    Out,
    Registry,
    Shape,
    link_to,
    one,
)

ROADMAP_ACTIVITIES = Registry(
    "roadmap_activities",
    m.RoadmapActivity,
    "Дорожная карта: мероприятия",
    owner=REGION,
    links=(link_to("region", "IN_REGION", "Region"),),
    listing=ListSpec({}, {}),
    indexes=("region", "status"),
    api=Api(
        Shape(
            "A roadmap activity of a region (stored state).",
            {
                "region": Out("Subject code.", "region_code"),
                "number": Out("Number in the template (1–66)."),
                "title": Out("Title."),
                "status": Out("Status."),
                "evidence": Out("Links to confirming documents."),
                "notes": Out("Notes."),
            },
            labels=("status",),
        ),
        None,
    ),
    write=None,
)


CONTROL_POINTS = Registry(
    "control_points",
    m.ControlPoint,
    "Дорожная карта: контрольные точки",
    owner=REGION,
    links=(
        Link(
            "activity",
            "CONTROL_POINT_OF",
            "RoadmapActivity",
            one("activity", lambda c: m.join_key(c.region, str(c.activity))),
            fields=("region", "activity"),
        ),
    ),
    listing=ListSpec({}, {}),
    indexes=("region", "due_on"),
    api=Api(
        Shape(
            "A control point of a roadmap activity (stored state).",
            {
                "region": Out("Subject code.", "region_code"),
                "activity": Out("Activity number."),
                "due_on": Out("Due date."),
                "done_on": Out("Done on."),
            },
        ),
        None,
    ),
    write=None,
)


INDICATOR_SLOTS = Registry(
    "indicator_slots",
    m.IndicatorSlot,
    "Дорожная карта: показатели",
    owner=REGION,
    links=(
        Link(
            "activity",
            "SLOT_OF",
            "RoadmapActivity",
            one("activity", lambda c: m.join_key(c.region, str(c.activity))),
            fields=("region", "activity"),
        ),
    ),
    listing=ListSpec({}, {}),
    indexes=("region", "kpi"),
    api=Api(
        Shape(
            "An indicator slot (`___`) of a roadmap activity (stored state).",
            {
                "region": Out("Subject code.", "region_code"),
                "activity": Out("Activity number."),
                "index": Out("Slot number within the activity."),
                "description": Out("The sentence around the blank."),
                "target": Out("The region's target."),
                "kpi": Out("KPI key the actual comes from."),
            },
        ),
        None,
    ),
    write=None,
)
