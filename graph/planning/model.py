"""Plain dataclasses of network planning: what the solver takes and what it returns.

No I/O here; `graph.planning.reads` builds them from records, `graph.planning.store` writes them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from graph.enums import PartyRole


class PlanningError(ValueError):
    """A request that cannot be planned (message in Russian, for users)."""


# ---------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Need:
    type: str
    name: str
    quantity: int
    scope: str

    def required(self, cohort: int) -> int:
        return self.quantity * cohort if self.scope == "PER_WORKPLACE" else self.quantity


@dataclass(frozen=True)
class ModuleInfo:
    uid: str
    number: int
    name: str
    hours: int
    competency: str | None
    min_staff: int
    needs: tuple[Need, ...]


@dataclass(frozen=True)
class Unit:
    uid: str
    name: str | None
    type: str
    quantity: int
    type_name: str | None = None  # the equipment type's name (EquipmentType.name)


@dataclass(frozen=True)
class SiteInfo:
    uid: str
    name: str
    organization: str
    workplaces: int
    latitude: float | None
    longitude: float | None
    stock: Mapping[str, int] = field(default_factory=dict)  # type → working quantity

    def available(self, etype: str) -> int:
        return self.stock.get(etype, 0)


@dataclass(frozen=True)
class StaffInfo:
    uid: str
    full_name: str
    expert_status: str


@dataclass(frozen=True)
class ExistingAgreement:
    """An agreement in force between the home organization and a partner."""

    uid: str
    number: str
    signed_on: dt.date | None

    @property
    def label(self) -> str:
        """«№ СФ-2024-002 от 12.03.2024»."""
        day = f" от {self.signed_on.strftime('%d.%m.%Y')}" if self.signed_on else ""
        return f"№ {self.number}{day}"


@dataclass(frozen=True)
class ProgramInfo:
    """What an art. 15 agreement states of the program besides name and hours."""

    type: str | None = None  # ProgramType code
    focus: tuple[str, ...] = ()  # competencies the program develops (направленность)


@dataclass(frozen=True)
class PlanInput:
    program: str
    program_name: str
    program_hours: int
    home: str
    home_name: str
    region: str
    modules: tuple[ModuleInfo, ...]
    sites: tuple[SiteInfo, ...]
    staff: Mapping[tuple[str, str], int]  # (organization, competency) → qualified staff
    agreements: Mapping[str, tuple[ExistingAgreement, ...]]  # partner → agreements in force
    info: ProgramInfo = ProgramInfo()
    names: Mapping[str, str] = field(default_factory=dict)  # organization of a site → its name


# ---------------------------------------------------------------- outputs


@dataclass(frozen=True)
class Assignment:
    module: str
    module_number: int
    module_name: str
    hours: int
    site: str
    site_name: str
    organization: str
    organization_name: str
    role: str  # PartyRole code
    distance_km: float | None
    staff: tuple[StaffInfo, ...]
    equipment: tuple[Unit, ...]


@dataclass(frozen=True)
class Unmet:
    kind: str  # EQUIPMENT | CAPACITY | STAFF | COMBINATION | PARTNER_LIMIT
    message: str
    equipment_type: str | None = None
    required: int | None = None
    best_available: int | None = None


@dataclass(frozen=True)
class Unplaced:
    module: str
    module_number: int
    module_name: str
    hours: int
    reasons: tuple[Unmet, ...]


@dataclass(frozen=True)
class EquipmentGroup:
    """Equipment of one type a party provides: «Фрезерный станок с ЧПУ — 15 шт.»."""

    type: str
    name: str
    quantity: int

    @property
    def line(self) -> str:
        return f"{self.name} — {self.quantity} шт."


@dataclass(frozen=True)
class ResourceUse:
    """Order of using a party's resources (art. 15): what serves which module, for how long."""

    organization: str
    party_name: str
    role: str  # PartyRole code
    module_number: int
    module_name: str
    hours: int
    site: str
    site_name: str
    equipment: tuple[EquipmentGroup, ...]
    staff: tuple[StaffInfo, ...]


@dataclass(frozen=True)
class IssuedDocument:
    """A document a party issues to learners on completion."""

    organization: str
    issuer: str
    role: str  # PartyRole code
    document: str
    modules: tuple[int, ...]  # module numbers it covers (all of the program for the base)


@dataclass(frozen=True)
class PartyShare:
    organization: str
    name: str
    role: str
    role_label: str
    modules: tuple[tuple[int, str, int], ...]  # (number, name, hours)
    hours: int
    sites: tuple[tuple[str, str], ...]  # (uid, name)
    equipment: tuple[EquipmentGroup, ...]
    staff: tuple[StaffInfo, ...]


@dataclass(frozen=True)
class AgreementDraft:
    """Fields of a 273-ФЗ art. 15 network agreement between the home org and one partner."""

    program: str
    program_name: str
    program_hours: int
    program_kind: str  # вид
    program_level: str  # уровень (подвид)
    program_focus: str  # направленность
    learners: int
    learner_status: str
    start: dt.date | None
    end: dt.date | None
    base: PartyShare
    participant: PartyShare
    resources: tuple[ResourceUse, ...]  # порядок использования ресурсов, module order
    documents: tuple[IssuedDocument, ...]  # base first
    existing_agreements: tuple[ExistingAgreement, ...]


@dataclass(frozen=True)
class NetworkPlan:
    program: str
    program_name: str
    program_hours: int
    home: str
    home_name: str
    cohort_size: int
    start: dt.date | None
    end: dt.date | None
    max_partners: int | None
    main_site: str | None
    assignments: tuple[Assignment, ...]
    unplaced: tuple[Unplaced, ...]
    exact: bool
    uid: str | None = None
    status: str = "DRAFT"
    info: ProgramInfo = ProgramInfo()

    @property
    def partners(self) -> list[str]:
        seen: dict[str, None] = {}
        for a in self.assignments:
            if a.role == PartyRole.PARTICIPANT.value:
                seen.setdefault(a.organization)
        return list(seen)

    @property
    def total_distance_km(self) -> float:
        return sum(a.distance_km or 0.0 for a in self.assignments)


@dataclass(frozen=True)
class Details:
    """Staff and equipment of the chosen organizations and sites (second query)."""

    staff: Mapping[tuple[str, str], tuple[StaffInfo, ...]]
    units: Mapping[tuple[str, str], tuple[Unit, ...]]  # (site, type) → working units
