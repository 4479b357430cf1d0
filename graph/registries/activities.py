"""Registries of activity: cohorts, learners, enrollments, career guidance, staff training,
labour-market demand."""

from __future__ import annotations

from graph import models as m
from graph.declare import (
    ORG,
    Api,
    Filter,
    Link,
    ListSpec,
    Out,
    Owner,
    Registry,
    Related,
    Shape,
    Sort,
    ToMany,
    ToOne,
    field_in,
    link_to,
    links_to,
    one,
    traverse,
)
from graph.enums import CareerGuidanceKind, EnrollmentStatus, LearnerCategory

COHORTS = Registry(
    "cohorts",
    m.Cohort,
    "Учебные группы",
    owner=ORG,
    links=(
        link_to("program", "OF_PROGRAM", "Program"),
        link_to("organization", "RUN_BY", "Organization"),
        links_to("sites", "AT_SITE", "Site"),
    ),
    listing=ListSpec(
        {
            "program": field_in("program", "Program codes."),
            "organization": field_in("organization", "ИНН of the organization running the cohort."),
            "region": Filter(
                "EXISTS { MATCH (n)-[:RUN_BY]->(o:Organization) WHERE o.region IN $f_region }",
                "Subject codes of regions.",
            ),
            "competency": Filter(
                (
                    "EXISTS { MATCH (n)-[:OF_PROGRAM]->(:Program)-[:DEVELOPS]->(c:Competency) WHERE "
                    "c.uid IN $f_competency }"
                ),
                "Competency codes.",
            ),
        },
        {"starts_on": Sort("n.starts_on", "date"), "ends_on": Sort("n.ends_on", "date")},
        "starts_on",
    ),
    traversals={
        "cohort_enrollments": traverse("Cohort", "Enrollment", "(s)<-[:IN_COHORT]-(t:Enrollment)")
    },
    indexes=("program", "organization", "starts_on", "ends_on"),
    api=Api(
        Shape(
            "A run of a program (учебная группа).",
            {
                "program": Out("Program code.", "program_code"),
                "code": Out("Cohort code within the program."),
                "organization": Out("ИНН of the organization running it.", "organization_inn"),
                "sites": Out("Sites (ИНН:code).", "site_keys"),
                "starts_on": Out("First day."),
                "ends_on": Out("Last day."),
                "seats": Out("Seats."),
            },
            links=(
                ToOne("program", "Program", ("program",), "The program."),
                ToOne(
                    "organization",
                    "Organization",
                    ("organization",),
                    "Organization running the cohort.",
                ),
                ToMany("sites", "Site", "sites", "Sites where it runs."),
            ),
        ),
        "Cohorts (program runs).",
        related=(Related("enrollments", "cohort_enrollments", "Enrollments."),),
    ),
)


LEARNERS = Registry(
    "learners",
    m.Learner,
    "Обучающиеся (псевдонимизированные)",
    owner=Owner("learner", ("external_id",)),
    links=(
        link_to("region", "IN_REGION", "Region"),
        link_to("municipality", "IN_MUNICIPALITY", "Municipality"),
    ),
    listing=ListSpec(
        {
            "region": field_in("region", "Subject codes of regions."),
            "municipality": field_in("municipality", "ОКТМО codes of municipalities."),
            "category": field_in("category", "Learner categories.", LearnerCategory),
        },
        {"external_id": Sort("n.external_id")},
        "uid",
    ),
    traversals={
        "learner_enrollments": traverse(
            "Learner", "Enrollment", "(s)<-[:OF_LEARNER]-(t:Enrollment)"
        ),
        "learner_events": traverse(
            "Learner",
            "CareerGuidanceEvent",
            "(s)-[:PARTICIPATED_IN]->(t:CareerGuidanceEvent)",
            "t.held_on",
        ),
    },
    indexes=("region", "category"),
    api=Api(
        Shape(
            (
                "A pseudonymous learner: external id and category, no name or СНИЛС. Still personal "
                "data (152-ФЗ): readable by an admin, the operator of the learner's region and the "
                "registrar of a cohort the learner is enrolled in; anyone else gets FORBIDDEN."
            ),
            {
                "external_id": Out("External id (from the source system)."),
                "category": Out("Category."),
                "region": Out("Subject code of the region.", "region_code"),
                "municipality": Out("ОКТМО.", "municipality_code"),
                "source": Out("Source system."),
            },
            labels=("category",),
        ),
        (
            "Pseudonymous learners. Personal data (152-ФЗ): an admin lists all, a region's operator "
            "the learners of its region, a registrar the learners enrolled in cohorts its "
            "organizations run; FORBIDDEN for planners and viewers (dashboards give the counts)."
        ),
        related=(
            Related("enrollments", "learner_enrollments", "Enrollments."),
            Related("events", "learner_events", "Career-guidance activities attended."),
        ),
    ),
)


ENROLLMENTS = Registry(
    "enrollments",
    m.Enrollment,
    "Зачисления",
    owner=Owner("cohort", ("program", "cohort")),
    links=(
        Link(
            "cohort",
            "IN_COHORT",
            "Cohort",
            one("cohort", lambda e: m.join_key(e.program, e.cohort)),
            fields=("program", "cohort"),
        ),
        link_to("learner", "OF_LEARNER", "Learner"),
    ),
    listing=ListSpec(
        {
            "program": field_in("program", "Program codes."),
            "learner": field_in("learner", "External ids of learners."),
            "status": field_in("status", "Enrollment statuses.", EnrollmentStatus),
            "region": Filter(
                (
                    "EXISTS { MATCH (n)-[:IN_COHORT]->(:Cohort)-[:RUN_BY]->(o:Organization) WHERE "
                    "o.region IN $f_region }"
                ),
                "Subject codes of regions.",
            ),
        },
        {"completed_on": Sort("n.completed_on", "date")},
        "uid",
    ),
    indexes=("learner", "status", "completed_on"),
    api=Api(
        Shape(
            (
                "A learner in a cohort. Personal data (152-ФЗ): readable by an admin, the region's "
                "operator and the registrar of the organization running the cohort; anyone else "
                "gets FORBIDDEN."
            ),
            {
                "program": Out("Program code.", "program_code"),
                "cohort": Out("Cohort code.", "cohort_code"),
                "learner": Out("External id of the learner.", "learner_id"),
                "status": Out("Status."),
                "enrolled_on": Out("Enrolled on."),
                "completed_on": Out("Completed on."),
                "certificate_number": Out("Number of the document issued."),
            },
            labels=("status",),
            links=(
                ToOne("cohort", "Cohort", ("program", "cohort"), "The cohort."),
                ToOne("learner", "Learner", ("learner",), "The learner."),
            ),
        ),
        (
            "Enrollments of learners in cohorts. Personal data (152-ФЗ): an admin lists all, a "
            "region's operator those in cohorts of organizations of its region, a registrar those "
            "in cohorts its organizations run; FORBIDDEN for planners and viewers (dashboards give "
            "the counts)."
        ),
    ),
)


CAREER_GUIDANCE_EVENTS = Registry(
    "career_guidance_events",
    m.CareerGuidanceEvent,
    "Профориентационные мероприятия",
    owner=ORG,
    links=(
        link_to("organization", "ORGANIZED_BY", "Organization"),
        link_to("site", "AT_SITE", "Site"),
        link_to("municipality", "IN_MUNICIPALITY", "Municipality"),
        link_to("competency", "FOR_COMPETENCY", "Competency"),
        links_to("learners", "PARTICIPATED_IN", "Learner", outgoing=False),
    ),
    listing=ListSpec(
        {
            "organization": field_in("organization", "ИНН of the organizer."),
            "kind": field_in("kind", "Kinds of activity.", CareerGuidanceKind),
            "municipality": field_in("municipality", "ОКТМО codes of municipalities."),
            "competency": field_in("competency", "Competency codes."),
            "region": Filter(
                (
                    "EXISTS { MATCH (n)-[:ORGANIZED_BY]->(o:Organization) WHERE o.region IN "
                    "$f_region }"
                ),
                "Subject codes of regions.",
            ),
        },
        {"held_on": Sort("n.held_on", "date"), "name": Sort("n.name")},
        "held_on",
    ),
    traversals={
        "event_learners": traverse(
            "CareerGuidanceEvent", "Learner", "(s)<-[:PARTICIPATED_IN]-(t:Learner)"
        )
    },
    indexes=("organization", "kind", "held_on", "municipality"),
    # participants_poo_staff: the column before v5 (files and exports made then still load)
    headers={"participants_college_staff": ("participants_poo_staff", "Сотрудники ПОО")},
    api=Api(
        Shape(
            "Профориентационное мероприятие, профессиональная проба или обучение первой профессии.",
            {
                "organization": Out("ИНН of the organizer.", "organization_inn"),
                "code": Out("Event code."),
                "kind": Out("Kind."),
                "name": Out("Name."),
                "held_on": Out("Date."),
                "site": Out("Site (ИНН:code).", "site_key"),
                "municipality": Out("ОКТМО.", "municipality_code"),
                "competency": Out("Competency code.", "competency_code"),
                "participants_school": Out("School students."),
                "participants_college": Out("College students."),
                "participants_employed": Out("Employed adults."),
                "participants_pre_retirement": Out("Pre-retirement citizens."),
                "participants_unemployed": Out("Unemployed."),
                "participants_college_staff": Out("ПОО staff."),
                "learners": Out("Known participants (external ids).", "learner_ids"),
            },
            labels=("kind",),
            links=(
                ToOne("organization", "Organization", ("organization",), "Organizer."),
                ToOne("site", "Site", ("site",), "Site."),
                ToOne("municipality", "Municipality", ("municipality",), "Municipality."),
                ToOne("competency", "Competency", ("competency",), "Competency."),
            ),
        ),
        "Career-guidance activities.",
    ),
)


STAFF_TRAININGS = Registry(
    "staff_trainings",
    m.StaffTraining,
    "Повышение квалификации кадров",
    owner=ORG,
    links=(
        Link(
            "staff",
            "OF_STAFF",
            "Staff",
            one("personnel_number", lambda t: m.join_key(t.organization, t.personnel_number)),
            fields=("organization", "personnel_number"),
        ),
        link_to("competency", "IN_COMPETENCY", "Competency"),
        link_to("provider", "PROVIDED_BY", "Organization"),
    ),
    listing=ListSpec(
        {
            "organization": field_in("organization", "ИНН of organizations."),
            "competency": field_in("competency", "Competency codes."),
            "region": Filter(
                (
                    "EXISTS { MATCH (n)-[:OF_STAFF]->(:Staff)-[:WORKS_AT]->(o:Organization) WHERE "
                    "o.region IN $f_region }"
                ),
                "Subject codes of regions.",
            ),
        },
        {"completed_on": Sort("n.completed_on", "date")},
        "completed_on",
    ),
    indexes=("organization", "completed_on", "competency"),
    api=Api(
        Shape(
            "Повышение квалификации of a staff member in a competency.",
            {
                "organization": Out("ИНН of the employer.", "organization_inn"),
                "personnel_number": Out("Personnel number."),
                "competency": Out("Competency code.", "competency_code"),
                "completed_on": Out("Completed on."),
                "document": Out("Document issued."),
                "hours": Out("Hours."),
                "provider": Out("ИНН of the training provider.", "provider_inn"),
            },
            links=(
                ToOne("staff", "Staff", ("organization", "personnel_number"), "The staff member."),
                ToOne("competency", "Competency", ("competency",), "Competency."),
            ),
        ),
        "Staff qualification upgrades.",
    ),
)


DEMAND_SIGNALS = Registry(
    "demand_signals",
    m.DemandSignal,
    "Потребность рынка труда",
    owner=Owner("municipality", ("municipality",)),
    links=(
        link_to("competency", "FOR_COMPETENCY", "Competency"),
        link_to("municipality", "IN_MUNICIPALITY", "Municipality"),
    ),
    listing=ListSpec(
        {
            "competency": field_in("competency", "Competency codes."),
            "municipality": field_in("municipality", "ОКТМО codes of municipalities."),
            "region": Filter(
                (
                    "EXISTS { MATCH (n)-[:IN_MUNICIPALITY]->(m:Municipality) WHERE m.region IN "
                    "$f_region }"
                ),
                "Subject codes of regions.",
            ),
        },
        {"starts_on": Sort("n.starts_on", "date"), "vacancies": Sort("n.vacancies", "int")},
        "starts_on",
    ),
    indexes=("municipality", "competency", "starts_on"),
    api=Api(
        Shape(
            "Labour-market demand for a competency in a municipality.",
            {
                "competency": Out("Competency code.", "competency_code"),
                "municipality": Out("ОКТМО.", "municipality_code"),
                "source": Out("Source."),
                "starts_on": Out("Period start."),
                "ends_on": Out("Period end."),
                "vacancies": Out("Vacancies."),
                "employer_requests": Out("Employer requests for training."),
                "survey_answers": Out("Survey answers asking for it."),
            },
            links=(
                ToOne("competency", "Competency", ("competency",), "Competency."),
                ToOne("municipality", "Municipality", ("municipality",), "Municipality."),
            ),
        ),
        "Labour-market demand signals.",
    ),
)
