"""The bench harness end to end on the tiny test region, for about two seconds per workload:
the hub served as a subprocess answers without errors, the floor replays the statements the
hub ran, the @neo4j/graphql peer answers W2 as the hub does, W4 loads and cleans up, results
are written. No timing assertions (figures are bench/'s business)."""

from __future__ import annotations

import json

from bench import peer
from bench.__main__ import main
from bench.harness import RESULTS
from bench.workloads import PREFIX, bulk_load
from tests.factories import inn, seed_activities, write


def test_bench_runs_hub_peer_and_floor_side_by_side(db, settings, capsys):
    seed_activities(db)
    # more than a page of equipment in the first municipality: W2 has a page 2
    write(db, "equipment", [{"organization": inn(1), "inventory_number": f"B-{i:02d}",
                             "type": "WELD-INV", "site": "M1", "quantity": 1 + i % 3,
                             "status": "REPAIR" if i % 7 == 0 else "WORKING"}
                            for i in range(60)])
    before = set(RESULTS.glob("*-bench-demo.json")) if RESULTS.exists() else set()
    code = main(["--scale", "demo", "--no-prepare", "--workloads", "W1,W2,W3,W5",
                 "--seconds", "0.5", "--warmup", "0.25", "--concurrency", "1,2",
                 "--requests", "3"])
    assert code == 0
    out = capsys.readouterr().out
    assert "hub peak RSS" in out and "PROFILE W3" in out
    (path,) = set(RESULTS.glob("*-bench-demo.json")) - before
    run = json.loads(path.read_text())
    path.unlink()
    rows = {(r["workload"], r.get("shape"), r["target"], r["concurrency"]): r
            for r in run["rows"]}
    # the peer runs wherever node ≥ 20 (and npm, for its first install) is: CI installs them
    reason = peer.why_not()
    targets = ("hub", "floor") if reason else ("hub", "peer", "floor")
    # W2: page 1, page 2 through page 1's cursor, organization tree, each alone
    shapes = ("page1", "page2", "tree")
    assert set(rows) == ({("W1", None, t, 2) for t in ("hub", "floor")}
                         | {(w, None, t, c) for w in ("W3", "W5") for t in ("hub", "floor")
                            for c in (1, 2)}
                         | {("W2", s, t, c) for s in shapes for t in targets for c in (1, 2)})
    for key, r in rows.items():
        assert r["errors"] == 0, (key, r["error_samples"])
        assert r["requests"] > 0 and r["p95_ms"] >= r["p50_ms"] > 0, (key, r)
    hub_w2 = [r for (w, _, t, _), r in rows.items() if w == "W2" and t == "hub"]
    assert all(r["ratio"] > 0 for r in hub_w2)
    assert sum(r["distinct_requests"] for r in hub_w2) >= 2 * 4
    assert rows[("W1", None, "hub", 2)]["statements_per_request"] == 1
    assert run["hub_peak_rss_mb"] > 20
    if reason:
        assert f"not run — {reason}" in out
        assert run["peer"] == {"skipped": reason}
        assert all("peer_ratio" not in r for r in hub_w2)
    else:
        # the peer answers every W2 request as the hub does: same items, order, totals
        eq = run["peer"]["equivalence"]
        assert eq["requests"] >= 4 and eq["equal"] == eq["requests"], eq["samples"]
        assert all(r["peer_ratio"] > 0 for r in hub_w2)
        assert run["peer"]["peak_rss_mb"] > 20
        # its statements PROFILEd too (one per request), apart from the hub's verdicts
        assert sum(c["runs"] for c in run["peer"]["profile"]) == eq["requests"]
        assert "PROFILE W2/peer" in out
    assert set(run["profile"]) == {"W1", "W2", "W3", "W5"}
    assert all(c["db_hits_max"] >= c["db_hits"] > 0
               for checks in run["profile"].values() for c in checks)
    # every request's statement is PROFILEd with its own parameters
    [w3] = run["profile"]["W3"]
    assert w3["runs"] == rows[("W3", None, "hub", 1)]["distinct_requests"] >= 2
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
    assert set(result["rows_per_s"]) == {"loader", "load_csv", "loader_b", "load_csv_b", "raw"}
    assert all(v > 0 for v in result["rows_per_s"].values())
    assert result["ratio_load_csv"] > 0 and result["ratio_raw"] > 0
    assert equipment() == n and stock() == stocked
    assert audit() == audited  # the W4 loads' audit sets deleted, no other set touched
