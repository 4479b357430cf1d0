"""Working stock per site and equipment type: (Site)-[:STOCKS {working}]->(EquipmentType).

`working` is the summed quantity of the site's equipment of that type with status WORKING and
no `retiredAt`; pairs with nothing working have no STOCKS relationship. Each also carries
`type` (the type's uid), `region` and `municipality` (the site's), indexed together, so that a
search within a region or municipality seeks just that place's stock of a type (one index seek
per type) instead of the whole federation's.
Capability matching and planning read it instead of summing every equipment item on each
request.

It is kept in step by the writes themselves, in the same transaction (graph/writes.py adds new
items' quantities with ADD_CYPHER, runs REFRESH_CYPHER for the pairs an update or retire
touched, MOVED_SITES_CYPHER when a site changes municipality and MOVED_MUNICIPALITIES_CYPHER
when a municipality changes region), and rebuilt by `backfill`
(run by `hub migrate` once per graph). Both ADD and the refresh lock the pair's STOCKS
relationship before they read it, so concurrent writers to one site serialise and the last
one counts what both committed.
"""

from __future__ import annotations

from typing import Any

REGISTRY = "equipment"
STOCK_FIELDS = {"organization", "site", "type", "status", "quantity", "retiredAt"}

# The region of site `s` (its municipality's), for the STOCKS index.
REGION_OF_SITE = "COLLECT { MATCH (m:Municipality {uid: s.municipality}) RETURN m.region }[0]"

# Given $pairs: [site uid, type uid] pairs whose working quantity may have changed.
REFRESH_CYPHER = """
UNWIND $pairs AS pair
WITH DISTINCT pair WHERE pair[0] IS NOT NULL AND pair[1] IS NOT NULL
WITH pair[0] AS siteUid, collect(pair[1]) AS types ORDER BY siteUid
MATCH (s:Site {uid: siteUid})
WITH s, types, {region_of_site} AS region
CALL (s, types, region) {
  UNWIND types AS type
  MATCH (t:EquipmentType {uid: type})
  MERGE (s)-[k:STOCKS]->(t)
  SET k.working = -1, k.type = t.uid, k.region = region, k.municipality = s.municipality
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
""".replace("{region_of_site}", REGION_OF_SITE)


# Given $deltas: per site, [site uid, [[type uid, working quantity], …]] of new items (site
# region looked up once per site). The first SET locks the relationship, so the read below it
# sees what concurrent writers committed.
ADD_CYPHER = """
UNWIND $deltas AS g
MATCH (s:Site {uid: g[0]})
WITH s, g, {region_of_site} AS region
UNWIND g[1] AS d
MATCH (t:EquipmentType {uid: d[0]})
MERGE (s)-[k:STOCKS]->(t)
ON CREATE SET k.working = 0, k.type = t.uid, k.region = region, k.municipality = s.municipality
SET k.locked = true
WITH k, d
SET k.working = k.working + d[1]
REMOVE k.locked
""".replace("{region_of_site}", REGION_OF_SITE)


def added_stock(registry_name: str, props: list[dict[str, Any]]) -> list[list[Any]]:
    """Working quantity that new equipment items add, per site and type (sorted, so that
    concurrent writers lock pairs in the same order)."""
    if registry_name != REGISTRY:
        return []
    sums: dict[tuple[str, str], int] = {}
    for p in props:
        if p.get("status") == "WORKING" and p.get("retiredAt") is None and p.get("quantity"):
            pair = (f"{p['organization']}:{p['site']}", p["type"])
            sums[pair] = sums.get(pair, 0) + p["quantity"]
    by_site: dict[str, list[list[Any]]] = {}
    for (site, type_), n in sorted(sums.items()):
        if n > 0:
            by_site.setdefault(site, []).append([type_, n])
    return [[site, types] for site, types in by_site.items()]


# Given $uids: sites whose municipality changed; their STOCKS follow (see the module doc).
MOVED_SITES_CYPHER = """
UNWIND $uids AS u
MATCH (s:Site {uid: u})
WITH s, {region_of_site} AS region
MATCH (s)-[k:STOCKS]->()
SET k.region = region, k.municipality = s.municipality
""".replace("{region_of_site}", REGION_OF_SITE)

# Given $uids: municipalities whose region changed; their sites' STOCKS follow.
MOVED_MUNICIPALITIES_CYPHER = """
UNWIND $uids AS u
MATCH (m:Municipality {uid: u})
MATCH (s:Site {municipality: u})-[k:STOCKS]->()
SET k.region = m.region
"""


def moved_places(registry_name: str, touched: list[tuple[str, set[str]]]
                 ) -> tuple[str, list[str]] | None:
    """The statement and uids for an upsert's sites that changed municipality, or
    municipalities that changed region; None when there are none."""
    moves = {"sites": ("municipality", MOVED_SITES_CYPHER),
             "municipalities": ("region", MOVED_MUNICIPALITIES_CYPHER)}
    if registry_name not in moves:
        return None
    field_name, cypher = moves[registry_name]
    uids = [uid for uid, fields in touched if field_name in fields]
    return (cypher, uids) if uids else None


def pairs_after_upsert(registry_name: str, props: list[dict[str, Any]]) -> list[list[str]]:
    """(site, type) pairs to refresh after equipment writes: where each item is now and,
    when its site or type changed (`_before` holds changed fields' old values), where it was."""
    if registry_name != REGISTRY:
        return []
    pairs = set()
    for p in props:
        before = p.get("_before")
        if before is not None and not before.keys() & STOCK_FIELDS:
            continue  # an update that leaves stock as it was (name, year…)
        pairs.add((f"{p['organization']}:{p['site']}", p["type"]))
        before = before or {}
        if before.keys() & {"organization", "site", "type"}:
            org = before.get("organization", p["organization"])
            pairs.add((f"{org}:{before.get('site', p['site'])}", before.get("type", p["type"])))
    return [list(pair) for pair in sorted(pairs)]


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
  CREATE (s)-[:STOCKS {working: working, type: t.uid, region: {region_of_site},
                       municipality: s.municipality}]->(t)
} IN TRANSACTIONS OF 200 ROWS
""".replace("{region_of_site}", REGION_OF_SITE)

# 2: STOCKS carry type and municipality; 3: and region (indexed together)
STOCK_VERSION = 3


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
