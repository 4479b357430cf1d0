"""The bench data set: generated once per (scale, seed, regions), loaded, and reused.

A `:BenchDataset {id: 'bench'}` node records what is loaded; when it matches, nothing is done.
Otherwise the graph (all but `:HubSchema`) is wiped, the scale is generated with
`loaders.generate.generate` (what `hub generate` runs), the first region gets two years of
activity (`loaders.demo_activities`: the dashboard needs it; the generator emits it only at
demo scale), and everything is loaded with `loaders.load.load_directory` (`hub load all`).
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from graph.migrations import migrate
from loaders.formats import RegistryFiles
from loaders.generate import SCALES, build_catalogue, generate, generate_region, region_list
from loaders.load import load_directory

MARKER = "MATCH (m:BenchDataset {id: 'bench'}) RETURN m.key AS key, m.region AS region"


def dataset_key(scale: str, seed: int, regions: int | None) -> str:
    return f"{scale}:seed={seed}:regions={regions or SCALES[scale].regions}"


def loaded_key(driver: Any, database: str) -> tuple[str | None, str | None]:
    records, _, _ = driver.execute_query(MARKER, database_=database)
    return (records[0]["key"], records[0]["region"]) if records else (None, None)


def wipe(driver: Any, database: str) -> None:
    """Everything but `:HubSchema`, the marker first; relationships, then nodes label by label,
    in small transactions (one DETACH DELETE over a region-scale graph, or of a dense node,
    exceeds a 512 MB heap; a load's audit sets hold a whole batch each — 243 of them, at 10
    federal regions, exceed the transaction memory of a 1 GB heap together)."""
    driver.execute_query("MATCH (m:BenchDataset) DELETE m", database_=database)
    records, _, _ = driver.execute_query("CALL db.labels() YIELD label RETURN label",
                                         database_=database)
    with driver.session(database=database) as s:
        s.run("MATCH ()-[r]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 5000 ROWS").consume()
        for label in [r["label"] for r in records if r["label"] != "HubSchema"]:
            s.run(f"MATCH (n:`{label}`) WHERE NOT n:HubSchema "
                  "CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF $rows ROWS",
                  rows=10 if label == "ChangeSet" else 2000).consume()


def write_files(out: Path, scale: str, seed: int, regions: int | None) -> tuple[str, dict]:
    """Registry files of the scale plus the first region's activity; (region code, counts)."""
    counts = generate(out, scale=scale, seed=seed, regions=regions)
    spec = SCALES[scale] if not regions else replace(SCALES[scale], regions=regions)
    first = region_list(spec)[0]
    if scale != "demo":  # demo already has its activity
        from loaders.demo_activities import demo_activities

        cat = build_catalogue(seed, spec.competencies)
        data = generate_region(seed, spec, cat, first)  # deterministic: the same rows again
        target = out if spec.regions == 1 else out / f"r{first[0]}"
        activity = demo_activities(data, seed=seed)
        with RegistryFiles(target, "jsonl") as files:
            for name, rows in activity.items():
                files.write(name, rows)
                counts[name] = counts.get(name, 0) + len(rows)
    return first[0], counts


def ensure_dataset(driver: Any, database: str, scale: str, seed: int = 1,
                   regions: int | None = None, log=print) -> dict[str, Any]:
    """Load the data set unless it is the one already there; what is loaded."""
    key = dataset_key(scale, seed, regions)
    have, region = loaded_key(driver, database)
    if have == key:
        log(f"data set {key} already loaded")
        migrate(driver, database=database)  # a graph loaded by an older hub gets what's new
        return {"key": key, "region": region, "loaded_now": False}
    log(f"preparing data set {key} (was {have})…")
    t0 = time.perf_counter()
    wipe(driver, database)
    migrate(driver, database=database)
    with tempfile.TemporaryDirectory(prefix="hub-bench-") as tmp:
        region, counts = write_files(Path(tmp), scale, seed, regions)
        log(f"  generated in {time.perf_counter() - t0:.0f} s: {sum(counts.values())} rows")
        t1 = time.perf_counter()
        # a data set, not a clerk's file: written in batches (files exceed one transaction)
        reports = load_directory(driver, tmp, database=database, batch_rows=5000)
    bad = [r for r in reports if not r.ok]
    if bad:
        raise SystemExit(f"load failed: {bad[0].registry}: {bad[0].errors[:3]}")
    load_s = time.perf_counter() - t1
    driver.execute_query("MERGE (m:BenchDataset {id: 'bench'}) SET m.key = $k, m.region = $r, "
                         "m.load_seconds = $s", k=key, r=region, s=load_s, database_=database)
    log(f"  loaded in {load_s:.0f} s")
    return {"key": key, "region": region, "loaded_now": True, "load_seconds": round(load_s),
            "rows": counts}
