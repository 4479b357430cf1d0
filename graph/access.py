"""Who may write what: the one place where write authorization is decided.

Every write path (GraphQL mutations, bulk mutations, loaders, roadmap, plans) calls
`write_denials` inside its transaction, before anything is written, with each row's stored
record as it is (when it exists) AND as it will be: a write is allowed only if the principal
may touch both (like RLS `USING` + `WITH CHECK`). `OWNERS` declares what each registry's
records belong to (each registry's declaration); the rules per role, the audit's region of a change and the generated
access tests all derive from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from graph import models as m
from graph.declare import Owner
from graph.registry import REGISTRIES
from graph.validation import RowError

ROLES = ("admin", "operator", "registrar", "planner", "viewer")


@dataclass(frozen=True)
class Principal:
    name: str
    role: str
    region: str | None = None
    organizations: frozenset[str] = field(default_factory=frozenset)


SYSTEM = Principal(name="system", role="admin")

# What each role may do at all; row-level rules are below (`write_denials`, `plan_denial`).
ACTIONS: dict[str, frozenset[str]] = {
    "read": frozenset(ROLES),
    "write": frozenset({"admin", "operator", "registrar"}),
    "plan": frozenset({"admin", "operator", "registrar", "planner"}),
    "roadmap": frozenset({"admin", "operator"}),
    "audit": frozenset({"admin", "operator"}),
}


def may(principal: Principal | None, action: str) -> bool:
    """Anonymous callers (None) may do nothing here; the public catalogue is separate."""
    return principal is not None and principal.role in ACTIONS[action]


# What each registry's records belong to: its declaration's `owner`.
OWNERS: dict[str, Owner] = {name: r.owner for name, r in REGISTRIES.items()}

# One statement: what the owners named by the rows (and the principal's own organizations)
# resolve to in the graph.
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
CALL () {
  UNWIND $municipalities AS oktmo
  MATCH (mu:Municipality {uid: oktmo})
  RETURN collect([oktmo, mu.region]) AS municipality_regions
}
CALL () {
  UNWIND $learners AS uid
  MATCH (l:Learner {uid: uid})
  OPTIONAL MATCH (l)<-[:OF_LEARNER]-(:Enrollment)-[:IN_COHORT]->(c:Cohort)
  WITH uid, collect(DISTINCT c.organization) AS orgs
  RETURN collect([uid, orgs]) AS learner_orgs
}
RETURN org_regions, program_owners, cohort_owners, municipality_regions, learner_orgs
"""

_LOOKUP_KEYS = {"org": "orgs", "program": "programs", "cohort": "cohorts",
                "municipality": "municipalities", "learner": "learners"}


@dataclass
class Lookup:
    """ACCESS_CYPHER's answer."""

    org_region: dict[str, str | None]
    program: dict[str, tuple[str | None, str | None]]  # code or cohort uid → (ИНН, region)
    municipality_region: dict[str, str | None]
    learner_orgs: dict[str, set[str]]

    @classmethod
    def of(cls, record: dict[str, Any] | None) -> Lookup:
        record = record or {}
        program = {code: (inn, region) for code, inn, region in record.get("program_owners", [])}
        program.update({uid: (inn, region) for uid, inn, region in record.get("cohort_owners", [])})
        return cls(
            org_region=dict(record.get("org_regions", [])),
            program=program,
            municipality_region=dict(record.get("municipality_regions", [])),
            learner_orgs={uid: set(orgs) for uid, orgs in record.get("learner_orgs", [])},
        )


def access_params(principal: Principal, registry: str,
                  nodes: Sequence[m.Node]) -> dict[str, list[str]]:
    owner = OWNERS[registry]
    keys: dict[str, set[str]] = {k: set() for k in _LOOKUP_KEYS.values()}
    keys["orgs"].update(principal.organizations)
    if owner.kind in _LOOKUP_KEYS:
        keys[_LOOKUP_KEYS[owner.kind]].update(
            k for k in (owner.key(n) for n in nodes) if k is not None)
    return {k: sorted(v) for k, v in keys.items()}


def region_of(registry: str, node: m.Node, lookup: Lookup) -> str | None:
    """The region a record belongs to (None: catalogue data, or an owner not in the graph)."""
    owner = OWNERS[registry]
    key = owner.key(node)
    if registry == "organizations":
        return node.region  # type: ignore[attr-defined]
    if key is None:
        return None
    match owner.kind:
        case "region":
            return key
        case "org":
            return lookup.org_region.get(key)
        case "program" | "cohort":
            return lookup.program.get(key, (None, None))[1]
        case "municipality":
            return lookup.municipality_region.get(key)
        case "learner":
            return node.region  # type: ignore[attr-defined]
    return None


def _known(registry: str, node: m.Node, lookup: Lookup) -> bool:
    """Whether the owner named by the row exists (if not, the reference check reports it)."""
    owner = OWNERS[registry]
    key = owner.key(node)
    match owner.kind:
        case "org":
            return registry == "organizations" or key in lookup.org_region
        case "program" | "cohort":
            return key in lookup.program
        case "municipality":
            return key in lookup.municipality_region
    return True


def denial(principal: Principal, registry: str, node: m.Node, lookup: Lookup, *,
           stored: bool) -> str | None:
    """Why the principal may not touch this record (`stored`: as it is now), or None."""
    if principal.role == "admin":
        return None
    if principal.role not in ("operator", "registrar"):
        return f"роль «{principal.role}» не даёт права изменять реестры"
    owner = OWNERS[registry]
    if owner.kind == "catalogue":
        if principal.role == "operator":
            return None
        return "регистратор не изменяет справочники платформы"
    if not stored and not _known(registry, node, lookup):
        return None
    if principal.role == "operator":
        if region_of(registry, node, lookup) != principal.region:
            where = "хранящаяся запись" if stored else "запись"
            return f"{where} вне региона оператора ({principal.region})"
        return None
    # registrar
    if owner.kind in ("region", "municipality"):
        return "регистратор изменяет только данные своих организаций"
    if owner.kind == "learner":
        own_regions = {lookup.org_region.get(inn) for inn in principal.organizations}
        enrolled_by = lookup.learner_orgs.get(node.uid, set())
        if stored and enrolled_by:
            if enrolled_by & principal.organizations:
                return None
            return "обучающийся зачислен только в группы других организаций"
        if node.region in own_regions:  # type: ignore[attr-defined]
            return None
        return "обучающийся вне регионов организаций учётной записи"
    key = owner.key(node)
    inn = lookup.program.get(key or "", (None, None))[0] \
        if owner.kind in ("program", "cohort") else key
    if inn not in principal.organizations:
        return ("хранящаяся запись принадлежит другой организации" if stored
                else "организация не закреплена за учётной записью")
    return None


def move_denial(principal: Principal, registry: str, before: m.Node,
                after: m.Node) -> str | None:
    """Changes of where a record belongs that the role may not make even on its own data."""
    if principal.role == "registrar" and registry == "organizations" and \
            before.region != after.region:  # type: ignore[attr-defined]
        return "регистратор не меняет регион своей организации"
    return None


# States a record enters only through its workflow (the source named), never by a plain
# create or update: programs and the learning materials they use go to review and are approved
# by the expert review (graph/public_services/review.py). `revisions`: fields whose change is
# a new edition, which a record in one of those states takes only back in DRAFT.
@dataclass(frozen=True)
class Workflow:
    field: str
    states: frozenset[str]
    source: str
    message: str
    revisions: tuple[str, ...] = ()


_REVIEWED = frozenset({"REVIEW", "APPROVED"})
WORKFLOW_STATES: dict[str, Workflow] = {
    "programs": Workflow("status", _REVIEWED, "review",
                         "статусы «на экспертизе» и «утверждена» программа получает только "
                         "через экспертизу (submitProgramForReview, decideProgram)"),
    "learning_materials": Workflow("status", _REVIEWED, "review",
                                   "статусы «на экспертизе» и «утвержден» материал получает "
                                   "только с экспертизой программы, которая его использует "
                                   "(submitProgramForReview, decideProgram)",
                                   revisions=("edition",)),
}


def workflow_denial(registry: str, before: m.Node | None, after: m.Node,
                    source: str) -> str | None:
    rule = WORKFLOW_STATES.get(registry)
    if rule is None or source == rule.source:
        return None
    value = getattr(after, rule.field)
    value = getattr(value, "value", value)
    was = getattr(before, rule.field, None) if before is not None else None
    was = getattr(was, "value", was)
    if value in rule.states and value != was:
        return rule.message
    changed = [f for f in rule.revisions
               if before is not None and getattr(before, f) != getattr(after, f)]
    if was in rule.states and value in rule.states and changed:
        return (f"новая редакция ({', '.join(changed)}) записи в статусе {was} — черновик: "
                f"передайте вместе с ней статус DRAFT, затем направьте программу на экспертизу")
    return None


def write_denials(principal: Principal, registry: str, rows: Sequence[tuple[int, m.Node]],
                  before: dict[str, m.Node], lookup: dict[str, Any] | None,
                  source: str = "api") -> list[RowError]:
    """One error per row the principal may not write, as stored (`before`, by uid) or as
    given. `lookup` is ACCESS_CYPHER's record; `source` the front door (workflows)."""
    if principal.role == "admin":
        return []
    found = Lookup.of(lookup)
    errors = []
    owner = OWNERS[registry]
    column = owner.fields[0] if owner.fields else "*"
    for row, node in rows:
        stored = before.get(node.uid)
        reason = denial(principal, registry, stored, found, stored=True) if stored else None
        reason = reason or denial(principal, registry, node, found, stored=False)
        if stored and not reason:
            reason = move_denial(principal, registry, stored, node)
        reason = reason or workflow_denial(registry, stored, node, source)
        if reason:
            value = owner.key(stored or node)
            errors.append(RowError(row, column, value if value is not None else principal.name,
                                   reason))
    return errors


def plan_denial(principal: Principal, home: str, home_region: str | None) -> str | None:
    """Network plans: an operator plans for organizations of its region, a registrar for its
    own organizations, a planner bound to a region for that region."""
    if principal.role == "admin":
        return None
    if principal.role == "registrar":
        return None if home in principal.organizations else \
            "базовая организация не закреплена за учётной записью"
    if principal.role in ("operator", "planner"):
        if principal.role == "planner" and principal.region is None:
            return None
        return None if home_region == principal.region else \
            f"базовая организация вне региона ({principal.region})"
    return f"роль «{principal.role}» не даёт права планировать"


# The region of a stored node `n` of each registry, in Cypher: recorded with each audited
# change so that an operator reads the changes of its region only.
_ORG_REGION = "COLLECT {{ MATCH (o:Organization {{uid: {expr}}}) RETURN o.region }}[0]"


def region_owner_field(registry: str) -> str | None:
    """The field naming the organization whose region a record of `registry` is in (the
    organization-owned registries), else None."""
    owner = OWNERS[registry]
    return owner.fields[0] if owner.kind == "org" and registry != "organizations" else None


REGION_CYPHER: dict[str, str] = {}
for _name, _owner in OWNERS.items():
    if (_field := region_owner_field(_name)) is not None:
        REGION_CYPHER[_name] = _ORG_REGION.format(expr=f"n.{_field}")
    elif _name == "organizations" or _owner.kind in ("region", "learner"):
        REGION_CYPHER[_name] = "n.region" if _name != "regions" else "n.uid"
    elif _owner.kind == "program":
        REGION_CYPHER[_name] = ("COLLECT { MATCH (p:Program {uid: n.program}) "
                                "MATCH (o:Organization {uid: p.organization}) "
                                "RETURN o.region }[0]")
    elif _owner.kind == "cohort":
        REGION_CYPHER[_name] = ("COLLECT { MATCH (c:Cohort {uid: n.program + ':' + n.cohort}) "
                                "MATCH (o:Organization {uid: c.organization}) "
                                "RETURN o.region }[0]")
    elif _owner.kind == "municipality":
        REGION_CYPHER[_name] = ("COLLECT { MATCH (mu:Municipality {uid: n.municipality}) "
                                "RETURN mu.region }[0]")
    else:
        REGION_CYPHER[_name] = "null"


# What each role may write, by owner kind (the README's table is generated from this and
# OWNERS; tests/test_access_matrix.py checks every cell against the real write paths).
WRITE_RULES: dict[str, dict[str, str]] = {
    "org": {"operator": "организации своего региона", "registrar": "свои организации"},
    "program": {"operator": "программы организаций региона",
                "registrar": "программы своих организаций"},
    "cohort": {"operator": "группы организаций региона",
               "registrar": "группы своих организаций"},
    "municipality": {"operator": "МО своего региона", "registrar": "—"},
    "region": {"operator": "свой регион", "registrar": "—"},
    "learner": {"operator": "обучающиеся своего региона",
                "registrar": "новые в регионах своих организаций; зачисленные в свои группы"},
    "catalogue": {"operator": "все (справочник платформы)", "registrar": "—"},
}


def matrix_markdown() -> str:
    """The write-access table of README: registry × role, from OWNERS and WRITE_RULES."""
    lines = ["| реестр | принадлежит | admin | operator | registrar | planner, viewer |",
             "|---|---|---|---|---|---|"]
    for registry, owner in OWNERS.items():
        rule = WRITE_RULES[owner.kind]
        whose = ", ".join(owner.fields) or "—"
        lines.append(f"| {registry} | {owner.kind}: {whose} | все | {rule['operator']} | "
                     f"{rule['registrar']} | — |")
    return "\n".join(lines)
