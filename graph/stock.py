"""Working stock per site and equipment type: (Site)-[:STOCKS {working}]->(EquipmentType).

`working` is the summed quantity of the site's equipment of that type with status WORKING and
no `retiredAt`; pairs with nothing working have no STOCKS relationship. Capability matching
and planning read it instead of summing every equipment item on each request.

It is kept in step by the equipment writes themselves, in the same statement
(graph/writes.py appends `upsert_tail` / `retire_tail` to the equipment upsert and retire
Cypher), and rebuilt by `backfill` (run by `hub migrate` once per graph). The refresh locks
the pair's STOCKS relationship before it sums, so concurrent writers to one site serialise
and the last one sums what both committed.
"""

from __future__ import annotations

from typing import Any

REGISTRY = "equipment"

# Given `out`: a list of maps whose `pairs` hold [site uid, type uid] pairs to refresh.
_REFRESH = """
CALL (out) {
  UNWIND out AS o
  UNWIND o.pairs AS pair
  WITH DISTINCT pair WHERE pair[0] IS NOT NULL AND pair[1] IS NOT NULL
  WITH pair[0] AS siteUid, collect(pair[1]) AS types ORDER BY siteUid
  MATCH (s:Site {uid: siteUid})
  CALL (s, types) {
    UNWIND types AS type
    MATCH (t:EquipmentType {uid: type})
    MERGE (s)-[k:STOCKS]->(t)
    SET k.working = -1
  }
  CALL (s, types) {
    // filter the site's own items: a predicate inside the pattern lets the planner seek
    // Equipment by type across the whole region instead
    UNWIND [(s)-[:HAS_EQUIPMENT]->(e:Equipment) | e] AS e
    WITH e WHERE e.type IN types AND e.status = 'WORKING' AND e.retiredAt IS NULL
    WITH e.type AS type, sum(e.quantity) AS working
    RETURN collect([type, working]) AS sums
  }
  CALL (s, types, sums) {
    MATCH (s)-[k:STOCKS]->(t:EquipmentType) WHERE t.uid IN types
    WITH k, head([x IN sums WHERE x[0] = t.uid | x[1]]) AS working
    CALL (k, working) { WITH * WHERE working IS NULL OR working <= 0 DELETE k }
    CALL (k, working) { WITH * WHERE working > 0 SET k.working = working }
  }
}
"""


def upsert_tail(registry_name: str) -> str:
    """The end of the registry's upsert statement (after `created, changed, before`)."""
    if registry_name != REGISTRY:
        return ""
    return """
WITH collect({uid: row.uid, created: created, changed: changed,
              before: [k IN changed | before[k]],
              pairs: CASE WHEN created OR size(changed) > 0 THEN
                       [[row.props.organization + ':' + row.props.site, row.props.type],
                        [before.organization + ':' + before.site, before.type]]
                     ELSE [] END}) AS out
""" + _REFRESH + """
UNWIND out AS o
RETURN o.uid AS uid, o.created AS created, o.changed AS changed, o.before AS before
"""


def retire_tail(label: str) -> str:
    """The end of the retire statement for `label` (after `u` and `n`)."""
    if label != "Equipment":
        return ""
    return """
WITH collect({uid: u, found: n IS NOT NULL,
              pairs: CASE WHEN n IS NULL THEN []
                          ELSE [[n.organization + ':' + n.site, n.type]] END}) AS out
""" + _REFRESH + """
UNWIND out AS o
RETURN o.uid AS uid, o.found AS found
"""


BACKFILL_CYPHER = """
MATCH (s:Site)
CALL (s) {
  OPTIONAL MATCH (s)-[old:STOCKS]->()
  DELETE old
  WITH DISTINCT s
  MATCH (s)-[:HAS_EQUIPMENT]->(e:Equipment)-[:OF_TYPE]->(t:EquipmentType)
  WHERE e.status = 'WORKING' AND e.retiredAt IS NULL
  WITH s, t, sum(e.quantity) AS working
  WHERE working > 0
  CREATE (s)-[:STOCKS {working: working}]->(t)
} IN TRANSACTIONS OF 200 ROWS
"""

STOCK_VERSION = 1


def backfill(driver: Any, database: str | None = None, force: bool = False) -> bool:
    """Rebuild every STOCKS relationship once per graph (or when forced); True if it ran."""
    records, _, _ = driver.execute_query(
        "OPTIONAL MATCH (h:HubSchema {id: 'graph'}) RETURN h.stockVersion AS v",
        database_=database)
    if not force and records and records[0]["v"] == STOCK_VERSION:
        return False
    with driver.session(database=database) as session:
        session.run(BACKFILL_CYPHER).consume()
    driver.execute_query("MERGE (h:HubSchema {id: 'graph'}) SET h.stockVersion = $v",
                         v=STOCK_VERSION, database_=database)
    return True
