"""Every root field states the action it requires, next to its resolver; the access policy
reads it from there (no table of field names), and a schema with an undeclared root field is
refused when it is built."""

from __future__ import annotations

import pytest
import strawberry

from graph.access import ACTIONS
from schema.api import MUTATIONS, QUERIES, build_schema, schema
from schema.core.access import PUBLIC, requires, root_permissions


def test_every_root_field_declares_a_permission():
    permissions = root_permissions(schema)
    assert len(permissions) > 100
    assert all(a in ACTIONS or a == PUBLIC for a in permissions.values()), permissions
    assert permissions[("Query", "catalog")] == PUBLIC
    assert permissions[("Query", "changes")] == "audit"
    assert permissions[("Mutation", "createCompetency")] == "write"
    assert permissions[("Mutation", "setControlPoint")] == "roadmap"
    assert permissions[("Mutation", "saveNetworkPlan")] == "plan"


def test_an_undeclared_root_field_is_refused_when_the_schema_is_built():
    @strawberry.type
    class Forgotten:
        @strawberry.field
        def secret(self) -> str:
            return "x"

    with pytest.raises(TypeError, match="Query.secret"):
        build_schema(queries=(*QUERIES, Forgotten), mutations=MUTATIONS)
    with pytest.raises(ValueError):
        requires("everything")


def test_the_policy_follows_the_declaration(db, settings):
    from tests.graphql_client import GraphQLClient, live_server, token_for

    @strawberry.type
    class Extra:
        @strawberry.field(metadata=requires("audit"))
        def audit_only(self) -> str:
            return "ok"

    from hub.app import create_app, limits
    from schema import hardening

    built = build_schema(hardening.extensions(limits(settings)), hardening.config(limits(settings)),
                         queries=(*QUERIES, Extra))
    with live_server(settings) as url:  # the served schema: the same policy for real fields
        viewer = GraphQLClient(url, token=token_for("viewer"))
        body = viewer.execute("{ changes { nodes { uid } } }")
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    from starlette.testclient import TestClient

    with TestClient(create_app(settings, graphql_schema=built)) as client:
        viewer_token = token_for("viewer")
        admin_token = token_for("admin")
        for token, ok in ((viewer_token, False), (admin_token, True)):
            body = client.post("/graphql", json={"query": "{ auditOnly }"},
                               headers={"Authorization": f"Bearer {token}"}).json()
            assert (body.get("data") or {}).get("auditOnly") == ("ok" if ok else None), body
