"""Logical export (`hub export`) and a content hash of the registry graph.

The export writes every registry in the exchange format (`loaders/formats.py`); loading the
directory with `hub load all DIR` into an empty database rebuilds the same graph: same nodes,
properties and relationships (timestamps and the audit trail are not part of it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from graph.migrations import SCHEMA_VERSION
from graph.registry import LOAD_ORDER, REGISTRIES, record_from_properties
from loaders.formats import RegistryFiles

STAMPS = ("createdAt", "updatedAt")


def _nodes_cypher(label: str) -> str:
    return f"MATCH (n:{label}) RETURN properties(n) AS p ORDER BY n.uid"


def export(driver: Any, out: Path, *, formats: tuple[str, ...] = ("jsonl", "csv"),
           database: str | None = None) -> dict[str, Any]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    writers = [RegistryFiles(out, fmt) for fmt in formats]
    counts: dict[str, int] = {}
    try:
        for name in LOAD_ORDER:
            registry = REGISTRIES[name]
            records, _, _ = driver.execute_query(_nodes_cypher(registry.label),
                                                 database_=database)
            rows = [record_from_properties(registry, dict(r["p"])) for r in records]
            for w in writers:
                if rows:
                    w.write(name, rows)
            counts[name] = len(rows)
    finally:
        for w in writers:
            w.close()
    manifest = {
        "format": "regional-hub-exchange/1", "schema_version": SCHEMA_VERSION,
        "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "load_order": list(LOAD_ORDER), "counts": counts,
        "content_hash": content_hash(driver, database=database),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1),
                                       encoding="utf-8")
    return manifest


def _canon(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def content_hash(driver: Any, database: str | None = None) -> str:
    """sha256 over every registry node (properties without timestamps) and relationship."""
    labels = [r.label for r in REGISTRIES.values()]
    digest = hashlib.sha256()
    for label in sorted(labels):
        records, _, _ = driver.execute_query(_nodes_cypher(label), database_=database)
        for r in records:
            props = {k: v for k, v in dict(r["p"]).items() if k not in STAMPS}
            digest.update(f"{label}|{_canon(props)}\n".encode())
    records, _, _ = driver.execute_query(
        "MATCH (a)-[r]->(b) WHERE any(l IN labels(a) WHERE l IN $labels) "
        "AND any(l IN labels(b) WHERE l IN $labels) "
        "RETURN type(r) AS t, a.uid AS a, b.uid AS b, properties(r) AS p",
        labels=labels, database_=database)
    rels = sorted(f"{r['t']}|{r['a']}|{r['b']}|{_canon(dict(r['p']))}" for r in records)
    for line in rels:
        digest.update(line.encode() + b"\n")
    return digest.hexdigest()


def graph_counts(driver: Any, database: str | None = None) -> dict[str, int]:
    """Nodes per registry label and relationships per type among registry nodes."""
    labels = [r.label for r in REGISTRIES.values()]
    counts: dict[str, int] = {}
    for label in labels:
        records, _, _ = driver.execute_query(f"MATCH (n:{label}) RETURN count(n) AS c",
                                             database_=database)
        counts[label] = records[0]["c"]
    records, _, _ = driver.execute_query(
        "MATCH (a)-[r]->(b) WHERE any(l IN labels(a) WHERE l IN $labels) "
        "RETURN type(r) AS t, count(r) AS c", labels=labels, database_=database)
    counts.update({f"-[{r['t']}]->": r["c"] for r in records})
    return counts
