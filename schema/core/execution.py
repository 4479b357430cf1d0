"""A shorter path through graphql-core for the commonest field: a scalar leaf.

Most fields of a page are scalars read from a node's properties (`schema.core.node.prop`) or
plain attributes of result objects, resolved by Strawberry's default resolver. For each of
them graphql-core builds a path and a resolve-info object, checks for arguments and
awaitables and dispatches on the type, and Strawberry's default resolver adds three calls.
Here each selection set is looked at once per request: its scalar or enum fields with the
default resolver and no arguments are then read (as `read_attribute` would) and coerced in
one loop over the object, and a list of objects whose selected fields are all such leaves is
completed in one loop over the list, without graphql-core's per-item calls. Anything else —
and any value that does not coerce, or is null where the type forbids it — takes the
standard path, so errors keep their usual shape and location.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from operator import attrgetter
from typing import Any

from graphql import GraphQLEnumType, GraphQLNonNull, GraphQLObjectType, GraphQLScalarType
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.core.node import prop_reader, read_attribute

# A field of a selection set: (response name, field details, fast) where fast is
# (read, coerce, nullable) for a stored-property or attribute leaf, else None; `coerce` gives
# the output value or Undefined (then the standard path runs and reports).
Fast = tuple[Callable[[Any], Any], Callable[[Any], Any], bool]
Step = tuple[str, Any, Fast | None]
INT_RANGE = range(-(2 ** 31), 2 ** 31)


def _coercer(leaf: Any) -> Callable[[Any], Any]:
    """The leaf type's output coercion, shortest for the commonest values."""
    if isinstance(leaf, GraphQLEnumType):
        # stored code or Python member (an attribute of a result object) → GraphQL name
        names = {(v.value.value if isinstance(v.value, Enum) else v.value): name
                 for name, v in leaf.values.items()}

        def enum(value: Any) -> Any:
            code = value.value if isinstance(value, Enum) else value
            found = names.get(code) if isinstance(code, str) else None
            return Undefined if found is None else found
        return enum
    coerce = leaf.coerce_output_value
    if leaf.name in ("String", "ID"):
        return lambda value: value if type(value) is str else coerce(value)
    if leaf.name == "Int":
        return lambda value: value if type(value) is int and value in INT_RANGE else coerce(value)
    if leaf.name == "Boolean":
        return lambda value: value if type(value) is bool else coerce(value)
    return coerce  # type: ignore[no-any-return]


# Leaf types whose coercion takes stored values as they come from the driver
RAW = frozenset(("String", "ID", "Int", "Float", "Boolean"))


def _reader(field_def: Any, resolve: Any, leaf: Any) -> Callable[[Any], Any]:
    """What `read_attribute` would do for this field, without the three calls Strawberry's
    default resolver makes to get there. A property of an enum or plain scalar is read as
    stored: the coercion maps an enum code and refuses (to the standard path) anything
    else that is not already its type."""
    definition = field_def.extensions.get("strawberry-definition")
    if definition is None or getattr(definition, "default_resolver", None) is not read_attribute:
        return lambda source: resolve(source, None)
    spec = definition.metadata.get("prop")
    if spec and (spec[1] is not None or (not spec[2] and leaf.name in RAW)):
        key = spec[0]
        return lambda source: source._p.get(key)
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
                fast = (_reader(field_def, resolve, leaf), _coercer(leaf), nullable)
        steps.append((response_name, field_details_list, fast))
    return steps


def _rows(origin: type, nullable_items: bool, fields: list[tuple[str, Fast]]
          ) -> Callable[[list[Any]], list[Any] | None]:
    """A list of objects whose selected fields are all fast leaves, completed in one loop;
    None when any item needs the standard path (wrong type, null or value that does not
    coerce) — it then completes the whole list and reports."""
    def complete(items: list[Any]) -> list[Any] | None:
        out: list[Any] = []
        append = out.append
        for item in items:
            if item is None and nullable_items:
                append(None)
                continue
            if not isinstance(item, origin):
                return None
            row: dict[str, Any] = {}
            for name, (read, coerce, nullable) in fields:
                try:
                    value = read(item)
                    if value is not None:
                        value = coerce(value)
                    elif not nullable:
                        return None
                except Exception:  # noqa: BLE001 - the standard path reports it
                    return None
                if value is Undefined:
                    return None
                row[name] = value
            append(row)
        return out

    return complete


class HubExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager  # Strawberry passes one even when it is empty
        self._middleware = bool(manager and manager.middlewares)
        # id(grouped field set) → (the set, its parent type, steps); holding the set keeps
        # its id from being reused while this request runs
        self._steps: dict[int, tuple[Any, Any, list[Step]]] = {}
        # (item type, id(field details)) → (the details, rows of that list or None)
        self._lists: dict[tuple[Any, int], tuple[Any, Callable[[list[Any]], Any] | None]] = {}

    def steps_of(self, parent_type: Any, grouped_field_set: Any) -> list[Step]:
        known = self._steps.get(id(grouped_field_set))
        if known is None or known[0] is not grouped_field_set or known[1] is not parent_type:
            known = (grouped_field_set, parent_type,
                     _steps(parent_type, grouped_field_set, self._middleware))
            self._steps[id(grouped_field_set)] = known
        return known[2]

    def rows_of(self, item_type: Any, field_details_list: Any
                ) -> Callable[[list[Any]], list[Any] | None] | None:
        """How a list of `item_type` with this selection completes in one loop, if it can."""
        key = (item_type, id(field_details_list))
        known = self._lists.get(key)
        if known is None or known[0] is not field_details_list:
            known = (field_details_list, self._plan_rows(item_type, field_details_list))
            self._lists[key] = known
        return known[1]

    def _plan_rows(self, item_type: Any, field_details_list: Any
                   ) -> Callable[[list[Any]], list[Any] | None] | None:
        nullable_items = not isinstance(item_type, GraphQLNonNull)
        object_type = item_type if nullable_items else item_type.of_type
        if not isinstance(object_type, GraphQLObjectType):
            return None
        definition = object_type.extensions.get("strawberry-definition")
        origin = getattr(definition, "origin", None)
        if not isinstance(origin, type):
            return None
        grouped, defer_usages, _ = self.collect_subfields(object_type, field_details_list)
        if defer_usages:
            return None
        fields = []
        for name, _details, fast in self.steps_of(object_type, grouped):
            if fast is None:
                return None
            fields.append((name, fast))
        return _rows(origin, nullable_items, fields)

    def complete_iterable_value(self, item_type: Any, field_details_list: Any, info: Any,
                                path: Any, items: Any, position_context: Any) -> Any:
        complete = self.rows_of(item_type, field_details_list)
        if complete is not None:
            items = items if isinstance(items, list) else list(items)
            rows = complete(items)
            if rows is not None:
                return rows
        return super().complete_iterable_value(item_type, field_details_list, info, path,
                                               items, position_context)

    def execute_fields(self, parent_type: Any, source_value: Any, path: Any,
                       grouped_field_set: Any, position_context: Any) -> Any:
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for response_name, field_details_list, fast in self.steps_of(parent_type,
                                                                         grouped_field_set):
                if fast is not None:
                    read, coerce, nullable = fast
                    try:
                        value = read(source_value)
                        if value is None:
                            if nullable:
                                results[response_name] = None
                                continue
                        else:
                            coerced = coerce(value)
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
