"""Where the W4 loader's time goes: its stages run one after the other, each timed.

    python -m bench.w4_profile [--rows 20000] [--repeat 3]

Needs the bench data set loaded (`python -m bench --workloads W4` loads it). Writes the W4 rows
as the exchange CSV, then per 5,000-row chunk: reading (CSV, header, rows), cells (control
characters, the export's guard, dates), mapping (`build_records`), free text as typed,
reference names, validation (pydantic), keys; then the writes in one transaction, split into
the server's own time (each statement's `result_available_after` + `result_consumed_after`),
the driver (encoding parameters, the round trip, decoding) and the loader's Python between
statements (rows for Cypher, audit). The transaction is rolled back. Median of `--repeat`.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any


class _TimedTx:
    """A transaction whose statements are timed: server time and round trip."""

    def __init__(self, tx: Any, spent: dict[str, float]) -> None:
        self.tx, self.spent = tx, spent

    def run(self, query: str, params: dict[str, Any]) -> list[Any]:
        t = time.perf_counter()
        result = self.tx.run(query, params)
        records = list(result)
        summary = result.consume()
        self.spent["round trips"] += time.perf_counter() - t
        server = ((summary.result_available_after or 0) +
                  (summary.result_consumed_after or 0)) / 1000
        self.spent["server"] += server
        self.spent[f"  server: {' '.join(query.split())[:50]}"] += server
        return records


def profile_once(driver: Any, db: str, path: Path) -> dict[str, float]:
    from graph.ingest import Prepared, ingest, prepare
    from graph.registry import REGISTRIES
    from loaders.chunks import Chunks
    from loaders.frame import frame
    from loaders.load import _Pipeline, _with_constants, problems_of
    from loaders.mapping import build_records, map_columns
    from loaders.resolve import Resolver
    from loaders.sources import read_source

    registry = REGISTRIES["equipment"]
    spent: dict[str, float] = defaultdict(float)
    t = time.perf_counter()
    table = read_source(str(path))
    framed = frame(table, registry)
    cmap = _with_constants(map_columns(registry, framed.columns), {})
    chunks = list(Chunks(framed)(5000))
    spent["read (CSV, header, rows)"] = time.perf_counter() - t
    with driver.session(database=db) as lookup, driver.session(database=db) as session:
        pipeline = _Pipeline(registry, cmap, {}, Resolver(registry.name), lookup,
                             sheet=True)
        checked = []
        for chunk in chunks:
            t = time.perf_counter()
            rows = []
            for number, raw in chunk:
                raw = dict(raw)
                pipeline.cells(number, raw)
                rows.append((number, raw))
            spent["cells"] += time.perf_counter() - (t0 := t)
            t = time.perf_counter()
            records, _ = build_records(cmap, rows)
            spent["mapping (build_records)"] += time.perf_counter() - t
            t = time.perf_counter()
            pipeline.as_typed(records, dict(rows))
            spent["free text as typed"] += time.perf_counter() - t
            t = time.perf_counter()
            pipeline.resolver.resolve(lookup, cmap, records)
            spent["reference names"] += time.perf_counter() - t
            t = time.perf_counter()
            prepared = prepare(registry, [r.data for r in records], first_row=0)
            problems_of(registry, cmap, records, prepared.errors)
            spent["validation (pydantic)"] += time.perf_counter() - t
            t = time.perf_counter()
            keyed = [(i, node, hash(node.uid)) for i, node in prepared.valid]
            seen = pipeline.seen.firsts([k for _, _, k in keyed])
            valid = [(i, node) for i, node, k in keyed if k not in seen]
            pipeline.seen.add([(k, records[i].rows[0]) for i, _, k in keyed])
            spent["keys"] += time.perf_counter() - t
            spent["python before the writes"] += time.perf_counter() - t0
            checked.append((records, valid))
        tx = session.begin_transaction()
        try:
            timed = _TimedTx(tx, spent)
            t = time.perf_counter()
            for records, valid in checked:
                report = ingest(timed, Prepared(registry, len(records), valid, []),
                                source="load:bench")
                assert report.ok and report.created == len(valid), report.errors[:3]
            spent["writes"] = time.perf_counter() - t
        finally:
            tx.rollback()
    spent["driver (encode, round trip, decode)"] = spent["round trips"] - spent["server"]
    spent["loader python between statements"] = spent["writes"] - spent["round trips"]
    del spent["round trips"], spent["python before the writes"]
    return dict(spent)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.w4_profile")
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    from bench.workloads import bulk_rows
    from hub.db import sync_driver
    from hub.settings import get_settings
    from loaders.formats import RegistryFiles

    settings = get_settings()
    items = bulk_rows("region", args.seed, None, args.rows)
    runs = []
    with tempfile.TemporaryDirectory(prefix="hub-w4-profile-") as tmp, \
            sync_driver(settings) as driver:
        with RegistryFiles(Path(tmp), "csv") as files:
            files.write("equipment", items)
        for _ in range(args.repeat):
            runs.append(profile_once(driver, settings.neo4j_database,
                                     Path(tmp) / "equipment.csv"))
    print(f"{len(items)} rows, median of {args.repeat} (seconds)")
    for stage in runs[0]:
        print(f"  {stage:<40} {statistics.median(r[stage] for r in runs):8.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
