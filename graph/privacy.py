"""Who may read personal data (152-ФЗ): the one declaration every read of people follows.

`PERSONAL` names what is personal: for `staff` and `career_guidance_events` some fields (the
record stays readable, those fields come back null outside the reader's scope); for `learners`
and `enrollments` the whole record (out-of-scope records are filtered out of lists, and a
direct read is refused).

`OWNERS` says, per registry, whom a record belongs to: Cypher expressions over the node
(`{n}`) giving the list of owner regions and the list of owner organizations (ИНН).

`people_scope(principal)` is what a principal may read: everything (admin), one region (the
region's operator), a set of organizations (a registrar), or nothing (planner, viewer,
anonymous). A record is readable when the scope is everything, or the scope's region is one of
its owner regions, or one of the scope's organizations is one of its owner organizations.
That test exists twice over the same data: `scope_condition` (Cypher, filtering lists, values
as parameters only) and `readable` (Python, over the owners a read projected with
`owner_projection`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graph.access import Principal

ALL_FIELDS = "*"

# registry → its personal fields; (ALL_FIELDS,): the whole record is personal.
PERSONAL: dict[str, tuple[str, ...]] = {
    "staff": ("full_name",),
    "career_guidance_events": ("learners",),  # the external ids of known participants
    "learners": (ALL_FIELDS,),
    "enrollments": (ALL_FIELDS,),
    # applications to enrol or to join the network (graph/public_services/applications.py):
    # contacts of the applicant; not a registry, read only through `applications`
    "applications": (ALL_FIELDS,),
}

# role → the kind of scope it reads people in (see people_scope).
READERS: dict[str, str] = {
    "admin": "all",
    "operator": "region",
    "registrar": "organizations",
    "planner": "none",
    "viewer": "none",
}


@dataclass(frozen=True)
class Owners:
    """Whom a record of `label` belongs to: Cypher list expressions over `{n}`.

    Variables inside the expressions start with `priv_` so they never meet the caller's.
    """

    label: str
    regions: str
    organizations: str


OWNERS: dict[str, Owners] = {
    # staff of organizations in the operator's region; staff of the registrar's organizations
    "staff": Owners(
        "Staff",
        regions="[({n})-[:WORKS_AT]->(priv_o:Organization) | priv_o.region]",
        organizations="[{n}.organization]",
    ),
    # participants of activities organized by organizations in the scope
    "career_guidance_events": Owners(
        "CareerGuidanceEvent",
        regions="[({n})-[:ORGANIZED_BY]->(priv_o:Organization) | priv_o.region]",
        organizations="[{n}.organization]",
    ),
    # learners of the operator's region; learners enrolled in the registrar's cohorts
    "learners": Owners(
        "Learner",
        regions="[{n}.region]",
        organizations="[({n})<-[:OF_LEARNER]-(:Enrollment)-[:IN_COHORT]->(priv_c:Cohort)"
                      " | priv_c.organization]",
    ),
    # enrollments in cohorts run by organizations of the region / of the registrar
    "enrollments": Owners(
        "Enrollment",
        regions="[({n})-[:IN_COHORT]->(:Cohort)-[:RUN_BY]->(priv_o:Organization)"
                " | priv_o.region]",
        organizations="[({n})-[:IN_COHORT]->(priv_c:Cohort) | priv_c.organization]",
    ),
    # applications: the region's operator; the organization running the cohort applied to
    # (partner applications have none: the operator's)
    "applications": Owners(
        "Application",
        regions="[{n}.region]",
        organizations="[x IN [{n}.organization] WHERE x IS NOT NULL]",
    ),
}

BY_LABEL: dict[str, str] = {o.label: registry for registry, o in OWNERS.items()}

# Keys under which a read projects a node's owners into its properties.
OWNER_REGIONS = "_ownerRegions"
OWNER_ORGANIZATIONS = "_ownerOrganizations"

FORBIDDEN_MESSAGE = ("Персональные данные (152-ФЗ): роль «{role}» не даёт доступа к сведениям "
                     "об обучающихся и их обучении.")
OUT_OF_SCOPE_MESSAGE = "Персональные данные (152-ФЗ): запись вне вашей зоны доступа."
NAME_SEARCH_MESSAGE = ("Персональные данные (152-ФЗ): поиск и сортировка по ФИО недоступны "
                       "роли «{role}».")


@dataclass(frozen=True)
class Scope:
    """Whose personal data a principal reads: everything, one region, some organizations."""

    everything: bool = False
    region: str | None = None
    organizations: frozenset[str] = field(default_factory=frozenset)

    @property
    def nothing(self) -> bool:
        return not self.everything and self.region is None and not self.organizations

    def param(self) -> dict[str, Any]:
        """The scope as one Cypher parameter (a map) for `scope_condition`."""
        return {"all": self.everything, "region": self.region,
                "orgs": sorted(self.organizations)}


EVERYTHING = Scope(everything=True)
NOTHING = Scope()


def people_scope(principal: Principal | None) -> Scope:
    """What `principal` may read of people: see READERS. Anonymous: nothing."""
    kind = READERS.get(principal.role, "none") if principal is not None else "none"
    if kind == "all":
        return EVERYTHING
    if kind == "region" and principal is not None and principal.region:
        return Scope(region=principal.region)
    if kind == "organizations" and principal is not None and principal.organizations:
        return Scope(organizations=frozenset(principal.organizations))
    return NOTHING


def is_personal(registry: str, field_name: str = ALL_FIELDS) -> bool:
    fields = PERSONAL.get(registry, ())
    return ALL_FIELDS in fields or field_name in fields


def scope_condition(registry: str, var: str = "n", param: str = "f__people") -> str:
    """Cypher: whether the node `var` of `registry` is in the scope given as `$param`
    (`Scope.param()`). Only parameters, no values."""
    o = OWNERS[registry]
    regions, orgs = o.regions.format(n=var), o.organizations.format(n=var)
    return (f"(${param}.all OR ${param}.region IN {regions} "
            f"OR any(priv_i IN {orgs} WHERE priv_i IN ${param}.orgs))")


def owner_projection(registry: str, var: str = "n") -> str:
    """Map entries (for a `var {.*, …}` projection) carrying the node's owners."""
    o = OWNERS[registry]
    return (f"{OWNER_REGIONS}: {o.regions.format(n=var)}, "
            f"{OWNER_ORGANIZATIONS}: {o.organizations.format(n=var)}")


def owners_cypher(registry: str) -> str:
    """Owners of nodes by uid, for records read without the projection (write payloads)."""
    o = OWNERS[registry]
    return (f"UNWIND $uids AS u MATCH (n:{o.label} {{uid: u}}) "
            f"RETURN u AS uid, {o.regions.format(n='n')} AS regions, "
            f"{o.organizations.format(n='n')} AS organizations")


def projected(props: Mapping[str, Any]) -> bool:
    return OWNER_REGIONS in props and OWNER_ORGANIZATIONS in props


def readable(scope: Scope, regions: Iterable[str | None],
             organizations: Iterable[str | None]) -> bool:
    """The Python twin of `scope_condition`, over owners already read."""
    if scope.everything:
        return True
    if scope.region is not None and scope.region in set(regions):
        return True
    return bool(scope.organizations & {o for o in organizations if o})


def readable_props(scope: Scope, props: Mapping[str, Any]) -> bool | None:
    """`readable` over a node's projected owners; None when the read did not project them."""
    if scope.everything:
        return True
    if scope.nothing:
        return False
    if not projected(props):
        return None
    return readable(scope, props.get(OWNER_REGIONS) or (),
                    props.get(OWNER_ORGANIZATIONS) or ())


def staff_organization(staff_uid: str) -> str:
    """The employer's ИНН from a staff key (ИНН:табельный номер)."""
    return staff_uid.split(":", 1)[0]


_READ_SCOPE = {"all": "все", "region": "своего региона", "organizations": "своих организаций",
               "none": "—"}


def matrix_markdown() -> str:
    """The personal-data read table of README: registry × role, from PERSONAL and READERS."""
    roles = ("admin", "operator", "registrar", "planner", "viewer")
    lines = ["| реестр | персональные данные | " + " | ".join(roles) + " |",
             "|---|---|" + "---|" * len(roles)]
    for registry, fields in PERSONAL.items():
        what = "вся запись" if fields == (ALL_FIELDS,) else ", ".join(fields)
        cells = " | ".join(_READ_SCOPE[READERS[r]] for r in roles)
        lines.append(f"| {registry} | {what} | {cells} |")
    return "\n".join(lines)
