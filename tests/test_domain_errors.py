"""Domain errors (`graph.errors`) become API errors with their codes in one place, whichever
resolver raises them; anything else stays masked as INTERNAL_SERVER_ERROR with a request id."""

from __future__ import annotations

import strawberry
from starlette.testclient import TestClient

from graph.errors import Conflict, DomainError, Forbidden, NotFound
from hub.app import create_app, limits
from schema import hardening
from schema.api import QUERIES, build_schema
from schema.core.access import requires
from tests.graphql_client import token_for

RAISED = {"notFound": NotFound("Нет такого кода: регион «99»", argument="region", value="99"),
          "conflict": Conflict("запись изменена"), "forbidden": Forbidden("нельзя"),
          "badArgument": DomainError("неверный период"), "bug": KeyError("x")}


@strawberry.type
class Raising:
    @strawberry.field(metadata=requires("read"))
    def fails(self, kind: str) -> str:
        raise RAISED[kind]


def test_each_domain_error_has_its_code(db, settings):
    schema = build_schema(hardening.extensions(limits(settings)),
                          hardening.config(limits(settings)), queries=(*QUERIES, Raising))
    headers = {"Authorization": f"Bearer {token_for('viewer')}"}
    with TestClient(create_app(settings, graphql_schema=schema)) as client:
        def error(kind: str) -> dict:
            body = client.post("/graphql", headers=headers,
                               json={"query": '{ fails(kind: "%s") }' % kind}).json()
            return body["errors"][0]
        found = error("notFound")
        assert found["message"] == "Нет такого кода: регион «99»"
        assert found["extensions"]["code"] == "NOT_FOUND"
        assert (found["extensions"]["argument"], found["extensions"]["value"]) == ("region", "99")
        assert error("conflict")["extensions"]["code"] == "CONFLICT"
        assert error("forbidden")["extensions"]["code"] == "FORBIDDEN"
        assert error("badArgument")["extensions"]["code"] == "BAD_ARGUMENT"
        bug = error("bug")
        assert bug["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
        assert bug["extensions"]["requestId"] in bug["message"]
