"""Constraints and indexes of the graph, applied idempotently (`hub migrate`).

Community edition: uniqueness constraints, range/text/full-text indexes. Existence and key
constraints are enterprise-only; required fields are enforced by the pydantic models.
"""

from __future__ import annotations

from typing import Any

from graph.registry import REGISTRIES

SCHEMA_VERSION = 1

# Properties that list filters and sorts use, per label.
RANGE_INDEXES: dict[str, tuple[str, ...]] = {
    "Municipality": ("region", "name"),
    "Organization": ("kind", "region", "municipality", "name"),
    "Site": ("organization", "municipality", "name"),
    "EquipmentType": ("name", "category"),
    "Equipment": ("organization", "type", "status", "site"),
    "Staff": ("organization", "role", "full_name"),
    "Competency": ("block_code", "standard", "name"),
    "Program": ("type", "status", "organization", "name"),
    "Module": ("program",),
    "PartnerAgreement": ("kind", "base_organization"),
    "Cohort": ("program", "organization", "starts_on", "ends_on"),
    "Learner": ("region", "category"),
    "Enrollment": ("learner", "status", "completed_on"),
    "CareerGuidanceEvent": ("organization", "kind", "held_on", "municipality"),
    "StaffTraining": ("organization", "completed_on", "competency"),
    "DemandSignal": ("municipality", "competency", "starts_on"),
    "DigitalResource": ("kind",),
    "ReferenceDocument": ("kind",),
    "RoadmapActivity": ("region", "status"),
    "ControlPoint": ("region", "due_on"),
    "IndicatorSlot": ("region", "kpi"),
}

FULLTEXT_INDEX = "names_ru"
FULLTEXT_LABELS = ("Organization", "Site", "EquipmentType", "Equipment", "Staff", "Competency",
                   "Program", "Module")
FULLTEXT_PROPERTIES = ("name", "short_name", "full_name")


def statements() -> list[str]:
    out = []
    for registry in REGISTRIES.values():
        label = registry.label
        out.append(
            f"CREATE CONSTRAINT {label.lower()}_uid IF NOT EXISTS "
            f"FOR (n:{label}) REQUIRE n.uid IS UNIQUE"
        )
        for prop in RANGE_INDEXES.get(label, ()):
            out.append(
                f"CREATE INDEX {label.lower()}_{prop} IF NOT EXISTS FOR (n:{label}) ON (n.{prop})"
            )
        out.append(
            f"CREATE INDEX {label.lower()}_retired IF NOT EXISTS FOR (n:{label}) ON (n.retiredAt)"
        )
    labels = "|".join(FULLTEXT_LABELS)
    props = ", ".join(f"n.{p}" for p in FULLTEXT_PROPERTIES)
    out.append(
        f"CREATE FULLTEXT INDEX {FULLTEXT_INDEX} IF NOT EXISTS FOR (n:{labels}) ON EACH [{props}] "
        "OPTIONS {indexConfig: {`fulltext.analyzer`: 'russian'}}"
    )
    out.append("CREATE CONSTRAINT change_id IF NOT EXISTS FOR (c:Change) REQUIRE c.id IS UNIQUE")
    for prop in ("at", "uid", "actor", "label"):
        out.append(f"CREATE INDEX change_{prop} IF NOT EXISTS FOR (c:Change) ON (c.{prop})")
    # Network plans (graph/planning.py): not registries, own keys.
    for label in ("NetworkPlan", "PlanAssignment"):
        out.append(f"CREATE CONSTRAINT {label.lower()}_uid IF NOT EXISTS "
                   f"FOR (n:{label}) REQUIRE n.uid IS UNIQUE")
    for prop in ("program", "home_organization", "status"):
        out.append(f"CREATE INDEX networkplan_{prop} IF NOT EXISTS FOR (n:NetworkPlan) ON (n.{prop})")
    out.append("CREATE CONSTRAINT hubschema_id IF NOT EXISTS FOR (n:HubSchema) REQUIRE n.id IS UNIQUE")
    return out


def migrate(driver: Any, database: str | None = None) -> int:
    """Apply every statement (each is IF NOT EXISTS), wait for indexes, record the version."""
    stmts = statements()
    for stmt in stmts:
        driver.execute_query(stmt, database_=database)
    driver.execute_query("CALL db.awaitIndexes(300)", database_=database)
    driver.execute_query(
        "MERGE (s:HubSchema {id: 'graph'}) SET s.version = $v", v=SCHEMA_VERSION,
        database_=database,
    )
    from graph.stock import backfill  # derived STOCKS relationships, once per graph

    backfill(driver, database)
    return len(stmts)


def applied_version_cypher() -> str:
    return "OPTIONAL MATCH (s:HubSchema {id: 'graph'}) RETURN s.version AS version"
