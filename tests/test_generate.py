"""`hub generate`: deterministic per seed, the advertised scale, valid and consistent rows."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from graph.checksums import inn_is_valid
from graph.ingest import prepare
from graph.registry import REGISTRIES
from hub.cli import main as hub
from loaders.generate import generate
from loaders.sources import read_source


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_same_seed_same_files_other_seed_other_files(tmp_path):
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        assert hub(["generate", "--scale", "demo", "--seed", str(seed),
                    "--out", str(tmp_path / name)]) == 0
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    from graph.registry import REGISTRIES

    # the demo scale writes every registry, activities and the roadmap included
    assert files == sorted(f"{name}.jsonl" for name in REGISTRIES)
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    assert (tmp_path / "a" / "staff.jsonl").read_bytes() != \
        (tmp_path / "c" / "staff.jsonl").read_bytes()


def test_region_scale_counts_and_every_row_valid(tmp_path):
    counts = generate(tmp_path, scale="region", seed=3)
    assert counts["organizations"] == 1 + 100 + 1000
    assert (counts["equipment"], counts["competencies"], counts["programs"]) == (50000, 600, 5000)
    assert 9500 <= counts["staff"] <= 10500
    orgs = _rows(tmp_path / "organizations.jsonl")
    assert Counter(o["kind"] for o in orgs)["COLLEGE"] == 100
    assert all(inn_is_valid(o["inn"]) for o in orgs)
    for name in ("equipment", "staff", "programs", "agreements", "infrastructure_lists"):
        table = read_source(str(tmp_path / f"{name}.jsonl"))
        prepared = prepare(REGISTRIES[name], [row for _, row in table.rows])
        assert not prepared.errors, (name, prepared.errors[:3])
    sites = {f"{s['organization']}:{s['code']}" for s in _rows(tmp_path / "sites.jsonl")}
    types = {t["code"] for t in _rows(tmp_path / "equipment_types.jsonl")}
    equipment = _rows(tmp_path / "equipment.jsonl")
    assert all(f"{e['organization']}:{e['site']}" in sites and e["type"] in types
               for e in equipment)
    assert {p["type"] for p in _rows(tmp_path / "programs.jsonl")} == {
        "SPO_MODULES", "SCHOOL_STUDENTS", "EMPLOYER_ORDERED", "SECTORAL", "PRE_RETIREMENT",
        "FUTURE_COMPETENCIES"}


def test_federal_scale_writes_one_directory_per_region(tmp_path):
    counts = generate(tmp_path, scale="federal", seed=1, regions=2)
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["r01", "r02"]
    assert (tmp_path / "competencies.jsonl").is_file()
    assert counts["regions"] == 2 and counts["equipment"] == 100000
    inns = [o["inn"] for r in ("r01", "r02") for o in _rows(tmp_path / r / "organizations.jsonl")]
    assert len(inns) == len(set(inns)) == 2 * 1101
