"""GraphQL reads over HTTP against the real app and Neo4j: keyset pagination, every filter,
Russian full-text search, global IDs, nested traversal with Cypher statement counts."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest

from graph.registry import LOAD_ORDER
from tests.conftest import wipe
from tests.factories import inn, region_rows, write
from tests.graphql_client import GraphQLClient, live_server

C1, C2, C3 = inn(1), inn(2), inn(3)
EXTRA_ORGS = 30  # names repeat in threes, so the uid tie-breaker matters


def dataset() -> dict[str, list[dict[str, Any]]]:
    rows = region_rows()
    rows["regions"].append({"code": "33", "name": "Владимирская область"})
    rows["municipalities"].append({"oktmo": "17701000", "name": "г. Владимир", "region": "33"})
    rows["organizations"] += [
        {"inn": inn(100 + i), "name": f"Колледж № {i // 3:02d}", "kind": "COLLEGE",
         "region": "33" if i % 2 else "52", "municipality": "17701000" if i % 2 else None}
        for i in range(EXTRA_ORGS)
    ]
    rows["organizations"][-1]["kind"] = "UNIVERSITY"
    rows["sites"].append({"organization": C3, "code": "P1", "name": "Производственный участок",
                          "kind": "PRODUCTION", "municipality": "22721000", "workplaces": 4})
    rows["equipment_types"].append({"code": "PC-01", "name": "Рабочая станция",
                                    "category": "ИТ"})
    rows["equipment_types"][0]["category"] = "Сварка"
    rows["equipment"] = [
        {"organization": C1, "inventory_number": "W-1", "type": "WELD-INV", "site": "M1",
         "quantity": 6},
        {"organization": C1, "inventory_number": "W-2", "type": "WELD-INV", "site": "M1",
         "quantity": 2, "status": "BROKEN"},
        {"organization": C2, "inventory_number": "L-1", "type": "LATHE-CNC", "site": "M1",
         "quantity": 4},
        {"organization": C2, "inventory_number": "W-3", "type": "WELD-INV", "site": "M1",
         "quantity": 1},
        {"organization": C3, "inventory_number": "PC-1", "type": "PC-01", "site": "P1",
         "quantity": 3},
    ]
    rows["competencies"].append({"code": "IT-01", "name": "Программные решения для бизнеса",
                                 "block_code": "IT", "block": "Информационные технологии",
                                 "standard": "PROFESSIONALITET", "is_future": True,
                                 "is_digital": True})
    rows["staff"] = [
        {"organization": C1, "personnel_number": "1", "full_name": "Иванов Иван",
         "role": "MASTER",
         "qualifications": [{"competency": "MF-01", "expert_status": "REGIONAL",
                             "valid_until": "2027-01-01"}]},
        {"organization": C2, "personnel_number": "7", "full_name": "Петрова Анна",
         "role": "TEACHER", "qualifications": [{"competency": "MF-02"}]},
        {"organization": C3, "personnel_number": "3", "full_name": "Сидоров Олег",
         "role": "EXPERT", "qualifications": [{"competency": "IT-01",
                                               "expert_status": "CERTIFIED"}]},
    ]
    rows["infrastructure_lists"] = [
        {"competency": "MF-01", "items": [{"equipment_type": "WELD-INV", "quantity": 1}]},
        {"competency": "MF-02", "items": [{"equipment_type": "LATHE-CNC", "quantity": 1},
                                          {"equipment_type": "WELD-INV", "quantity": 1,
                                           "scope": "PER_GROUP"}]},
        {"competency": "IT-01", "items": [{"equipment_type": "PC-01", "quantity": 1}]},
    ]
    rows["programs"] = [
        {"code": "P-WELD", "name": "Сварщик ручной дуговой сварки", "type": "SECTORAL",
         "status": "APPROVED", "hours": 144, "organization": C1, "competencies": ["MF-01"],
         "network": True},
        {"code": "P-CNC", "name": "Оператор станков с ЧПУ", "type": "EMPLOYER_ORDERED",
         "status": "RUNNING", "hours": 72, "organization": C2, "competencies": ["MF-02"]},
        {"code": "P-IT", "name": "Основы программирования", "type": "FUTURE_COMPETENCIES",
         "status": "DRAFT", "hours": 36, "organization": inn(101), "competencies": ["IT-01"]},
    ]
    rows["modules"] = [
        {"program": "P-WELD", "number": 1, "name": "Основы сварки", "hours": 72,
         "competency": "MF-01",
         "requirements": [{"equipment_type": "WELD-INV", "quantity": 1}]},
        {"program": "P-WELD", "number": 2, "name": "Практика сварки", "hours": 72,
         "competency": "MF-01",
         "requirements": [{"equipment_type": "WELD-INV", "quantity": 2}]},
        {"program": "P-CNC", "number": 1, "name": "Токарная обработка", "hours": 72,
         "competency": "MF-02",
         "requirements": [{"equipment_type": "LATHE-CNC", "quantity": 1}]},
    ]
    rows["agreements"] = [
        {"base_organization": C1, "number": "1-С", "kind": "NETWORK", "subject": "Сетевая форма",
         "signed_on": "2025-02-01", "valid_from": "2025-02-01", "program": "P-WELD",
         "learners": 20, "parties": [{"organization": C1, "role": "BASE"},
                                     {"organization": C2, "role": "PARTICIPANT"}]},
        {"base_organization": C2, "number": "7", "kind": "PRACTICE", "subject": "Практика",
         "signed_on": "2024-09-01", "valid_from": "2024-09-01",
         "parties": [{"organization": C2, "role": "BASE"},
                     {"organization": C3, "role": "PARTICIPANT"}]},
    ]
    return rows


@pytest.fixture(scope="module")
def data(driver, settings) -> dict[str, list[dict[str, Any]]]:
    wipe(driver, settings.neo4j_database)
    rows = dataset()
    for name in LOAD_ORDER:
        if rows.get(name):
            report = write(driver, name, rows[name])
            assert report.ok, (name, report.errors)
    return rows


@pytest.fixture(scope="module")
def api(driver, settings, data) -> Iterator[GraphQLClient]:
    with live_server(settings) as url:
        yield GraphQLClient(url)


def _walk(api: GraphQLClient, field: str, first: int, extra: str = "") -> tuple[list[str], int]:
    uids, after, total = [], None, None
    query = f"""query($first: Int!, $after: String) {{
      {field}(first: $first, after: $after{extra}) {{
        totalCount pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {{ uid }} }} }} }}"""
    for _ in range(100):
        page = api.data(query, {"first": first, "after": after})[field]
        total = page["totalCount"]
        uids += [e["node"]["uid"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    return uids, total


@pytest.mark.parametrize("sort,desc", [("NAME", False), ("NAME", True), ("UID", False),
                                       ("CREATED_AT", True), ("INN", False)])
def test_pagination_walks_every_item_once_in_sort_order(api, data, sort, desc):
    orgs = data["organizations"]
    key = {"NAME": "name", "UID": "inn", "INN": "inn", "CREATED_AT": "inn"}[sort]
    direction = "DESC" if desc else "ASC"
    uids, total = _walk(api, "organizations", 4,
                        f", sort: {{field: {sort}, direction: {direction}}}")
    assert total == len(orgs)
    assert len(uids) == len(set(uids)) == len(orgs)
    if sort != "CREATED_AT":  # one batch: equal createdAt, so the uid decides
        expected = sorted(orgs, key=lambda o: (o[key], o["inn"]), reverse=desc)
        assert uids == [o["inn"] for o in expected]
    else:
        assert uids == sorted(uids, reverse=True)


def test_page_size_has_a_hard_maximum_and_cursors_keep_their_sort(api):
    body = api.execute("{ organizations(first: 101) { totalCount } }")
    assert body["errors"][0]["extensions"]["code"] == "BAD_ARGUMENT"
    page = api.data("{ organizations(first: 2) { pageInfo { endCursor } } }")["organizations"]
    body = api.execute(
        'query($a: String) { organizations(first: 2, after: $a, sort: {field: UID}) '
        '{ edges { node { uid } } } }', {"a": page["pageInfo"]["endCursor"]})
    assert body["errors"][0]["extensions"]["code"] == "BAD_CURSOR"


def _uids(api: GraphQLClient, field: str, filter_: str) -> set[str]:
    data = api.data(f"{{ {field}(first: 100, filter: {filter_}) {{ totalCount nodes {{ uid }} }} }}")
    page = data[field]
    assert page["totalCount"] == len(page["nodes"])
    return {n["uid"] for n in page["nodes"]}


ODD = {inn(100 + i) for i in range(EXTRA_ORGS) if i % 2}

FILTER_CASES = [
    ("municipalities", '{region: "33"}', {"17701000"}),
    ("organizations", '{region: "33"}', ODD),
    ("organizations", '{municipality: "22721000"}', {C2}),
    ("organizations", "{kind: [COPP, EMPLOYER]}", {C1, C3}),
    ("organizations", '{competency: "IT-01"}', {C3}),
    ("sites", f'{{organization: "{C2}"}}', {f"{C2}:M1"}),
    ("sites", '{municipality: "22721000"}', {f"{C2}:M1", f"{C3}:P1"}),
    ("sites", '{region: "52", kind: PRODUCTION}', {f"{C3}:P1"}),
    ("sites", "{organizationKind: COPP}", {f"{C1}:M1"}),
    ("sites", '{competency: "MF-02"}', {f"{C1}:M1", f"{C2}:M1"}),
    ("sites", '{competencyBlock: "IT"}', {f"{C3}:P1"}),
    ("equipment", f'{{organization: "{C1}"}}', {f"{C1}:W-1", f"{C1}:W-2"}),
    ("equipment", f'{{site: "{C2}:M1"}}', {f"{C2}:L-1", f"{C2}:W-3"}),
    ("equipment", '{type: "WELD-INV", status: WORKING}', {f"{C1}:W-1", f"{C2}:W-3"}),
    ("equipment", "{status: BROKEN}", {f"{C1}:W-2"}),
    ("equipment", '{municipality: "22701000"}', {f"{C1}:W-1", f"{C1}:W-2"}),
    ("equipment", '{region: "52", competency: "IT-01"}', {f"{C3}:PC-1"}),
    ("equipmentTypes", '{category: "ИТ"}', {"PC-01"}),
    ("equipmentTypes", '{competency: "MF-02"}', {"LATHE-CNC", "WELD-INV"}),
    ("staff", f'{{organization: "{C2}"}}', {f"{C2}:7"}),
    ("staff", "{role: [MASTER, EXPERT]}", {f"{C1}:1", f"{C3}:3"}),
    ("staff", '{region: "52", organizationKind: COLLEGE}', {f"{C2}:7"}),
    ("staff", '{competency: "MF-01"}', {f"{C1}:1"}),
    ("staff", '{competencyBlock: "MF"}', {f"{C1}:1", f"{C2}:7"}),
    ("staff", "{expertStatus: [REGIONAL, CERTIFIED]}", {f"{C1}:1", f"{C3}:3"}),
    ("competencies", '{competencyBlock: "MF"}', {"MF-01", "MF-02"}),
    ("competencies", "{standard: PROFESSIONALITET}", {"IT-01"}),
    ("competencies", "{isFuture: true, isDigital: true}", {"IT-01"}),
    ("competencies", "{isFuture: false}", {"MF-01", "MF-02"}),
    ("infrastructureLists", '{competency: "MF-02"}', {"MF-02"}),
    ("infrastructureLists", '{competencyBlock: "IT"}', {"IT-01"}),
    ("programs", "{type: SECTORAL}", {"P-WELD"}),
    ("programs", "{status: [RUNNING, DRAFT]}", {"P-CNC", "P-IT"}),
    ("programs", f'{{organization: "{C2}"}}', {"P-CNC"}),
    ("programs", "{network: true}", {"P-WELD"}),
    ("programs", '{region: "33"}', {"P-IT"}),
    ("programs", '{competency: "MF-02"}', {"P-CNC"}),
    ("programs", '{competencyBlock: "MF"}', {"P-WELD", "P-CNC"}),
    ("modules", '{program: "P-WELD"}', {"P-WELD:1", "P-WELD:2"}),
    ("modules", '{competency: "MF-02"}', {"P-CNC:1"}),
    ("agreements", "{kind: PRACTICE}", {f"{C2}:7"}),
    ("agreements", f'{{organization: "{C3}"}}', {f"{C2}:7"}),
    ("agreements", '{program: "P-WELD"}', {f"{C1}:1-С"}),
]


@pytest.mark.parametrize("field,filter_,expected", FILTER_CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in FILTER_CASES])
def test_filter(api, field, filter_, expected):
    everything = _uids(api, field, "{}")
    assert expected < everything  # the filter discriminates
    assert _uids(api, field, filter_) == expected


def test_every_list_filter_is_covered():
    """Every filter of every list field, here, in test_activities_lists or in
    test_learning_materials."""
    from strawberry.utils.str_converters import to_camel_case

    from graph.reads import LISTS
    from schema.registry.resolvers import LIST_FIELDS
    from tests.test_activities_lists import CASES
    from tests.test_learning_materials import MATERIAL_FILTERS

    covered = {(f, name) for f, flt, _ in [*FILTER_CASES, *CASES, *MATERIAL_FILTERS] for name in
               [p.split(":")[0].strip(" {") for p in flt.strip("{}").split(", ")]}
    for registry in LIST_FIELDS:
        field = to_camel_case(registry)
        for name in LISTS[registry].filters:
            if name.startswith("_"):  # hidden: the personal-data scope (test_people_scope)
                continue
            assert (field, to_camel_case(name)) in covered, (field, name)


def test_russian_full_text_search(api):
    q = '{ %s(filter: {search: "%s"}) { totalCount nodes { uid name } } }'
    found = api.data(q % ("competencies", "сварка"))["competencies"]
    assert [n["name"] for n in found["nodes"]] == ["Сварочные технологии"]
    sites = api.data(q % ("sites", "сварочный"))["sites"]
    assert {n["uid"] for n in sites["nodes"]} == {f"{C1}:M1"}
    programs = api.data(q % ("programs", "программирования основы"))["programs"]
    assert [n["uid"] for n in programs["nodes"]] == ["P-IT"]
    # search combines with filters and pages by relevance without loss
    uids, total = _walk(api, "organizations", 4, ', filter: {search: "колледж", region: "52"}')
    assert total == len(uids) == len(set(uids)) == 1 + EXTRA_ORGS // 2
    # Lucene syntax in the input is not interpreted
    assert api.data(q % ("organizations", "*:* OR"))["organizations"]["totalCount"] == 0


def test_global_ids_and_node_lookup(api):
    page = api.data("{ equipment(first: 1) { nodes { id uid } } }")["equipment"]["nodes"][0]
    assert base64.b64decode(page["id"]).decode() == f"Equipment:{page['uid']}"
    node = api.data('query($id: ID!) { node(id: $id) { __typename id ... on Equipment '
                    '{ inventoryNumber site { name } } } }', {"id": page["id"]})["node"]
    assert node["__typename"] == "Equipment" and node["id"] == page["id"]
    ids = [base64.b64encode(s.encode()).decode() for s in
           [f"Organization:{C1}", "Competency:MF-01", "Program:NOPE"]]
    nodes = api.data('query($ids: [ID!]!) { nodes(ids: $ids) { __typename uid } }',
                     {"ids": ids})["nodes"]
    assert nodes == [{"__typename": "Organization", "uid": C1},
                     {"__typename": "Competency", "uid": "MF-01"}, None]
    body = api.execute('{ node(id: "not-base64!") { id } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_ID"


def test_enum_values_carry_russian_labels(api):
    data = api.data('{ __type(name: "OrganizationKind") { enumValues { name description } } }')
    values = {v["name"]: v["description"] for v in data["__type"]["enumValues"]}
    assert values["COLLEGE"] == "ПОО" and values["COPP"] == "ЦОПП"
    org = api.data('{ organizations(filter: {kind: COPP}) { nodes { kind kindLabel } } }')
    assert org["organizations"]["nodes"] == [{"kind": "COPP", "kindLabel": "ЦОПП"}]


DEEP_ORG = """{ organizations(first: 50, filter: {region: "52"}) { nodes {
  name region { name } municipality { name }
  sites(first: 10) { name municipality { name }
    equipment(first: 20) { uid status statusLabel type { name } } } } } }"""

DEEP_COMPETENCY = """{ competencies(first: 10) { nodes { code
  infrastructureList { items { quantity equipmentType { name } } }
  sites(first: 10) { coveredTypes requiredTypes site { name organization { name
    staff(first: 10) { fullName qualifications { expertStatusLabel competency { name } } } } } } } } }"""

DEEP_PROGRAM = """{ programs(first: 10) { nodes { code organization { name }
  competencies { name }
  modules(first: 10) { number requirements { quantity equipmentType { name
    equipment(first: 10) { uid site { name organization { name } } } } } } } } }"""


# Page sizes are given: the hub's query cost limit refuses these shapes at default sizes.
def test_deep_queries_run_one_statement_per_nesting_level(api):
    data, n = api.counted(DEEP_ORG)
    orgs = data["organizations"]["nodes"]
    assert len(orgs) == 1 + 2 + EXTRA_ORGS // 2
    assert sum(len(s["equipment"]) for o in orgs for s in o["sites"]) == 5
    # one: the page reads its links (region, municipality), sites, their equipment and its
    # types along (schema.core.node.folds)
    assert n == 1

    data, n = api.counted(DEEP_COMPETENCY)
    mf2 = next(c for c in data["competencies"]["nodes"] if c["code"] == "MF-02")
    assert [(s["site"]["name"], s["coveredTypes"], s["requiredTypes"]) for s in mf2["sites"]] \
        == [("Мастерская токарных работ", 2, 2), ("Мастерская сварочных технологий", 1, 2)]
    # page with its lists; item types; sites; organizations; staff; qualified competencies
    assert n == 6

    data, n = api.counted(DEEP_PROGRAM)
    weld = next(p for p in data["programs"]["nodes"] if p["code"] == "P-WELD")
    assert [m["number"] for m in weld["modules"]] == [1, 2]
    equipment = weld["modules"][0]["requirements"][0]["equipmentType"]["equipment"]
    assert {e["uid"] for e in equipment} == {f"{C1}:W-1", f"{C1}:W-2", f"{C2}:W-3"}
    # page with developers and modules; competencies; types; equipment; sites (their
    # owners are already in the request's organization loader, primed by the page)
    assert n == 5


def test_nested_lists_are_capped(api):
    body = api.execute("{ organizations(first: 1) { nodes { sites(first: 500) { uid } } } }")
    assert body["errors"][0]["extensions"]["code"] == "BAD_ARGUMENT"
    q = "{ organizations(filter: {kind: COPP}) { nodes { equipment%s { uid } } } }"
    assert len(api.data(q % "")["organizations"]["nodes"][0]["equipment"]) == 2
    assert len(api.data(q % "(first: 1)")["organizations"]["nodes"][0]["equipment"]) == 1
