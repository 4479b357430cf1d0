"""The graph's enums as GraphQL enums; each value carries its Russian label as description."""

from __future__ import annotations

import strawberry

from graph import enums as e

_DESCRIPTIONS = {
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


def _wrap(cls: type) -> type:
    wrapped = strawberry.enum(cls, description=_DESCRIPTIONS[cls])
    for value in wrapped.__strawberry_definition__.values:
        value.description = e.LABELS[cls][cls(value.value)]
    return wrapped


OrganizationKind = _wrap(e.OrganizationKind)
SiteKind = _wrap(e.SiteKind)
EquipmentStatus = _wrap(e.EquipmentStatus)
StaffRole = _wrap(e.StaffRole)
ExpertStatus = _wrap(e.ExpertStatus)
CompetencyStandard = _wrap(e.CompetencyStandard)
ProgramType = _wrap(e.ProgramType)
ProgramStatus = _wrap(e.ProgramStatus)
ProgramFormat = _wrap(e.ProgramFormat)
RequirementScope = _wrap(e.RequirementScope)
AgreementKind = _wrap(e.AgreementKind)
PartyRole = _wrap(e.PartyRole)
LearnerCategory = _wrap(e.LearnerCategory)
EnrollmentStatus = _wrap(e.EnrollmentStatus)
CareerGuidanceKind = _wrap(e.CareerGuidanceKind)
DigitalResourceKind = _wrap(e.DigitalResourceKind)
ReferenceDocumentKind = _wrap(e.ReferenceDocumentKind)
Recurrence = _wrap(e.Recurrence)
RoadmapStatus = _wrap(e.RoadmapStatus)
