"""Closed vocabularies of the domain. Values are stable codes; LABELS hold the Russian names.

Every enum accepts its code, its Russian label, or a known synonym (case-insensitive), so
spreadsheets written by people load as well as API calls.
"""

from __future__ import annotations

from enum import Enum


class LabelledEnum(str, Enum):
    @property
    def label(self) -> str:
        return LABELS[type(self)][self]

    @classmethod
    def _missing_(cls, value: object) -> LabelledEnum | None:
        if not isinstance(value, str):
            return None
        text = " ".join(value.replace("ё", "е").replace("Ё", "Е").split()).casefold()
        for member in cls:
            names = {member.value.casefold(), LABELS[cls][member].casefold().replace("ё", "е")}
            names |= {s.casefold() for s in SYNONYMS.get(cls, {}).get(member, ())}
            if text in names:
                return member
        return None


class OrganizationKind(LabelledEnum):
    COPP = "COPP"
    COLLEGE = "COLLEGE"
    EMPLOYER = "EMPLOYER"
    UNIVERSITY = "UNIVERSITY"
    OTHER = "OTHER"


class SiteKind(LabelledEnum):
    WORKSHOP = "WORKSHOP"
    LABORATORY = "LABORATORY"
    CLASSROOM = "CLASSROOM"
    TRAINING_GROUND = "TRAINING_GROUND"
    PRODUCTION = "PRODUCTION"
    OTHER = "OTHER"


class EquipmentStatus(LabelledEnum):
    WORKING = "WORKING"
    REPAIR = "REPAIR"
    BROKEN = "BROKEN"
    RESERVED = "RESERVED"
    WRITTEN_OFF = "WRITTEN_OFF"


class StaffRole(LabelledEnum):
    TEACHER = "TEACHER"
    MASTER = "MASTER"
    METHODIST = "METHODIST"
    EXPERT = "EXPERT"
    MANAGER = "MANAGER"
    OTHER = "OTHER"


class ExpertStatus(LabelledEnum):
    NONE = "NONE"
    REGIONAL = "REGIONAL"
    CERTIFIED = "CERTIFIED"
    CHIEF = "CHIEF"


class CompetencyStandard(LabelledEnum):
    WSR = "WSR"
    PROFESSIONALITET = "PROFESSIONALITET"
    FGOS = "FGOS"
    OTHER = "OTHER"


class ProgramType(LabelledEnum):
    SPO_MODULES = "SPO_MODULES"
    SCHOOL_STUDENTS = "SCHOOL_STUDENTS"
    EMPLOYER_ORDERED = "EMPLOYER_ORDERED"
    SECTORAL = "SECTORAL"
    PRE_RETIREMENT = "PRE_RETIREMENT"
    FUTURE_COMPETENCIES = "FUTURE_COMPETENCIES"


class ProgramStatus(LabelledEnum):
    DRAFT = "DRAFT"
    REVIEW = "REVIEW"
    APPROVED = "APPROVED"
    RUNNING = "RUNNING"
    ARCHIVED = "ARCHIVED"


class ProgramFormat(LabelledEnum):
    FULL_TIME = "FULL_TIME"
    PART_TIME = "PART_TIME"
    DISTANCE = "DISTANCE"
    BLENDED = "BLENDED"


class RequirementScope(LabelledEnum):
    PER_WORKPLACE = "PER_WORKPLACE"
    PER_GROUP = "PER_GROUP"


class AgreementKind(LabelledEnum):
    NETWORK = "NETWORK"
    PARTNERSHIP = "PARTNERSHIP"
    PRACTICE = "PRACTICE"


class PartyRole(LabelledEnum):
    BASE = "BASE"
    PARTICIPANT = "PARTICIPANT"


LABELS: dict[type, dict] = {
    OrganizationKind: {
        OrganizationKind.COPP: "ЦОПП",
        OrganizationKind.COLLEGE: "ПОО",
        OrganizationKind.EMPLOYER: "Работодатель",
        OrganizationKind.UNIVERSITY: "Вуз",
        OrganizationKind.OTHER: "Иная организация",
    },
    SiteKind: {
        SiteKind.WORKSHOP: "Мастерская",
        SiteKind.LABORATORY: "Лаборатория",
        SiteKind.CLASSROOM: "Учебный кабинет",
        SiteKind.TRAINING_GROUND: "Полигон",
        SiteKind.PRODUCTION: "Производственная площадка",
        SiteKind.OTHER: "Иная площадка",
    },
    EquipmentStatus: {
        EquipmentStatus.WORKING: "Исправно",
        EquipmentStatus.REPAIR: "В ремонте",
        EquipmentStatus.BROKEN: "Неисправно",
        EquipmentStatus.RESERVED: "В резерве",
        EquipmentStatus.WRITTEN_OFF: "Списано",
    },
    StaffRole: {
        StaffRole.TEACHER: "Преподаватель",
        StaffRole.MASTER: "Мастер производственного обучения",
        StaffRole.METHODIST: "Методист",
        StaffRole.EXPERT: "Эксперт",
        StaffRole.MANAGER: "Руководитель",
        StaffRole.OTHER: "Иной сотрудник",
    },
    ExpertStatus: {
        ExpertStatus.NONE: "Нет",
        ExpertStatus.REGIONAL: "Региональный эксперт",
        ExpertStatus.CERTIFIED: "Сертифицированный эксперт",
        ExpertStatus.CHIEF: "Главный эксперт",
    },
    CompetencyStandard: {
        CompetencyStandard.WSR: "WorldSkills Russia",
        CompetencyStandard.PROFESSIONALITET: "Профессионалитет",
        CompetencyStandard.FGOS: "ФГОС",
        CompetencyStandard.OTHER: "Иной стандарт",
    },
    ProgramType: {
        ProgramType.SPO_MODULES: "Программы профессиональных модулей для СПО",
        ProgramType.SCHOOL_STUDENTS: "Программы для обучающихся общеобразовательных организаций",
        ProgramType.EMPLOYER_ORDERED: "Программы под заказ работодателей",
        ProgramType.SECTORAL: "Отраслевые программы",
        ProgramType.PRE_RETIREMENT: "Программы для граждан предпенсионного возраста",
        ProgramType.FUTURE_COMPETENCIES: (
            "Программы по компетенциям будущего, включая компетенции цифровой экономики"
        ),
    },
    ProgramStatus: {
        ProgramStatus.DRAFT: "Черновик",
        ProgramStatus.REVIEW: "На экспертизе",
        ProgramStatus.APPROVED: "Утверждена",
        ProgramStatus.RUNNING: "Реализуется",
        ProgramStatus.ARCHIVED: "В архиве",
    },
    ProgramFormat: {
        ProgramFormat.FULL_TIME: "Очная",
        ProgramFormat.PART_TIME: "Очно-заочная",
        ProgramFormat.DISTANCE: "Дистанционная",
        ProgramFormat.BLENDED: "Смешанная",
    },
    RequirementScope: {
        RequirementScope.PER_WORKPLACE: "На рабочее место",
        RequirementScope.PER_GROUP: "На группу",
    },
    AgreementKind: {
        AgreementKind.NETWORK: "Договор о сетевой форме реализации",
        AgreementKind.PARTNERSHIP: "Соглашение о партнерстве",
        AgreementKind.PRACTICE: "Договор о практической подготовке",
    },
    PartyRole: {
        PartyRole.BASE: "Базовая организация",
        PartyRole.PARTICIPANT: "Организация-участник",
    },
}

SYNONYMS: dict[type, dict] = {
    OrganizationKind: {
        OrganizationKind.COPP: ("центр опережающей профессиональной подготовки",),
        OrganizationKind.COLLEGE: ("колледж", "техникум", "college", "профессиональная образовательная организация"),
        OrganizationKind.EMPLOYER: ("предприятие", "employer"),
        OrganizationKind.UNIVERSITY: ("вуз", "университет", "институт"),
        OrganizationKind.OTHER: ("иное", "другое"),
    },
    EquipmentStatus: {
        EquipmentStatus.WORKING: ("в эксплуатации", "работает", "исправен", "исправное"),
        EquipmentStatus.BROKEN: ("неисправен", "сломано", "не работает"),
        EquipmentStatus.WRITTEN_OFF: ("списан",),
    },
    StaffRole: {
        StaffRole.MASTER: ("мастер п/о", "мастер производственного обучения", "мастер"),
        StaffRole.TEACHER: ("педагог", "преподаватель спецдисциплин"),
    },
    ProgramType: {
        ProgramType.SPO_MODULES: ("профессиональные модули спо",),
        ProgramType.SCHOOL_STUDENTS: ("для школьников", "для обучающихся общеобразовательных организаций"),
        ProgramType.EMPLOYER_ORDERED: ("под заказ работодателя", "под заказ работодателей"),
        ProgramType.SECTORAL: ("отраслевая", "отраслевые"),
        ProgramType.PRE_RETIREMENT: ("для предпенсионеров", "предпенсионного возраста"),
        ProgramType.FUTURE_COMPETENCIES: ("компетенции будущего", "цифровая экономика"),
    },
    RequirementScope: {
        RequirementScope.PER_WORKPLACE: ("на 1 рабочее место", "рабочее место", "workplace"),
        RequirementScope.PER_GROUP: ("на всех", "на группу участников", "group"),
    },
    CompetencyStandard: {
        CompetencyStandard.WSR: ("ворлдскиллс", "worldskills", "wsr"),
    },
}
