"""`hub serve --workers 2`: the shared dashboards stay correct across workers (the change
feed invalidates them whichever process wrote), /metrics sums the workers, access log lines
are JSON (HUB_LOG_FORMAT=json)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

import httpx

from tests.factories import seed_region
from tests.graphql_client import admin_token, free_port

BOARD = """query Board { situationalCentre(region: "77", period: "2025") { region } }"""
ADD_REGION = """mutation AddRegion { createRegion(input: {code: "77", name: "Москва"}) {
  status } }"""


def _post(url: str, query: str) -> dict:
    # a new connection each time: the kernel spreads them over the workers
    with httpx.Client(timeout=10) as client:
        r = client.post(f"{url}/graphql", json={"query": query},
                        headers={"Authorization": f"Bearer {admin_token()}"})
    return r.json()


def test_two_workers_share_nothing_stale(db):
    seed_region(db)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - the server writes to it
    env = {**os.environ, "HUB_LOG_FORMAT": "json", "HUB_DASHBOARD_TTL": "60"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = subprocess.Popen([sys.executable, "-m", "hub.cli", "serve", "--workers", "2",
                               "--port", str(port)], env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "no server"
            time.sleep(0.2)
        time.sleep(2)  # both workers up
        # region 77 does not exist yet: every worker computes and shares "not found" for 60 s
        for _ in range(20):
            assert _post(url, BOARD)["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        assert _post(url, ADD_REGION)["data"]["createRegion"]["status"] == "CREATED"
        written = time.monotonic()
        answers = []  # (seconds after the write, fresh?) for 3 s, spread over the workers
        while (after := time.monotonic() - written) < 3.0:
            body = _post(url, BOARD)
            answers.append((after, bool(body.get("data"))))
        stale = [t for t, fresh in answers if not fresh]
        assert not stale or max(stale) < 1.5, answers  # the poll: 0.5 s + a dashboard
        assert sum(1 for t, fresh in answers if t >= 1.5 and fresh) >= 5
        metrics = httpx.get(f"{url}/metrics").text
    finally:
        server.terminate()
        server.wait(30)
    log.seek(0)
    lines = [json.loads(line) for line in log if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "hub.access"
              and line.get("operation") == "Board"]
    assert len({line["pid"] for line in access}) == 2, "both workers served the dashboard"
    assert all(line["request_id"] and (line["account"] or "").startswith("test-admin")
               and line["role"] == "admin" and "duration_ms" in line
               and "statements" in line and line["outcome"] in ("ok", "NOT_FOUND")
               for line in access), [a for a in access if a["outcome"] not in ("ok", "NOT_FOUND")]
    total = sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                if line.startswith("hub_graphql_requests_total{")
                and 'operation="Board"' in line)
    assert total == len(access)  # /metrics of one worker counts both
