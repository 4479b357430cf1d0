"""The graph's enums as GraphQL enums; each value carries its Russian label as description."""

from __future__ import annotations

from enum import Enum

import strawberry

from graph import enums as e

_DESCRIPTIONS: dict[type[Enum], str] = {
    e.OrganizationKind: "Kind of organization in the network.",
    e.SiteKind: "Kind of site (площадка).",
    e.EquipmentStatus: "Condition of an equipment item.",
    e.StaffRole: "Role of a staff member.",
    e.ExpertStatus: "Expert status in a competency.",
    e.CompetencyStandard: "Standard a competency comes from.",
    e.ProgramType: "Type of program (federal template).",
    e.ProgramStatus: "Lifecycle status of a program.",
    e.ProgramFormat: "Form of study.",
    e.RequirementScope: "Whether a quantity is needed per workplace or per group.",
    e.AgreementKind: "Kind of agreement between organizations.",
    e.PartyRole: "Role of a party in an agreement.",
    e.LearnerCategory: "Category of a learner.",
    e.EnrollmentStatus: "Status of an enrollment.",
    e.CareerGuidanceKind: "Kind of career-guidance activity.",
    e.DigitalResourceKind: "Kind of ICT resource.",
    e.ReferenceDocumentKind: "Kind of reference document.",
    e.Recurrence: "How often a roadmap activity repeats.",
    e.RoadmapStatus: "Status of a roadmap activity.",
}


def graphql_enum(cls: type[Enum], description: str) -> None:
    """Register a graph enum as a GraphQL enum (the same class), each value described by its
    Russian label."""
    definition = strawberry.enum(cls, description=description).__strawberry_definition__  # type: ignore[attr-defined]
    labels = e.LABELS.get(cls, {})  # type: ignore[call-overload]
    for value in definition.values:
        value.description = labels.get(cls(value.value))


for _cls, _description in _DESCRIPTIONS.items():
    graphql_enum(_cls, _description)


def ensure_enum(cls: type[Enum]) -> type[Enum]:
    """An enum a declaration uses, registered on first sight (described by its docstring)."""
    if not hasattr(cls, "__strawberry_definition__"):
        graphql_enum(cls, (cls.__doc__ or cls.__name__).strip())
    return cls

# The GraphQL enums are the graph's own classes.
from graph.enums import (
    AgreementKind,
    CareerGuidanceKind,
    CompetencyStandard,
    DigitalResourceKind,
    EnrollmentStatus,
    EquipmentStatus,
    ExpertStatus,
    LearnerCategory,
    OrganizationKind,
    PartyRole,
    ProgramFormat,
    ProgramStatus,
    ProgramType,
    Recurrence,
    ReferenceDocumentKind,
    RequirementScope,
    RoadmapStatus,
    SiteKind,
    StaffRole,
)

__all__ = ["AgreementKind", "CareerGuidanceKind", "CompetencyStandard", "DigitalResourceKind",
           "EnrollmentStatus", "EquipmentStatus", "ExpertStatus", "LearnerCategory",
           "OrganizationKind", "PartyRole", "ProgramFormat", "ProgramStatus", "ProgramType",
           "Recurrence", "ReferenceDocumentKind", "RequirementScope", "RoadmapStatus",
           "SiteKind", "StaffRole", "ensure_enum", "graphql_enum"]
