"""Nested registries (one row per item, rows of one key make one record) stream in chunks like
the flat ones: a record is never split between chunks, even when its rows are far apart in the
file; the default load stays one transaction; `--batch-rows` writes whole records."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from hub.cli import main as hub
from loaders.chunks import Chunks, SeenKeys
from loaders.load import load_source
from tests.factories import inn, seed_region, write

STAFF_HEADER = ["ИНН", "Табельный номер", "ФИО", "Роль", "Компетенция", "Экспертный статус"]
PEOPLE = 12


def _csv(path: Path, rows: list[list[object]]) -> Path:
    buf = io.StringIO()
    csv.writer(buf, delimiter=";").writerows(rows)
    path.write_bytes(buf.getvalue().encode("utf-8-sig"))
    return path


def _staff_file(path: Path, bad_row_of: int | None = None, together: bool = False) -> Path:
    """Each person's two qualification rows are PEOPLE rows apart: all the MF-01 rows first,
    then all the MF-02 rows (a file sorted by competency); `together`: one after the other."""
    first = [[inn(2), f"T-{n:02d}", f"Сотрудник {n}", "Преподаватель", "MF-01", "Нет"]
             for n in range(PEOPLE)]
    second = [[inn(2), f"T-{n:02d}", None, None, "NO-SUCH" if n == bad_row_of else "MF-02",
               "Региональный эксперт"] for n in range(PEOPLE)]
    rows = [row for pair in zip(first, second, strict=True) for row in pair] if together \
        else first + second
    return _csv(path, [STAFF_HEADER, *rows])


def _qualifications(db) -> dict[str, list[str]]:
    records, _, _ = db.execute_query(
        "MATCH (s:Staff) OPTIONAL MATCH (s)-[:QUALIFIED_IN]->(c:Competency) "
        "WITH s, c ORDER BY c.uid RETURN s.personnel_number AS n, collect(c.uid) AS cs")
    return {r["n"]: r["cs"] for r in records}


def _change_sets(db) -> int:
    records, _, _ = db.execute_query("MATCH (c:ChangeSet {label: 'Staff'}) RETURN count(c) AS c")
    return records[0]["c"]


@pytest.mark.parametrize("together", [False, True])
def test_rows_of_one_record_far_apart_load_whole_in_one_transaction(db, tmp_path, together):
    seed_region(db)
    path = _staff_file(tmp_path / "staff.csv", together=together)
    # 5 records a chunk: 24 rows are more than a chunk holds, so they are read as they come
    # (together) or sorted on disk first (apart)
    report = load_source(db, "staff", str(path), chunk_rows=5)
    assert report.ok, [str(e) for e in report.errors]
    assert (report.read, report.records, report.created) == (2 * PEOPLE, PEOPLE, PEOPLE)
    assert (report.transactions, report.atomic) == (1, True)
    assert _qualifications(db) == {f"T-{n:02d}": ["MF-01", "MF-02"] for n in range(PEOPLE)}
    assert _change_sets(db) == 3  # one audit set per chunk of ≤ 5 records, one transaction
    again = load_source(db, "staff", str(path), chunk_rows=5)
    assert (again.unchanged, again.created, again.updated) == (PEOPLE, 0, 0)


def test_batches_hold_whole_records(db, tmp_path, capsys):
    seed_region(db)
    path = _staff_file(tmp_path / "staff.csv")
    assert hub(["load", "staff", str(path), "--batch-rows", "5", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["created"], report["transactions"], report["atomic"]) == (PEOPLE, 3, False)
    assert _qualifications(db) == {f"T-{n:02d}": ["MF-01", "MF-02"] for n in range(PEOPLE)}
    assert hub(["load", "staff", str(path), "--batch-rows", "5", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["unchanged"] == PEOPLE


def test_an_error_in_the_last_chunk_writes_nothing_of_the_file(db, tmp_path):
    seed_region(db)
    path = _staff_file(tmp_path / "staff.csv", bad_row_of=PEOPLE - 1)  # file row 25
    report = load_source(db, "staff", str(path), chunk_rows=5)
    assert not report.written and report.transactions == 0
    assert [(e.row, e.column, e.value) for e in report.errors] == [
        (2 * PEOPLE + 1, "Компетенция", "NO-SUCH")]
    assert (report.created, report.rejected, report.valid) == (0, 1, PEOPLE - 1)
    assert _qualifications(db) == {} and _change_sets(db) == 0  # the chunks before rolled back
    dry = load_source(db, "staff", str(path), chunk_rows=5, dry_run=True)
    assert [e.row for e in dry.errors] == [2 * PEOPLE + 1] and not dry.written
    partial = load_source(db, "staff", str(path), chunk_rows=5, partial=True)
    assert partial.written and partial.created == PEOPLE - 1
    assert len(_qualifications(db)) == PEOPLE - 1


def test_set_gives_the_key_of_rows_that_lack_its_column(db, tmp_path):
    seed_region(db)
    write(db, "programs", [{"code": "P-1", "name": "Сварщик", "type": "SECTORAL", "hours": 72,
                            "organization": inn(1)}])
    rows: list[list[object]] = [["Номер модуля", "Наименование модуля", "Часы",
                                 "Тип оборудования", "Количество"]]
    rows += [[n, f"Модуль {n}", 36, t, 1] for t in ("WELD-INV", "LATHE-CNC") for n in (1, 2, 3)]
    path = _csv(tmp_path / "modules.csv", rows)
    report = load_source(db, "modules", str(path), constants={"program": "P-1"}, chunk_rows=2)
    assert report.ok, [str(e) for e in report.errors]
    assert (report.records, report.created) == (3, 3)
    records, _, _ = db.execute_query(
        "MATCH (m:Module)-[:REQUIRES]->(t) WITH m, t ORDER BY t.uid "
        "RETURN m.number AS n, collect(t.uid) AS ts ORDER BY n")
    assert [(r["n"], r["ts"]) for r in records] == [
        (n, ["LATHE-CNC", "WELD-INV"]) for n in (1, 2, 3)]


def test_chunks_keep_each_record_whole_and_in_the_order_of_its_first_row():
    rows = [(n, {"k": f"K{(n * 7) % 11}", "n": n}) for n in range(2, 200)]
    order: dict[str, int] = {}
    for n, raw in rows:
        order.setdefault(raw["k"], n)
    for spill_after in (1000, 10):  # in memory; copied to a temporary SQLite file
        chunks = Chunks(rows, lambda raw: raw["k"], spill_after=spill_after)
        try:
            for size in (1, 4, None):
                got = list(chunks(size))
                flat = [row for chunk in got for row in chunk]
                assert sorted(flat) == rows
                keys = [{raw["k"] for _, raw in chunk} for chunk in got]
                assert all(len(k) <= (size or 11) for k in keys)
                assert sum(len(k) for k in keys) == 11  # no key in two chunks
                firsts = list(dict.fromkeys(raw["k"] for _, raw in flat))
                assert firsts == sorted(order, key=order.__getitem__)
                by_key: dict[str, list[int]] = {}
                for n, raw in flat:
                    by_key.setdefault(raw["k"], []).append(n)
                assert all(ns == sorted(ns) for ns in by_key.values())  # rows in file order
            assert (chunks.spilled is not None) == (spill_after == 10)
        finally:
            chunks.close()
    # each key's rows one after another: read as they come, nothing copied
    ordered = sorted(rows, key=lambda r: (order[r[1]["k"]], r[0]))
    chunks = Chunks(ordered, lambda raw: raw["k"], spill_after=10)
    got = list(chunks(4))
    assert [row for chunk in got for row in chunk] == ordered
    assert [len({raw["k"] for _, raw in chunk}) for chunk in got] == [4, 4, 3]
    assert chunks.adjacent is True and chunks.spilled is None


def test_keys_seen_move_to_disk_and_are_still_found():
    seen = SeenKeys(in_memory=3)
    try:
        seen.add([(10, 2), (11, 3)])
        assert seen.spilled is None and seen.firsts([10, 12]) == {10: 2}
        seen.add([(12, 4), (-13, 5)])  # over 3: moved to the temporary file
        assert seen.spilled is not None and not seen.recent
        seen.add([(14, 6)])
        assert seen.firsts([10, 11, 12, -13, 14, 15]) == {10: 2, 11: 3, 12: 4, -13: 5, 14: 6}
    finally:
        seen.close()


def test_a_key_repeated_chunks_later_names_the_first_row(db, tmp_path):
    seed_region(db)
    rows: list[list[object]] = [["ИНН", "Инвентарный номер", "Тип", "Площадка", "Количество"]]
    rows += [[inn(1), f"ИН-{i}", "WELD-INV", "M1", 1] for i in range(1, 11)]
    rows += [[inn(1), "ИН-2", "WELD-INV", "M1", 1]]  # file row 12; ИН-2 is row 3
    report = load_source(db, "equipment", str(_csv(tmp_path / "e.csv", rows)), chunk_rows=3)
    assert [(e.row, e.message) for e in report.errors] == [
        (12, "ключ уже встречался в строке 3")]
    assert not report.written and report.valid == 10
