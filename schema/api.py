"""The GraphQL schema: every domain's Query and Mutation merged into one.

To add a domain, append its Query / Mutation class to QUERIES / MUTATIONS (one line each).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import strawberry
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from schema.audit.resolvers import Query as AuditQuery
from schema.capability.mutations import Mutation as CapabilityMutation
from schema.capability.resolvers import Query as CapabilityQuery
from schema.catalog.resolvers import Query as CatalogQuery
from schema.core.access import AccessPolicy, root_permissions
from schema.core.errors import MaskUnexpectedErrors
from schema.core.execution import HubExecutionContext
from schema.core.node import read_attribute
from schema.core.resolvers import Query as CoreQuery
from schema.imports.mutations import Mutation as ImportMutation
from schema.imports.mutations import Query as ImportQuery
from schema.live.subscriptions import Subscription as LiveSubscription
from schema.public.resolvers import Mutation as PublicMutation
from schema.public.resolvers import Query as PublicQuery
from schema.registry.mutations import Mutation as RegistryMutation
from schema.registry.resolvers import Query as RegistryQuery
from schema.situational.mutations import Mutation as SituationalMutation
from schema.situational.resolvers import Query as SituationalQuery

QUERIES: tuple[type, ...] = (
    CoreQuery,
    RegistryQuery,
    CapabilityQuery,
    SituationalQuery,
    CatalogQuery,
    AuditQuery,
    PublicQuery,
    ImportQuery,
)
MUTATIONS: tuple[type, ...] = (
    RegistryMutation,
    CapabilityMutation,
    SituationalMutation,
    PublicMutation,
    ImportMutation,
)


class HubSchema(strawberry.Schema):
    def process_errors(self, errors: list, execution_context: Any = None) -> None:
        """MaskUnexpectedErrors logs unexpected errors with the request id; nothing more."""


def build_schema(extensions: Sequence[Any] = (), config: Any = None, *,
                 queries: Sequence[type] = QUERIES,
                 mutations: Sequence[type] = MUTATIONS) -> strawberry.Schema:
    """The schema; `extensions` (e.g. query limits) run before error masking. Every root
    field must state the action it requires (`schema.core.access.requires`)."""
    built = HubSchema(
        query=merge_types("Query", tuple(queries)),
        mutation=merge_types("Mutation", tuple(mutations)),
        subscription=LiveSubscription,
        # AccessPolicy after the limits: ValidationCache overwrites pre_execution_errors
        # set by extensions that enter before it.
        extensions=[*extensions, AccessPolicy, MaskUnexpectedErrors],
        # property fields (`schema.core.node.prop`) are read by this resolver, whatever else
        # the caller configures
        config=replace(config or StrawberryConfig(), default_resolver=read_attribute),
        execution_context_class=HubExecutionContext,
    )
    undeclared = sorted(f"{kind}.{name}" for (kind, name), action
                        in root_permissions(built).items() if action is None)
    if undeclared:
        raise TypeError(f"root fields without a permission: {', '.join(undeclared)}")
    return built


schema = build_schema()
