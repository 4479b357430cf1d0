"""The registries of the graph: which model, which label, which relationships.

A node stores its own fields as properties (nested lists as canonical JSON), including the
natural keys of what it links to; relationships are derived from those fields on every write.
Labels and relationship types here are the only ones Cypher is ever built with.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from pydantic import BaseModel

from graph import models as m
from graph.values import native

Target = tuple[str, dict[str, Any]]  # (target uid, relationship properties)


@dataclass(frozen=True)
class Link:
    """A relationship derived from a model field."""

    name: str
    rel: str
    target: str
    targets: Callable[[Any], list[Target]]
    outgoing: bool = True  # (n)-[rel]->(target); False: (target)-[rel]->(n)
    fields: tuple[str, ...] = ()  # model fields the link is built from (for error reports)
    with_props: bool = False  # the relationship carries properties (quantity, role...)

    def pattern(self, node: str, rel: str, target: str) -> str:
        if self.outgoing:
            return f"({node})-[{rel}:{self.rel}]->({target}:{self.target})"
        return f"({node})<-[{rel}:{self.rel}]-({target}:{self.target})"


@dataclass(frozen=True)
class Registry:
    name: str
    model: type[m.Node]
    links: tuple[Link, ...] = ()
    title: str = ""
    json_fields: tuple[str, ...] = field(default=())

    @property
    def label(self) -> str:
        return self.model.LABEL


def _one(attr: str, key: Callable[[Any], str] | None = None) -> Callable[[Any], list[Target]]:
    def targets(node: Any) -> list[Target]:
        value = getattr(node, attr)
        if value is None:
            return []
        return [(key(node) if key else str(value), {})]

    return targets


def _many(attr: str) -> Callable[[Any], list[Target]]:
    def targets(node: Any) -> list[Target]:
        return [(str(v), {}) for v in getattr(node, attr)]

    return targets


def _requirements(attr: str) -> Callable[[Any], list[Target]]:
    def targets(node: Any) -> list[Target]:
        return [
            (r.equipment_type, {"quantity": r.quantity, "scope": r.scope.value})
            for r in getattr(node, attr)
        ]

    return targets


def _qualifications(node: m.Staff) -> list[Target]:
    return [
        (q.competency, {"expert_status": q.expert_status.value, "valid_until": q.valid_until})
        for q in node.qualifications
    ]


def _parties(node: m.PartnerAgreement) -> list[Target]:
    return [
        (p.organization, {"role": p.role.value, "responsibilities": p.responsibilities})
        for p in node.parties
    ]


REGISTRIES: dict[str, Registry] = {
    r.name: r
    for r in [
        Registry(
            "regions", m.Region, title="Регионы",
        ),
        Registry(
            "municipalities", m.Municipality, title="Муниципальные образования",
            links=(Link("region", "IN_REGION", "Region", _one("region"), fields=("region",)),),
        ),
        Registry(
            "organizations", m.Organization, title="Организации",
            links=(
                Link("region", "IN_REGION", "Region", _one("region"), fields=("region",)),
                Link("municipality", "IN_MUNICIPALITY", "Municipality", _one("municipality"),
                     fields=("municipality",)),
            ),
        ),
        Registry(
            "sites", m.Site, title="Площадки",
            links=(
                Link("organization", "HAS_SITE", "Organization", _one("organization"),
                     outgoing=False, fields=("organization",)),
                Link("municipality", "IN_MUNICIPALITY", "Municipality", _one("municipality"),
                     fields=("municipality",)),
            ),
        ),
        Registry("equipment_types", m.EquipmentType, title="Типы оборудования"),
        Registry(
            "equipment", m.Equipment, title="Оборудование",
            links=(
                Link("site", "HAS_EQUIPMENT", "Site",
                     _one("site", lambda e: m.join_key(e.organization, e.site)),
                     outgoing=False, fields=("organization", "site")),
                Link("type", "OF_TYPE", "EquipmentType", _one("type"), fields=("type",)),
            ),
        ),
        Registry(
            "staff", m.Staff, title="Кадры", json_fields=("qualifications",),
            links=(
                Link("organization", "WORKS_AT", "Organization", _one("organization"),
                     fields=("organization",)),
                Link("qualifications", "QUALIFIED_IN", "Competency", _qualifications,
                     fields=("qualifications",), with_props=True),
            ),
        ),
        Registry("competencies", m.Competency, title="Компетенции"),
        Registry(
            "infrastructure_lists", m.InfrastructureList, title="Инфраструктурные листы",
            json_fields=("items",),
            links=(
                Link("competency", "HAS_INFRASTRUCTURE_LIST", "Competency", _one("competency"),
                     outgoing=False, fields=("competency",)),
                Link("items", "REQUIRES", "EquipmentType", _requirements("items"),
                     fields=("items",), with_props=True),
            ),
        ),
        Registry(
            "programs", m.Program, title="Программы",
            links=(
                Link("organization", "DEVELOPED_BY", "Organization", _one("organization"),
                     fields=("organization",)),
                Link("competencies", "DEVELOPS", "Competency",
                     lambda p: [(c, {}) for c in p.competencies], fields=("competencies",)),
            ),
        ),
        Registry(
            "modules", m.Module, title="Модули программ", json_fields=("requirements",),
            links=(
                Link("program", "HAS_MODULE", "Program", _one("program"), outgoing=False,
                     fields=("program",)),
                Link("competency", "FOR_COMPETENCY", "Competency", _one("competency"),
                     fields=("competency",)),
                Link("requirements", "REQUIRES", "EquipmentType", _requirements("requirements"),
                     fields=("requirements",), with_props=True),
            ),
        ),
        Registry(
            "agreements", m.PartnerAgreement, title="Соглашения о партнерстве",
            json_fields=("parties",),
            links=(
                Link("parties", "PARTY", "Organization", _parties, fields=("parties",),
                     with_props=True),
                Link("program", "FOR_PROGRAM", "Program", _one("program"), fields=("program",)),
            ),
        ),
        Registry(
            "cohorts", m.Cohort, title="Учебные группы",
            links=(
                Link("program", "OF_PROGRAM", "Program", _one("program"), fields=("program",)),
                Link("organization", "RUN_BY", "Organization", _one("organization"),
                     fields=("organization",)),
                Link("sites", "AT_SITE", "Site", _many("sites"), fields=("sites",)),
            ),
        ),
        Registry(
            "learners", m.Learner, title="Обучающиеся (псевдонимизированные)",
            links=(
                Link("region", "IN_REGION", "Region", _one("region"), fields=("region",)),
                Link("municipality", "IN_MUNICIPALITY", "Municipality", _one("municipality"),
                     fields=("municipality",)),
            ),
        ),
        Registry(
            "enrollments", m.Enrollment, title="Зачисления",
            links=(
                Link("cohort", "IN_COHORT", "Cohort",
                     _one("cohort", lambda e: m.join_key(e.program, e.cohort)),
                     fields=("program", "cohort")),
                Link("learner", "OF_LEARNER", "Learner", _one("learner"), fields=("learner",)),
            ),
        ),
        Registry(
            "career_guidance_events", m.CareerGuidanceEvent, title="Профориентационные мероприятия",
            links=(
                Link("organization", "ORGANIZED_BY", "Organization", _one("organization"),
                     fields=("organization",)),
                Link("site", "AT_SITE", "Site", _one("site"), fields=("site",)),
                Link("municipality", "IN_MUNICIPALITY", "Municipality", _one("municipality"),
                     fields=("municipality",)),
                Link("competency", "FOR_COMPETENCY", "Competency", _one("competency"),
                     fields=("competency",)),
                Link("learners", "PARTICIPATED_IN", "Learner", _many("learners"),
                     outgoing=False, fields=("learners",)),
            ),
        ),
        Registry(
            "staff_trainings", m.StaffTraining, title="Повышение квалификации кадров",
            links=(
                Link("staff", "OF_STAFF", "Staff",
                     _one("personnel_number",
                          lambda t: m.join_key(t.organization, t.personnel_number)),
                     fields=("organization", "personnel_number")),
                Link("competency", "IN_COMPETENCY", "Competency", _one("competency"),
                     fields=("competency",)),
                Link("provider", "PROVIDED_BY", "Organization", _one("provider"),
                     fields=("provider",)),
            ),
        ),
        Registry(
            "demand_signals", m.DemandSignal, title="Потребность рынка труда",
            links=(
                Link("competency", "FOR_COMPETENCY", "Competency", _one("competency"),
                     fields=("competency",)),
                Link("municipality", "IN_MUNICIPALITY", "Municipality", _one("municipality"),
                     fields=("municipality",)),
            ),
        ),
        Registry(
            "digital_resources", m.DigitalResource, title="Информационно-коммуникационные ресурсы",
            links=(
                Link("organization", "PROVIDED_BY", "Organization", _one("organization"),
                     fields=("organization",)),
                Link("competencies", "FOR_COMPETENCY", "Competency", _many("competencies"),
                     fields=("competencies",)),
                Link("programs", "FOR_PROGRAM", "Program", _many("programs"),
                     fields=("programs",)),
            ),
        ),
        Registry(
            "reference_documents", m.ReferenceDocument, title="Информационно-справочные ресурсы",
            links=(
                Link("competencies", "FOR_COMPETENCY", "Competency", _many("competencies"),
                     fields=("competencies",)),
                Link("programs", "FOR_PROGRAM", "Program", _many("programs"),
                     fields=("programs",)),
            ),
        ),
        Registry(
            "roadmap_activities", m.RoadmapActivity, title="Дорожная карта: мероприятия",
            links=(Link("region", "IN_REGION", "Region", _one("region"), fields=("region",)),),
        ),
        Registry(
            "control_points", m.ControlPoint, title="Дорожная карта: контрольные точки",
            links=(
                Link("activity", "CONTROL_POINT_OF", "RoadmapActivity",
                     _one("activity", lambda c: m.join_key(c.region, str(c.activity))),
                     fields=("region", "activity")),
            ),
        ),
        Registry(
            "indicator_slots", m.IndicatorSlot, title="Дорожная карта: показатели",
            links=(
                Link("activity", "SLOT_OF", "RoadmapActivity",
                     _one("activity", lambda c: m.join_key(c.region, str(c.activity))),
                     fields=("region", "activity")),
            ),
        ),
    ]
}

# Order in which registries can be loaded so that every reference already exists.
LOAD_ORDER: tuple[str, ...] = (
    "regions", "municipalities", "organizations", "sites", "equipment_types", "equipment",
    "competencies", "staff", "infrastructure_lists", "programs", "modules", "agreements",
    "cohorts", "learners", "enrollments", "career_guidance_events", "staff_trainings",
    "demand_signals", "digital_resources", "reference_documents",
    "roadmap_activities", "control_points", "indicator_slots",
)

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
