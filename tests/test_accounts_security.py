"""Accounts and secrets: revocation takes effect on the next request in every worker
process, `hub tokens list` with last use, accounts bound to nothing are refused, the ledger
and the local Neo4j home are private."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
import time
import uuid

import httpx
import pytest
from sqlalchemy import create_engine, text

from hub import auth, ledger
from hub.accounts_cmd import ScopeError, check_scope_in_graph
from hub.cli import main as hub_main
from hub.neo4j_runtime import write_config
from hub.settings import PROJECT_ROOT
from tests.factories import inn, seed_region
from tests.graphql_client import free_port
from tests.test_overload import hub_process

QUERY = {"query": "{ organizations(first: 1) { totalCount } }"}


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _ask(url: str, secret: str) -> str:
    """'ok', or the error code of the answer."""
    body = httpx.post(f"{url}/graphql", json=QUERY, timeout=30,
                      headers={"Authorization": f"Bearer {secret}"}).json()
    return body["errors"][0]["extensions"]["code"] if body.get("errors") else "ok"


def test_revocation_is_seen_by_the_next_request_of_every_worker(db, tmp_path):
    seed_region(db)
    url = f"sqlite:///{tmp_path / 'shared-ledger.sqlite'}"
    ledger.create_account(url, "screen", "viewer")
    ledger.create_account(url, "college", "viewer")
    revoked = ledger.issue_token(url, "screen")
    kept = ledger.issue_token(url, "screen")
    disabled = ledger.issue_token(url, "college")
    env = {"database_url": url}
    with hub_process(tmp_path / "a.log", **env) as a, hub_process(tmp_path / "b.log", **env) as b:
        for server in (a, b):
            for secret in (revoked.secret, kept.secret, disabled.secret):
                assert _ask(server, secret) == "ok"
        started = time.monotonic()
        ledger.revoke_token(url, revoked.id)
        revoked_at = time.monotonic()
        answers = [_ask(a, revoked.secret), _ask(b, revoked.secret)]
        refused_at = time.monotonic()
        assert answers == ["UNAUTHENTICATED", "UNAUTHENTICATED"]
        assert _ask(a, kept.secret) == _ask(b, kept.secret) == "ok"
        # the CLI, in its own process, disables an account: its tokens stop on both at once
        cli = subprocess.run(
            [sys.executable, "-m", "hub.cli", "accounts", "disable", "college"],
            cwd=PROJECT_ROOT, env={**os.environ, "HUB_DATABASE_URL": url},
            capture_output=True, text=True, check=True)
        assert "отключена" in cli.stdout
        assert _ask(a, disabled.secret) == _ask(b, disabled.secret) == "UNAUTHENTICATED"
    print(f"\nrevoke {1000 * (revoked_at - started):.1f} ms; revoke → refused on both "
          f"workers {1000 * (refused_at - started):.1f} ms (two requests)")


def test_per_request_auth_cost_is_small(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    ledger.create_account(url, "v", "viewer")
    secret = ledger.issue_token(url, "v").secret
    header = f"Bearer {secret}"
    ledger.authenticate(url, secret)  # warm: engine, first last-use write
    n = 500
    started = time.perf_counter()
    for _ in range(n):
        assert ledger.authenticate(url, secret) is not None
    direct = (time.perf_counter() - started) / n

    async def through_threadpool() -> float:
        t0 = time.perf_counter()
        for _ in range(n):
            assert await auth.principal_from_header(header, url) is not None
        return (time.perf_counter() - t0) / n

    per_request = asyncio.run(through_threadpool())
    print(f"\nauth per request: ledger query {1000 * direct:.3f} ms, "
          f"with the thread hop {1000 * per_request:.3f} ms")
    assert per_request < 0.005, per_request


def test_last_use_is_written_about_once_a_minute(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    ledger.create_account(url, "v", "viewer")
    token = ledger.issue_token(url, "v")
    assert ledger.list_tokens(url)[0].last_used_at is None
    writes = []
    real = ledger._note_use

    def counting(eng, token_id, last_used):
        before = ledger.list_tokens(url)[0].last_used_at
        real(eng, token_id, last_used)
        if ledger.list_tokens(url)[0].last_used_at != before:
            writes.append(token_id)

    monkeypatch.setattr(ledger, "_note_use", counting)
    for _ in range(20):
        ledger.authenticate(url, token.secret)
    assert writes == [token.id]
    first = ledger.list_tokens(url)[0].last_used_at
    assert first is not None and first.tzinfo is not None
    # two minutes later (another process may have written it meanwhile: same rule)
    with create_engine(url).begin() as conn:
        conn.execute(text("UPDATE tokens SET last_used_at = :t"),
                     {"t": (first.replace(tzinfo=None) - __import__("datetime").timedelta(
                         minutes=2)).isoformat(sep=" ")})
    ledger._touched.clear()
    ledger.authenticate(url, token.secret)
    assert writes == [token.id, token.id]
    assert ledger.list_tokens(url)[0].last_used_at >= first


def test_old_ledgers_get_the_last_use_column(tmp_path):
    path = tmp_path / "old.sqlite"
    url = f"sqlite:///{path}"
    with create_engine(url).begin() as conn:  # the ledger as the first release made it
        conn.execute(text(
            "CREATE TABLE accounts (id INTEGER PRIMARY KEY, name VARCHAR(200) UNIQUE, "
            "role VARCHAR(20), region VARCHAR(3), organizations JSON, disabled BOOLEAN, "
            "created_at DATETIME)"))
        conn.execute(text(
            "CREATE TABLE tokens (id INTEGER PRIMARY KEY, account_id INTEGER REFERENCES "
            "accounts(id), digest VARCHAR(64) UNIQUE, hint VARCHAR(16), label VARCHAR(200), "
            "created_at DATETIME, revoked_at DATETIME)"))
        conn.execute(text("INSERT INTO accounts VALUES (1, 'old', 'viewer', NULL, '[]', 0, "
                          "'2024-01-01 00:00:00')"))
        conn.execute(text("INSERT INTO tokens VALUES (1, 1, :d, 'rrh_abcdef', NULL, "
                          "'2024-01-01 00:00:00', NULL)"), {"d": ledger.digest("rrh_old")})
    path.chmod(0o644)
    assert ledger.authenticate(url, "rrh_old").name == "old"
    assert _mode(path) == 0o600
    (info,) = ledger.list_tokens(url)
    assert info.account == "old" and info.last_used_at is not None


def test_tokens_list_command(capsys):
    url = ledger.engine  # noqa: F841 - the session ledger (conftest) is what the CLI uses
    name = f"list-{uuid.uuid4().hex[:6]}"
    assert hub_main(["accounts", "create", name, "--role", "viewer"]) == 0
    assert hub_main(["tokens", "issue", name, "--label", "табло"]) == 0
    assert hub_main(["tokens", "issue", name]) == 0
    out = capsys.readouterr().out
    ids = [int(line.split()[1]) for line in out.splitlines() if line.startswith("Токен ")]
    assert hub_main(["tokens", "revoke", str(ids[1])]) == 0
    capsys.readouterr()
    assert hub_main(["tokens", "list", name]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split("\t") == ["id", "учётная запись", "метка", "начало", "создан",
                                    "использован", "отозван"]
    rows = [line.split("\t") for line in lines[1:]]
    assert [int(r[0]) for r in rows] == ids and {r[1] for r in rows} == {name}
    assert rows[0][2] == "табло" and rows[0][3].startswith("rrh_")
    assert rows[0][6] == "-" and rows[1][6] != "-"
    assert hub_main(["tokens", "list", "no-such-account"]) == 2
    assert "не найдена" in capsys.readouterr().err


def test_accounts_bound_to_missing_scope_are_refused(db, settings, capsys):
    seed_region(db)
    suffix = uuid.uuid4().hex[:6]
    assert hub_main(["accounts", "create", f"op-{suffix}", "--role", "operator",
                     "--region", "52"]) == 0
    assert hub_main(["accounts", "create", f"reg-{suffix}", "--role", "registrar",
                     "--org", inn(2)]) == 0
    capsys.readouterr()
    assert hub_main(["accounts", "create", f"op2-{suffix}", "--role", "operator",
                     "--region", "99"]) == 2
    assert "региона с кодом «99» нет в графе" in capsys.readouterr().err
    assert hub_main(["accounts", "create", f"reg2-{suffix}", "--role", "registrar",
                     "--org", inn(2), "--org", inn(7)]) == 2
    err = capsys.readouterr().err
    assert f"организаций с ИНН {inn(7)} нет в графе" in err and inn(2) not in err
    # a retired organization counts as missing
    db.execute_query("MATCH (o:Organization {uid: $inn}) SET o.retiredAt = datetime()",
                     inn=inn(3))
    assert hub_main(["accounts", "create", f"reg3-{suffix}", "--role", "registrar",
                     "--org", inn(3)]) == 2
    assert inn(3) in capsys.readouterr().err
    names = {p.name for p, _, _ in ledger.list_accounts(settings.ledger_url)}
    assert {f"op-{suffix}", f"reg-{suffix}"} <= names
    assert not {f"op2-{suffix}", f"reg2-{suffix}", f"reg3-{suffix}"} & names
    # no graph to check against: refused too, saying why
    closed = settings.model_copy(update={"neo4j_uri": f"bolt://127.0.0.1:{free_port()}"})
    with pytest.raises(ScopeError, match="Neo4j недоступна"):
        check_scope_in_graph(closed, "52", [])


def test_ledger_file_is_private(tmp_path):
    fresh = tmp_path / "new" / "ledger.sqlite"
    ledger.create_account(f"sqlite:///{fresh}", "a", "viewer")
    assert _mode(fresh) == 0o600
    existing = tmp_path / "existing.sqlite"
    existing.touch(mode=0o644)
    existing.chmod(0o644)
    ledger.engine(f"sqlite:///{existing}")
    assert _mode(existing) == 0o600


def test_local_neo4j_home_is_private(tmp_path, settings):
    fresh = tmp_path / "neo4j-new"
    write_config(settings.model_copy(update={"neo4j_home": fresh}))
    assert _mode(fresh) == 0o700
    existing = tmp_path / "neo4j-old"
    existing.mkdir(mode=0o755)
    existing.chmod(0o755)
    write_config(settings.model_copy(update={"neo4j_home": existing}))
    assert _mode(existing) == 0o700
    assert free_port()  # (keeps the import used when run alone)
