"""Pydantic models of the registry nodes. Each model knows its natural key (`uid`).

Required fields are enforced here: Neo4j community has no existence constraints.
Messages of our own validators are in Russian: registrars read them.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cached_property
from typing import Annotated, ClassVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from graph.checksums import inn_is_valid, ogrn_is_valid
from graph.enums import (
    AgreementKind,
    CareerGuidanceKind,
    CompetencyStandard,
    DigitalResourceKind,
    EnrollmentStatus,
    EquipmentStatus,
    ExpertStatus,
    LearnerCategory,
    MaterialKind,
    MaterialLicense,
    MaterialStatus,
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


def _blank(value: object) -> object:
    return "" if isinstance(value, str) and not value.strip() else value


# Free text is kept as typed: a leading tab, an indent, a trailing line break are the writer's
# (and `hub export` → `hub load` gives back the same text); a value of only whitespace is empty.
Text = Annotated[str, StringConstraints(strip_whitespace=False, min_length=1, max_length=1000),
                 BeforeValidator(_blank)]
LongText = Annotated[str, StringConstraints(strip_whitespace=False, max_length=20000),
                     BeforeValidator(_blank)]
# Codes, and short texts matched as values (a category, a unit, a link, a document number), are
# trimmed: whitespace around them is a paste accident that would make one value two.
Code = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[^:\s]+$")
]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


def _digits(value: object) -> str:
    """Registry numbers arrive as text, numbers or with spaces from spreadsheets."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return re.sub(r"\s+", "", str(value))


def _date(value: object) -> object:
    """Accept ДД.ММ.ГГГГ as spreadsheets write it, besides ISO dates."""
    if isinstance(value, str):
        text = value.strip()
        match = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", text)
        if match:
            d, mo, y = (int(g) for g in match.groups())
            try:
                return dt.date(y, mo, d)
            except ValueError:
                raise ValueError("несуществующая дата") from None
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}[ T]00:00(:00)?", text):
            return text[:10]
        return text or None
    if isinstance(value, dt.datetime):
        return value.date()
    return value


Date = Annotated[dt.date, BeforeValidator(_date)]


def join_key(*parts: str) -> str:
    return ":".join(parts)


class Node(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)
    LABEL: ClassVar[str]
    KEY_FIELDS: ClassVar[tuple[str, ...]]

    @cached_property
    def uid(self) -> str:
        return join_key(*(str(getattr(self, f)) for f in self.KEY_FIELDS))


class Region(Node):
    LABEL = "Region"
    KEY_FIELDS = ("code",)
    code: Annotated[str, StringConstraints(pattern=r"^\d{2,3}$")] = Field(
        description="Код субъекта РФ (две-три цифры)"
    )
    name: Text


class Municipality(Node):
    LABEL = "Municipality"
    KEY_FIELDS = ("oktmo",)
    oktmo: Annotated[str, StringConstraints(pattern=r"^\d{8}(\d{3})?$")]
    name: Text
    region: Annotated[str, StringConstraints(pattern=r"^\d{2,3}$")]

    _digits = field_validator("oktmo", "region", mode="before")(_digits)


class Organization(Node):
    LABEL = "Organization"
    KEY_FIELDS = ("inn",)
    inn: str
    name: Text
    short_name: Text | None = None
    kind: OrganizationKind
    ogrn: str | None = None
    region: Annotated[str, StringConstraints(pattern=r"^\d{2,3}$")]
    municipality: str | None = None
    address: Text | None = None
    website: Label | None = None

    @field_validator("inn", mode="before")
    @classmethod
    def _inn(cls, v: object) -> str:
        inn = _digits(v)
        if not inn_is_valid(inn):
            raise ValueError("ИНН должен содержать 10 или 12 цифр с верной контрольной суммой")
        return inn

    @field_validator("ogrn", mode="before")
    @classmethod
    def _ogrn(cls, v: object) -> str | None:
        if v is None or v == "":
            return None
        ogrn = _digits(v)
        if not ogrn_is_valid(ogrn):
            raise ValueError("ОГРН должен содержать 13 (ОГРНИП — 15) цифр с верной контрольной суммой")
        return ogrn

    @field_validator("region", "municipality", mode="before")
    @classmethod
    def _codes(cls, v: object) -> str | None:
        return None if v is None or v == "" else _digits(v)


class Site(Node):
    LABEL = "Site"
    KEY_FIELDS = ("organization", "code")
    organization: str = Field(description="ИНН организации")
    code: Code
    name: Text
    kind: SiteKind = SiteKind.WORKSHOP
    address: Text | None = None
    municipality: str
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    workplaces: int = Field(ge=0, le=10000, description="Число рабочих мест")

    _codes = field_validator("organization", "municipality", mode="before")(_digits)

    @model_validator(mode="after")
    def _coordinates_together(self) -> Site:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("координаты задаются парой: широта и долгота")
        return self


class EquipmentType(Node):
    LABEL = "EquipmentType"
    KEY_FIELDS = ("code",)
    code: Code
    name: Text
    category: Label | None = None
    unit: Label = "шт."


class Equipment(Node):
    LABEL = "Equipment"
    KEY_FIELDS = ("organization", "inventory_number")
    organization: str = Field(description="ИНН организации-владельца")
    inventory_number: Code
    type: Code = Field(description="Код типа оборудования")
    site: Code = Field(description="Код площадки организации")
    name: Text | None = None
    quantity: int = Field(ge=1, le=100000)
    status: EquipmentStatus = EquipmentStatus.WORKING
    year: int | None = Field(default=None, ge=1950, le=dt.date.today().year + 1)

    _codes = field_validator("organization", mode="before")(_digits)


class Qualification(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)
    competency: Code
    expert_status: ExpertStatus = ExpertStatus.NONE
    valid_until: Date | None = None


class Staff(Node):
    LABEL = "Staff"
    KEY_FIELDS = ("organization", "personnel_number")
    organization: str = Field(description="ИНН организации-работодателя")
    personnel_number: Code = Field(description="Табельный номер")
    full_name: Text
    role: StaffRole
    position: Text | None = None
    qualifications: tuple[Qualification, ...] = ()

    _codes = field_validator("organization", mode="before")(_digits)

    @field_validator("qualifications")
    @classmethod
    def _unique_competencies(cls, v: tuple[Qualification, ...]) -> tuple[Qualification, ...]:
        seen = [q.competency for q in v]
        dupes = sorted({c for c in seen if seen.count(c) > 1})
        if dupes:
            raise ValueError(f"компетенция указана дважды: {', '.join(dupes)}")
        return v


class Competency(Node):
    LABEL = "Competency"
    KEY_FIELDS = ("code",)
    code: Code
    name: Text
    block_code: Code | None = None
    block: Text | None = None
    standard: CompetencyStandard = CompetencyStandard.WSR
    is_future: bool = False
    is_digital: bool = False


class Requirement(BaseModel):
    """An equipment type a competency or module needs, per workplace or per group."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)
    equipment_type: Code
    quantity: int = Field(ge=1, le=100000)
    scope: RequirementScope = RequirementScope.PER_WORKPLACE


def _unique_types(v: tuple[Requirement, ...]) -> tuple[Requirement, ...]:
    seen = [r.equipment_type for r in v]
    dupes = sorted({c for c in seen if seen.count(c) > 1})
    if dupes:
        raise ValueError(f"тип оборудования указан дважды: {', '.join(dupes)}")
    return v


class InfrastructureList(Node):
    LABEL = "InfrastructureList"
    KEY_FIELDS = ("competency",)
    competency: Code
    name: Text | None = None
    items: tuple[Requirement, ...] = Field(min_length=1)
    min_staff: int = Field(default=1, ge=0, le=100)
    expert_required: bool = False

    _unique = field_validator("items")(_unique_types)


class Program(Node):
    LABEL = "Program"
    KEY_FIELDS = ("code",)
    code: Code
    name: Text
    type: ProgramType
    status: ProgramStatus = ProgramStatus.DRAFT
    hours: int = Field(ge=1, le=10000)
    format: ProgramFormat = ProgramFormat.FULL_TIME
    network: bool = Field(default=False, description="Сетевая форма реализации")
    organization: str = Field(description="ИНН организации-разработчика")
    competencies: tuple[Code, ...] = ()
    description: LongText | None = None
    approved_on: Date | None = None

    _codes = field_validator("organization", mode="before")(_digits)


def _edition(value: object) -> object:
    """Editions arrive as numbers from spreadsheets (2, 2.0) or as text (2024-1)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


_LANGUAGES = {"русский": "ru", "рус": "ru", "английский": "en", "англ": "en"}


def _language(value: object) -> object:
    if not isinstance(value, str):
        return value
    text = value.strip().casefold()
    text = _LANGUAGES.get(text, text)
    if not re.fullmatch(r"[a-z]{2,3}(-[a-z]{2})?", text):
        raise ValueError(f"язык — код ISO 639 (ru, en, tt…) или «русский», получено «{value}»")
    return text


_UNSAFE_SCHEMES = ("javascript:", "data:", "vbscript:", "file:")


def _location(value: object) -> object:
    """A link (http, https) or an identifier in a learning management system; never loaded by
    the hub, but shown to people, so no script or local-file addresses."""
    # browsers drop whitespace and control characters inside a scheme ("java\tscript:")
    if isinstance(value, str) and re.sub(r"[\s\x00-\x1f]+", "", value).casefold().startswith(
            _UNSAFE_SCHEMES):
        raise ValueError("ссылка на материал: допустимы http(s)-адрес или идентификатор в СДО")
    return value


class LearningMaterial(Node):
    """A digital learning material (ЦОР/ЭОР) of its author organization: modules use it, and
    it is reviewed with the program that uses it (graph/public_services/review.py)."""

    LABEL = "LearningMaterial"
    KEY_FIELDS = ("organization", "code")
    organization: str = Field(description="ИНН организации-автора")
    code: Code
    name: Text
    description: LongText | None = None
    kind: MaterialKind
    format: Label | None = Field(default=None, description="SCORM, xAPI, HTML, PDF, MP4…")
    location: Annotated[Label, BeforeValidator(_location)] | None = Field(
        default=None, description="Ссылка или идентификатор в СДО")
    edition: Annotated[Label, BeforeValidator(_edition)] = "1"
    hours: int | None = Field(default=None, ge=1, le=10000)
    language: Annotated[str, BeforeValidator(_language)] = "ru"
    competencies: tuple[Code, ...] = ()
    accessible: bool = Field(default=False, description="Доступен для лиц с ОВЗ")
    license: MaterialLicense = MaterialLicense.OWN
    rights_holder: Text | None = None
    status: MaterialStatus = MaterialStatus.DRAFT
    approved_on: Date | None = None

    _codes = field_validator("organization", mode="before")(_digits)

    @model_validator(mode="after")
    def _rights(self) -> LearningMaterial:
        if self.license == MaterialLicense.PROPRIETARY and self.rights_holder is None:
            raise ValueError("для лицензии правообладателя укажите правообладателя")
        return self


def _material_ref(value: object) -> object:
    if not isinstance(value, str):
        return value
    text = re.sub(r"\s+", "", value)
    if not re.fullmatch(r"\d{10}(\d{2})?:[^:]{1,64}", text):
        raise ValueError(f"материал указывается ключом «ИНН автора:код материала», получено "
                         f"«{value}»")
    return text


MaterialRef = Annotated[str, BeforeValidator(_material_ref)]  # «ИНН автора:код материала»


class Module(Node):
    LABEL = "Module"
    KEY_FIELDS = ("program", "number")
    program: Code
    number: int = Field(ge=1, le=999)
    name: Text
    hours: int = Field(ge=1, le=10000)
    competency: Code | None = None
    requirements: tuple[Requirement, ...] = ()
    min_staff: int = Field(default=1, ge=0, le=100)
    materials: tuple[MaterialRef, ...] = Field(default=(), description="ЦОР/ЭОР модуля")

    _unique = field_validator("requirements")(_unique_types)

    @field_validator("materials")
    @classmethod
    def _unique_materials(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        dupes = sorted({m for m in v if v.count(m) > 1})
        if dupes:
            raise ValueError(f"материал указан дважды: {', '.join(dupes)}")
        return v


class Party(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)
    organization: str
    role: PartyRole
    responsibilities: LongText | None = None

    _codes = field_validator("organization", mode="before")(_digits)


class PartnerAgreement(Node):
    """Agreement between organizations; NETWORK ones carry the 273-ФЗ art. 15 fields."""

    LABEL = "PartnerAgreement"
    KEY_FIELDS = ("base_organization", "number")
    base_organization: str = Field(description="ИНН базовой организации")
    number: Code
    kind: AgreementKind
    subject: Text
    signed_on: Date
    valid_from: Date
    valid_to: Date | None = None
    parties: tuple[Party, ...] = Field(min_length=2)
    program: Code | None = None
    learners: int | None = Field(default=None, ge=1, le=100000)
    resources: LongText | None = None
    documents_issued: LongText | None = None

    _codes = field_validator("base_organization", mode="before")(_digits)

    @model_validator(mode="after")
    def _consistent(self) -> PartnerAgreement:
        if self.valid_to and self.valid_to < self.valid_from:
            raise ValueError("дата окончания раньше даты начала")
        inns = [p.organization for p in self.parties]
        if len(set(inns)) != len(inns):
            raise ValueError("организация указана среди сторон дважды")
        bases = [p.organization for p in self.parties if p.role == PartyRole.BASE]
        if bases != [self.base_organization]:
            raise ValueError("базовая организация должна быть ровно одной из сторон с ролью BASE")
        if self.kind == AgreementKind.NETWORK and (self.program is None or self.learners is None):
            raise ValueError(
                "договор о сетевой форме (ст. 15 273-ФЗ) указывает программу и число обучающихся"
            )
        return self


# --- Activity registries of the situational centre -------------------------------------------

RegionCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{2,3}$")]
Oktmo = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{8}(\d{3})?$")]
SiteRef = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^\d{10}(\d{2})?:[^:\s]+$")
]  # site uid «ИНН:код площадки»


def _inn_or_none(v: object) -> str | None:
    return None if v is None or v == "" else _digits(v)


def _dates_ordered(start: dt.date, end: dt.date) -> None:
    if end < start:
        raise ValueError("дата окончания раньше даты начала")


class Cohort(Node):
    """A run of a program (учебная группа): who runs it, where, when, how many seats."""

    LABEL = "Cohort"
    KEY_FIELDS = ("program", "code")
    program: Code
    code: Code = Field(description="Номер группы")
    organization: str = Field(description="ИНН организации, реализующей программу")
    sites: tuple[SiteRef, ...] = ()
    starts_on: Date
    ends_on: Date
    seats: int = Field(ge=1, le=10000)

    _codes = field_validator("organization", mode="before")(_digits)

    @model_validator(mode="after")
    def _ordered(self) -> Cohort:
        _dates_ordered(self.starts_on, self.ends_on)
        return self


class Learner(Node):
    """A pseudonymous learner: an external id and a category, never a name or СНИЛС."""

    LABEL = "Learner"
    KEY_FIELDS = ("external_id",)
    external_id: Code
    category: LearnerCategory
    region: RegionCode
    municipality: Oktmo | None = None
    source: Label | None = Field(default=None, description="Система-источник")

    _codes = field_validator("region", "municipality", mode="before")(_inn_or_none)


class Enrollment(Node):
    LABEL = "Enrollment"
    KEY_FIELDS = ("program", "cohort", "learner")
    program: Code
    cohort: Code
    learner: Code = Field(description="Внешний идентификатор обучающегося")
    status: EnrollmentStatus = EnrollmentStatus.ENROLLED
    enrolled_on: Date | None = None
    completed_on: Date | None = None
    certificate_number: Label | None = None

    @model_validator(mode="after")
    def _status(self) -> Enrollment:
        done = self.status == EnrollmentStatus.COMPLETED
        if done and self.completed_on is None:
            raise ValueError("для завершившего обучение укажите дату завершения")
        if not done and (self.completed_on or self.certificate_number):
            raise ValueError("дата завершения и номер документа — только у завершивших обучение")
        return self


class CareerGuidanceEvent(Node):
    """Профориентационное мероприятие, профессиональная проба или обучение первой профессии."""

    LABEL = "CareerGuidanceEvent"
    KEY_FIELDS = ("organization", "code")
    organization: str = Field(description="ИНН организатора")
    code: Code
    kind: CareerGuidanceKind
    name: Text
    held_on: Date
    site: SiteRef | None = None
    municipality: Oktmo | None = None
    competency: Code | None = None
    participants_school: int = Field(default=0, ge=0, le=1_000_000)
    participants_college: int = Field(default=0, ge=0, le=1_000_000)
    participants_employed: int = Field(default=0, ge=0, le=1_000_000)
    participants_pre_retirement: int = Field(default=0, ge=0, le=1_000_000)
    participants_unemployed: int = Field(default=0, ge=0, le=1_000_000)
    participants_college_staff: int = Field(default=0, ge=0, le=1_000_000)
    learners: tuple[Code, ...] = Field(default=(), description="Известные участники (внешние id)")

    _codes = field_validator("organization", mode="before")(_digits)

    @model_validator(mode="after")
    def _where(self) -> CareerGuidanceEvent:
        if self.site is None and self.municipality is None:
            raise ValueError("укажите площадку или муниципальное образование")
        return self

    @property
    def participants(self) -> int:
        return sum(getattr(self, f) for f in PARTICIPANT_FIELDS.values())


PARTICIPANT_FIELDS: dict[LearnerCategory, str] = {
    LearnerCategory.SCHOOL_STUDENT: "participants_school",
    LearnerCategory.COLLEGE_STUDENT: "participants_college",
    LearnerCategory.EMPLOYED: "participants_employed",
    LearnerCategory.PRE_RETIREMENT: "participants_pre_retirement",
    LearnerCategory.UNEMPLOYED: "participants_unemployed",
    LearnerCategory.COLLEGE_STAFF: "participants_college_staff",
}


class StaffTraining(Node):
    """A staff member completed повышение квалификации in a competency."""

    LABEL = "StaffTraining"
    KEY_FIELDS = ("organization", "personnel_number", "competency", "completed_on")
    organization: str = Field(description="ИНН организации-работодателя")
    personnel_number: Code
    competency: Code
    completed_on: Date
    document: Text = Field(description="Документ о повышении квалификации")
    hours: int | None = Field(default=None, ge=1, le=10000)
    provider: str | None = Field(default=None, description="ИНН организации, проводившей обучение")

    _codes = field_validator("organization", mode="before")(_digits)
    _provider = field_validator("provider", mode="before")(_inn_or_none)


class DemandSignal(Node):
    """Labour-market demand for a competency in a municipality over a period, by source."""

    LABEL = "DemandSignal"
    KEY_FIELDS = ("competency", "municipality", "source", "starts_on")
    competency: Code
    municipality: Oktmo
    source: Code = Field(description="Источник: trudvsem, опрос работодателей…")
    starts_on: Date
    ends_on: Date
    vacancies: int = Field(default=0, ge=0, le=10_000_000)
    employer_requests: int = Field(default=0, ge=0, le=10_000_000)
    survey_answers: int = Field(default=0, ge=0, le=10_000_000)

    _codes = field_validator("municipality", mode="before")(_digits)

    @model_validator(mode="after")
    def _ordered(self) -> DemandSignal:
        _dates_ordered(self.starts_on, self.ends_on)
        return self


class DigitalResource(Node):
    """ICT resource: an online course, a simulator, a platform."""

    LABEL = "DigitalResource"
    KEY_FIELDS = ("code",)
    code: Code
    name: Text
    kind: DigitalResourceKind
    url: Label | None = None
    organization: str | None = Field(default=None, description="ИНН правообладателя")
    competencies: tuple[Code, ...] = ()
    programs: tuple[Code, ...] = ()

    _codes = field_validator("organization", mode="before")(_inn_or_none)


class ReferenceDocument(Node):
    """Standard, infrastructure list, normative act."""

    LABEL = "ReferenceDocument"
    KEY_FIELDS = ("code",)
    code: Code
    name: Text
    kind: ReferenceDocumentKind
    number: Label | None = None
    issued_on: Date | None = None
    url: Label | None = None
    competencies: tuple[Code, ...] = ()
    programs: tuple[Code, ...] = ()


# --- A region's roadmap (graph/roadmap.py builds it from the template) -----------------------

class RoadmapActivity(Node):
    LABEL = "RoadmapActivity"
    KEY_FIELDS = ("region", "number")
    region: RegionCode
    number: int = Field(ge=1, le=999)
    group: int = Field(ge=1, le=99)
    group_title: Text
    title: LongText
    responsible: tuple[Text, ...] = ()
    due_text: Text
    first_due: Date
    recurrence: Recurrence = Recurrence.NONE
    expected_result: LongText = ""
    documents: LongText = ""
    status: RoadmapStatus = RoadmapStatus.NOT_STARTED
    evidence: tuple[Label, ...] = Field(default=(), description="Ссылки на подтверждающие документы")
    notes: LongText | None = None


class ControlPoint(Node):
    LABEL = "ControlPoint"
    KEY_FIELDS = ("region", "activity", "due_on")
    region: RegionCode
    activity: int = Field(ge=1, le=999)
    due_on: Date
    done_on: Date | None = None


class IndicatorSlot(Node):
    LABEL = "IndicatorSlot"
    KEY_FIELDS = ("region", "activity", "index")
    region: RegionCode
    activity: int = Field(ge=1, le=999)
    index: int = Field(ge=1, le=99)
    description: LongText
    implicit: bool = False
    target: int | None = Field(default=None, ge=0, le=100_000_000)
    kpi: Code | None = Field(default=None, description="Показатель, из которого берется факт")
