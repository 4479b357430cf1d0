"""Who may call which root field: checked once per operation, before anything runs.

Row-level rules (which organization's data a registrar may change) are in `graph/access.py`
and run inside every write transaction.
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

from graph.access import may

# Root fields open to anonymous callers (when the public catalogue is enabled).
PUBLIC_QUERIES = frozenset({"catalog", "__typename", "__schema", "__type"})
QUERY_ACTIONS = {"changes": "audit", "planNetworkProgram": "plan",
                 "networkPlanDocument": "plan"}
MUTATION_ACTIONS = {"saveNetworkPlan": "plan", "setNetworkPlanStatus": "plan",
                    "setControlPoint": "roadmap", "setIndicatorTarget": "roadmap",
                    "updateRoadmapActivity": "roadmap"}

MESSAGES = {
    "read": "Требуется токен доступа (Authorization: Bearer …).",
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
        fragments = {d.name.value: d for d in document.definitions
                     if isinstance(d, FragmentDefinitionNode)}
        for op in document.definitions:
            if not isinstance(op, OperationDefinitionNode):
                continue
            if ctx.operation_name and op.name and op.name.value != ctx.operation_name:
                continue
            mutation = op.operation == OperationType.MUTATION
            for name in _root_fields(op.selection_set, fragments):
                if not mutation and principal is None and public and name in PUBLIC_QUERIES:
                    continue
                if not mutation and name in ("__typename",):
                    continue
                action = (MUTATION_ACTIONS.get(name, "write") if mutation
                          else QUERY_ACTIONS.get(name, "read"))
                if not may(principal, action):
                    code = "UNAUTHENTICATED" if principal is None else "FORBIDDEN"
                    role = principal.role if principal else "аноним"
                    ctx.pre_execution_errors = [GraphQLError(
                        MESSAGES["read" if principal is None else action].format(role=role),
                        extensions={"code": code, "field": name})]
                    return
