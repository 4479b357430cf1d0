"""situationalCentre over several regions and the whole country, through the live GraphQL API:
arguments, figures (flows summed, a person once), unknown codes, who may read it, and
writes through the API moving the figures at once."""

from __future__ import annotations

import pytest

from tests.factories import write, write_all
from tests.graphql_client import GraphQLClient, live_server, token_for
from tests.test_kpi_aggregates import COLLEGE33, world

BOARD = """
query($region: String, $regions: [String!]) {
  situationalCentre(region: $region, regions: $regions, period: "2025") {
    region regions period
    kpis(keys: ["enrollments", "learnersEnrolled", "peopleCovered"]) { key value }
    matrix { competencyCode municipalityCode }
    roadmap { number }
  }
}"""


@pytest.fixture(scope="module")
def api(driver, settings):
    from tests.conftest import wipe

    wipe(driver, settings.neo4j_database)
    write_all(driver, world())
    write(driver, "enrollments", [  # A in both regions, B in 33 only
        {"program": p, "cohort": "G0", "learner": x, "enrolled_on": "2025-03-03"}
        for p, x in (("P1", "A"), ("P3", "A"), ("P3", "B"))])
    write(driver, "equipment", [  # the college of 33 now equips MF-02 workplaces
        {"organization": COLLEGE33, "inventory_number": "W-9", "type": "WELD-INV",
         "site": "M1", "quantity": 1}])
    with live_server(settings) as url:
        yield url
    wipe(driver, settings.neo4j_database)


def _figures(board):
    return {k["key"]: k["value"] for k in board["kpis"]}


def test_regions_together_and_the_whole_country(api):
    client = GraphQLClient(api)
    data, statements = client.counted(BOARD, {"region": "52"})
    one = data["situationalCentre"]
    assert statements == 1 and (one["region"], one["regions"]) == ("52", ["52"])
    assert _figures(one) == {"enrollments": 1, "learnersEnrolled": 1, "peopleCovered": 1}
    data, statements = client.counted(BOARD)  # neither: every region, listed first
    country = data["situationalCentre"]
    assert statements == 2 and (country["region"], country["regions"]) == (None, ["33", "52"])
    assert _figures(country) == {"enrollments": 3, "learnersEnrolled": 2, "peopleCovered": 2}
    assert country["roadmap"] == []  # a roadmap is a region's
    assert {c["municipalityCode"] for c in country["matrix"]} >= {"22701000", "17701000"}
    # the same regions named: the same figures (the screens asking at once share them)
    both = client.data(BOARD, {"regions": ["52", "33", "52"]})["situationalCentre"]
    assert both["regions"] == ["33", "52"] and _figures(both) == _figures(country)


def test_arguments_are_checked(api):
    client = GraphQLClient(api)
    body = client.execute(BOARD, {"regions": ["52", "99"]})
    error = body["errors"][0]
    assert (error["extensions"]["code"], error["extensions"]["argument"],
            error["extensions"]["value"]) == ("NOT_FOUND", "regions", "99")
    for variables in ({"region": "52", "regions": ["33"]}, {"regions": []}):
        error = client.execute(BOARD, variables)["errors"][0]
        assert error["extensions"]["code"] == "BAD_ARGUMENT", error
        assert "regions" in error["message"]


def test_who_reads_the_federal_view(api):
    """The rule of situationalCentre stays what it was for one region: any role may read any
    region's figures (counts, no personal data) — so also several regions and the country.
    Anonymous callers may not."""
    from tests.test_kpi_aggregates import COLLEGE52

    for role, region, orgs in (("operator", "52", None), ("viewer", None, None),
                               ("registrar", None, [COLLEGE52])):
        client = GraphQLClient(api, token=token_for(role, region=region, organizations=orgs))
        for variables in ({"region": "33"}, {"regions": ["33", "52"]}, {}):
            body = client.execute(BOARD, variables)
            assert "errors" not in body, (role, variables, body)
    body = GraphQLClient(api, token=None).execute(BOARD, {})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_writes_through_the_api_move_the_figures_at_once(api, driver):
    """create, update, retire and restore mutations: the figures move in the same request."""
    import graph.kpi as K

    client = GraphQLClient(api)
    year = [K.parse_period("2025")]

    def figures():
        k = K.fetch_kpis(driver, None, year)["2025"]
        return k["learnersEnrolled"], k["peopleTrained"]

    before = figures()
    created = client.data("""mutation { createEnrollment(input: {program: "P3", cohort: "G0",
        learner: "C", enrolledOn: "2025-05-05"}) { status node { id } } }""")
    uid = created["createEnrollment"]["node"]["id"]
    assert figures() == (before[0] + 1, before[1])
    client.data("""mutation($id: ID!) { updateEnrollment(id: $id, patch: {status: COMPLETED,
        completedOn: "2025-05-30"}) { status } }""", {"id": uid})
    assert figures() == (before[0] + 1, before[1] + 1)
    client.data("mutation($id: ID!) { retireEnrollment(id: $id) { status } }", {"id": uid})
    assert figures() == before
    client.data("mutation($id: ID!) { restoreEnrollment(id: $id) { status } }", {"id": uid})
    assert figures() == (before[0] + 1, before[1] + 1)


FEDERAL = """subscription Board($rs: [String!]) {
  situationalCentre(regions: $rs, period: "2025") { regions kpis(keys: ["enrollments"]) { value } } }"""


def test_the_federal_view_is_re_sent_after_a_write_in_its_regions(api):
    from tests.live_client import LiveClient
    from tests.test_live import next_data

    admin = GraphQLClient(api)

    def enrol(program, learner):
        admin.data("""mutation($p: String!, $l: String!) { createEnrollment(input: {
            program: $p, cohort: "G0", learner: $l, enrolledOn: "2025-06-06"}) { status } }""",
                   {"p": program, "l": learner})

    with LiveClient(api, token_for("viewer")) as live:
        live.subscribe(FEDERAL, {"rs": ["33"]})
        first = next_data(live)["situationalCentre"]
        assert first["regions"] == ["33"]
        enrol("P1", "E")  # region 52: not these figures, nothing sent
        assert next_data(live, 1.5) is None
        enrol("P3", "E")  # region 33
        again = next_data(live, 2.0)["situationalCentre"]
        assert again["kpis"][0]["value"] == first["kpis"][0]["value"] + 1
    with LiveClient(api, token_for("viewer")) as live:
        live.subscribe(FEDERAL, {"rs": None})  # the whole country: any region's write
        first = next_data(live)["situationalCentre"]
        assert first["regions"] == ["33", "52"]
        enrol("P1", "D")
        again = next_data(live, 2.0)["situationalCentre"]
        assert again["kpis"][0]["value"] == first["kpis"][0]["value"] + 1
