"""Errors of the domain: requests it refuses, with a message in Russian for users.

Each class carries the API error code it becomes; the API converts every one of them in one
place (`schema.core.errors.MaskUnexpectedErrors`), so resolvers never catch them.
"""

from __future__ import annotations

from typing import Any


class DomainError(ValueError):
    """A request the domain refuses; `details` go into the error's extensions."""

    code = "BAD_ARGUMENT"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.details = details


class NotFound(DomainError):
    """A code or key named in a request that no record has."""

    code = "NOT_FOUND"


class Conflict(DomainError):
    """The stored state is not the one the request expected."""

    code = "CONFLICT"


class Forbidden(DomainError):
    """The principal may not do this to this record."""

    code = "FORBIDDEN"
