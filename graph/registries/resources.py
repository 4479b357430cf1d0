"""Registries of the material, staff, ICT and reference resources and the competency
catalogue they serve."""

from __future__ import annotations

from graph import models as m
from graph.declare import (
    CATALOGUE,
    ORG,
    Api,
    Filter,
    Items,
    Link,
    ListSpec,
    Out,
    Registry,
    Related,
    Shape,
    Sort,
    ToMany,
    ToOne,
    Traversal,
    field_in,
    flag,
    items_link,
    link_to,
    links_to,
    one,
    traverse,
)
from graph.enums import (
    CompetencyStandard,
    DigitalResourceKind,
    EquipmentStatus,
    ExpertStatus,
    OrganizationKind,
    ReferenceDocumentKind,
    StaffRole,
)
from graph.registries import headers as H

QUALIFICATION = Shape(
    "A staff member's qualification in a competency.",
    {
        "competency": Out("Competency code.", "competency_code"),
        "expert_status": Out("Expert status."),
        "valid_until": Out("Valid until."),
    },
    labels=("expert_status",),
    links=(ToOne("competency", "Competency", ("competency",), "The competency."),),
)

REQUIREMENT = Shape(
    "An equipment type needed, per workplace or per group.",
    {
        "equipment_type": Out("Equipment type code.", "equipment_type_code"),
        "quantity": Out("Quantity."),
        "scope": Out("Per workplace or group."),
    },
    labels=("scope",),
    links=(ToOne("equipment_type", "EquipmentType", ("equipment_type",), "The equipment type."),),
)


EQUIPMENT_TYPES = Registry(
    "equipment_types",
    m.EquipmentType,
    "Типы оборудования",
    owner=CATALOGUE,
    listing=ListSpec(
        {
            "category": field_in("category", "Equipment categories."),
            "competency": Filter(
                (
                    "EXISTS { MATCH "
                    "(c:Competency)-[:HAS_INFRASTRUCTURE_LIST]->(:InfrastructureList)-[:REQUIRES]->(n) "
                    "WHERE c.uid IN $f_competency }"
                ),
                "Competency codes.",
            ),
        },
        {"name": Sort("n.name"), "code": Sort("n.code")},
        "name",
    ),
    traversals={
        "equipment_type_equipment": traverse(
            "EquipmentType", "Equipment", "(s)<-[:OF_TYPE]-(t:Equipment)"
        ),
        "equipment_type_required_by": traverse(
            "EquipmentType",
            "InfrastructureList",
            "(s)<-[r:REQUIRES]-(t:InfrastructureList)",
            rel=True,
        ),
    },
    indexes=("name", "category"),
    fulltext=True,
    headers={
        "code": ("Код", "Код типа", "Код по каталогу", "Код типа оборудования"),
        "name": (*H.NAME, "Тип оборудования", "Наименование типа"),
        "category": ("Категория", "Группа"),
        "unit": ("Единица измерения", "Ед. изм.", "Ед.изм."),
    },
    api=Api(
        Shape(
            "A catalogue type of equipment.",
            {
                "code": Out("Catalogue code."),
                "name": Out("Name."),
                "category": Out("Category."),
                "unit": Out("Unit of measure."),
            },
        ),
        "Equipment types (catalogue).",
        related=(
            Related("equipment", "equipment_type_equipment", "Equipment items of this type."),
            Related(
                "required_by",
                "equipment_type_required_by",
                "Infrastructure lists requiring this type.",
            ),
        ),
    ),
)


EQUIPMENT = Registry(
    "equipment",
    m.Equipment,
    "Оборудование",
    owner=ORG,
    links=(
        Link(
            "site",
            "HAS_EQUIPMENT",
            "Site",
            one("site", lambda e: m.join_key(e.organization, e.site)),
            outgoing=False,
            fields=("organization", "site"),
        ),
        link_to("type", "OF_TYPE", "EquipmentType"),
    ),
    listing=ListSpec(
        {
            "organization": field_in("organization", "ИНН of organizations."),
            "site": Filter(
                "EXISTS { MATCH (s:Site)-[:HAS_EQUIPMENT]->(n) WHERE s.uid IN $f_site }",
                "Site keys (ИНН:code).",
            ),
            "type": field_in("type", "Equipment type codes."),
            "status": field_in("status", "Equipment statuses.", EquipmentStatus),
            "municipality": Filter(
                (
                    "EXISTS { MATCH (s:Site)-[:HAS_EQUIPMENT]->(n) WHERE s.municipality IN "
                    "$f_municipality }"
                ),
                "ОКТМО codes of municipalities.",
            ),
            "region": Filter(
                (
                    "EXISTS { MATCH "
                    "(m:Municipality)<-[:IN_MUNICIPALITY]-(:Site)-[:HAS_EQUIPMENT]->(n) WHERE "
                    "m.region IN $f_region }"
                ),
                "Subject codes of regions.",
            ),
            "competency": Filter(
                (
                    "EXISTS { MATCH "
                    "(c:Competency)-[:HAS_INFRASTRUCTURE_LIST]->(:InfrastructureList)-[:REQUIRES]->(:EquipmentType)<-[:OF_TYPE]-(n) "
                    "WHERE c.uid IN $f_competency }"
                ),
                "Competency codes.",
            ),
        },
        {"inventory_number": Sort("n.inventory_number"), "quantity": Sort("n.quantity", "int")},
        "uid",
        anchors={
            "site": "MATCH (s:Site)-[:HAS_EQUIPMENT]->(n:Equipment) WHERE s.uid IN $f_site",
            "municipality": (
                "MATCH (s:Site)-[:HAS_EQUIPMENT]->(n:Equipment) WHERE "
                "s.municipality IN $f_municipality"
            ),
            "region": (
                "MATCH "
                "(m:Municipality)<-[:IN_MUNICIPALITY]-(:Site)-[:HAS_EQUIPMENT]->(n:Equipment) "
                "WHERE m.region IN $f_region"
            ),
        },
    ),
    indexes=("organization", "type", "status", "site"),
    fulltext=True,
    headers={
        "organization": (*H.ORG, "ИНН владельца", "ИНН балансодержателя"),
        "inventory_number": ("Инвентарный номер", "Инв. номер", "Инв. №", "Инвентарный №"),
        "type": ("Тип", "Код типа", *H.TYPE_CODE),
        "site": ("Площадка", "Код площадки", "Мастерская"),
        "name": (*H.NAME, "Наименование оборудования", "Модель"),
        "quantity": H.QTY,
        "status": ("Статус", "Состояние", "Техническое состояние"),
        "year": ("Год", "Год выпуска", "Год ввода", "Год ввода в эксплуатацию"),
    },
    by_name={"organization": "organization", "type": "equipment_type"},
    api=Api(
        Shape(
            "An equipment item (inventory record) at a site.",
            {
                "organization": Out("ИНН of the owner.", "organization_inn"),
                "inventory_number": Out("Inventory number."),
                "type": Out("Equipment type code.", "type_code"),
                "site": Out("Site code within the organization.", "site_code"),
                "name": Out("Name (model)."),
                "quantity": Out("Quantity."),
                "status": Out("Condition."),
                "year": Out("Year of manufacture or purchase."),
            },
            labels=("status",),
            links=(
                ToOne("type", "EquipmentType", ("type",), "The type."),
                ToOne("site", "Site", ("organization", "site"), "The site."),
                ToOne("organization", "Organization", ("organization",), "The owner."),
            ),
        ),
        "Equipment items.",
    ),
)


COMPETENCIES = Registry(
    "competencies",
    m.Competency,
    "Компетенции",
    owner=CATALOGUE,
    listing=ListSpec(
        {
            "competency_block": field_in(
                "block_code", "Competency block codes.", name="competency_block"
            ),
            "standard": field_in("standard", "Competency standards.", CompetencyStandard),
            "is_future": flag(
                "is_future", "Competencies of the future only (true) or others (false)."
            ),
            "is_digital": flag("is_digital", "Digital competencies only (true) or others (false)."),
        },
        {"name": Sort("n.name"), "code": Sort("n.code")},
        "code",
    ),
    traversals={
        "competency_staff": traverse(
            "Competency", "Staff", "(s)<-[r:QUALIFIED_IN]-(t:Staff)", "t.full_name", rel=True
        ),
        "competency_programs": traverse(
            "Competency", "Program", "(s)<-[:DEVELOPS]-(t:Program)", "t.name"
        ),
        "competency_modules": traverse("Competency", "Module", "(s)<-[:FOR_COMPETENCY]-(t:Module)"),
        "competency_sites": Traversal(
            "Competency",
            "Site",
            match=(
                "MATCH (s)-[:HAS_INFRASTRUCTURE_LIST]->(l:InfrastructureList) WHERE "
                "l.retiredAt IS NULL MATCH "
                "(l)-[:REQUIRES]->(et:EquipmentType)<-[:OF_TYPE]-(e:Equipment)<-[:HAS_EQUIPMENT]-(t:Site)"
            ),
            tail=(
                "WITH l, t, count(DISTINCT et) AS covered RETURN t, {covered_types: covered, "
                "required_types: COUNT { (l)-[:REQUIRES]->() }} AS x ORDER BY covered DESC, "
                "t.uid"
            ),
            where="e.retiredAt IS NULL AND e.status = 'WORKING'",
        ),
    },
    indexes=("block_code", "standard", "name"),
    fulltext=True,
    headers={
        "code": ("Код", "Код компетенции"),
        "name": (*H.NAME, "Компетенция"),
        "block_code": ("Код блока", "Код направления"),
        "block": ("Блок", "Направление", "Блок компетенций"),
        "standard": ("Стандарт",),
        "is_future": ("Компетенция будущего", "Будущее"),
        "is_digital": ("Цифровая", "Цифровая экономика", "Компетенция цифровой экономики"),
    },
    api=Api(
        Shape(
            "A competency (WorldSkills, Профессионалитет, ФГОС…).",
            {
                "code": Out("Code."),
                "name": Out("Name."),
                "block_code": Out("Code of the competency block."),
                "block": Out("Competency block."),
                "standard": Out("Standard."),
                "is_future": Out("A competency of the future."),
                "is_digital": Out("A digital economy competency."),
            },
            links=(
                ToOne(
                    "infrastructure_list",
                    "InfrastructureList",
                    ("uid",),
                    "The infrastructure list.",
                ),
            ),
        ),
        "Competencies.",
        related=(
            Related("programs", "competency_programs", "Programs developing the competency."),
            Related("modules", "competency_modules", "Modules for it."),
        ),
    ),
)


STAFF = Registry(
    "staff",
    m.Staff,
    "Кадры",
    owner=ORG,
    links=(
        link_to("organization", "WORKS_AT", "Organization"),
        items_link(
            "qualifications",
            "QUALIFIED_IN",
            "Competency",
            "competency",
            "expert_status",
            "valid_until",
        ),
    ),
    listing=ListSpec(
        {
            "organization": field_in("organization", "ИНН of the employer."),
            "role": field_in("role", "Staff roles.", StaffRole),
            "region": Filter(
                "EXISTS { MATCH (n)-[:WORKS_AT]->(o:Organization) WHERE o.region IN $f_region }",
                "Subject codes of regions.",
            ),
            "organization_kind": Filter(
                (
                    "EXISTS { MATCH (n)-[:WORKS_AT]->(o:Organization) WHERE o.kind IN "
                    "$f_organization_kind }"
                ),
                "Kinds of the organization.",
                OrganizationKind,
            ),
            "competency": Filter(
                "EXISTS { MATCH (n)-[:QUALIFIED_IN]->(c:Competency) WHERE c.uid IN $f_competency }",
                "Competency codes.",
            ),
            "competency_block": Filter(
                (
                    "EXISTS { MATCH (n)-[:QUALIFIED_IN]->(c:Competency) WHERE c.block_code IN "
                    "$f_competency_block }"
                ),
                "Competency block codes.",
            ),
            "expert_status": Filter(
                (
                    "EXISTS { MATCH (n)-[q:QUALIFIED_IN]->(:Competency) WHERE q.expert_status IN "
                    "$f_expert_status }"
                ),
                "Expert statuses in any qualification.",
                ExpertStatus,
            ),
        },
        {"full_name": Sort("n.full_name")},
        "full_name",
        anchors={
            "region": "MATCH (o:Organization)<-[:WORKS_AT]-(n:Staff) WHERE o.region IN $f_region"
        },
    ),
    traversals={
        "staff_trainings": traverse(
            "Staff", "StaffTraining", "(s)<-[:OF_STAFF]-(t:StaffTraining)", "t.completed_on"
        )
    },
    indexes=("organization", "role", "full_name"),
    fulltext=True,
    items=Items("qualifications", "qualification_", ("competency", "expert_status", "valid_until")),
    headers={
        "organization": (*H.ORG, "ИНН работодателя"),
        "personnel_number": ("Табельный номер", "Таб. номер", "Таб. №", "Табельный №"),
        "full_name": ("ФИО", "Ф.И.О.", "Фамилия Имя Отчество", "Сотрудник"),
        "role": ("Роль", "Категория", "Категория работника"),
        "position": ("Должность",),
        "qualification_competency": ("Компетенция", "Код компетенции"),
        "qualification_expert_status": ("Экспертный статус", "Статус эксперта"),
        "qualification_valid_until": ("Действует до", "Срок действия", "Свидетельство до"),
    },
    by_name={"organization": "organization"},
    api=Api(
        Shape(
            "A staff member (teacher, master, expert…).",
            {
                "organization": Out("ИНН of the employer.", "organization_inn"),
                "personnel_number": Out("Personnel number."),
                "full_name": Out("Full name (ФИО)."),
                "role": Out("Role."),
                "position": Out("Position."),
                "qualifications": Out("Qualifications per competency."),
            },
            labels=("role",),
            links=(ToOne("organization", "Organization", ("organization",), "The employer."),),
        ),
        (
            "Staff members. Every role lists them; `fullName` is personal data (152-ФЗ, see its "
            "description). Outside an admin's scope the default order is by uid, and a search or a "
            "sort by full name covers only the staff whose names the caller reads (FORBIDDEN for "
            "planners and viewers)."
        ),
        item=("Qualification", QUALIFICATION),
    ),
)


INFRASTRUCTURE_LISTS = Registry(
    "infrastructure_lists",
    m.InfrastructureList,
    "Инфраструктурные листы",
    owner=CATALOGUE,
    links=(
        link_to("competency", "HAS_INFRASTRUCTURE_LIST", "Competency", outgoing=False),
        items_link("items", "REQUIRES", "EquipmentType", "equipment_type", "quantity", "scope"),
    ),
    listing=ListSpec(
        {
            "competency": field_in("competency", "Competency codes."),
            "competency_block": Filter(
                (
                    "EXISTS { MATCH (c:Competency)-[:HAS_INFRASTRUCTURE_LIST]->(n) WHERE "
                    "c.block_code IN $f_competency_block }"
                ),
                "Competency block codes.",
            ),
        },
        {},
        "uid",
    ),
    items=Items("items", "item_", ("equipment_type", "quantity", "scope")),
    headers={
        "competency": ("Компетенция", "Код компетенции"),
        "name": (*H.NAME, "Наименование листа"),
        "min_staff": H.STAFF_MIN,
        "expert_required": ("Требуется эксперт", "Эксперт обязателен"),
        "item_equipment_type": H.TYPE_CODE,
        "item_quantity": H.QTY,
        "item_scope": H.SCOPE,
    },
    by_name={"items.equipment_type": "equipment_type"},
    api=Api(
        Shape(
            "The infrastructure list of a competency.",
            {
                "competency": Out("Competency code.", "competency_code"),
                "name": Out("Name."),
                "items": Out("Equipment types required."),
                "min_staff": Out("Minimum staff to run it."),
                "expert_required": Out("An expert is required."),
            },
            links=(ToOne("competency", "Competency", ("competency",), "The competency."),),
        ),
        "Infrastructure lists of competencies.",
        item=("Requirement", REQUIREMENT),
    ),
)


# ICT and reference resources are tagged with the competencies and programs they serve.
TAGS = (
    links_to("competencies", "FOR_COMPETENCY", "Competency"),
    links_to("programs", "FOR_PROGRAM", "Program"),
)
TAG_FILTERS = {
    "competency": Filter("any(c IN n.competencies WHERE c IN $f_competency)", "Competency codes."),
    "program": Filter("any(p IN n.programs WHERE p IN $f_program)", "Program codes."),
}
TAG_FIELDS = {
    "competencies": Out("Competency codes.", "competency_codes"),
    "programs": Out("Program codes.", "program_codes"),
}
TAG_LINKS = (
    ToMany("competencies", "Competency", "competencies", "Competencies."),
    ToMany("programs", "Program", "programs", "Programs."),
)


DIGITAL_RESOURCES = Registry(
    "digital_resources",
    m.DigitalResource,
    "Информационно-коммуникационные ресурсы",
    owner=CATALOGUE,
    links=(
        link_to("organization", "PROVIDED_BY", "Organization"),
        *TAGS,
    ),
    listing=ListSpec(
        {
            "kind": field_in("kind", "Kinds of resource.", DigitalResourceKind),
            **TAG_FILTERS,
        },
        {"name": Sort("n.name"), "code": Sort("n.code")},
        "name",
    ),
    indexes=("kind",),
    api=Api(
        Shape(
            "An ICT resource: course, simulator, platform.",
            {
                "code": Out("Code."),
                "name": Out("Name."),
                "kind": Out("Kind."),
                "url": Out("URL."),
                "organization": Out("ИНН of the owner.", "organization_inn"),
                **TAG_FIELDS,
            },
            labels=("kind",),
            links=TAG_LINKS,
        ),
        "ICT resources.",
    ),
)


REFERENCE_DOCUMENTS = Registry(
    "reference_documents",
    m.ReferenceDocument,
    "Информационно-справочные ресурсы",
    owner=CATALOGUE,
    links=(*TAGS,),
    listing=ListSpec(
        {
            "kind": field_in("kind", "Kinds of document.", ReferenceDocumentKind),
            **TAG_FILTERS,
        },
        {"name": Sort("n.name"), "code": Sort("n.code")},
        "name",
    ),
    indexes=("kind",),
    api=Api(
        Shape(
            "A standard, infrastructure list or normative act.",
            {
                "code": Out("Code."),
                "name": Out("Name."),
                "kind": Out("Kind."),
                "number": Out("Number."),
                "issued_on": Out("Issued on."),
                "url": Out("URL."),
                **TAG_FIELDS,
            },
            labels=("kind",),
            links=TAG_LINKS,
        ),
        "Reference documents.",
    ),
)
