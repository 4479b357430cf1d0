"""The registries of the hub, composed here and nowhere else.

Each registry is one declaration (`graph.declare.Registry`, in `graph/registries/`); this
module lists them in load order (every reference already exists when a registry loads) and
everything else derives from `REGISTRIES`: reads (`graph.reads`), write rights
(`graph.access`), indexes (`graph.migrations`), GraphQL (`schema/registry`), files
(`loaders.mapping`) and export. A deployment may add registries of its own without touching
this tree: `HUB_REGISTRY_MODULES` names modules (comma-separated) whose `REGISTRIES` tuple
is appended.

A node stores its own fields as properties (nested lists as canonical JSON), including the
natural keys of what it links to; relationships are derived from those fields on every write.
Labels and relationship types in the declarations are the only ones Cypher is built with.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
from collections.abc import Iterable
from enum import Enum
from typing import Any

from pydantic import BaseModel

from graph import models as m
from graph.declare import Registry
from graph.registries import activities, network, programs, resources, roadmap
from graph.values import native

DECLARED: tuple[Registry, ...] = (
    network.REGIONS, network.MUNICIPALITIES, network.ORGANIZATIONS, network.SITES,
    resources.EQUIPMENT_TYPES, resources.EQUIPMENT, resources.COMPETENCIES, resources.STAFF,
    resources.INFRASTRUCTURE_LISTS,
    programs.PROGRAMS, programs.LEARNING_MATERIALS, programs.MODULES, programs.AGREEMENTS,
    activities.COHORTS, activities.LEARNERS, activities.ENROLLMENTS,
    activities.CAREER_GUIDANCE_EVENTS, activities.STAFF_TRAININGS, activities.DEMAND_SIGNALS,
    resources.DIGITAL_RESOURCES, resources.REFERENCE_DOCUMENTS,
    roadmap.ROADMAP_ACTIVITIES, roadmap.CONTROL_POINTS, roadmap.INDICATOR_SLOTS,
)


def _extra() -> tuple[Registry, ...]:
    names = [n.strip() for n in os.environ.get("HUB_REGISTRY_MODULES", "").split(",")]
    return tuple(r for n in names if n for r in importlib.import_module(n).REGISTRIES)


def compose(declared: Iterable[Registry]) -> dict[str, Registry]:
    """Registries by name, in load order; names, labels and traversal names are unique."""
    out: dict[str, Registry] = {}
    labels: set[str] = set()
    traversals: set[str] = set()
    for r in declared:
        if r.name in out or r.label in labels:
            raise ValueError(f"registry declared twice: {r.name} ({r.label})")
        if traversals & set(r.traversals):
            raise ValueError(f"traversal declared twice: {sorted(traversals & set(r.traversals))}")
        out[r.name] = r
        labels.add(r.label)
        traversals |= set(r.traversals)
    return out


REGISTRIES: dict[str, Registry] = compose((*DECLARED, *_extra()))
LOAD_ORDER: tuple[str, ...] = tuple(REGISTRIES)
BY_LABEL: dict[str, Registry] = {r.label: r for r in REGISTRIES.values()}


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, BaseModel):
        return {k: _plain(v) for k, v in value}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def _json_default(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(type(value))


def node_properties(registry: Registry, node: m.Node) -> dict[str, Any]:
    """The node's stored properties (all model fields; nested lists as canonical JSON)."""
    props: dict[str, Any] = {}
    values = node.__dict__
    for name in type(node).model_fields:
        value = values[name]
        if type(value) not in _SCALARS:
            value = _plain(value)
        if name in registry.json_fields:
            value = json.dumps(value, ensure_ascii=False, sort_keys=True, default=_json_default)
        props[name] = value
    return props


def record_from_properties(registry: Registry, props: dict[str, Any]) -> dict[str, Any]:
    """Inverse of node_properties: a model's input dict from stored properties."""
    record: dict[str, Any] = {}
    for name in registry.model.model_fields:
        value = props.get(name)
        value = native(value)
        if name in registry.json_fields and isinstance(value, str):
            value = json.loads(value)
        record[name] = value
    return {k: v for k, v in record.items() if v is not None}


def write_row(registry: Registry, node: m.Node) -> dict[str, Any]:
    """The parameter row the upsert query takes for one node."""
    row: dict[str, Any] = {"uid": node.uid, "props": node_properties(registry, node)}
    for i, link in enumerate(registry.links):
        row[f"l{i}"] = [{"uid": uid, "props": props} for uid, props in link.targets(node)]
    return row


def referenced_uids(registry: Registry, nodes: Iterable[m.Node]) -> dict[int, set[str]]:
    refs: dict[int, set[str]] = {i: set() for i in range(len(registry.links))}
    for node in nodes:
        for i, link in enumerate(registry.links):
            refs[i].update(uid for uid, _ in link.targets(node))
    return refs
