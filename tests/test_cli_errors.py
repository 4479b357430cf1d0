"""Neo4j not running: every `hub` command that needs the graph says so in one Russian line on
stderr (what failed, the Bolt address, what to do) with exit code 4 — no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hub.cli import ExitCode
from tests.factories import inn
from tests.graphql_client import free_port

HUB = str(Path(sys.executable).with_name("hub"))


@pytest.fixture
def closed(tmp_path) -> tuple[dict[str, str], int]:
    """The environment of a hub whose local Neo4j is not running (nothing on its port)."""
    port = free_port()
    env = os.environ.copy()
    env.update({"HUB_NEO4J_URI": "", "HUB_NEO4J_PORT": str(port),
                "HUB_NEO4J_HOME": str(tmp_path / "neo4j"), "HUB_NEO4J_RETRY_TIME": "0.5"})
    return env, port


def _run(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HUB, *argv], check=False, env=env, capture_output=True, text=True,
                          timeout=120)


def _equipment(path: Path) -> Path:
    path.write_text(json.dumps({"organization": inn(1), "inventory_number": "1",
                                "type": "WELD-INV", "site": "M1", "quantity": 1}) + "\n",
                    encoding="utf-8")
    return path


@pytest.mark.parametrize("argv", [
    ("load", "equipment", "{file}"),
    ("load", "equipment", "{file}", "--dry-run", "--json"),
    ("migrate",),
    ("export", "--out", "{dir}"),
    ("roadmap", "overdue", "--region", "52"),
])
def test_neo4j_down_is_one_russian_line_and_exit_code_4(closed, tmp_path, argv):
    env, port = closed
    file = _equipment(tmp_path / "equipment.jsonl")
    args = [a.format(file=file, dir=tmp_path / "out") for a in argv]
    done = _run(env, *args)
    assert done.returncode == ExitCode.NEO4J_UNAVAILABLE == 4, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    command = " ".join(argv[:2]) if argv[0] == "roadmap" else argv[0]
    assert line.startswith(f"hub {command}: Neo4j недоступен по адресу bolt://127.0.0.1:{port}")
    assert "запустите `hub neo4j start`" in line and "повторите команду" in line


def test_external_server_down_names_its_uri(tmp_path):
    env = os.environ.copy()
    uri = f"bolt://127.0.0.1:{free_port()}"
    env.update({"HUB_NEO4J_URI": uri, "HUB_NEO4J_PASSWORD": "x", "HUB_NEO4J_RETRY_TIME": "0.5"})
    done = _run(env, "migrate")
    assert done.returncode == 4 and "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert f"Neo4j недоступен по адресу {uri}" in line and "HUB_NEO4J_URI" in line
    assert "hub neo4j start" not in line  # not the local runtime: nothing to start here


def test_status_of_a_stopped_local_neo4j_is_exit_code_3(closed):
    env, _ = closed
    done = _run(env, "neo4j", "status")
    assert done.returncode == ExitCode.NOT_RUNNING == 3 and "not running" in done.stdout


def test_usage_errors_are_exit_code_2_before_any_connection(closed, tmp_path):
    env, _ = closed
    done = _run(env, "load", "equipment")
    assert done.returncode == ExitCode.USAGE and "укажите источник" in done.stderr
    done = _run(env, "load", "equipment", str(_equipment(tmp_path / "e.jsonl")),
                "--batch-rows", "0")
    assert done.returncode == ExitCode.USAGE and "--batch-rows" in done.stderr


def test_auth_and_memory_failures_have_their_own_codes(closed, monkeypatch):
    """The local runtime runs without auth and with a transaction pool no test can fill
    cheaply, so these two server errors are built as the driver builds them from the wire."""
    from neo4j.exceptions import Neo4jError

    from hub.cli import neo4j_failure
    from hub.settings import get_settings

    env, port = closed
    monkeypatch.setenv("HUB_NEO4J_PORT", env["HUB_NEO4J_PORT"])
    monkeypatch.setenv("HUB_NEO4J_URI", "")
    get_settings.cache_clear()
    try:
        auth = Neo4jError._hydrate_neo4j(code="Neo.ClientError.Security.Unauthorized",
                                         message="The client is unauthorized")
        code, line = neo4j_failure(auth, "load")
        assert code == ExitCode.NEO4J_AUTH == 5
        assert f"bolt://127.0.0.1:{port}" in line and "HUB_NEO4J_PASSWORD" in line
        memory = Neo4jError._hydrate_neo4j(
            code="Neo.TransientError.General.MemoryPoolOutOfMemoryError", message="limit")
        code, line = neo4j_failure(memory, "load")
        assert code == ExitCode.NEO4J_FAILED == 6 and "--batch-rows" in line
        syntax = Neo4jError._hydrate_neo4j(code="Neo.ClientError.Statement.SyntaxError",
                                           message="bad")
        assert neo4j_failure(syntax, "load") is None  # a bug: the traceback is wanted
    finally:
        get_settings.cache_clear()
