"""The bench harness end to end on the tiny test region, for about two seconds per workload:
the hub served as a subprocess answers without errors, the floor replays the statements the
hub ran, W4 loads and cleans up, results are written. No timing assertions (figures are
bench/'s business)."""

from __future__ import annotations

import json

from bench.__main__ import main
from bench.harness import RESULTS
from bench.workloads import PREFIX, bulk_load
from tests.factories import inn, seed_activities


def test_bench_runs_hub_and_floor_side_by_side(db, settings, capsys):
    seed_activities(db)
    before = set(RESULTS.glob("*-bench-demo.json")) if RESULTS.exists() else set()
    code = main(["--scale", "demo", "--no-prepare", "--workloads", "W1,W2,W3,W5",
                 "--seconds", "1", "--warmup", "0.5", "--concurrency", "2",
                 "--requests", "3"])
    assert code == 0
    out = capsys.readouterr().out
    assert "hub peak RSS" in out and "PROFILE W3" in out
    (path,) = set(RESULTS.glob("*-bench-demo.json")) - before
    run = json.loads(path.read_text())
    path.unlink()
    rows = {(r["workload"], r["target"]): r for r in run["rows"]}
    assert set(rows) == {(w, t) for w in ("W1", "W2", "W3", "W5") for t in ("hub", "floor")}
    for (w, target), r in rows.items():
        assert r["errors"] == 0, (w, target, r["error_samples"])
        assert r["requests"] > 0 and r["p95_ms"] >= r["p50_ms"] > 0, (w, target, r)
    # W2: page 1, page 2 through the cursor (only if there is one), organization tree
    assert rows[("W2", "hub")]["distinct_requests"] >= 4
    assert rows[("W1", "hub")]["statements_per_request"] == 1
    assert run["hub_peak_rss_mb"] > 20
    assert set(run["profile"]) == {"W1", "W2", "W3", "W5"}
    assert all(c["db_hits_max"] >= c["db_hits"] > 0
               for checks in run["profile"].values() for c in checks)
    # every request's statement is PROFILEd with its own parameters
    [w3] = run["profile"]["W3"]
    assert w3["runs"] == rows[("W3", "hub")]["distinct_requests"] >= 2
    assert any(s.startswith("DirectedRelationshipIndexSeek STOCKS(") for s in w3["seeks"]), w3
    assert w3["ok"] and not w3["scans"]


def test_bulk_load_measures_both_and_leaves_the_graph_as_it_was(db, settings):
    seed_activities(db)
    database = settings.neo4j_database

    def equipment() -> int:
        return db.execute_query("MATCH (e:Equipment) RETURN count(e) AS n",
                                database_=database).records[0]["n"]

    def stock() -> list:
        return db.execute_query("MATCH (s:Site)-[k:STOCKS]->(t) RETURN s.uid, t.uid, k.working "
                                "ORDER BY s.uid, t.uid", database_=database).records

    def audit() -> list:
        return db.execute_query("MATCH (s:ChangeSet) RETURN s.id, s.uids ORDER BY s.id",
                                database_=database).records

    n, stocked, audited = equipment(), stock(), audit()
    assert audited  # the seed's own audit sets, which must survive
    items = [{"organization": inn(1), "inventory_number": f"{PREFIX}T-{i}", "type": "WELD-INV",
              "site": "M1", "quantity": 1} for i in range(300)]
    result = bulk_load(db, database, items, batch=100, repeat=1, log=lambda _: None)
    assert result["rows"] == 300
    assert result["raw_rows_per_s"] > 0 and result["loader_rows_per_s"] > 0
    assert equipment() == n and stock() == stocked
    assert audit() == audited  # the W4 loads' audit sets deleted, no other set touched
