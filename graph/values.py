"""Values as they come back from Neo4j, turned into Python ones: the one place it is done."""

from __future__ import annotations

import datetime as dt
from typing import Any


def native(value: Any) -> Any:
    """Neo4j temporal values (Date, DateTime…) → Python ones; anything else as it is."""
    return value.to_native() if hasattr(value, "to_native") else value


def date_of(value: Any) -> dt.date | None:
    """A date stored as a Neo4j Date or read back as ISO text (`graph.reads.node_map`)."""
    value = native(value)
    return dt.date.fromisoformat(value) if isinstance(value, str) else value
