"""A shorter path through graphql-core for the commonest field: a stored property.

Most fields of a page are scalars read from a node's properties (`schema.core.node.prop`,
resolved by Strawberry's default resolver). graphql-core builds a resolve-info object,
checks for arguments and awaitables and dispatches on the type for each of them; here a
scalar or enum field with the default resolver and no arguments is read and coerced
directly. Anything else — and any value that is null or does not coerce — takes the
standard path, so errors keep their usual shape and location.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLEnumType, GraphQLNonNull, GraphQLScalarType
from graphql.pyutils import Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


def _read_leaf(resolve: Any, leaf: Any, source: Any) -> Any:
    """The coerced value, or None when the standard path should run (null, or an error it
    will report)."""
    try:
        value = resolve(source, None)
        coerced = None if value is None else leaf.coerce_output_value(value)
    except Exception:  # noqa: BLE001 - the standard path reports it
        return None
    return None if coerced is Undefined else coerced


class HubExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager  # Strawberry passes one even when it is empty
        self._middleware = bool(manager and manager.middlewares)

    def execute_field(self, parent_type: Any, source: Any, field_details_list: Any,
                      path: Any, position_context: Any = None) -> Any:
        details = field_details_list[0]
        node = details.node
        field_def = parent_type.fields.get(node.name.value)
        resolve = field_def.resolve if field_def is not None else None
        if (resolve is not None and getattr(resolve, "_is_default", False)
                and not node.arguments and not self._middleware):
            leaf = field_def.type
            if isinstance(leaf, GraphQLNonNull):
                leaf = leaf.of_type
            if isinstance(leaf, GraphQLScalarType | GraphQLEnumType):
                value = _read_leaf(resolve, leaf, source)
                if value is not None:
                    return value
        return super().execute_field(parent_type, source, field_details_list, path,
                                     position_context)
