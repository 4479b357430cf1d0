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
# 4: indicator slots still on an earlier default KPI rebound to the current one
#    (graph.roadmap.PREVIOUS_SLOT_KPIS → SLOT_KPIS); slots a region bound otherwise are kept.
SCHEMA_VERSION = 4

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
    # Network plans (graph/planning/store.py): not registries, own keys.
    for label in ("NetworkPlan", "PlanAssignment"):
        out.append(f"CREATE CONSTRAINT {label.lower()}_uid IF NOT EXISTS "
                   f"FOR (n:{label}) REQUIRE n.uid IS UNIQUE")
    for prop in ("program", "home_organization", "status"):
        out.append(f"CREATE INDEX networkplan_{prop} IF NOT EXISTS FOR (n:NetworkPlan) ON (n.{prop})")
    # Public services (graph/public_services): workflow nodes, not registries.
    for label in ("Application", "ProgramReview", "Survey", "SurveyResponse"):
        out.append(f"CREATE CONSTRAINT {label.lower()}_uid IF NOT EXISTS "
                   f"FOR (n:{label}) REQUIRE n.uid IS UNIQUE")
    out.append("CREATE CONSTRAINT application_dedupe IF NOT EXISTS "
               "FOR (n:Application) REQUIRE n.dedupe IS UNIQUE")
    for prop in ("token_hash", "status", "region", "organization", "updated_at"):
        out.append(f"CREATE INDEX application_{prop} IF NOT EXISTS "
                   f"FOR (n:Application) ON (n.{prop})")
    out.append("CREATE INDEX surveyresponse_survey IF NOT EXISTS "
               "FOR (n:SurveyResponse) ON (n.survey)")
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


# Version 3 → 4: every region's slot still bound to the old default of its (activity, index).
REBIND_SLOTS = """
UNWIND $rebind AS r
MATCH (s:IndicatorSlot)
WHERE s.activity = r.activity AND s.index = r.index AND s.kpi = r.old
SET s.kpi = r.new, s.updatedAt = $now, s.version = coalesce(s.version, 0) + 1
RETURN count(s) AS rebound
"""


def rebind_slots(driver: Any, database: str | None = None) -> int:
    """Rebind stored indicator slots from a changed default KPI to the new one; how many."""
    import datetime as dt

    from graph.roadmap import slot_rebindings  # roadmap → ingest: not at import time

    records, _, _ = driver.execute_query(REBIND_SLOTS, rebind=slot_rebindings(),
                                         now=dt.datetime.now(dt.UTC), database_=database)
    return records[0]["rebound"]


def migrate(driver: Any, database: str | None = None) -> int:
    """Apply every statement (each is IF NOT EXISTS), wait for indexes, record the version."""
    stmts = statements()
    for stmt in stmts:
        driver.execute_query(stmt, database_=database)
    driver.execute_query("CALL db.awaitIndexes(300)", database_=database)
    upgrade_audit(driver, database)
    rebind_slots(driver, database)
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
