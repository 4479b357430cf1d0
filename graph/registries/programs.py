"""Registries of programs: programs, their modules, the digital learning materials (ЦОР/ЭОР)
modules use, network agreements."""

from __future__ import annotations

from graph import models as m
from graph.declare import (
    ORG,
    Api,
    Filter,
    Items,
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
    Traversal,
    field_in,
    flag,
    items_link,
    link_to,
    links_to,
    traverse,
)
from graph.enums import (
    AgreementKind,
    MaterialKind,
    MaterialLicense,
    MaterialStatus,
    ProgramStatus,
    ProgramType,
)
from graph.registries import headers as H
from graph.registries.resources import REQUIREMENT

PARTY = Shape(
    "A party to an agreement.",
    {
        "organization": Out("ИНН of the party.", "organization_inn"),
        "role": Out("Role."),
        "responsibilities": Out("Responsibilities."),
    },
    labels=("role",),
    links=(ToOne("organization", "Organization", ("organization",), "The organization."),),
)

PROGRAMS = Registry(
    "programs",
    m.Program,
    "Программы",
    owner=ORG,
    links=(
        link_to("organization", "DEVELOPED_BY", "Organization"),
        Link(
            "competencies",
            "DEVELOPS",
            "Competency",
            lambda p: [(c, {}) for c in p.competencies],
            fields=("competencies",),
        ),
    ),
    listing=ListSpec(
        {
            "type": field_in("type", "Program types.", ProgramType),
            "status": field_in("status", "Program statuses.", ProgramStatus),
            "organization": field_in("organization", "ИНН of the developer."),
            "network": flag("network", "Network-form programs only (true) or others (false)."),
            "region": Filter(
                (
                    "EXISTS { MATCH (n)-[:DEVELOPED_BY]->(o:Organization) WHERE o.region IN "
                    "$f_region }"
                ),
                "Subject codes of regions.",
            ),
            "competency": Filter(
                "EXISTS { MATCH (n)-[:DEVELOPS]->(c:Competency) WHERE c.uid IN $f_competency }",
                "Competency codes.",
            ),
            "competency_block": Filter(
                (
                    "EXISTS { MATCH (n)-[:DEVELOPS]->(c:Competency) WHERE c.block_code IN "
                    "$f_competency_block }"
                ),
                "Competency block codes.",
            ),
        },
        {"name": Sort("n.name"), "code": Sort("n.code"), "hours": Sort("n.hours", "int")},
        "name",
    ),
    traversals={
        "program_modules": traverse(
            "Program", "Module", "(s)-[:HAS_MODULE]->(t:Module)", "t.number"
        ),
        "program_agreements": traverse(
            "Program", "PartnerAgreement", "(s)<-[:FOR_PROGRAM]-(t:PartnerAgreement)", "t.signed_on"
        ),
        "program_cohorts": traverse(
            "Program", "Cohort", "(s)<-[:OF_PROGRAM]-(t:Cohort)", "t.starts_on"
        ),
        "program_materials": Traversal(
            "Program",
            "LearningMaterial",
            "MATCH (s)-[:HAS_MODULE]->(mo:Module)-[:USES_MATERIAL]->(t:LearningMaterial)",
            "RETURN DISTINCT t, null AS x ORDER BY t.name, t.uid",
            "mo.retiredAt IS NULL",
        ),
    },
    indexes=("type", "status", "organization", "name"),
    fulltext=True,
    headers={
        "code": ("Код", "Код программы", "Шифр"),
        "name": (*H.NAME, "Наименование программы"),
        "type": ("Тип", "Тип программы", "Вид программы"),
        "status": ("Статус",),
        "hours": ("Часы", "Объем", "Объем часов", "Количество часов", "Трудоемкость"),
        "format": ("Форма обучения", "Формат"),
        "network": ("Сетевая форма", "Сетевая"),
        "organization": (*H.ORG, "ИНН разработчика", "Разработчик"),
        "competencies": ("Компетенции", "Коды компетенций"),
        "description": ("Описание", "Аннотация"),
        "approved_on": ("Дата утверждения",),
    },
    by_name={"organization": "organization"},
    api=Api(
        Shape(
            "An education program (additional professional education).",
            {
                "code": Out("Code."),
                "name": Out("Name."),
                "type": Out("Type (federal template)."),
                "status": Out("Lifecycle status."),
                "hours": Out("Length in academic hours."),
                "format": Out("Form of study."),
                "network": Out("Run in network form (273-ФЗ art. 15)."),
                "organization": Out("ИНН of the developer.", "organization_inn"),
                "competencies": Out("Competency codes.", "competency_codes"),
                "description": Out("Description."),
                "approved_on": Out("Approval date."),
            },
            labels=("type", "status"),
            links=(
                ToOne("organization", "Organization", ("organization",), "The developer."),
                ToMany(
                    "competencies",
                    "Competency",
                    "competencies",
                    "Competencies the program develops.",
                ),
            ),
        ),
        "Education programs.",
        related=(
            Related("modules", "program_modules", "Modules in order."),
            Related("agreements", "program_agreements", "Agreements to run the program."),
            Related("materials", "program_materials",
                    "Digital learning materials its modules use, by name."),
        ),
    ),
)


LEARNING_MATERIALS = Registry(
    "learning_materials",
    m.LearningMaterial,
    "Цифровые образовательные ресурсы",
    owner=ORG,
    links=(
        link_to("organization", "AUTHORED_BY", "Organization"),
        links_to("competencies", "FOR_COMPETENCY", "Competency"),
    ),
    listing=ListSpec(
        {
            "organization": field_in("organization", "ИНН of the authors."),
            "kind": field_in("kind", "Kinds of material.", MaterialKind),
            "status": field_in("status", "Statuses.", MaterialStatus),
            "license": field_in("license", "Licenses.", MaterialLicense),
            "accessible": flag("accessible", "Accessible to people with disabilities (true) "
                               "or not (false)."),
            "competency": Filter(
                "EXISTS { MATCH (n)-[:FOR_COMPETENCY]->(c:Competency) WHERE c.uid IN "
                "$f_competency }",
                "Competency codes.",
            ),
            "program": Filter(
                "EXISTS { MATCH (n)<-[:USES_MATERIAL]-(mo:Module) WHERE mo.program IN "
                "$f_program AND mo.retiredAt IS NULL }",
                "Codes of programs whose modules use the material.",
            ),
        },
        {
            "name": Sort("n.name"),
            "code": Sort("n.code"),
            "hours": Sort("n.hours", "int"),
            "approved_on": Sort("n.approved_on", "date"),
        },
        "name",
    ),
    traversals={
        "material_modules": traverse(
            "LearningMaterial", "Module", "(s)<-[:USES_MATERIAL]-(t:Module)",
            "t.program, t.number",
        ),
    },
    indexes=("organization", "kind", "status", "name"),
    fulltext=True,
    headers={
        "organization": ("ИНН автора", "Автор", "Организация-автор", "ИНН организации-автора",
                         *H.ORG),
        "code": ("Код материала", "Код ЦОР", "Код", "Шифр"),
        "name": (*H.NAME, "Наименование материала", "Наименование ЦОР"),
        "description": ("Описание", "Аннотация"),
        "kind": ("Вид", "Вид материала", "Вид ЦОР", "Тип", "Тип материала"),
        "format": ("Формат", "Формат файла", "Стандарт"),
        "location": ("Ссылка", "Адрес", "URL", "Размещение", "Идентификатор в СДО"),
        "edition": ("Редакция", "Версия", "Номер редакции"),
        "hours": ("Часы", "Объем", "Объем часов", "Трудоемкость"),
        "language": ("Язык", "Язык обучения"),
        "competencies": ("Компетенции", "Коды компетенций"),
        "accessible": ("Доступен для лиц с ОВЗ", "Для лиц с ОВЗ", "Доступность для лиц с ОВЗ",
                       "Адаптирован для лиц с ОВЗ", "ОВЗ"),
        "license": ("Лицензия", "Условия использования"),
        "rights_holder": ("Правообладатель",),
        "status": ("Статус",),
        "approved_on": ("Дата утверждения",),
    },
    by_name={"organization": "organization"},
    api=Api(
        Shape(
            "A digital learning material (ЦОР/ЭОР): modules use it; it is reviewed with the "
            "program that uses it (REVIEW and APPROVED come from the expert review only).",
            {
                "organization": Out("ИНН of the author organization.", "organization_inn"),
                "code": Out("Code within the author."),
                "name": Out("Name."),
                "description": Out("Description."),
                "kind": Out("Kind."),
                "format": Out("Format (SCORM, xAPI, HTML, PDF, MP4…)."),
                "location": Out("Link or LMS identifier (data: the hub never opens it)."),
                "edition": Out("Edition; a new one of an approved material is a draft again."),
                "hours": Out("Academic hours of study it takes."),
                "language": Out("Language (ISO 639 code)."),
                "competencies": Out("Competency codes.", "competency_codes"),
                "accessible": Out("Accessible to people with disabilities."),
                "license": Out("License."),
                "rights_holder": Out("Rights holder (when not the author)."),
                "status": Out("Lifecycle status."),
                "approved_on": Out("Date of the last approval by expert review."),
            },
            labels=("kind", "license", "status"),
            links=(
                ToOne("organization", "Organization", ("organization",), "The author."),
                ToMany("competencies", "Competency", "competencies",
                       "Competencies the material develops."),
            ),
        ),
        "Digital learning materials (ЦОР/ЭОР).",
        related=(
            Related("used_by", "material_modules", "Modules using it, by program and number."),
        ),
    ),
)


MODULES = Registry(
    "modules",
    m.Module,
    "Модули программ",
    owner=Owner("program", ("program",)),
    links=(
        link_to("program", "HAS_MODULE", "Program", outgoing=False),
        link_to("competency", "FOR_COMPETENCY", "Competency"),
        items_link(
            "requirements", "REQUIRES", "EquipmentType", "equipment_type", "quantity", "scope"
        ),
        links_to("materials", "USES_MATERIAL", "LearningMaterial"),
    ),
    listing=ListSpec(
        {
            "program": field_in("program", "Program codes."),
            "competency": field_in("competency", "Competency codes."),
            "material": Filter("ANY(k IN n.materials WHERE k IN $f_material)",
                               "Keys of materials used (ИНН автора:код)."),
        },
        {
            "name": Sort("n.name"),
            "number": Sort("n.number", "int"),
            "hours": Sort("n.hours", "int"),
        },
        "uid",
    ),
    indexes=("program",),
    fulltext=True,
    items=Items("requirements", "requirement_", ("equipment_type", "quantity", "scope")),
    headers={
        "program": ("Программа", "Код программы"),
        "number": ("Номер", "№", "Номер модуля", "№ модуля"),
        "name": (*H.NAME, "Наименование модуля", "Модуль"),
        "hours": ("Часы", "Объем", "Объем часов", "Количество часов"),
        "competency": ("Компетенция", "Код компетенции"),
        "min_staff": H.STAFF_MIN,
        "requirement_equipment_type": H.TYPE_CODE,
        "requirement_quantity": H.QTY,
        "requirement_scope": H.SCOPE,
        "materials": ("Материалы", "ЦОР", "ЭОР", "Цифровые образовательные ресурсы",
                      "Ключи материалов"),
    },
    by_name={"requirements.equipment_type": "equipment_type"},
    api=Api(
        Shape(
            "A module of a program.",
            {
                "program": Out("Program code.", "program_code"),
                "number": Out("Number within the program."),
                "name": Out("Name."),
                "hours": Out("Hours."),
                "competency": Out("Competency code.", "competency_code"),
                "requirements": Out("Equipment types required."),
                "min_staff": Out("Minimum staff."),
                "materials": Out("Keys of the digital learning materials it uses "
                                 "(ИНН автора:код).", "material_keys"),
            },
            links=(
                ToOne("program", "Program", ("program",), "The program."),
                ToOne("competency", "Competency", ("competency",), "The competency."),
                ToMany("materials", "LearningMaterial", "materials",
                       "Digital learning materials it uses."),
            ),
        ),
        "Program modules.",
        item=("Requirement", REQUIREMENT),
    ),
)


AGREEMENTS = Registry(
    "agreements",
    m.PartnerAgreement,
    "Соглашения о партнерстве",
    owner=Owner("org", ("base_organization",)),
    links=(
        items_link("parties", "PARTY", "Organization", "organization", "role", "responsibilities"),
        link_to("program", "FOR_PROGRAM", "Program"),
    ),
    listing=ListSpec(
        {
            "kind": field_in("kind", "Kinds of agreement.", AgreementKind),
            "organization": Filter(
                "EXISTS { MATCH (n)-[:PARTY]->(o:Organization) WHERE o.uid IN $f_organization }",
                "ИНН of a party.",
            ),
            "program": field_in("program", "Program codes."),
        },
        {"signed_on": Sort("n.signed_on", "date"), "number": Sort("n.number")},
        "signed_on",
    ),
    indexes=("kind", "base_organization"),
    items=Items("parties", "party_", ("organization", "role", "responsibilities")),
    headers={
        "base_organization": ("ИНН базовой организации", "Базовая организация", "ИНН"),
        "number": ("Номер", "Номер договора", "№ договора", "№"),
        "kind": ("Вид", "Вид договора", "Тип", "Тип договора"),
        "subject": ("Предмет", "Предмет договора"),
        "signed_on": ("Дата заключения", "Дата подписания", "Дата договора"),
        "valid_from": ("Действует с", "Дата начала", "Начало действия"),
        "valid_to": ("Действует по", "Дата окончания", "Окончание действия"),
        "program": ("Программа", "Код программы"),
        "learners": ("Число обучающихся", "Количество обучающихся", "Обучающихся"),
        "resources": ("Ресурсы", "Используемые ресурсы"),
        "documents_issued": ("Выдаваемые документы", "Документы об обучении"),
        "party_organization": ("ИНН стороны", "Сторона", "Организация-сторона"),
        "party_role": ("Роль стороны", "Роль"),
        "party_responsibilities": ("Обязанности стороны", "Обязанности"),
    },
    by_name={"base_organization": "organization", "parties.organization": "organization"},
    api=Api(
        Shape(
            "An agreement between organizations (network form, partnership…).",
            {
                "base_organization": Out("ИНН of the base organization.", "base_organization_inn"),
                "number": Out("Number."),
                "kind": Out("Kind."),
                "subject": Out("Subject."),
                "signed_on": Out("Signing date."),
                "valid_from": Out("Start date."),
                "valid_to": Out("End date."),
                "parties": Out("Parties with their roles."),
                "program": Out("Program code (network form).", "program_code"),
                "learners": Out("Number of learners."),
                "resources": Out("Resources used."),
                "documents_issued": Out("Documents issued."),
            },
            labels=("kind",),
            links=(ToOne("program", "Program", ("program",), "The program."),),
        ),
        "Agreements between organizations.",
        item=("Party", PARTY),
    ),
)
