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


class LearnerCategory(LabelledEnum):
    SCHOOL_STUDENT = "SCHOOL_STUDENT"
    COLLEGE_STUDENT = "COLLEGE_STUDENT"
    EMPLOYED = "EMPLOYED"
    PRE_RETIREMENT = "PRE_RETIREMENT"
    UNEMPLOYED = "UNEMPLOYED"
    COLLEGE_STAFF = "COLLEGE_STAFF"


class EnrollmentStatus(LabelledEnum):
    ENROLLED = "ENROLLED"
    COMPLETED = "COMPLETED"
    DROPPED = "DROPPED"


class CareerGuidanceKind(LabelledEnum):
    EVENT = "EVENT"
    PROFESSIONAL_TRIAL = "PROFESSIONAL_TRIAL"
    FIRST_PROFESSION = "FIRST_PROFESSION"


class DigitalResourceKind(LabelledEnum):
    COURSE = "COURSE"
    SIMULATOR = "SIMULATOR"
    PLATFORM = "PLATFORM"
    OTHER = "OTHER"


class MaterialKind(LabelledEnum):
    """Kind of digital learning material (ЦОР/ЭОР)."""

    ONLINE_COURSE = "ONLINE_COURSE"
    VIDEO = "VIDEO"
    SIMULATOR = "SIMULATOR"
    VIRTUAL_LAB = "VIRTUAL_LAB"
    TEST_BANK = "TEST_BANK"
    E_TEXTBOOK = "E_TEXTBOOK"
    OTHER = "OTHER"


class MaterialLicense(LabelledEnum):
    """Terms on which a digital learning material is used."""

    OWN = "OWN"
    CC_BY = "CC_BY"
    CC_BY_SA = "CC_BY_SA"
    PROPRIETARY = "PROPRIETARY"


class MaterialStatus(LabelledEnum):
    """Lifecycle status of a digital learning material (REVIEW and APPROVED through the
    program's expert review only)."""

    DRAFT = "DRAFT"
    REVIEW = "REVIEW"
    APPROVED = "APPROVED"
    ARCHIVED = "ARCHIVED"


class ReferenceDocumentKind(LabelledEnum):
    STANDARD = "STANDARD"
    INFRASTRUCTURE_LIST = "INFRASTRUCTURE_LIST"
    NORMATIVE_ACT = "NORMATIVE_ACT"
    OTHER = "OTHER"


class Recurrence(LabelledEnum):
    NONE = "NONE"
    QUARTERLY = "QUARTERLY"
    ANNUAL = "ANNUAL"
    AS_NEEDED = "AS_NEEDED"


class RoadmapStatus(LabelledEnum):
    NOT_STARTED = "NOT_STARTED"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"
    CANCELLED = "CANCELLED"


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
    LearnerCategory: {
        LearnerCategory.SCHOOL_STUDENT: "Обучающийся общеобразовательной организации",
        LearnerCategory.COLLEGE_STUDENT: "Студент ПОО",
        LearnerCategory.EMPLOYED: "Занятый гражданин",
        LearnerCategory.PRE_RETIREMENT: "Гражданин предпенсионного возраста",
        LearnerCategory.UNEMPLOYED: "Безработный гражданин",
        LearnerCategory.COLLEGE_STAFF: "Сотрудник ПОО",
    },
    EnrollmentStatus: {
        EnrollmentStatus.ENROLLED: "Зачислен",
        EnrollmentStatus.COMPLETED: "Завершил обучение",
        EnrollmentStatus.DROPPED: "Отчислен",
    },
    CareerGuidanceKind: {
        CareerGuidanceKind.EVENT: "Профориентационное мероприятие",
        CareerGuidanceKind.PROFESSIONAL_TRIAL: "Профессиональная проба",
        CareerGuidanceKind.FIRST_PROFESSION: "Обучение первой профессии",
    },
    DigitalResourceKind: {
        DigitalResourceKind.COURSE: "Онлайн-курс",
        DigitalResourceKind.SIMULATOR: "Тренажер",
        DigitalResourceKind.PLATFORM: "Платформа",
        DigitalResourceKind.OTHER: "Иной ресурс",
    },
    MaterialKind: {
        MaterialKind.ONLINE_COURSE: "Онлайн-курс",
        MaterialKind.VIDEO: "Видеоматериал",
        MaterialKind.SIMULATOR: "Тренажер",
        MaterialKind.VIRTUAL_LAB: "Виртуальная лаборатория",
        MaterialKind.TEST_BANK: "Банк оценочных заданий",
        MaterialKind.E_TEXTBOOK: "Электронный учебник",
        MaterialKind.OTHER: "Иной материал",
    },
    MaterialLicense: {
        MaterialLicense.OWN: "Собственная разработка",
        MaterialLicense.CC_BY: "CC BY",
        MaterialLicense.CC_BY_SA: "CC BY-SA",
        MaterialLicense.PROPRIETARY: "Лицензия правообладателя",
    },
    MaterialStatus: {
        MaterialStatus.DRAFT: "Черновик",
        MaterialStatus.REVIEW: "На экспертизе",
        MaterialStatus.APPROVED: "Утвержден",
        MaterialStatus.ARCHIVED: "В архиве",
    },
    ReferenceDocumentKind: {
        ReferenceDocumentKind.STANDARD: "Стандарт",
        ReferenceDocumentKind.INFRASTRUCTURE_LIST: "Инфраструктурный лист",
        ReferenceDocumentKind.NORMATIVE_ACT: "Нормативный акт",
        ReferenceDocumentKind.OTHER: "Иной документ",
    },
    Recurrence: {
        Recurrence.NONE: "Однократно",
        Recurrence.QUARTERLY: "Ежеквартально",
        Recurrence.ANNUAL: "Ежегодно",
        Recurrence.AS_NEEDED: "При необходимости",
    },
    RoadmapStatus: {
        RoadmapStatus.NOT_STARTED: "Не начато",
        RoadmapStatus.IN_PROGRESS: "В работе",
        RoadmapStatus.DONE: "Выполнено",
        RoadmapStatus.CANCELLED: "Отменено",
    },
}

SYNONYMS: dict[type, dict] = {
    LearnerCategory: {
        LearnerCategory.SCHOOL_STUDENT: ("школьник", "обучающийся школы"),
        LearnerCategory.COLLEGE_STUDENT: ("студент", "студент спо"),
        LearnerCategory.EMPLOYED: ("занятый", "работающий", "взрослый"),
        LearnerCategory.PRE_RETIREMENT: ("предпенсионер", "предпенсионного возраста"),
        LearnerCategory.UNEMPLOYED: ("безработный",),
        # POO_STAFF: the code before v5 (files and exports made then still load)
        LearnerCategory.COLLEGE_STAFF: ("педагог ПОО", "работник ПОО", "POO_STAFF"),
    },
    CareerGuidanceKind: {
        CareerGuidanceKind.EVENT: ("мероприятие", "профориентация"),
        CareerGuidanceKind.PROFESSIONAL_TRIAL: ("профпроба", "проба"),
        CareerGuidanceKind.FIRST_PROFESSION: ("первая профессия",),
    },
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
    MaterialKind: {
        MaterialKind.ONLINE_COURSE: ("курс", "электронный курс", "онлайн курс", "mooc"),
        MaterialKind.VIDEO: ("видео", "видеолекция", "видеоурок", "видеокурс"),
        MaterialKind.SIMULATOR: ("симулятор", "виртуальный тренажер"),
        MaterialKind.VIRTUAL_LAB: ("виртуальная лабораторная работа", "лаборатория"),
        MaterialKind.TEST_BANK: ("тесты", "банк тестов", "банк тестовых заданий",
                                 "фонд оценочных средств", "фос"),
        MaterialKind.E_TEXTBOOK: ("учебник", "электронное учебное пособие", "учебное пособие",
                                  "пособие"),
        MaterialKind.OTHER: ("иное", "другое"),
    },
    MaterialLicense: {
        MaterialLicense.OWN: ("собственная", "собственный", "своя разработка", "own"),
        MaterialLicense.CC_BY: ("cc-by", "creative commons attribution", "cc by 4.0"),
        MaterialLicense.CC_BY_SA: ("cc-by-sa", "creative commons attribution-sharealike",
                                   "cc by-sa 4.0"),
        MaterialLicense.PROPRIETARY: ("проприетарная", "лицензионный договор", "коммерческая",
                                      "proprietary"),
    },
    MaterialStatus: {
        MaterialStatus.DRAFT: ("в разработке",),
        MaterialStatus.REVIEW: ("экспертиза",),
        MaterialStatus.APPROVED: ("утверждено", "утвержденный", "одобрен"),
        MaterialStatus.ARCHIVED: ("архив", "архивный"),
    },
}
