"""The peer: a GraphQL server made with Neo4j's official library @neo4j/graphql over the same
graph (`bench/neo4j_graphql/`, from ../shared/peers/neo4j-graphql), a third target of W2.

Its sources live in the repository; its packages do not: they are installed with `npm ci` into
`var/peer-neo4j-graphql/` (machine-local, ignored by git like the Neo4j homes and ledgers),
where the sources are copied too — Node resolves packages from the script's own folder, so the
repository tree stays free of node_modules and works from a read-only checkout. Installed
again only when package-lock.json changes; a lock file keeps two runs from installing at once.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

SOURCE = Path(__file__).resolve().parent / "neo4j_graphql"
TARGET = Path(__file__).resolve().parent.parent / "var" / "peer-neo4j-graphql"
FILES = ("package.json", "package-lock.json", "server.mjs", "typeDefs.graphql",
         "capture-cypher.mjs")
MIN_NODE = 20  # @neo4j/graphql 7 and Apollo Server 5

PAGE = (SOURCE / "equipment_page.graphql").read_text(encoding="utf-8")
TREE = (SOURCE / "organization_tree.graphql").read_text(encoding="utf-8")


def why_not() -> str | None:
    """Why the peer cannot run here, or None."""
    node = shutil.which("node")
    if node is None:
        return "node is not on PATH"
    try:
        version = subprocess.run([node, "--version"], capture_output=True, text=True,
                                 timeout=20, check=False).stdout.strip()
        major = int(version.lstrip("v").split(".")[0])
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return "node --version failed"
    if major < MIN_NODE:
        return f"node {version} is older than {MIN_NODE}"
    if not (TARGET / "node_modules" / ".package-lock.json").exists() and not shutil.which("npm"):
        return "npm (for npm ci) is not on PATH"
    return None


def install(log=print) -> Path:
    """The peer's sources copied into TARGET and its packages installed (`npm ci`) when the
    lock changed since the last install."""
    TARGET.mkdir(parents=True, exist_ok=True)
    with open(TARGET.parent / "peer-neo4j-graphql.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for name in FILES:
            data = (SOURCE / name).read_bytes()
            dest = TARGET / name
            if not dest.exists() or dest.read_bytes() != data:
                dest.write_bytes(data)
        stamp = TARGET / "node_modules" / ".installed-lock-sha256"
        want = hashlib.sha256((SOURCE / "package-lock.json").read_bytes()).hexdigest()
        if not stamp.exists() or stamp.read_text() != want:
            log(f"peer: npm ci in {TARGET}…")
            t = time.perf_counter()
            done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=TARGET,
                                  capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"npm ci: {(done.stderr or done.stdout)[-500:]}")
            stamp.write_text(want)
            log(f"peer: installed in {time.perf_counter() - t:.0f} s")
    return TARGET


def environment(settings: Any, port: int | None = None) -> dict[str, str]:
    env = {**os.environ, "NEO4J_URI": settings.bolt_uri,
           "NEO4J_DATABASE": settings.neo4j_database}
    env.pop("NEO4J_USER", None)
    if settings.neo4j_auth_tuple:
        env["NEO4J_USER"], env["NEO4J_PASSWORD"] = settings.neo4j_auth_tuple
    if port is not None:
        env["PEER_PORT"] = str(port)
    return env


def start(settings: Any, port: int) -> subprocess.Popen:
    """`node server.mjs` on `port`, once its /healthz (a `RETURN 1` on Neo4j) answers 200."""
    import httpx

    proc = subprocess.Popen(["node", str(TARGET / "server.mjs")], cwd=TARGET,
                            env=environment(settings, port), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"peer server exited with status {proc.returncode}")
        time.sleep(0.3)
    proc.terminate()
    raise RuntimeError("peer server did not become ready")


def request(kind: str, variables: dict[str, Any], page1_cursor: str | None
            ) -> tuple[str, dict[str, Any]]:
    """The peer's form of a W2 request (its README maps them). Page 2 goes on from the
    peer's own cursor of page 1 (an offset cursor, not the hub's keyset cursor)."""
    m = variables["m"]
    if kind == "organization_tree":
        return TREE, {"m": m}
    return PAGE, {"m": m, "after": page1_cursor if kind == "equipment_page2" else None}


def normalised(kind: str, data: dict[str, Any], peer: bool) -> dict[str, Any]:
    if kind.startswith("equipment_page"):
        e = data["equipmentConnection" if peer else "equipment"]
        items = [x["node"] for x in e["edges"]] if peer else e["nodes"]
        return {"totalCount": e["totalCount"], "hasNextPage": e["pageInfo"]["hasNextPage"],
                "items": items}
    o = data["organizationsConnection" if peer else "organizations"]
    return {"totalCount": o["totalCount"],
            "items": [x["node"] for x in o["edges"]] if peer else o["nodes"]}


def difference(a: Any, b: Any, path: str = "") -> str | None:
    """Where hub answer `a` and peer answer `b` first differ, or None."""
    if type(a) is not type(b):
        return f"{path}: {a!r:.80} / {b!r:.80}"
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{path}.{k}: missing on the {'hub' if k not in a else 'peer'}"
            d = difference(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} / {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b)):
            d = difference(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    return None if a == b else f"{path}: {a!r:.80} / {b!r:.80}"


def capture(settings: Any, requests: list[tuple[str, dict[str, Any]]]
            ) -> list[list[tuple[str, dict[str, Any]]]]:
    """The Cypher @neo4j/graphql runs for each request (capture-cypher.mjs), without its
    one-time version check."""
    done = subprocess.run(["node", str(TARGET / "capture-cypher.mjs")], cwd=TARGET,
                          env=environment(settings), capture_output=True, text=True,
                          check=False, input=json.dumps([{"query": q, "variables": v}
                                                         for q, v in requests]))
    if done.returncode != 0:
        raise RuntimeError(f"capture-cypher: {done.stderr[-500:]}")
    out = []
    for r in json.loads(done.stdout):
        if r["errors"]:
            raise RuntimeError(f"peer: {r['errors'][:2]}")
        # "CYPHER 5" is the server's default language; without it PROFILE can be prepended
        out.append([(q.removeprefix("CYPHER 5\n"), p) for q, p in r["statements"]
                    if "dbms.components()" not in q])
    return out
