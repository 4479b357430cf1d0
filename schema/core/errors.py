"""Typed field errors for mutation payloads; domain errors (`graph.errors`) converted to API
errors with their codes in one place; anything unexpected masked with a request id."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.utils.str_converters import to_camel_case

from graph.errors import DomainError
from graph.validation import RowError

log = logging.getLogger("hub.graphql")


@strawberry.type(description="Why an input was refused: which item, which field, which value.")
class FieldError:
    index: int | None = strawberry.field(
        description="Position of the item in a bulk list (0-based); null for single inputs.")
    path: list[str] = strawberry.field(
        description="Path to the value: item index (bulk), then field names.")
    field: str = strawberry.field(description="The field at fault (camelCase, dotted).")
    value: str | None = strawberry.field(description="The refused value as JSON text.")
    message: str = strawberry.field(description="What is wrong, in Russian.")


def _json(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return json.dumps(str(value), ensure_ascii=False)


def field_error(err: RowError, *, bulk: bool) -> FieldError:
    """A graph RowError (row = item index when bulk) as a GraphQL FieldError."""
    parts = [p if p.isdigit() else to_camel_case(p) for p in err.field.split(".")]
    dotted = ".".join(parts)
    return FieldError(
        index=err.row if bulk else None,
        path=([str(err.row)] if bulk else []) + parts,
        field=dotted, value=_json(err.value), message=err.message,
    )


def api_error(message: str, code: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


# Failures the hub expects under load or outage: one log line per request, no traceback.
EXPECTED_FAILURES = ("DATABASE_BUSY", "DATABASE_UNAVAILABLE")


class MaskUnexpectedErrors(SchemaExtension):
    """Our own GraphQLErrors pass; anything else becomes a generic error with a request id
    (the traceback is logged server-side under that id). A request that failed logs one
    line; DATABASE_BUSY also makes the answer HTTP 503 with Retry-After."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors: list[GraphQLError] = list(getattr(result, "errors", None) or ())
        if result is None or not errors:
            return
        ctx = self.execution_context.context
        request_id = getattr(ctx, "request_id", "-")
        unexpected = [e for e in errors if not _ours(e)]
        result.errors = errors = [self._process(e, request_id) for e in errors]
        codes = sorted({str((e.extensions or {}).get("code")) for e in errors}
                       & set(EXPECTED_FAILURES))
        if unexpected:
            first = unexpected[0].original_error
            assert first is not None
            more = f" (+{len(unexpected) - 1} more)" if len(unexpected) > 1 else ""
            log.error("request %s: unexpected error at %s%s", request_id,
                      unexpected[0].path, more,
                      exc_info=(type(first), first, first.__traceback__))
        elif codes:
            details = "; ".join(sorted({str(getattr(e.original_error, "detail", "") or "")
                                        for e in errors if e.original_error})) or "-"
            log.warning("request %s: %s (%s)", request_id, ",".join(codes), details[:200])
        if "DATABASE_BUSY" in codes:
            busy(getattr(ctx, "response", None), getattr(ctx, "retry_after", 1))

    @staticmethod
    def _process(error: GraphQLError, request_id: str) -> GraphQLError:
        original = error.original_error
        if isinstance(original, DomainError):  # the one place domain errors become API errors
            return GraphQLError(str(original), nodes=error.nodes, source=error.source,
                                positions=error.positions, path=error.path,
                                original_error=original,
                                extensions={"code": original.code, **original.details,
                                            "requestId": request_id})
        if _ours(error):
            extensions = {**(error.extensions or {}), "requestId": request_id}
            return GraphQLError(error.message, nodes=error.nodes, source=error.source,
                                positions=error.positions, path=error.path,
                                original_error=original, extensions=extensions)
        return GraphQLError(
            f"Внутренняя ошибка сервера (запрос {request_id}).",
            nodes=error.nodes, source=error.source, positions=error.positions, path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
        )


def _ours(error: GraphQLError) -> bool:
    original = error.original_error
    return original is None or isinstance(original, GraphQLError | DomainError)


def busy(response: Any, retry_after: int) -> None:
    """Mark an HTTP answer as 'overloaded, come back later'."""
    if response is not None and hasattr(response, "headers"):
        response.status_code = 503
        response.headers["Retry-After"] = str(retry_after)
