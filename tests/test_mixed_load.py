"""A short mixed load (concurrent reads and writes, bounded in time) against the live server:
zero errors, and every acknowledged write is in the graph, audited once, afterwards.
Figures are bench/mixed_load.py's business; here only correctness under concurrency."""

from __future__ import annotations

import asyncio

from bench.mixed_load import missing_writes, run
from tests.factories import seed_activities
from tests.graphql_client import admin_token, live_server


def test_mixed_reads_and_writes_lose_nothing(db, settings):
    seed_activities(db)
    with live_server(settings) as url:
        result, mix = asyncio.run(run(url, admin_token(), seconds=8, concurrency=6,
                                      write_share=0.3, warmup=0.5))
    overall = result["overall"]
    assert overall["errors"] == 0, overall["error_samples"]
    assert len(mix.acked) >= 20 and len(mix.latencies.get("write", [])) == len(mix.acked)
    assert set(mix.latencies) == {"write", "organizations", "equipment", "catalog", "node"}
    assert missing_writes(db, mix, settings.neo4j_database) == []
    created = db.execute_query(
        "MATCH (e:Equipment) WHERE e.uid CONTAINS ':MIX-' RETURN count(e) AS n").records
    assert created[0]["n"] == len(mix.acked)
