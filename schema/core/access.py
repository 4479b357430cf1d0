"""Who may call which root field: checked once per operation, before anything runs.

Each root field states the action it needs next to its resolver (`metadata=requires(…)`);
the roles of each action are `graph.access.ACTIONS`. Row-level rules (which organization's
data a registrar may change) are in `graph/access.py` and run inside every write transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
)
from strawberry.extensions import SchemaExtension

from graph.access import ACTIONS, may

PUBLIC = "public"  # anonymous callers too, while the public catalogue is on
INTROSPECTION = frozenset({"__typename", "__schema", "__type"})


def requires(action: str) -> dict[str, str]:
    """A root field's metadata: the action (`graph.access.ACTIONS`, or PUBLIC) its caller
    needs. Every root field states one; `build_schema` refuses a schema where one does not."""
    if action not in ACTIONS and action != PUBLIC:
        raise ValueError(action)
    return {"requires": action}


def root_permissions(schema: Any) -> dict[tuple[str, str], str | None]:
    """(root type, GraphQL field name) → the action its metadata requires (None: none)."""
    out: dict[tuple[str, str], str | None] = {}
    for kind in ("Query", "Mutation", "Subscription"):
        definition = schema.get_type_by_name(kind)
        for f in getattr(definition, "fields", None) or ():
            name = schema.config.name_converter.get_graphql_name(f)
            out[(kind, name)] = (f.metadata or {}).get("requires")
    return out


MESSAGES = {
    "read": "Требуется токен доступа (Authorization: Bearer …).",
    "public": "Требуется токен доступа (Authorization: Bearer …).",
    "write": "Роль «{role}» не даёт права изменять реестры.",
    "plan": "Роль «{role}» не даёт права планировать сетевые программы.",
    "roadmap": "Роль «{role}» не даёт права вести дорожную карту.",
    "audit": "Журнал изменений доступен администратору и оператору ЦОПП.",
}


def _root_fields(selection_set: Any, fragments: dict[str, FragmentDefinitionNode],
                 seen: frozenset[str] = frozenset()) -> Iterator[str]:
    """Root field names, looking through inline fragments and named fragment spreads."""
    for sel in selection_set.selections if selection_set else ():
        if isinstance(sel, FieldNode):
            yield sel.name.value
        elif isinstance(sel, FragmentSpreadNode):
            name = sel.name.value
            if name not in seen and name in fragments:
                yield from _root_fields(fragments[name].selection_set, fragments, seen | {name})
        else:
            yield from _root_fields(getattr(sel, "selection_set", None), fragments, seen)


_CACHE: dict[int, dict[tuple[str, str], str | None]] = {}


def _permissions(schema: Any) -> dict[tuple[str, str], str | None]:
    key = id(schema)
    if key not in _CACHE:
        _CACHE[key] = root_permissions(schema)
    return _CACHE[key]


class AccessPolicy(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        self._check()
        yield

    def _check(self) -> None:
        ctx = self.execution_context
        document = ctx.graphql_document
        if document is None or ctx.pre_execution_errors:
            return
        context = ctx.context
        auth_error = getattr(context, "auth_error", None)
        if auth_error:
            ctx.pre_execution_errors = [GraphQLError(auth_error,
                                                     extensions={"code": "UNAUTHENTICATED"})]
            return
        principal = getattr(context, "principal", None)
        public = getattr(context, "public_catalog", True)
        permissions = _permissions(ctx.schema)
        fragments = {d.name.value: d for d in document.definitions
                     if isinstance(d, FragmentDefinitionNode)}
        for op in document.definitions:
            if not isinstance(op, OperationDefinitionNode):
                continue
            if ctx.operation_name and op.name and op.name.value != ctx.operation_name:
                continue
            kind = {OperationType.MUTATION: "Mutation",
                    OperationType.SUBSCRIPTION: "Subscription"}.get(op.operation, "Query")
            for name in _root_fields(op.selection_set, fragments):
                if kind == "Query" and name in INTROSPECTION and (
                        name == "__typename" or principal is not None or public):
                    continue
                action = permissions.get((kind, name))
                if action == PUBLIC and (principal is not None or public):
                    continue
                if action in ACTIONS and may(principal, action):
                    continue
                code = "UNAUTHENTICATED" if principal is None else "FORBIDDEN"
                role = principal.role if principal else "аноним"
                message = MESSAGES.get("read" if principal is None else str(action),
                                       "Поле не открыто ни одной роли.")
                ctx.pre_execution_errors = [GraphQLError(
                    message.format(role=role), extensions={"code": code, "field": name})]
                return
