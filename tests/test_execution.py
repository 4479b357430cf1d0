"""Stored-property fields take a short path through graphql-core (schema/core/execution.py);
a value that does not fit its GraphQL type must still end as the usual located error."""

from tests.factories import inn, seed_region, write
from tests.graphql_client import GraphQLClient, live_server

QUERY = """query($o: [String!]) { equipment(first: 5, filter: {organization: $o}) {
  nodes { uid inventoryNumber quantity year status } } }"""
ORG = {"o": [inn(1)]}


def test_property_fields_read_and_bad_values_report_where(db, settings):
    seed_region(db)
    assert write(db, "equipment", [
        {"organization": inn(1), "inventory_number": "E-1", "type": "WELD-INV", "site": "M1",
         "quantity": 3, "year": 2020, "status": "REPAIR"}]).ok
    with live_server(settings) as url:
        api = GraphQLClient(url)
        node = api.data(QUERY, ORG)["equipment"]["nodes"][0]
        assert node == {"uid": f"{inn(1)}:E-1", "inventoryNumber": "E-1", "quantity": 3,
                        "year": 2020, "status": "REPAIR"}

        # written behind the hub's back: values of the wrong type
        uid = f"{inn(1)}:E-1"
        db.execute_query("MATCH (e:Equipment {uid: $u}) SET e.year = 'давно'", u=uid)
        body = api.execute(QUERY, ORG)
        assert [e["path"] for e in body["errors"]] == [["equipment", "nodes", 0, "year"]]
        assert "Int cannot represent" in body["errors"][0]["message"]
        assert body["data"]["equipment"]["nodes"] == [{**node, "year": None}]

        db.execute_query("MATCH (e:Equipment {uid: $u}) SET e.quantity = 'много'", u=uid)
        body = api.execute(QUERY, ORG)
        assert [e["path"] for e in body["errors"]] == [["equipment", "nodes", 0, "quantity"]]
        # `quantity: Int!` inside `nodes: [Equipment!]!` of a non-null connection: the null
        # goes up to `data`, as the spec says, and the error still names the field
        assert body["data"] is None


def _two_items(db) -> None:
    """E-1 and E-2 of organization 1, quantities 1 and 2, no year."""
    seed_region(db)
    assert write(db, "equipment", [
        {"organization": inn(1), "inventory_number": f"E-{i}", "type": "WELD-INV",
         "site": "M1", "quantity": i, "status": "WORKING"} for i in (1, 2)]).ok


def test_property_leaves_skip_the_per_field_path(db, settings, monkeypatch):
    """Only fields that are not stored-property leaves (here the connection and its `nodes`)
    go through graphql-core's per-field execution; a null optional property is answered as
    null on the short path too."""
    from schema.core.execution import HubExecutionContext

    _two_items(db)
    seen: list[str] = []
    standard = HubExecutionContext.execute_field

    def counted(self, parent_type, source, field_details_list, path, position_context=None):
        seen.append(field_details_list[0].node.name.value)
        return standard(self, parent_type, source, field_details_list, path, position_context)

    monkeypatch.setattr(HubExecutionContext, "execute_field", counted)
    with live_server(settings) as url:
        nodes = GraphQLClient(url).data(QUERY, ORG)["equipment"]["nodes"]
    assert [(n["inventoryNumber"], n["quantity"], n["year"]) for n in nodes] == [
        ("E-1", 1, None), ("E-2", 2, None)]
    assert sorted(seen) == ["equipment", "nodes"]


def test_leaves_are_read_directly_not_through_strawberrys_default_resolver(db, settings,
                                                                            monkeypatch):
    """Stored-property and plain-attribute leaves alike (`totalCount`, `hasNextPage` are
    attributes of result objects) are read by the short path's own reader; only the
    non-leaf field without a resolver (`pageInfo`) goes through Strawberry's."""
    from strawberry.types.field import StrawberryField

    _two_items(db)
    defaults: list[str] = []
    standard = StrawberryField.get_result

    def counted(self, source, info, args, kwargs):
        if self.base_resolver is None:
            defaults.append(self.python_name)
        return standard(self, source, info, args, kwargs)

    monkeypatch.setattr(StrawberryField, "get_result", counted)
    query = """query($o: [String!]) { equipment(first: 1, filter: {organization: $o}) {
      totalCount pageInfo { hasNextPage endCursor } nodes { uid quantity status year } } }"""
    with live_server(settings) as url:
        got = GraphQLClient(url).data(query, ORG)["equipment"]
    assert got["totalCount"] == 2 and got["pageInfo"]["hasNextPage"] is True
    assert got["nodes"] == [{"uid": f"{inn(1)}:E-1", "quantity": 1, "status": "WORKING",
                             "year": None}]
    assert defaults == ["page_info"]


TREE = """{ organizations(first: 10) { nodes { inn sites(first: 10) { code
  equipment(first: 10) { inventoryNumber year status } } } } }"""


def test_lists_of_leaf_objects_complete_in_one_loop_and_keep_error_paths(db, settings,
                                                                          monkeypatch):
    """Equipment under each site selects leaves only: the list is completed without an
    object completion per item; a bad stored value still errors at its own path."""
    from schema.core.execution import HubExecutionContext

    _two_items(db)
    completed: list[str] = []
    standard = HubExecutionContext.complete_object_value

    def counted(self, return_type, *args, **kwargs):
        completed.append(return_type.name)
        return standard(self, return_type, *args, **kwargs)

    monkeypatch.setattr(HubExecutionContext, "complete_object_value", counted)
    with live_server(settings) as url:
        api = GraphQLClient(url)
        orgs = api.data(TREE)["organizations"]["nodes"]
        where = [(i, j, k) for i, o in enumerate(orgs) for j, s in enumerate(o["sites"])
                 for k, e in enumerate(s["equipment"]) if e["inventoryNumber"] == "E-1"]
        assert len(where) == 1
        assert "Site" in completed and "Equipment" not in completed

        db.execute_query("MATCH (e:Equipment {uid: $u}) SET e.year = 'давно'",
                         u=f"{inn(1)}:E-1")
        body = api.execute(TREE)
    i, j, k = where[0]
    assert [e["path"] for e in body["errors"]] == [
        ["organizations", "nodes", i, "sites", j, "equipment", k, "year"]]
    items = body["data"]["organizations"]["nodes"][i]["sites"][j]["equipment"]
    assert items[k] == {"inventoryNumber": "E-1", "year": None, "status": "WORKING"}
    assert orgs[i]["sites"][j]["equipment"][k] == {**items[k], "year": None}
