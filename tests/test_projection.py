"""Reads project what the query selects: only the stored properties its fields read, and the
timestamps (converted to text in Cypher) only when asked; the answers are the same as with
every property read."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.factories import inn, seed_activities
from tests.graphql_client import GraphQLClient, count_queries, live_server


@pytest.fixture(scope="module")
def api(driver, settings) -> Iterator[GraphQLClient]:
    from tests.conftest import wipe

    wipe(driver, settings.neo4j_database)
    seed_activities(driver)
    with live_server(settings) as url:
        yield GraphQLClient(url)


def statements(api: GraphQLClient, query: str) -> tuple[dict, list[str]]:
    with count_queries() as seen:
        data = api.data(query)
    return data, list(seen)


def test_a_page_reads_only_the_selected_properties(api):
    data, seen = statements(api, "{ organizations(first: 5) { edges { node { name } } } }")
    assert {e["node"]["name"] for e in data["organizations"]["edges"]} >= {"АО «Завод»"}
    page = next(s for s in seen if "Organization" in s)
    assert "n {.name, .uid}" in page
    assert ".*" not in page and "createdAt" not in page.split("RETURN collect")[1]


def test_timestamps_are_converted_only_when_selected(api):
    _, seen = statements(api, "{ organizations(first: 2) { nodes { createdAt version } } }")
    page = next(s for s in seen if "Organization" in s)
    assert "createdAt: toString(n.createdAt)" in page and ".version" in page
    assert "updatedAt" not in page.split("RETURN collect")[1]


def test_nested_reads_and_links_project_too(api):
    data, seen = statements(api, """{ sites(first: 10) { nodes { code
        organization { shortName } municipality { name } equipment { inventoryNumber } } } }""")
    assert all(n["municipality"]["name"] for n in data["sites"]["nodes"])
    assert len(seen) == 1  # links and the nested list read along with the page
    page = seen[0]
    assert "n {.code, .municipality, .organization, .uid}" in page  # the links' keys
    assert "(t:Organization {uid: toString(s.organization)})" in page
    assert "v_0 {.short_name, .uid}" in page and "v_1 {.name, .uid}" in page
    assert "HAS_EQUIPMENT" in page and "v_2 {.inventory_number, .uid}" in page


def test_links_elsewhere_read_by_label_with_what_their_fields_need(api):
    data, seen = statements(api, f"""{{ node(id: "{_gid('Site', inn(1) + ':M1')}") {{
        ... on Site {{ name organization {{ name }} }} }} }}""")
    assert data["node"]["organization"]["name"] == "ЦОПП Нижегородской области"
    reads = [s for s in seen if "(n:Organization {uid: u})" in s]
    assert len(reads) == 1 and "n {.name, .uid}" in reads[0]


def test_two_selections_of_one_link_read_along(api):
    data, seen = statements(api, """{ sites(first: 10) { nodes {
        a: organization { name } b: organization { inn kind } } } }""")
    assert data["sites"]["nodes"][0]["b"]["inn"] and data["sites"]["nodes"][0]["a"]["name"]
    assert len(seen) == 1
    assert "v_0 {.name, .uid}" in seen[0] and "v_1 {.inn, .kind, .uid}" in seen[0]


def test_a_field_without_declared_needs_reads_everything(api):
    _, seen = statements(api, f"""{{ node(id: "{_gid('Organization', inn(1))}") {{
        ... on Organization {{ name }} }} }}""")
    assert "n {.name, .uid}" in seen[0]
    _, seen = statements(api, "{ competencies(first: 3) { nodes { qualifiedStaff { staff { uid } } } } }")
    assert "n {.uid}" in next(s for s in seen if "MATCH (n:Competency)" in s)


def test_projected_answers_equal_full_ones(api):
    fields = "uid name shortName kind kindLabel inn ogrn regionCode municipalityCode address website"
    full = api.data(f"{{ organizations(first: 10) {{ nodes {{ {fields} id createdAt version }} }} }}")
    for field in fields.split():
        part = api.data(f"{{ organizations(first: 10) {{ nodes {{ uid {field} }} }} }}")
        assert [(n["uid"], n[field]) for n in part["organizations"]["nodes"]] == \
            [(n["uid"], n[field]) for n in full["organizations"]["nodes"]]


def _gid(label: str, uid: str) -> str:
    from schema.core.ids import encode_id

    return encode_id(label, uid)


TREE = """{ organizations(first: 10) { nodes { inn
    sites(first: 10) { uid code name equipment(first: 50) { uid quantity } } } } }"""


def test_a_tree_is_read_in_one_statement_with_what_each_level_would_read(api):
    data, seen = statements(api, TREE)
    assert len(seen) == 1, seen
    assert "HAS_SITE" in seen[0] and "HAS_EQUIPMENT" in seen[0]
    orgs = data["organizations"]["nodes"]
    assert sum(len(o["sites"]) for o in orgs) >= 2
    assert sum(len(s["equipment"]) for o in orgs for s in o["sites"]) >= 4
    for org in orgs:
        alone = api.data(f"""{{ sites(first: 10, filter: {{organization: ["{org['inn']}"]}})
            {{ nodes {{ uid code name }} }} }}""")["sites"]["nodes"]
        assert [s["uid"] for s in org["sites"]] == [s["uid"] for s in alone]
        for site in org["sites"]:
            items = api.data(f"""{{ equipment(first: 50, filter: {{site: ["{site['uid']}"]}})
                {{ nodes {{ uid quantity }} }} }}""")["equipment"]["nodes"]
            assert site["equipment"] == items


def test_a_nested_list_asked_otherwise_than_its_parent_reads_on_its_own(api):
    folded = api.data(TREE)
    data, seen = statements(api, TREE.replace("sites(first: 10)",
                                              "sites(first: 10, includeRetired: true)"))
    assert len(seen) == 3  # the page, the sites of every organization, their equipment
    assert data == folded  # nothing retired here: the same answer
    few, seen = statements(api, TREE.replace("sites(first: 10)", "sites(first: 1)"))
    assert len(seen) == 1
    assert all(len(o["sites"]) <= 1 for o in few["organizations"]["nodes"])


def test_a_page_reads_the_nodes_its_links_name_along(api):
    query = """{ equipment(first: 50) { nodes { uid quantity
        type { code name } site { code organization { shortName } } } } }"""
    data, seen = statements(api, query)
    assert len(seen) == 1, seen
    nodes = data["equipment"]["nodes"]
    assert nodes and all(n["type"]["name"] and n["site"]["organization"] for n in nodes)
    for n in nodes[:5]:
        alone = api.data(f"""{{ equipment(first: 1, filter: {{type: ["{n['type']['code']}"]}},
            sort: {{field: UID}}) {{ nodes {{ uid }} }} }}""")
        assert alone["equipment"]["nodes"]
        site = api.data(f"""{{ sites(first: 50, filter: {{organization: ["{n['uid'].split(':')[0]}"]}})
            {{ nodes {{ code organization {{ shortName }} }} }} }}""")["sites"]["nodes"]
        assert {"code": n["site"]["code"], "organization": n["site"]["organization"]} in site
