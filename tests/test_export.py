"""Logical export → wipe → load rebuilds the same graph (counts and content hash)."""

from __future__ import annotations

import json

from hub.cli import main as hub
from loaders.demo import write_demo
from loaders.export import content_hash, graph_counts
from loaders.load import load_directory
from tests.conftest import wipe


def _load_demo(db, tmp_path):
    write_demo(tmp_path / "demo")
    reports = load_directory(db, tmp_path / "demo")
    assert all(r.ok for r in reports), [r.errors[:3] for r in reports if not r.ok]


def test_export_then_load_rebuilds_the_graph_from_jsonl_and_csv(db, settings, tmp_path, capsys):
    _load_demo(db, tmp_path)
    counts, digest = graph_counts(db), content_hash(db)
    assert 2900 <= counts["Equipment"] <= 3300 and counts["-[QUALIFIED_IN]->"] > 300

    assert hub(["export", "--out", str(tmp_path / "out")]) == 0
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["content_hash"] == digest and manifest["counts"]["equipment"] == counts["Equipment"]
    assert (tmp_path / "out" / "staff.csv").read_bytes().startswith(b"\xef\xbb\xbf")

    wipe(db, settings.neo4j_database)
    assert graph_counts(db)["Equipment"] == 0
    capsys.readouterr()
    assert hub(["load", "all", str(tmp_path / "out"), "--json"]) == 0
    reports = json.loads(capsys.readouterr().out)
    assert sum(r["created"] for r in reports) == sum(manifest["counts"].values())
    assert graph_counts(db) == counts
    assert content_hash(db) == digest

    # CSV alone (no JSONL beside it) round trips too, from the graph just rebuilt
    assert hub(["export", "--out", str(tmp_path / "csv"), "--format", "csv"]) == 0
    assert not list((tmp_path / "csv").glob("*.jsonl"))
    wipe(db, settings.neo4j_database)
    reports = load_directory(db, tmp_path / "csv")
    assert all(r.ok for r in reports), [r.errors[:3] for r in reports if not r.ok]
    assert graph_counts(db) == counts
    assert content_hash(db) == digest
