"""Every list is a Relay connection: the public catalogue and the audit log page with opaque
keyset cursors, `pageInfo` and (where counted) `totalCount`, like the registries."""

from __future__ import annotations

from tests.factories import seed_activities
from tests.graphql_client import GraphQLClient, live_server

CATALOG = """query($after: String) { catalog(first: 2, after: $after) {
  totalCount pageInfo { hasNextPage hasPreviousPage endCursor startCursor }
  edges { cursor node { code } } nodes { code } } }"""


def test_catalog_pages_as_a_connection(db, settings):
    seed_activities(db)
    with live_server(settings) as url:
        anonymous = GraphQLClient(url, token=None)
        first = anonymous.data(CATALOG)["catalog"]
        assert first["totalCount"] == 3  # APPROVED or RUNNING: P-EMP1, P-EMP2, P-SPO
        assert [n["code"] for n in first["nodes"]] == ["P-EMP1", "P-EMP2"]
        assert first["pageInfo"]["hasNextPage"] and not first["pageInfo"]["hasPreviousPage"]
        assert first["pageInfo"]["endCursor"] == first["edges"][-1]["cursor"]
        second = anonymous.data(CATALOG, {"after": first["pageInfo"]["endCursor"]})["catalog"]
        assert [n["code"] for n in second["nodes"]] == ["P-SPO"]
        assert not second["pageInfo"]["hasNextPage"] and second["pageInfo"]["hasPreviousPage"]
        assert second["totalCount"] == 3
        forged = anonymous.execute(CATALOG, {"after": "P-EMP1"})
        assert forged["errors"][0]["extensions"]["code"] == "BAD_ARGUMENT"
        empty = anonymous.data('{ catalog(search: "несуществующее") { totalCount nodes '
                               '{ code } pageInfo { endCursor } } }')["catalog"]
        assert empty == {"totalCount": 0, "nodes": [], "pageInfo": {"endCursor": None}}
