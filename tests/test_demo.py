"""`hub load demo`: the demo region as promised, and meaningful for capability matching."""

from __future__ import annotations

import json

from hub.cli import main as hub


def _one(db, query: str, **params):
    records, _, _ = db.execute_query(query, **params)
    return records[0]


def test_demo_region_loads_with_its_promised_shape(db, capsys):
    assert hub(["load", "demo", "--json"]) == 0
    reports = json.loads(capsys.readouterr().out)
    assert all(r["rejected"] == 0 for r in reports)
    counts = _one(db, """
        MATCH (o:Organization) WITH collect(o.kind) AS kinds
        RETURN size([k IN kinds WHERE k = 'COPP']) AS copp,
               size([k IN kinds WHERE k = 'COLLEGE']) AS colleges,
               size([k IN kinds WHERE NOT k IN ['COPP', 'COLLEGE']]) AS partners,
               COUNT { (:Region) } AS regions, COUNT { (:Municipality) } AS municipalities,
               COUNT { (:Competency) } AS competencies, COUNT { (:Equipment) } AS equipment,
               COUNT { (:Staff)-[:QUALIFIED_IN]->() } AS qualifications,
               COUNT { (:Staff) } AS staff, COUNT { (:Program) } AS programs,
               COUNT { (s:Site) WHERE s.latitude IS NOT NULL } AS located_sites,
               COUNT { (a:PartnerAgreement {kind: 'NETWORK'})-[:FOR_PROGRAM]->() } AS network
    """)
    assert counts["regions"] == 1 and counts["municipalities"] == 10
    assert (counts["copp"], counts["colleges"], counts["partners"]) == (1, 20, 60)
    assert counts["competencies"] == 76 and 2900 <= counts["equipment"] <= 3300  # ≈ 3,000
    assert 450 <= counts["staff"] <= 550 and counts["qualifications"] > 300
    assert counts["programs"] == 150 and counts["network"] >= 10
    assert counts["located_sites"] > 50
    types = _one(db, "MATCH (p:Program) RETURN count(DISTINCT p.type) AS t")["t"]
    assert types == 6
    statuses = _one(db, "MATCH (e:Equipment) RETURN collect(DISTINCT e.status) AS s")["s"]
    assert {"WORKING", "REPAIR", "BROKEN", "WRITTEN_OFF"} <= set(statuses)
    scopes = _one(db, "MATCH ()-[r:REQUIRES]->() RETURN collect(DISTINCT r.scope) AS s")["s"]
    assert set(scopes) == {"PER_WORKPLACE", "PER_GROUP"}


def test_colleges_hold_the_equipment_of_what_they_teach_with_gaps(db, capsys):
    assert hub(["load", "demo", "--json"]) == 0
    capsys.readouterr()
    record = _one(db, """
        MATCH (o:Organization {kind: 'COLLEGE'})<-[:WORKS_AT]-(:Staff)-[:QUALIFIED_IN]->(c)
              -[:HAS_INFRASTRUCTURE_LIST]->(il)
        WITH DISTINCT o, c, il
        MATCH (il)-[:REQUIRES]->(t)
        WITH o, c, collect(t.uid) AS need
        OPTIONAL MATCH (o)-[:HAS_SITE]->(s)-[:HAS_EQUIPMENT]->(:Equipment)-[:OF_TYPE]->(t)
        WHERE t.uid IN need
        WITH o, c, size(need) AS need, s, count(DISTINCT t) AS have
        WITH o, c, need, max(have) AS best
        RETURN count(*) AS pairs, sum(CASE WHEN best * 2 >= need THEN 1 ELSE 0 END) AS covered,
               sum(CASE WHEN best = need THEN 1 ELSE 0 END) AS complete
    """)
    assert record["pairs"] >= 60
    assert record["covered"] >= 0.8 * record["pairs"]  # the sites hold what they teach …
    assert record["complete"] < record["pairs"]  # … with gaps


def test_demo_reload_is_idempotent(db, capsys):
    assert hub(["load", "demo", "--json"]) == 0
    capsys.readouterr()
    assert hub(["load", "demo", "--json"]) == 0
    reports = json.loads(capsys.readouterr().out)
    assert sum(r["created"] + r["updated"] for r in reports) == 0
