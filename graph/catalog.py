"""The public catalogue (roadmap item 44): approved programs and where to enrol.

One Cypher statement per page: programs with their developer and upcoming cohorts, each
cohort with its sites and free seats, and the number of matching programs when asked.
"""

from __future__ import annotations

CATALOG_STATUSES = ["APPROVED", "RUNNING"]
MAX_COHORTS = 10

_MATCHING = """(p:Program)
WHERE p.status IN $statuses AND p.retiredAt IS NULL
  AND ($query IS NULL OR p.uid IN matched)
  AND ($type IS NULL OR p.type = $type)
  AND ($municipality IS NULL OR EXISTS {
        MATCH (c:Cohort)-[:OF_PROGRAM]->(p)
        WHERE c.retiredAt IS NULL AND c.ends_on >= $today
        MATCH (c)-[:AT_SITE]->(:Site)-[:IN_MUNICIPALITY]->(:Municipality {uid: $municipality})
      })"""

# One row: `total` (0 unless $with_total) and `page`, the programs after $after by code.
CATALOG_CYPHER = f"""
CALL () {{
  WITH $query AS q WHERE q IS NOT NULL
  CALL db.index.fulltext.queryNodes('names_ru', q) YIELD node
  WITH node WHERE node:Program
  RETURN collect(node.uid) AS matched
}}
CALL (matched) {{
  MATCH {_MATCHING}
    AND $with_total
  RETURN count(p) AS total
}}
CALL (matched) {{
  MATCH {_MATCHING}
    AND ($after IS NULL OR p.uid > $after)
  WITH p ORDER BY p.uid LIMIT $limit
  OPTIONAL MATCH (p)-[:DEVELOPED_BY]->(dev:Organization)
  CALL (p) {{
    OPTIONAL MATCH (c:Cohort)-[:OF_PROGRAM]->(p)
    WHERE c.retiredAt IS NULL AND c.ends_on >= $today
    WITH c ORDER BY c.starts_on, c.uid LIMIT {MAX_COHORTS}
    OPTIONAL MATCH (c)-[:RUN_BY]->(runner:Organization)
    CALL (c) {{
      OPTIONAL MATCH (c)-[:AT_SITE]->(s:Site)
      OPTIONAL MATCH (s)-[:IN_MUNICIPALITY]->(mu:Municipality)
      RETURN collect(CASE WHEN s IS NULL THEN NULL ELSE s {{
        .name, .address, .latitude, .longitude, municipality: mu.name}} END) AS sites
    }}
    CALL (c) {{
      OPTIONAL MATCH (e:Enrollment)-[:IN_COHORT]->(c)
      WHERE e.status IN ['ENROLLED', 'COMPLETED'] AND e.retiredAt IS NULL
      RETURN count(e) AS taken
    }}
    RETURN collect(CASE WHEN c IS NULL THEN NULL ELSE c {{
      .code, .starts_on, .ends_on, .seats, seats_left: c.seats - taken,
      organization: runner.name, sites: sites}} END) AS cohorts
  }}
  CALL (p) {{
    OPTIONAL MATCH (p)-[:DEVELOPS]->(k:Competency)
    RETURN collect(k.name) AS competencies
  }}
  WITH p, dev, competencies, cohorts ORDER BY p.uid
  RETURN collect({{program: p {{ .code, .name, .type, .hours, .format, .description }},
                  developer: dev.name, competencies: competencies, cohorts: cohorts}}) AS page
}}
RETURN total, page
"""
