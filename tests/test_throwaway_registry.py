"""A registry added by one declaration (tests/throwaway_registry.py) and no other file: the hub
composed with it (`HUB_REGISTRY_MODULES`) migrates its indexes, loads it from a clerk's file
with Russian headers, serves its list with filters and sorts, writes it through the generic
mutations with the owner's rights and the audit, and exports it."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.factories import inn, seed_region
from tests.graphql_client import admin_token, free_port, token_for

ROOT = Path(__file__).resolve().parent.parent
EMPLOYER, COLLEGE = inn(3), inn(2)


def _env() -> dict[str, str]:
    env = {**os.environ, "HUB_REGISTRY_MODULES": "tests.throwaway_registry",
           "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


def hub(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hub.cli", *args], env=_env(), cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture
def served(db) -> Iterator[str]:
    seed_region(db)
    assert hub("migrate").returncode == 0
    port = free_port()
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - the server writes to it
    server = subprocess.Popen([sys.executable, "-m", "hub.cli", "serve", "--port", str(port)],
                              env=_env(), cwd=ROOT, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                log.seek(0)
                raise AssertionError(f"no server: {log.read()[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(30)


def gql(url: str, query: str, token: str | None = None) -> dict:
    r = httpx.post(f"{url}/graphql", json={"query": query}, timeout=30,
                   headers={"Authorization": f"Bearer {token or admin_token()}"})
    body = r.json()
    assert not body.get("errors"), body["errors"]
    return body["data"]


def test_indexes_come_from_the_declaration(served, db, settings):
    names = {r["name"] for r in db.execute_query(
        "SHOW INDEXES YIELD name RETURN name", database_=settings.neo4j_database).records}
    assert {"internship_uid", "internship_organization", "internship_competency",
            "internship_name", "internship_retired"} <= names


def test_loaded_from_a_clerks_file_and_served(served, tmp_path):
    path = tmp_path / "стажировки.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(["ИНН работодателя", "Код", "Наименование", "Вид стажировки", "Компетенция",
                    "Число мест"])
        w.writerow([EMPLOYER, "S1", "Токарь на заводе", "Летняя", "MF-01", "5"])
        w.writerow([EMPLOYER, "S2", "Сварщик", "Круглогодичная", "MF-02", "12"])
        w.writerow([COLLEGE, "S3", "Лаборант", "летняя", "", "2"])
    done = hub("load", "internships", str(path))
    assert done.returncode == 0, done.stdout + done.stderr

    bad = tmp_path / "плохо.csv"
    bad.write_text(f"ИНН работодателя;Код;Наименование;Число мест\n{EMPLOYER};S9;X;0\n",
                   encoding="utf-8")
    refused = hub("load", "internships", str(bad))
    assert refused.returncode == 1
    assert "строка 2" in refused.stdout + refused.stderr
    assert "Число мест" in refused.stdout + refused.stderr

    data = gql(served, f"""{{ internships(filter: {{organization: ["{EMPLOYER}"]}},
        sort: {{field: PLACES, direction: DESC}}) {{ totalCount edges {{ node {{
        uid name places kind kindLabel organization {{ name }} competency {{ code }} }} }} }} }}""")
    page = data["internships"]
    assert page["totalCount"] == 2
    nodes = [e["node"] for e in page["edges"]]
    assert [n["uid"] for n in nodes] == [f"{EMPLOYER}:S2", f"{EMPLOYER}:S1"]
    assert nodes[0]["kind"] == "YEAR_ROUND" and nodes[0]["kindLabel"] == "Круглогодичная"
    assert nodes[0]["organization"]["name"] == "АО «Завод»"
    assert nodes[0]["competency"]["code"] == "MF-02"
    by_kind = gql(served, "{ internships(filter: {kind: [SUMMER]}) { totalCount } }")
    assert by_kind["internships"]["totalCount"] == 2
    found = gql(served, "{ internships(filter: {competency: [\"MF-01\"]}) { edges { node { uid } } } }")
    assert [e["node"]["uid"] for e in found["internships"]["edges"]] == [f"{EMPLOYER}:S1"]

    out = tmp_path / "export"
    exported = hub("export", "--out", str(out), "--format", "jsonl")
    assert exported.returncode == 0, exported.stderr
    rows = [json.loads(line) for line in
            (out / "internships.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {r["code"] for r in rows} == {"S1", "S2", "S3"}


def test_written_with_the_owners_rights_and_audited(served):
    registrar = token_for("registrar", organizations=[COLLEGE])
    created = gql(served, f"""mutation {{ createInternship(input: {{organization: "{COLLEGE}",
        code: "K1", name: "Практика в колледже", places: 3}}) {{ status errors {{ message }}
        node {{ id version }} }} }}""", registrar)["createInternship"]
    assert created["status"] == "CREATED", created
    gid = created["node"]["id"]

    foreign = gql(served, f"""mutation {{ createInternship(input: {{organization: "{EMPLOYER}",
        code: "K2", name: "Чужая", places: 3}}) {{ status errors {{ field message }} }} }}""",
        registrar)["createInternship"]
    assert foreign["status"] is None and foreign["errors"]
    moved = gql(served, f"""mutation {{ updateInternship(id: "{gid}",
        patch: {{places: 4, name: "Переименована"}}) {{ status changedFields }} }}""",
        registrar)["updateInternship"]
    assert moved == {"status": "UPDATED", "changedFields": ["name", "places"]}
    retired = gql(served, f'mutation {{ retireInternship(id: "{gid}") {{ status }} }}', registrar)
    assert retired["retireInternship"]["status"] == "RETIRED"
    restored = gql(served, f'mutation {{ restoreInternship(id: "{gid}") {{ status node {{ places }} }} }}',
                   registrar)["restoreInternship"]
    assert restored == {"status": "RESTORED", "node": {"places": 4}}

    changes = gql(served, f"""{{ changes(filter: {{uid: "{COLLEGE}:K1"}}, first: 10) {{
        edges {{ node {{ op label version }} }} }} }}""")["changes"]["edges"]
    audited = sorted((c["node"]["version"], c["node"]["op"]) for c in changes)
    assert audited == [(1, "CREATE"), (2, "UPDATE"), (3, "RETIRE"), (4, "RESTORE")]
    assert {c["node"]["label"] for c in changes} == {"Internship"}
