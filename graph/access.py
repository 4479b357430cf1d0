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

# Registries whose nodes belong to no organization: reference catalogues of the platform.
CATALOGUES = frozenset({"competencies", "equipment_types", "infrastructure_lists"})


@dataclass(frozen=True)
class Principal:
    name: str
    role: str
    region: str | None = None
    organizations: frozenset[str] = field(default_factory=frozenset)

    @property
    def can_plan(self) -> bool:
        return self.role in ("admin", "operator", "planner")

    @property
    def can_read_audit(self) -> bool:
        return self.role in ("admin", "operator")


SYSTEM = Principal(name="system", role="admin")


def owner_of(registry: str, node: m.Node) -> tuple[str, str] | None:
    """What a node belongs to: ("org", ИНН), ("program", code), ("region", code) or None."""
    match registry:
        case "organizations":
            return ("org", node.inn)  # type: ignore[attr-defined]
        case "sites" | "equipment" | "staff" | "programs":
            return ("org", node.organization)  # type: ignore[attr-defined]
        case "modules":
            return ("program", node.program)  # type: ignore[attr-defined]
        case "agreements":
            return ("org", node.base_organization)  # type: ignore[attr-defined]
        case "regions":
            return ("region", node.code)  # type: ignore[attr-defined]
        case "municipalities":
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
RETURN org_regions, program_owners
"""


def access_lookups(registry: str, nodes: Sequence[m.Node]) -> dict[str, list[str]]:
    orgs, programs = set(), set()
    for node in nodes:
        owner = owner_of(registry, node)
        if owner and owner[0] == "org":
            orgs.add(owner[1])
        elif owner and owner[0] == "program":
            programs.add(owner[1])
    return {"orgs": sorted(orgs), "programs": sorted(programs)}


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
    errors = []
    for row, node in rows:
        reason = _denial(principal, registry, node, org_region, program_owner)
        if reason:
            owner = owner_of(registry, node)
            errors.append(RowError(row, _owner_field(registry), owner[1] if owner else None,
                                   reason))
    return errors


def _owner_field(registry: str) -> str:
    return {"organizations": "inn", "modules": "program", "agreements": "base_organization",
            "regions": "code", "municipalities": "region"}.get(registry, "organization")


def _denial(principal: Principal, registry: str, node: m.Node, org_region: dict[str, str],
            program_owner: dict[str, tuple[str, str]]) -> str | None:
    owner = owner_of(registry, node)
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
        elif kind == "program":
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
    inn = program_owner.get(key, (None, None))[0] if kind == "program" else key
    if kind == "program" and key not in program_owner:
        return None
    if inn not in principal.organizations:
        return "организация не закреплена за учётной записью"
    return None
