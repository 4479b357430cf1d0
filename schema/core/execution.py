"""A shorter path through graphql-core for the commonest field: a scalar leaf.

Most fields of a page are scalars read from a node's properties (`schema.core.node.prop`) or
plain attributes of result objects, resolved by Strawberry's default resolver. For each of
them graphql-core builds a path and a resolve-info object, checks for arguments and
awaitables and dispatches on the type, and Strawberry's default resolver adds three calls.
Here each selection set is looked at once per request: its scalar or enum fields with the
default resolver and no arguments are then read (as `read_attribute` would) and coerced in
one loop over the object. Anything else — and any value that does not coerce, or is null
where the type forbids it — takes the standard path, so errors keep their usual shape and
location.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any

from graphql import GraphQLEnumType, GraphQLNonNull, GraphQLScalarType
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.core.node import prop_reader, read_attribute

# A field of a selection set: (response name, field details, fast) where fast is
# (read, leaf type, nullable) for a stored-property or attribute leaf, else None.
Step = tuple[str, Any, tuple[Callable[[Any], Any], Any, bool] | None]


def _reader(field_def: Any, resolve: Any) -> Callable[[Any], Any]:
    """What `read_attribute` would do for this field, without the three calls Strawberry's
    default resolver makes to get there."""
    definition = field_def.extensions.get("strawberry-definition")
    if definition is None or getattr(definition, "default_resolver", None) is not read_attribute:
        return lambda source: resolve(source, None)
    spec = definition.metadata.get("prop")
    return prop_reader(*spec) if spec else attrgetter(definition.python_name)


def _steps(parent_type: Any, grouped_field_set: Any, middleware: bool) -> list[Step]:
    steps: list[Step] = []
    for response_name, field_details_list in grouped_field_set.items():
        fast = None
        node = field_details_list[0].node
        field_def = parent_type.fields.get(node.name.value)
        resolve = field_def.resolve if field_def is not None else None
        if (not middleware and resolve is not None and getattr(resolve, "_is_default", False)
                and not node.arguments):
            leaf, nullable = field_def.type, True
            if isinstance(leaf, GraphQLNonNull):
                leaf, nullable = leaf.of_type, False
            if isinstance(leaf, GraphQLScalarType | GraphQLEnumType):
                fast = (_reader(field_def, resolve), leaf, nullable)
        steps.append((response_name, field_details_list, fast))
    return steps


class HubExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager  # Strawberry passes one even when it is empty
        self._middleware = bool(manager and manager.middlewares)
        # id(grouped field set) → (the set, its parent type, steps); holding the set keeps
        # its id from being reused while this request runs
        self._steps: dict[int, tuple[Any, Any, list[Step]]] = {}

    def execute_fields(self, parent_type: Any, source_value: Any, path: Any,
                       grouped_field_set: Any, position_context: Any) -> Any:
        known = self._steps.get(id(grouped_field_set))
        if known is None or known[0] is not grouped_field_set or known[1] is not parent_type:
            known = (grouped_field_set, parent_type,
                     _steps(parent_type, grouped_field_set, self._middleware))
            self._steps[id(grouped_field_set)] = known
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for response_name, field_details_list, fast in known[2]:
                if fast is not None:
                    read, leaf, nullable = fast
                    try:
                        value = read(source_value)
                        if value is None:
                            if nullable:
                                results[response_name] = None
                                continue
                        else:
                            coerced = leaf.coerce_output_value(value)
                            if coerced is not Undefined:
                                results[response_name] = coerced
                                continue
                    except Exception:  # noqa: BLE001, S110 - the standard path reports it
                        pass
                result = self.execute_field(
                    parent_type, source_value, field_details_list,
                    Path(path, response_name, parent_type.name), position_context)
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[f] for f in awaitable_fields])
            raise
        if not awaitable_fields:
            return results
        return self._gather(results, awaitable_fields)

    @staticmethod
    async def _gather(results: dict[str, Any], awaitable_fields: list[str]) -> dict[str, Any]:
        """The object once its awaitable fields are done (as graphql-core's execute_fields)."""
        if len(awaitable_fields) == 1:
            name = awaitable_fields[0]
            results[name] = await results[name]
            return results
        values = await gather_with_cancel(*(results[name] for name in awaitable_fields))
        results.update(zip(awaitable_fields, values, strict=True))
        return results
