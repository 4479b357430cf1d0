"""Loader throughput on the region-scale equipment file vs a raw `UNWIND … MERGE` (the floor).

    .venv/bin/python bench/bench_load.py [--rows 50000] [--batch 5000] [--seed 1]

Generates the region scale (`hub generate --scale region`), loads the registries equipment
depends on, then times, each time on a graph without equipment:
  raw     the same rows through the driver: UNWIND … MERGE node, SET props, MERGE both links;
  loader  `hub load equipment equipment.jsonl` in-process (read, map, validate, check
          references, write through graph.ingest with its audit trail).
Best of --repeat interleaved runs. Prints rows/s of both and the ratio (goal: loader ≥ 0.8× raw). Not a test: figures only.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from graph.migrations import migrate
from hub.db import sync_driver
from hub.settings import get_settings
from loaders.generate import generate
from loaders.load import load_source
from loaders.sources import iter_jsonl

logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)

RAW = """
UNWIND $rows AS row
MERGE (e:Equipment {uid: row.uid})
SET e += row.props
WITH e, row
MATCH (s:Site {uid: row.site})
MERGE (s)-[:HAS_EQUIPMENT]->(e)
WITH e, row
MATCH (t:EquipmentType {uid: row.type})
MERGE (e)-[:OF_TYPE]->(t)
"""


def wipe(driver, database: str, label: str = "") -> None:
    match = f"MATCH (n:{label})" if label else "MATCH (n) WHERE NOT n:HubSchema"
    with driver.session(database=database) as session:
        session.run(f"{match} CALL (n) {{ DETACH DELETE n }} IN TRANSACTIONS OF 10000 ROWS"
                    ).consume()


def clear(driver, database: str) -> None:
    for label in ("Equipment", "Change"):
        wipe(driver, database, label)


def raw_load(driver, database: str, path: Path, batch: int) -> int:
    rows = []
    for _, item, _ in iter_jsonl(path):
        uid = f"{item['organization']}:{item['inventory_number']}"
        rows.append({"uid": uid, "site": f"{item['organization']}:{item['site']}",
                     "type": item["type"], "props": item})
    with driver.session(database=database) as session:
        for i in range(0, len(rows), batch):
            chunk = rows[i:i + batch]
            session.execute_write(lambda tx, c=chunk: tx.run(RAW, rows=c).consume())
    return len(rows)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch", type=int, default=5000)
    ap.add_argument("--rows", type=int, default=0, help="first N equipment rows (0: all)")
    ap.add_argument("--repeat", type=int, default=2, help="interleaved runs; best of each")
    args = ap.parse_args()
    settings = get_settings()
    db = settings.neo4j_database
    with sync_driver(settings) as driver, tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        t = time.perf_counter()
        counts = generate(out, scale="region", seed=args.seed)
        print(f"generated region scale in {time.perf_counter() - t:.1f} s: "
              + ", ".join(f"{k} {v}" for k, v in counts.items()))
        path = out / "equipment.jsonl"
        if args.rows:
            lines = path.read_text(encoding="utf-8").splitlines()[: args.rows]
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        n = sum(1 for _ in path.open(encoding="utf-8"))
        wipe(driver, db)
        migrate(driver, database=db)
        for name in ("regions", "municipalities", "organizations", "sites", "equipment_types"):
            report = load_source(driver, name, str(out / f"{name}.jsonl"), database=db)
            assert report.ok, report.errors[:3]

        raws, loaders = [], []
        for _ in range(args.repeat):  # interleaved: a busy machine affects both alike
            clear(driver, db)
            t = time.perf_counter()
            raw_load(driver, db, path, args.batch)
            raws.append(n / (time.perf_counter() - t))
            clear(driver, db)
            t = time.perf_counter()
            report = load_source(driver, "equipment", str(path), batch_rows=args.batch,
                                 database=db)
            loaders.append(n / (time.perf_counter() - t))
            assert report.ok and report.created == n, (report.created, report.errors[:3])
            print(f"raw {raws[-1]:.0f} rows/s, loader {loaders[-1]:.0f} rows/s", flush=True)
        raw, loader = max(raws), max(loaders)

        t = time.perf_counter()
        report = load_source(driver, "equipment", str(path), batch_rows=args.batch, database=db)
        again = n / (time.perf_counter() - t)
        assert report.unchanged == n

    print(json.dumps({"rows": n, "batch": args.batch, "raw_rows_per_s": round(raw),
                      "loader_rows_per_s": round(loader), "ratio": round(loader / raw, 2),
                      "reload_unchanged_rows_per_s": round(again)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
