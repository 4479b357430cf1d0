"""Authorization matrix through GraphQL (live server, real Neo4j): every role × every registry
mutation × own / other organization / other region, allowed or denied; a denied call leaves the
graph exactly as it was. Also `hub load --as ACCOUNT` under the same rules."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest

from graph.checksums import inn_with_checksum
from graph.roadmap import init_roadmap
from hub import ledger
from hub.cli import main
from hub.settings import get_settings
from schema.core.ids import encode_id
from tests.factories import audit_trail, inn, seed_region, write_all
from tests.graphql_client import ADMIN, GraphQLClient, live_server, token_for

A, B, C = inn(2), inn(1), inn_with_checksum("770000010")  # registrar's college, 52, region 77
TARGETS = {"A": A, "B": B, "C": C}
MUNICIPALITY = {A: "22721000", B: "22701000", C: "45000000"}
REGION = {A: "52", B: "52", C: "77"}

# Who may write to which target (row level); everyone else is refused.
ALLOWED = {
    "admin": {"A", "B", "C"},
    "operator52": {"A", "B"},
    "operator77": {"C"},
    "registrar": {"A"},
    "planner": set(),
    "viewer": set(),
    "anonymous": set(),
}
ACCESS_WORDS = ("не даёт права", "вне региона", "не закреплена", "только данные своих",
                "Требуется токен", "другой организации")

FINGERPRINT = """
MATCH (n) WHERE NOT n:ChangeSet AND NOT n:HubSchema
WITH n ORDER BY labels(n)[0], n.uid
WITH collect([labels(n), n.uid, toString(n.updatedAt), toString(n.retiredAt)]) AS nodes
CALL () { MATCH ()-[r]->() RETURN count(r) AS rels }
CALL () { MATCH (s:ChangeSet) RETURN sum(size(s.uids)) AS changes }
RETURN nodes, rels, changes
"""


def fingerprint(driver: Any) -> tuple:
    record = driver.execute_query(FINGERPRINT).records[0]
    nodes = tuple((tuple(labels), uid, updated, retired)
                  for labels, uid, updated, retired in record["nodes"])
    return nodes, record["rels"], record["changes"]


def _k(org: str) -> str:
    return next(k for k, v in TARGETS.items() if v == org)


def seed(driver: Any) -> None:
    seed_region(driver)
    k = {org: _k(org) for org in TARGETS.values()}
    rows: dict[str, list[dict[str, Any]]] = {
        "regions": [{"code": "77", "name": "Москва"}],
        "municipalities": [{"oktmo": "45000000", "name": "г. Москва", "region": "77"}],
        "organizations": [{"inn": C, "name": "Московский колледж", "kind": "ПОО",
                           "region": "77", "municipality": "45000000"}],
        "sites": [], "equipment": [], "staff": [], "programs": [], "modules": [],
    }
    for org in TARGETS.values():
        for tag in ("UPD", "RET"):
            rows["sites"].append({"organization": org, "code": tag, "name": f"Площадка {tag}",
                                  "municipality": MUNICIPALITY[org], "workplaces": 5})
            rows["equipment"].append({"organization": org, "inventory_number": f"W-{tag}",
                                      "type": "WELD-INV", "site": "UPD", "quantity": 2})
            rows["staff"].append({"organization": org, "personnel_number": tag,
                                  "full_name": "Иванов И. И.", "role": "TEACHER"})
            rows["programs"].append({"code": f"P{k[org]}-{tag}", "name": "Программа",
                                     "type": "EMPLOYER_ORDERED", "hours": 72,
                                     "organization": org})
        for number in (1, 2):
            rows["modules"].append({"program": f"P{k[org]}-UPD", "number": number,
                                    "name": f"Модуль {number}", "hours": 36})
    write_all(driver, rows)


_counter = itertools.count(1)


def new_row(registry: str, org: str) -> dict[str, Any]:
    n = next(_counter)
    match registry:
        case "sites":
            return {"organization": org, "code": f"N{n}", "name": "Новая площадка",
                    "municipality": MUNICIPALITY[org], "workplaces": 3}
        case "equipment":
            return {"organization": org, "inventoryNumber": f"N{n}", "type": "WELD-INV",
                    "site": "UPD", "quantity": 1}
        case "staff":
            return {"organization": org, "personnelNumber": f"N{n}", "fullName": "Петров П. П.",
                    "role": "MASTER"}
        case "programs":
            return {"code": f"P{_k(org)}-N{n}", "name": "Новая программа",
                    "type": "EMPLOYER_ORDERED", "hours": 16, "organization": org}
        case "modules":
            return {"program": f"P{_k(org)}-UPD", "number": 10 + n, "name": "Модуль",
                    "hours": 8}
        case "organizations":
            kind = "COLLEGE" if org != B else "COPP"
            return {"inn": org, "name": "Организация", "kind": kind, "region": REGION[org],
                    "shortName": f"v{n}"}
    raise AssertionError(registry)


# registry → (GraphQL type name, uid of the item to update, to retire, a patch)
REGISTRY = {
    "sites": ("Site", lambda o: f"{o}:UPD", lambda o: f"{o}:RET", {"name": "Переименована"}),
    "equipment": ("Equipment", lambda o: f"{o}:W-UPD", lambda o: f"{o}:W-RET",
                  {"quantity": 7}),
    "staff": ("Staff", lambda o: f"{o}:UPD", lambda o: f"{o}:RET", {"fullName": "Сидоров С. С."}),
    "programs": ("Program", lambda o: f"P{_k(o)}-UPD", lambda o: f"P{_k(o)}-RET",
                 {"name": "Другое название"}),
    "modules": ("Module", lambda o: f"P{_k(o)}-UPD:1", lambda o: f"P{_k(o)}-UPD:2",
                {"name": "Другой модуль"}),
    "organizations": ("Organization", lambda o: o, lambda o: o, {"shortName": "Новое имя"}),
}


def calls(registry: str, org: str) -> list[tuple[str, str, dict[str, Any]]]:
    t, upd, ret, patch = REGISTRY[registry]
    out = " status errors { field message } "
    return [
        ("create", f"mutation($input: {t}Input!) {{ create{t}(input: $input) {{{out}}} }}",
         {"input": new_row(registry, org)}),
        ("bulkCreate", (f"mutation($input: [{t}Input!]!) {{ bulkCreate{t}(input: $input) "
                        "{ written errors { field message } } }"),
         {"input": [new_row(registry, org)] if registry == "organizations"
          else [new_row(registry, org), new_row(registry, org)]}),
        ("update", (f"mutation($id: ID!, $patch: {t}Patch!) {{ update{t}(id: $id, "
                    f"patch: $patch) {{{out}}} }}"), {"id": encode_id(t, upd(org)), "patch": patch}),
        ("retire", f"mutation($id: ID!) {{ retire{t}(id: $id) {{{out}}} }}",
         {"id": encode_id(t, ret(org))}),
    ]


def outcome(body: dict[str, Any]) -> tuple[str, str]:
    """("allowed" | "denied" | "failed", detail)."""
    if body.get("errors"):
        codes = {e.get("extensions", {}).get("code") for e in body["errors"]}
        if codes <= {"FORBIDDEN", "UNAUTHENTICATED"}:
            return "denied", str(codes)
        return "failed", str(body["errors"])
    payload = next(iter(body["data"].values()))
    errors = payload.get("errors") or []
    if not errors:
        return "allowed", ""
    messages = " | ".join(e["message"] for e in errors)
    if all(any(w in e["message"] for w in ACCESS_WORDS) for e in errors):
        return "denied", messages
    return "failed", messages


@pytest.fixture
def world(db, settings):
    seed(db)
    init_roadmap(db, "52", horizon=dt.date(2021, 12, 31))
    tokens = {
        "admin": ADMIN,
        "operator52": token_for("operator", region="52"),
        "operator77": token_for("operator", region="77"),
        "registrar": token_for("registrar", organizations=[A]),
        "planner": token_for("planner"),
        "viewer": token_for("viewer"),
        "anonymous": None,
    }
    with live_server(settings) as url:
        yield db, {role: GraphQLClient(url, token=t) for role, t in tokens.items()}


@pytest.mark.parametrize("role", list(ALLOWED))
def test_registry_mutation_matrix(world, role):
    driver, clients = world
    client = clients[role]
    wrong: list[str] = []
    denied = allowed = 0
    for registry in REGISTRY:  # organizations last: retiring one must not hide the others
        for key, org in TARGETS.items():
            for op, query, variables in calls(registry, org):
                before = fingerprint(driver)
                got, detail = outcome(client.execute(query, variables))
                expected = "allowed" if key in ALLOWED[role] else "denied"
                cell = f"{role} {op} {registry} of {key}"
                if got != expected:
                    wrong.append(f"{cell}: expected {expected}, got {got} ({detail})")
                elif got == "denied":
                    denied += 1
                    if fingerprint(driver) != before:
                        wrong.append(f"{cell}: denied but the graph changed")
                else:
                    allowed += 1
                    if fingerprint(driver) == before:
                        wrong.append(f"{cell}: allowed but nothing was written")
    assert not wrong, "\n".join(wrong)
    assert allowed + denied == len(REGISTRY) * len(TARGETS) * 4
    assert allowed == 24 * len(ALLOWED[role])


PLAN = ('mutation { saveNetworkPlan(program: "PA-UPD", cohortSize: 5, homeOrganization: "'
        + A + '") { plan { uid } errors { field message } } }')
ROADMAP = ('mutation { setControlPoint(region: "52", activity: 6, dueOn: "2020-03-31", '
           'doneOn: "2020-03-01") { controlPoint { doneOn } errors { field message } } }')


@pytest.mark.parametrize("role,plan,roadmap", [
    ("admin", True, True), ("operator52", True, True), ("operator77", False, False),
    ("registrar", True, False), ("planner", True, False), ("viewer", False, False),
    ("anonymous", False, False),
])
def test_plan_and_roadmap_rights(world, role, plan, roadmap):
    driver, clients = world
    client = clients[role]
    for query, expected in ((PLAN, plan), (ROADMAP, roadmap)):
        before = fingerprint(driver)
        body = client.execute(query, {})
        got, detail = outcome(body)
        if expected:
            # the rights check passed: whatever the planner says, it is not an access error
            assert got != "denied", (role, query, detail)
        else:
            assert got == "denied", (role, query, body)
            assert fingerprint(driver) == before, (role, query)
    if roadmap:
        changes = audit_trail(driver, label="ControlPoint", source="graphql")
        assert changes and all(c["actor"].startswith("test-") for c in changes)


def test_hub_load_as_account_follows_the_same_rules(db, tmp_path, capsys):
    seed(db)
    url = get_settings().ledger_url
    name = f"loader-registrar-{next(_counter)}"
    ledger.create_account(url, name, "registrar", organizations=[A])
    own, other = tmp_path / "own.csv", tmp_path / "other.csv"
    header = "organization,code,name,municipality,workplaces\n"
    own.write_text(header + f"{A},L1,Площадка из файла,22721000,4\n", encoding="utf-8")
    other.write_text(header + f"{A},L2,Своя,22721000,4\n{B},L3,Чужая,22701000,4\n",
                     encoding="utf-8")

    before = fingerprint(db)
    assert main(["load", "sites", str(other), "--as", name]) == 1
    assert "не закреплена" in capsys.readouterr().out
    assert fingerprint(db) == before  # all or nothing: the own row is not written either

    assert main(["load", "sites", str(own), "--as", name]) == 0
    change = audit_trail(db, uid=f"{A}:L1")
    assert [(c["actor"], c["source"], c["op"]) for c in change] == [
        (name, "load:own.csv", "create")]
    assert main(["load", "sites", str(other), "--as", "no-such-account"]) == 2


def test_anonymous_reads_only_the_public_catalogue(db, settings):
    seed_region(db)
    catalog = "{ catalog { nodes { code } } }"
    with live_server(settings) as url:
        anonymous = GraphQLClient(url, token=None)
        assert anonymous.data(catalog) == {"catalog": {"nodes": []}}
        for query in ("{ organizations { totalCount } }",
                      '{ node(id: "T3JnYW5pemF0aW9uOjE=") { id } }',
                      "{ ...F } fragment F on Query { sites { totalCount } }",
                      "{ catalog { nodes { code } } organizations { totalCount } }"):
            body = anonymous.execute(query)
            assert body["data"] is None, query
            assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", query
        bad = GraphQLClient(url, token="not-a-token").execute(catalog)
        assert bad["data"] is None and "Токен недействителен" in bad["errors"][0]["message"]
    with live_server(settings.model_copy(update={"anonymous_catalog": False})) as url:
        body = GraphQLClient(url, token=None).execute(catalog)
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert GraphQLClient(url, token=token_for("viewer")).data(catalog)
