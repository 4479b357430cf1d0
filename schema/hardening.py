"""Limits that keep one hostile or broken query from taking the hub down.

Depth, tokens, aliases and cost are checked before anything runs; parser and validation caches
are bounded. `Limits` comes from the hub's settings.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    VariableNode,
    get_named_type,
)
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.schema.config import StrawberryConfig

from graph.reads import MAX_PAGE


@dataclass(frozen=True)
class Limits:
    max_depth: int = 12
    max_tokens: int = 2000
    max_aliases: int = 30
    max_cost: int = 200000
    default_page: int = 20  # assumed page when `first` has no usable value
    unpaged_list: int = 10  # assumed length of a list without pagination arguments
    max_page: int = MAX_PAGE
    max_operations: int = 10
    cache_size: int = 512
    production: bool = False


def _is_list(field_type: Any) -> bool:
    while isinstance(field_type, GraphQLNonNull):
        field_type = field_type.of_type
    return isinstance(field_type, GraphQLList)


def _is_connection(named: Any) -> bool:
    return isinstance(named, GraphQLObjectType) and named.name.endswith("Connection")


class QueryCost:
    """Estimated cost: every field costs 1; below a paginated field (one with a `first`
    argument) the cost of the selection is multiplied by the page size asked for (else the
    argument's default); below other lists by `unpaged_list`. A connection's own `edges` and
    `nodes` are not multiplied again."""

    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode],
                 variables: dict[str, Any], limits: Limits) -> None:
        self.schema, self.fragments, self.variables, self.limits = (
            schema, fragments, variables, limits)

    def _factor(self, node: FieldNode, field_def: Any, parent: Any) -> int:
        page_arg = next((a for a in ("first", "last", "limit") if a in field_def.args), None)
        if page_arg is None:
            if _is_connection(parent) or not _is_list(field_def.type):
                return 1
            return self.limits.unpaged_list
        value: Any = field_def.args[page_arg].default_value
        for arg in node.arguments or ():
            if arg.name.value == page_arg:
                if isinstance(arg.value, VariableNode):
                    value = self.variables.get(arg.value.name.value, value)
                else:
                    value = getattr(arg.value, "value", None)
        try:
            return max(1, min(int(value), self.limits.max_page))
        except (TypeError, ValueError):
            return self.limits.default_page

    def _fields(self, selection_set: SelectionSetNode | None,
                seen: frozenset[str] = frozenset()) -> Iterator[tuple[FieldNode, frozenset[str]]]:
        for sel in selection_set.selections if selection_set else ():
            if isinstance(sel, FieldNode):
                yield sel, seen
            elif isinstance(sel, InlineFragmentNode):
                yield from self._fields(sel.selection_set, seen)
            elif isinstance(sel, FragmentSpreadNode) and sel.name.value not in seen:
                fragment = self.fragments.get(sel.name.value)
                if fragment:
                    yield from self._fields(fragment.selection_set, seen | {sel.name.value})

    def cost(self, parent: Any, selection_set: SelectionSetNode | None,
             seen: frozenset[str] = frozenset()) -> int:
        total = 0
        for node, frag_seen in self._fields(selection_set, seen):
            name = node.name.value
            if name.startswith("__"):
                total += 1
                continue
            field_def = getattr(parent, "fields", {}).get(name) if parent else None
            if field_def is None:
                # interface/union members: take the costliest concrete type
                total += 1 + self._max_over_possible(parent, node, frag_seen)
                continue
            named = get_named_type(field_def.type)
            inner = self.cost(named, node.selection_set, frag_seen) if node.selection_set else 0
            total += 1 + self._factor(node, field_def, parent) * inner
        return total

    def _max_over_possible(self, parent: Any, node: FieldNode, seen: frozenset[str]) -> int:
        if parent is None or not node.selection_set:
            return 0
        best = 0
        for obj in self.schema.get_possible_types(parent) if hasattr(parent, "fields") else ():
            field_def = obj.fields.get(node.name.value)
            if field_def:
                best = max(best, self.cost(get_named_type(field_def.type), node.selection_set, seen))
        return best


class QueryCostLimiter(SchemaExtension):
    def __init__(self, limits: Limits) -> None:
        self.limits = limits

    def on_validate(self) -> Iterator[None]:
        # Runs before validation: an error set here stops the request before execution.
        self._check()
        yield

    def _check(self) -> None:
        ctx = self.execution_context
        document = ctx.graphql_document
        if document is None or ctx.pre_execution_errors:
            return
        schema = ctx.schema._schema
        fragments = {d.name.value: d for d in document.definitions
                     if isinstance(d, FragmentDefinitionNode)}
        estimator = QueryCost(schema, fragments, ctx.variables or {}, self.limits)
        for op in document.definitions:
            if not isinstance(op, OperationDefinitionNode):
                continue
            if ctx.operation_name and op.name and op.name.value != ctx.operation_name:
                continue
            root = schema.get_root_type(op.operation)
            cost = estimator.cost(root, op.selection_set)
            if cost > self.limits.max_cost:
                ctx.pre_execution_errors = [GraphQLError(
                    f"Запрос слишком дорогой: оценка {cost} при пределе {self.limits.max_cost}. "
                    "Уменьшите first или глубину вложенности.",
                    extensions={"code": "QUERY_TOO_COSTLY", "cost": cost,
                                "maxCost": self.limits.max_cost},
                )]


class StrictSyntax(SchemaExtension):
    """The GraphQL grammar as the spec has it: graphql-core 3.3 still accepts an empty
    selection set (`{ organizations { } }`) unless told otherwise, and the limits below then
    meet a document no rule expects. Refused here as the syntax error it is, with its
    location."""

    def on_operation(self) -> Iterator[None]:
        options: dict[str, Any] = self.execution_context.parse_options  # type: ignore[assignment]
        options["allow_empty_selection_sets"] = False
        yield


def _guarded(rule: type[ValidationRule]) -> type[ValidationRule]:
    """A limit rule that reports its own findings but does not crash on a document other
    rules refuse anyway (an unknown fragment, an empty selection): those rules say why."""

    class Guarded(rule):  # type: ignore[misc, valid-type]
        def __init__(self, context: Any) -> None:
            try:
                super().__init__(context)
            except (KeyError, ValueError, TypeError, RecursionError):
                ValidationRule.__init__(self, context)

    Guarded.__name__ = Guarded.__qualname__ = f"Guarded{rule.__name__}"
    return Guarded


def extensions(limits: Limits) -> list[Any]:
    """Extension factories (a fresh instance per request; the caches are module-level)."""
    # The rule classes are made once: ValidationCache keys on them, and MaxAliasesLimiter /
    # QueryDepthLimiter made per request would bring new classes and miss the cache.
    rules = [_guarded(alias_rule(limits.max_aliases)),
             _guarded(depth_rule(limits.max_depth, None))]
    out: list[Any] = [
        StrictSyntax,
        lambda: ParserCache(maxsize=limits.cache_size),
        lambda: ValidationCache(maxsize=limits.cache_size),
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        lambda: AddValidationRules(rules),  # type: ignore[arg-type]
        lambda: QueryCostLimiter(limits),
    ]
    if limits.production:
        out.append(DisableIntrospection)
    return out


def config(limits: Limits) -> StrawberryConfig:
    return StrawberryConfig(
        relay_max_results=limits.max_page,
        disable_field_suggestions=limits.production,
        batching_config={"max_operations": limits.max_operations},
    )
