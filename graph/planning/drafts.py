"""Network-agreement drafts (273-ФЗ art. 15, part 3) from a plan: pure, no I/O.

Part 3 of art. 15 lists what a network agreement states; a draft carries each of them:
the program's kind, level and focus (вид, уровень, направленность), the learners' status,
the order of using each party's resources (per module: site, equipment by type with a count,
staff, hours), the documents issued on completion (who issues what) and the term.

The graph keeps no kind or level on a program: they follow from its type (`PROGRAM_KINDS`);
the focus is the competencies it develops, else those of its modules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from graph.enums import PartyRole
from graph.planning.model import (
    AgreementDraft,
    Assignment,
    EquipmentGroup,
    ExistingAgreement,
    IssuedDocument,
    NetworkPlan,
    PartyShare,
    ResourceUse,
    StaffInfo,
    Unit,
)


@dataclass(frozen=True)
class ProgramKind:
    kind: str  # вид образовательной программы
    level: str  # уровень образования / подвид образования
    document: str  # what the base organization issues on completion


_DPO_QUALIFICATION = ProgramKind(
    "дополнительная профессиональная программа (программа повышения квалификации)",
    "дополнительное профессиональное образование",
    "удостоверение о повышении квалификации")

# ProgramType code → kind; an unknown or missing type leaves the fields for the parties.
PROGRAM_KINDS: Mapping[str, ProgramKind] = {
    "SPO_MODULES": ProgramKind(
        "основная профессиональная образовательная программа (профессиональные модули)",
        "среднее профессиональное образование",
        "справка об обучении с перечнем освоенных профессиональных модулей"),
    "SCHOOL_STUDENTS": ProgramKind(
        "основная программа профессионального обучения (программа профессиональной "
        "подготовки по профессии рабочего, должности служащего)",
        "профессиональное обучение",
        "свидетельство о профессии рабочего, должности служащего"),
    "EMPLOYER_ORDERED": _DPO_QUALIFICATION,
    "SECTORAL": _DPO_QUALIFICATION,
    "PRE_RETIREMENT": _DPO_QUALIFICATION,
    "FUTURE_COMPETENCIES": _DPO_QUALIFICATION,
}
UNKNOWN_KIND = ProgramKind("________________", "________________",
                           "документ об обучении установленного образца")

LEARNER_STATUS = (
    "Обучающиеся по образовательной программе являются обучающимися базовой организации "
    "({base}); для освоения модулей, реализуемых организацией-участником, они не "
    "зачисляются в организацию-участника и сохраняют статус обучающихся базовой организации.")
PARTNER_DOCUMENT = "справка об освоении модулей образовательной программы (№ {modules})"


def group_equipment(units: Iterable[Unit]) -> tuple[EquipmentGroup, ...]:
    """Units summed by type: named by the units' common name, else by the type's name."""
    by_type: dict[str, list[Unit]] = {}
    for u in units:
        by_type.setdefault(u.type, []).append(u)
    out = []
    for etype, items in by_type.items():
        names = {u.name for u in items}
        name = names.pop() if len(names) == 1 and None not in names else None
        out.append(EquipmentGroup(etype, name or items[0].type_name or etype,
                                  sum(u.quantity for u in items)))
    return tuple(sorted(out, key=lambda g: (g.name, g.type)))


def _distinct_units(assignments: Iterable[Assignment]) -> list[Unit]:
    seen: dict[str, Unit] = {}
    for a in assignments:
        for u in a.equipment:
            seen.setdefault(u.uid, u)
    return list(seen.values())


def _share(plan: NetworkPlan, organization: str, name: str, role: PartyRole) -> PartyShare:
    mine = [a for a in plan.assignments if a.organization == organization]
    sites: dict[str, str] = {}
    staff: dict[str, StaffInfo] = {}
    for a in mine:
        sites.setdefault(a.site, a.site_name)
        for s in a.staff:
            staff.setdefault(s.uid, s)
    return PartyShare(
        organization, name, role.value, role.label,
        tuple((a.module_number, a.module_name, a.hours) for a in mine),
        sum(a.hours for a in mine), tuple(sites.items()),
        group_equipment(_distinct_units(mine)),
        tuple(sorted(staff.values(), key=lambda s: s.uid)))


def _uses(plan: NetworkPlan, parties: Mapping[str, PartyShare]) -> tuple[ResourceUse, ...]:
    return tuple(
        ResourceUse(a.organization, parties[a.organization].name, a.role, a.module_number,
                    a.module_name, a.hours, a.site, a.site_name, group_equipment(a.equipment),
                    a.staff)
        for a in plan.assignments if a.organization in parties)


def program_kind(plan: NetworkPlan) -> ProgramKind:
    return PROGRAM_KINDS.get(plan.info.type or "", UNKNOWN_KIND)


def agreements_needed(plan: NetworkPlan,
                      existing: Mapping[str, tuple[ExistingAgreement, ...]] | None = None
                      ) -> list[AgreementDraft]:
    """One draft per partner: the home organization is the base organization (art. 15)."""
    existing = existing or {}
    names = {a.organization: a.organization_name for a in plan.assignments}
    base = _share(plan, plan.home, plan.home_name, PartyRole.BASE)
    kind = program_kind(plan)
    focus = ", ".join(plan.info.focus) or "________________"
    all_modules = tuple(a.module_number for a in plan.assignments)
    drafts = []
    for org in plan.partners:
        partner = _share(plan, org, names[org], PartyRole.PARTICIPANT)
        numbers = tuple(n for n, _, _ in partner.modules)
        documents = (
            IssuedDocument(base.organization, base.name, base.role, kind.document, all_modules),
            IssuedDocument(partner.organization, partner.name, partner.role,
                           PARTNER_DOCUMENT.format(modules=", ".join(map(str, numbers))),
                           numbers))
        drafts.append(AgreementDraft(
            plan.program, plan.program_name, plan.program_hours, kind.kind, kind.level, focus,
            plan.cohort_size, LEARNER_STATUS.format(base=base.name), plan.start, plan.end,
            base, partner, _uses(plan, {base.organization: base, org: partner}), documents,
            tuple(existing.get(org, ()))))
    return drafts
