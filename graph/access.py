"""Who may write what: the one place where write authorization is decided.

Every write path (GraphQL mutations, bulk mutations, loaders) calls `write_denials` inside its
transaction, before anything is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from graph import models as m
from graph.validation import RowError

ROLES = ("admin", "operator", "registrar", "planner", "viewer")

# Registries whose nodes belong to no organization: reference catalogues and regional
# analytics of the platform, kept by the ЦОПП (operator) and admins.
CATALOGUES = frozenset({"competencies", "equipment_types", "infrastructure_lists",
                        "demand_signals", "digital_resources", "reference_documents"})
# Shared between organizations: any registrar may register a pseudonymous learner.
SHARED = frozenset({"learners"})


@dataclass(frozen=True)
class Principal:
    name: str
    role: str
    region: str | None = None
    organizations: frozenset[str] = field(default_factory=frozenset)


SYSTEM = Principal(name="system", role="admin")

# What each role may do at all; row-level rules for writes are in `write_denials`.
ACTIONS: dict[str, frozenset[str]] = {
    "read": frozenset(ROLES),
    "write": frozenset({"admin", "operator", "registrar"}),
    "plan": frozenset({"admin", "operator", "planner"}),
    "roadmap": frozenset({"admin", "operator"}),
    "audit": frozenset({"admin", "operator"}),
}


def may(principal: Principal | None, action: str) -> bool:
    """Anonymous callers (None) may do nothing here; the public catalogue is separate."""
    return principal is not None and principal.role in ACTIONS[action]


def owner_of(registry: str, node: m.Node) -> tuple[str, str] | None:
    """What a node belongs to: ("org", ИНН), ("program", code), ("cohort", uid),
    ("region", code) or None."""
    match registry:
        case "organizations":
            return ("org", node.inn)  # type: ignore[attr-defined]
        case ("sites" | "equipment" | "staff" | "programs" | "career_guidance_events"
              | "staff_trainings" | "cohorts"):
            return ("org", node.organization)  # type: ignore[attr-defined]
        case "modules":
            return ("program", node.program)  # type: ignore[attr-defined]
        case "enrollments":
            return ("cohort", f"{node.program}:{node.cohort}")  # type: ignore[attr-defined]
        case "agreements":
            return ("org", node.base_organization)  # type: ignore[attr-defined]
        case "regions":
            return ("region", node.code)  # type: ignore[attr-defined]
        case ("municipalities" | "roadmap_activities" | "control_points"
              | "indicator_slots"):
            return ("region", node.region)  # type: ignore[attr-defined]
    return None


ACCESS_CYPHER = """
CALL () {
  UNWIND $orgs AS inn
  MATCH (o:Organization {uid: inn})
  RETURN collect([inn, o.region]) AS org_regions
}
CALL () {
  UNWIND $programs AS code
  MATCH (p:Program {uid: code})
  OPTIONAL MATCH (o:Organization {uid: p.organization})
  RETURN collect([code, p.organization, o.region]) AS program_owners
}
CALL () {
  UNWIND $cohorts AS uid
  MATCH (c:Cohort {uid: uid})
  OPTIONAL MATCH (o:Organization {uid: c.organization})
  RETURN collect([uid, c.organization, o.region]) AS cohort_owners
}
RETURN org_regions, program_owners, cohort_owners
"""


def access_lookups(registry: str, nodes: Sequence[m.Node]) -> dict[str, list[str]]:
    keys: dict[str, set[str]] = {"org": set(), "program": set(), "cohort": set()}
    for node in nodes:
        owner = owner_of(registry, node)
        if owner and owner[0] in keys:
            keys[owner[0]].add(owner[1])
    return {"orgs": sorted(keys["org"]), "programs": sorted(keys["program"]),
            "cohorts": sorted(keys["cohort"])}


def write_denials(principal: Principal, registry: str, rows: Sequence[tuple[int, m.Node]],
                  lookup: dict[str, Any] | None) -> list[RowError]:
    """One error per row the principal may not write. `lookup` is ACCESS_CYPHER's record."""
    if principal.role == "admin":
        return []
    if principal.role not in ("operator", "registrar"):
        message = f"роль «{principal.role}» не даёт права изменять реестры"
        return [RowError(row, "*", principal.name, message) for row, _ in rows]
    lookup = lookup or {}
    org_region = {inn: region for inn, region in lookup.get("org_regions", [])}
    program_owner = {code: (inn, region) for code, inn, region in lookup.get("program_owners", [])}
    program_owner.update(
        {uid: (inn, region) for uid, inn, region in lookup.get("cohort_owners", [])})
    errors = []
    for row, node in rows:
        reason = _denial(principal, registry, node, org_region, program_owner)
        if reason:
            owner = owner_of(registry, node)
            errors.append(RowError(row, _owner_field(registry), owner[1] if owner else None,
                                   reason))
    return errors


def _owner_field(registry: str) -> str:
    return {"organizations": "inn", "modules": "program", "cohorts": "program",
            "enrollments": "program", "agreements": "base_organization", "regions": "code",
            "municipalities": "region", "roadmap_activities": "region",
            "control_points": "region", "indicator_slots": "region"}.get(registry, "organization")


def _denial(principal: Principal, registry: str, node: m.Node, org_region: dict[str, str],
            program_owner: dict[str, tuple[str, str]]) -> str | None:
    owner = owner_of(registry, node)
    if registry in SHARED:
        return None
    if principal.role == "operator":
        if registry in CATALOGUES:
            return None
        regions: set[str | None] = set()
        if owner is None:
            return "нет прав на этот реестр"
        kind, key = owner
        if kind == "region":
            regions.add(key)
        elif kind == "org":
            if key in org_region:
                regions.add(org_region[key])
            if registry == "organizations":
                regions.add(node.region)  # type: ignore[attr-defined]
            elif key not in org_region:
                return None  # unknown organization: the reference check reports it
        elif kind in ("program", "cohort"):
            if key not in program_owner:
                return None
            regions.add(program_owner[key][1])
        if regions != {principal.region}:
            return f"организация вне региона оператора ({principal.region})"
        return None
    # registrar
    if owner is None or owner[0] == "region" or registry in CATALOGUES:
        return "регистратор изменяет только данные своих организаций"
    kind, key = owner
    if kind in ("program", "cohort"):
        if key not in program_owner:
            return None  # unknown program or cohort: the reference check reports it
        inn = program_owner[key][0]
    else:
        inn = key
    if inn not in principal.organizations:
        return "организация не закреплена за учётной записью"
    return None
