"""How the activity registries (cohorts, learners, enrollments, events, staff training, demand,
ICT and reference resources) are listed and traversed: entries for `graph.reads`.

`register()` adds them to `graph.reads.LISTS` / `TRAVERSALS` (idempotent), so the generic list
and nested-list machinery of the API serves these registries too.
"""

from __future__ import annotations

from graph.privacy import scope_condition
from graph.reads import (
    LISTS,
    PEOPLE_FILTER,
    TRAVERSALS,
    ListSpec,
    Sort,
    Traversal,
    _in,
    _simple,
)


def _people(registry: str) -> str:
    """The caller's personal-data scope (`graph.privacy`), a hidden filter set by the API."""
    return scope_condition(registry, "n", f"f_{PEOPLE_FILTER}")


def _org_region(rel: str) -> str:
    return (f"EXISTS {{ MATCH (n)-[:{rel}]->(o:Organization) WHERE o.region IN $f_region }}")


ACTIVITY_LISTS: dict[str, ListSpec] = {
    "cohorts": ListSpec(
        {"program": _in("program", "f_program"),
         "organization": _in("organization", "f_organization"),
         "region": _org_region("RUN_BY"),
         "competency": "EXISTS { MATCH (n)-[:OF_PROGRAM]->(:Program)-[:DEVELOPS]->(c:Competency) "
                       "WHERE c.uid IN $f_competency }"},
        {"starts_on": Sort("n.starts_on", "date"), "ends_on": Sort("n.ends_on", "date")},
        "starts_on",
    ),
    "learners": ListSpec(
        {"region": _in("region", "f_region"), "municipality": _in("municipality", "f_municipality"),
         "category": _in("category", "f_category"), PEOPLE_FILTER: _people("learners")},
        {"external_id": Sort("n.external_id")}, "uid",
    ),
    "enrollments": ListSpec(
        {"program": _in("program", "f_program"), "learner": _in("learner", "f_learner"),
         "status": _in("status", "f_status"),
         "region": "EXISTS { MATCH (n)-[:IN_COHORT]->(:Cohort)-[:RUN_BY]->(o:Organization) "
                   "WHERE o.region IN $f_region }",
         PEOPLE_FILTER: _people("enrollments")},
        {"completed_on": Sort("n.completed_on", "date")}, "uid",
    ),
    "career_guidance_events": ListSpec(
        {"organization": _in("organization", "f_organization"), "kind": _in("kind", "f_kind"),
         "municipality": _in("municipality", "f_municipality"),
         "competency": _in("competency", "f_competency"), "region": _org_region("ORGANIZED_BY")},
        {"held_on": Sort("n.held_on", "date"), "name": Sort("n.name")}, "held_on",
    ),
    "staff_trainings": ListSpec(
        {"organization": _in("organization", "f_organization"),
         "competency": _in("competency", "f_competency"),
         "region": "EXISTS { MATCH (n)-[:OF_STAFF]->(:Staff)-[:WORKS_AT]->(o:Organization) "
                   "WHERE o.region IN $f_region }"},
        {"completed_on": Sort("n.completed_on", "date")}, "completed_on",
    ),
    "demand_signals": ListSpec(
        {"competency": _in("competency", "f_competency"),
         "municipality": _in("municipality", "f_municipality"),
         "region": "EXISTS { MATCH (n)-[:IN_MUNICIPALITY]->(m:Municipality) "
                   "WHERE m.region IN $f_region }"},
        {"starts_on": Sort("n.starts_on", "date"), "vacancies": Sort("n.vacancies", "int")},
        "starts_on",
    ),
    "digital_resources": ListSpec(
        {"kind": _in("kind", "f_kind"),
         "competency": "any(c IN n.competencies WHERE c IN $f_competency)",
         "program": "any(p IN n.programs WHERE p IN $f_program)"},
        {"name": Sort("n.name"), "code": Sort("n.code")}, "name",
    ),
    "reference_documents": ListSpec(
        {"kind": _in("kind", "f_kind"),
         "competency": "any(c IN n.competencies WHERE c IN $f_competency)",
         "program": "any(p IN n.programs WHERE p IN $f_program)"},
        {"name": Sort("n.name"), "code": Sort("n.code")}, "name",
    ),
}

ACTIVITY_TRAVERSALS: dict[str, Traversal] = {
    "cohort_enrollments": _simple("Cohort", "Enrollment", "(s)<-[:IN_COHORT]-(t:Enrollment)"),
    "learner_enrollments": _simple("Learner", "Enrollment", "(s)<-[:OF_LEARNER]-(t:Enrollment)"),
    "learner_events": _simple("Learner", "CareerGuidanceEvent",
                              "(s)-[:PARTICIPATED_IN]->(t:CareerGuidanceEvent)", "t.held_on"),
    "event_learners": _simple("CareerGuidanceEvent", "Learner",
                              "(s)<-[:PARTICIPATED_IN]-(t:Learner)"),
    "program_cohorts": _simple("Program", "Cohort", "(s)<-[:OF_PROGRAM]-(t:Cohort)",
                               "t.starts_on"),
    "staff_trainings": _simple("Staff", "StaffTraining", "(s)<-[:OF_STAFF]-(t:StaffTraining)",
                               "t.completed_on"),
}


def register() -> None:
    for name, spec in ACTIVITY_LISTS.items():
        LISTS.setdefault(name, spec)
    for name, traversal in ACTIVITY_TRAVERSALS.items():
        TRAVERSALS.setdefault(name, traversal)


register()
