"""Full-text search over names (Neo4j full-text index, Russian analyzer)."""

from __future__ import annotations

import math
import re

_WORD = re.compile(r"[\w]+", re.UNICODE)


MAX_WORD = 64


def fulltext_query(text: str) -> str | None:
    """User text → a Lucene query: every word must match, by its stem or a prefix of it.

    The Russian analyzer stems «сварка» and «сварочные» differently, so each word also
    matches as a prefix of its first ~60% («свар*»). Lucene syntax in the input is not
    interpreted: only word characters survive.
    """
    # long words are cut: Lucene refuses a prefix query over ~1000 characters
    words = [w.lower()[:MAX_WORD] for w in _WORD.findall(text)][:10]
    if not words:
        return None
    parts = []
    for word in words:
        if len(word) <= 3:
            parts.append(f"({word} OR {word}*)")
            continue
        prefix = word[: max(4, math.ceil(len(word) * 0.6))]
        parts.append(f"({word} OR {prefix}*)")
    return " AND ".join(parts)
