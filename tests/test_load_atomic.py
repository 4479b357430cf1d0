"""A file load is all-or-nothing: one write transaction per file by default.

Neo4j killed (-9) while `hub load` writes → nothing of the file is in the graph, and the CLI
says so in one Russian line with the Neo4j-unavailable exit code (a throwaway Neo4j of this
module is killed, not the shared test server). A file over HUB_LOAD_MAX_ROWS is refused unless
`--batch-rows N` is given, which writes one transaction per N records and says it is not atomic.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from graph.writes import fresh_cypher
from hub import neo4j_runtime as rt
from hub.cli import ExitCode
from hub.cli import main as hub
from hub.db import sync_driver
from hub.settings import Settings, get_settings
from loaders.load import TooLargeError, load_source
from tests.conftest import wipe
from tests.factories import inn, own_neo4j, seed_region

HUB = str(Path(sys.executable).with_name("hub"))
ROWS = 15_000  # three 5,000-row statements in the load's one transaction


def _count(driver, label: str, database: str | None = None) -> int:
    records, _, _ = driver.execute_query(f"MATCH (n:{label}) RETURN count(n) AS c",
                                         database_=database)
    return records[0]["c"]


def _equipment(path: Path, n: int) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps({"organization": inn(1 + i % 2), "inventory_number": f"A-{i:06d}",
                                 "type": "WELD-INV" if i % 3 else "LATHE-CNC", "site": "M1",
                                 "quantity": 1 + i % 4, "year": 2014 + i % 10}) + "\n")
    return path


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    env = os.environ.copy()
    env.update({"HUB_NEO4J_URI": "", "HUB_NEO4J_PORT": str(settings.neo4j_port),
                "HUB_NEO4J_HOME": str(settings.neo4j_home), **extra})
    return env


@pytest.fixture(scope="module")
def own(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A Neo4j of this module only: killing it disturbs no one."""
    with own_neo4j(settings, tmp_path_factory.mktemp("atomic") / "neo4j", "768m") as server:
        yield server


def _wait_for_second_upsert(own: Settings, proc: subprocess.Popen, timeout: float = 180) -> None:
    """Poll the server until the load runs its second 5,000-row upsert statement: 5,000 rows
    have been written by then (in the open transaction — or, were the load split into
    transactions, committed)."""
    upsert = fresh_cypher("equipment").strip()[:80]  # new rows
    seen: set[tuple[str, str]] = set()  # (transaction id, query id) of upsert statements
    deadline = time.monotonic() + timeout
    with sync_driver(own) as monitor:
        while time.monotonic() < deadline:
            assert proc.poll() is None, ("the load ended before it was caught writing",
                                         proc.communicate())
            records, _, _ = monitor.execute_query(
                "SHOW TRANSACTIONS YIELD transactionId AS tx, currentQueryId AS q, "
                "currentQuery AS text RETURN tx, q, text", database_=own.neo4j_database)
            seen.update((r["tx"], r["q"]) for r in records
                        if (r["text"] or "").strip().startswith(upsert))
            if len(seen) >= 2:
                return
            time.sleep(0.03)
    raise AssertionError("the load was not seen writing")


def test_neo4j_killed_mid_load_writes_nothing_and_says_so(own, tmp_path):
    with sync_driver(own) as driver:
        wipe(driver, own.neo4j_database)
        seed_region(driver)
    path = _equipment(tmp_path / "equipment.jsonl", ROWS)
    proc = subprocess.Popen([HUB, "load", "equipment", str(path)], env=_env(own),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_second_upsert(own, proc)
        pid = rt.status(own).pid
        os.kill(pid, signal.SIGKILL)  # a crash with ≥ 5,000 rows in the open transaction
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == ExitCode.NEO4J_UNAVAILABLE == 4, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert f"Neo4j недоступен по адресу bolt://127.0.0.1:{own.neo4j_port}" in lines[0]
    assert "hub neo4j start" in lines[0] and "не записана" in lines[0]

    rt.stop(own)  # reap the killed process, drop its pid file
    rt.start(own, quiet=True)
    with sync_driver(own) as driver:
        assert _count(driver, "Organization") == 3  # the committed seed survived the crash
        assert _count(driver, "Equipment") == 0  # nothing of the file
        records, _, _ = driver.execute_query(
            "MATCH (c:ChangeSet {label: 'Equipment'}) RETURN count(c) AS c")
        assert records[0]["c"] == 0
        records, _, _ = driver.execute_query("MATCH ()-[s:STOCKS]->() RETURN count(s) AS c")
        assert records[0]["c"] == 0

    again = subprocess.run([HUB, "load", "equipment", str(path), "--json"], check=False,
                           env=_env(own),
                           capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert (report["created"], report["transactions"], report["atomic"]) == (ROWS, 1, True)
    with sync_driver(own) as driver:
        assert _count(driver, "Equipment") == ROWS


# --- the size limit, on the shared test server ---------------------------------------------

@pytest.fixture
def max_rows(monkeypatch):
    monkeypatch.setenv("HUB_LOAD_MAX_ROWS", "10")
    get_settings.cache_clear()
    yield 10
    get_settings.cache_clear()


def _change_sets(driver) -> int:
    records, _, _ = driver.execute_query(
        "MATCH (c:ChangeSet {label: 'Equipment'}) RETURN count(c) AS c")
    return records[0]["c"]


def test_default_load_is_one_transaction(db, tmp_path, capsys):
    seed_region(db)
    path = _equipment(tmp_path / "equipment.jsonl", 12)
    assert hub(["load", "equipment", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["created"], report["transactions"], report["atomic"]) == (12, 1, True)
    assert _change_sets(db) == 1  # one transaction, one audit ChangeSet
    assert hub(["load", "equipment", str(path)]) == 0
    out = capsys.readouterr().out
    assert "без изменений 12" in out and "не атомарна" not in out


def test_file_over_the_limit_is_refused_unless_batch_rows(db, tmp_path, capsys, max_rows):
    seed_region(db)
    path = _equipment(tmp_path / "equipment.jsonl", 25)
    for extra in ([], ["--dry-run"], ["--partial"]):
        assert hub(["load", "equipment", str(path), *extra]) == ExitCode.USAGE
        err = capsys.readouterr().err
        assert "записей больше предела одной транзакции (10, HUB_LOAD_MAX_ROWS)" in err
        assert "--batch-rows" in err and "ничего не записано" in err
    directory = tmp_path / "dir"
    directory.mkdir()
    (directory / "equipment.jsonl").write_bytes(path.read_bytes())
    assert hub(["load", "all", str(directory)]) == ExitCode.USAGE
    assert "больше предела" in capsys.readouterr().err
    assert _count(db, "Equipment") == 0

    assert hub(["load", "equipment", str(path), "--batch-rows", "10", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["created"], report["transactions"], report["atomic"],
            report["batch_rows"]) == (25, 3, False, 10)
    assert _count(db, "Equipment") == 25 and _change_sets(db) == 3

    assert hub(["load", "equipment", str(path), "--batch-rows", "10"]) == 0  # a rerun converges
    out = capsys.readouterr().out
    assert "без изменений 25" in out
    assert "записано частями: 3 транзакций по ≤ 10 записей (--batch-rows)" in out
    assert "не атомарна" in out and "MERGE" in out
    assert hub(["load", "equipment", str(path), "--batch-rows", "0"]) == ExitCode.USAGE

    small = _equipment(tmp_path / "small.jsonl", 10)  # at the limit: one transaction
    assert hub(["load", "equipment", str(small), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["transactions"] == 1


def test_limit_in_the_library(db, tmp_path):
    seed_region(db)
    path = _equipment(tmp_path / "equipment.jsonl", 25)
    with pytest.raises(TooLargeError, match="больше предела"):
        load_source(db, "equipment", str(path), max_rows=24)
    assert _count(db, "Equipment") == 0
    report = load_source(db, "equipment", str(path), max_rows=25)
    assert report.ok and report.transactions == 1 and report.created == 25
    assert load_source(db, "equipment", str(path), max_rows=None).unchanged == 25
