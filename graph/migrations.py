"""Constraints and indexes of the graph, applied idempotently (`hub migrate`).

Community edition: uniqueness constraints, range/text/full-text indexes. Existence and key
constraints are enterprise-only; required fields are enforced by the pydantic models.
"""

from __future__ import annotations

from typing import Any

from graph.audit import CHANGE_KEYS_INDEX
from graph.registry import REGISTRIES

# 2: the audit trail moved from one Change node per row to one ChangeSet per batch.
# 3: STOCKS indexed on (type, region, municipality) instead of (type, municipality).
SCHEMA_VERSION = 3

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
    # The audit trail (graph/audit.py): one ChangeSet per written batch.
    out.append("CREATE CONSTRAINT changeset_id IF NOT EXISTS "
               "FOR (s:ChangeSet) REQUIRE s.id IS UNIQUE")
    for prop in ("at", "actor", "label"):
        out.append(f"CREATE INDEX changeset_{prop} IF NOT EXISTS FOR (s:ChangeSet) ON (s.{prop})")
    out.append(
        f"CREATE FULLTEXT INDEX {CHANGE_KEYS_INDEX} IF NOT EXISTS FOR (s:ChangeSet) ON EACH "
        "[s.keys] OPTIONS {indexConfig: {`fulltext.analyzer`: 'whitespace'}}"
    )
    # A region's or municipality's stock of a type (graph/stock.py, graph/capability.py).
    out.append("CREATE INDEX stocks_place IF NOT EXISTS "
               "FOR ()-[k:STOCKS]-() ON (k.type, k.region, k.municipality)")
    # Network plans (graph/planning.py): not registries, own keys.
    for label in ("NetworkPlan", "PlanAssignment"):
        out.append(f"CREATE CONSTRAINT {label.lower()}_uid IF NOT EXISTS "
                   f"FOR (n:{label}) REQUIRE n.uid IS UNIQUE")
    for prop in ("program", "home_organization", "status"):
        out.append(f"CREATE INDEX networkplan_{prop} IF NOT EXISTS FOR (n:NetworkPlan) ON (n.{prop})")
    out.append("CREATE CONSTRAINT hubschema_id IF NOT EXISTS FOR (n:HubSchema) REQUIRE n.id IS UNIQUE")
    return out


# What older versions had and this one does not: v1's one Change node per changed row, v2's
# STOCKS index without region.
OLD_SCHEMA = ("DROP CONSTRAINT change_id IF EXISTS",
              *(f"DROP INDEX change_{p} IF EXISTS" for p in ("at", "uid", "actor", "label")),
              "DROP INDEX stocks_type_municipality IF EXISTS")

# Version 1 → 2: the Change nodes of one write (same at, actor, source, label) become one
# ChangeSet; each batch deletes what it converted, so a rerun picks up where it stopped.
CONVERT_CHANGES = r"""
MATCH (c:Change)
WITH c ORDER BY c.id
WITH c.at AS at, c.actor AS actor, c.source AS source, c.label AS label, collect(c) AS changes
CALL (at, actor, source, label, changes) {
  CREATE (:ChangeSet {
    id: randomUUID(), at: at, actor: actor, source: source, label: label,
    uids: [c IN changes | c.uid], ops: [c IN changes | c.op],
    fields: [c IN changes | '[' + reduce(t = '', f IN coalesce(c.fields, []) |
             t + CASE t WHEN '' THEN '' ELSE ', ' END + '"' +
             replace(replace(f, '\\', '\\\\'), '"', '\\"') + '"') + ']'],
    before: [c IN changes | coalesce(c.before, '')],
    after: [c IN changes | coalesce(c.after, '')],
    keys: reduce(t = '', c IN changes | t + CASE t WHEN '' THEN '' ELSE ' ' END + c.uid)})
  FOREACH (c IN changes | DETACH DELETE c)
} IN TRANSACTIONS OF 10 ROWS
"""


def upgrade_audit(driver: Any, database: str | None = None) -> None:
    """Convert the Change nodes of an older graph into ChangeSets."""
    with driver.session(database=database) as session:
        session.run(CONVERT_CHANGES).consume()  # CALL … IN TRANSACTIONS: an implicit transaction


def migrate(driver: Any, database: str | None = None) -> int:
    """Apply every statement (each is IF NOT EXISTS), wait for indexes, record the version."""
    stmts = statements()
    for stmt in stmts:
        driver.execute_query(stmt, database_=database)
    driver.execute_query("CALL db.awaitIndexes(300)", database_=database)
    upgrade_audit(driver, database)
    for stmt in OLD_SCHEMA:
        driver.execute_query(stmt, database_=database)
    driver.execute_query(
        "MERGE (s:HubSchema {id: 'graph'}) SET s.version = $v", v=SCHEMA_VERSION,
        database_=database,
    )
    from graph.stock import backfill  # derived STOCKS relationships, once per graph

    backfill(driver, database)
    return len(stmts)


def applied_version_cypher() -> str:
    return "OPTIONAL MATCH (s:HubSchema {id: 'graph'}) RETURN s.version AS version"
