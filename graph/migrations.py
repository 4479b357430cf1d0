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
# 5: one word for ПОО (COLLEGE): learner category POO_STAFF → COLLEGE_STAFF, event property
#    participants_poo_staff → participants_college_staff, in the graph and in the audit's JSON
#    (so it still replays); applications get duplicate links (no dedupe key); KPI aggregates.
SCHEMA_VERSION = 5

FULLTEXT_INDEX = "names_ru"
# Each registry declares its range-indexed properties (`indexes`: what its filters and sorts
# use) and whether its names are in the full-text index (`fulltext`).
FULLTEXT_PROPERTIES = ("name", "short_name", "full_name")


def statements() -> list[str]:
    out = []
    for registry in REGISTRIES.values():
        label = registry.label
        out.append(
            f"CREATE CONSTRAINT {label.lower()}_uid IF NOT EXISTS "
            f"FOR (n:{label}) REQUIRE n.uid IS UNIQUE"
        )
        for prop in registry.indexes:
            out.append(
                f"CREATE INDEX {label.lower()}_{prop} IF NOT EXISTS FOR (n:{label}) ON (n.{prop})"
            )
        out.append(
            f"CREATE INDEX {label.lower()}_retired IF NOT EXISTS FOR (n:{label}) ON (n.retiredAt)"
        )
    labels = "|".join(r.label for r in REGISTRIES.values() if r.fulltext)
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
    for label in ("Application", "ProgramReview", "ReviewRound", "MaterialReview", "Survey",
                  "SurveyResponse"):
        out.append(f"CREATE CONSTRAINT {label.lower()}_uid IF NOT EXISTS "
                   f"FOR (n:{label}) REQUIRE n.uid IS UNIQUE")
    for prop in ("token_hash", "status", "region", "organization", "updated_at"):
        out.append(f"CREATE INDEX application_{prop} IF NOT EXISTS "
                   f"FOR (n:Application) ON (n.{prop})")
    out.append("CREATE INDEX surveyresponse_survey IF NOT EXISTS "
               "FOR (n:SurveyResponse) ON (n.survey)")
    out.append("CREATE CONSTRAINT hubschema_id IF NOT EXISTS FOR (n:HubSchema) REQUIRE n.id IS UNIQUE")
    return out


# What older versions had and this one does not: v1's one Change node per changed row, v2's
# STOCKS index without region, v4's one dedupe key per application.
OLD_SCHEMA = ("DROP CONSTRAINT change_id IF EXISTS",
              *(f"DROP INDEX change_{p} IF EXISTS" for p in ("at", "uid", "actor", "label")),
              "DROP INDEX stocks_type_municipality IF EXISTS",
              "DROP CONSTRAINT application_dedupe IF EXISTS")

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


# Version 4 → 5: the ПОО words, in the graph and in the audit's JSON (quoted, as written
# there). Each statement changes only what still has the old word.
RENAME_COLLEGE = """
CALL () {
  MATCH (l:Learner {category: $old_category}) SET l.category = $new_category
}
CALL () {
  MATCH (e:CareerGuidanceEvent) WHERE e[$old_key] IS NOT NULL
  SET e[$new_key] = e[$old_key], e[$old_key] = null
}
CALL () {
  MATCH (s:ChangeSet) WHERE s.label IN ['Learner', 'CareerGuidanceEvent']
    AND any(t IN s.before + s.after + s.fields WHERE t CONTAINS $old_key_json
                                                 OR t CONTAINS $old_category_json)
  SET s.before = [t IN s.before | replace(replace(t, $old_key_json, $new_key_json),
                                          $old_category_json, $new_category_json)],
      s.after = [t IN s.after | replace(replace(t, $old_key_json, $new_key_json),
                                        $old_category_json, $new_category_json)],
      s.fields = [t IN s.fields | replace(t, $old_key_json, $new_key_json)]
}
"""


def rename_college(driver: Any, database: str | None = None) -> None:
    words = {"category": ("POO_STAFF", "COLLEGE_STAFF"),
             "key": ("participants_poo_staff", "participants_college_staff")}
    params = {f"{age}_{what}{suffix}": (f'"{pair[i]}"' if suffix else pair[i])
              for what, pair in words.items() for i, age in enumerate(("old", "new"))
              for suffix in ("", "_json")}
    driver.execute_query(RENAME_COLLEGE, params, database_=database)


def upgrade_applications(driver: Any, database: str | None = None) -> int:
    """Applications stored before duplicate links (v4): keys, links, duplicates; how many."""
    from graph.public_services.applications import upgrade_plan  # not at import time
    from graph.writes import run_plan

    with driver.session(database=database) as session:
        return session.execute_write(lambda tx: run_plan(tx, upgrade_plan()))  # type: ignore[no-any-return]


def migrate(driver: Any, database: str | None = None) -> int:
    """Apply every statement (each is IF NOT EXISTS), wait for indexes, record the version."""
    stmts = statements()
    for stmt in stmts:
        driver.execute_query(stmt, database_=database)
    driver.execute_query("CALL db.awaitIndexes(300)", database_=database)
    upgrade_audit(driver, database)
    rebind_slots(driver, database)
    upgrade_applications(driver, database)
    rename_college(driver, database)
    for stmt in OLD_SCHEMA:
        driver.execute_query(stmt, database_=database)
    driver.execute_query(
        "MERGE (s:HubSchema {id: 'graph'}) SET s.version = $v", v=SCHEMA_VERSION,
        database_=database,
    )
    from graph.stock import backfill  # derived STOCKS relationships, once per graph

    backfill(driver, database)
    from graph import kpi_aggregates  # KPI aggregates: their schema, built once per graph

    kpi_aggregates.migrate(driver, database)
    return len(stmts)


def applied_version_cypher() -> str:
    return "OPTIONAL MATCH (s:HubSchema {id: 'graph'}) RETURN s.version AS version"
