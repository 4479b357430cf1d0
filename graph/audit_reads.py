"""Reading the audit trail (Change nodes written by graph/audit.py): filters, keyset pages."""

from __future__ import annotations

# Newest first; ties on `at` (one transaction writes several changes) broken by id.
# Every filter is a parameter; a null parameter means "no filter".
CHANGES_CYPHER = """
MATCH (c:Change)
WHERE ($actor IS NULL OR c.actor = $actor)
  AND ($label IS NULL OR c.label = $label)
  AND ($uid IS NULL OR c.uid = $uid)
  AND ($op IS NULL OR c.op = $op)
  AND ($source IS NULL OR c.source = $source)
  AND ($since IS NULL OR c.at >= $since)
  AND ($until IS NULL OR c.at < $until)
  AND ($after_at IS NULL OR c.at < $after_at OR (c.at = $after_at AND c.id < $after_id))
RETURN c {.*} AS change
ORDER BY c.at DESC, c.id DESC
LIMIT $limit
"""


def changes_params(*, actor: str | None = None, label: str | None = None,
                   uid: str | None = None, op: str | None = None, source: str | None = None,
                   since: object = None, until: object = None,
                   after: tuple[object, str] | None = None, limit: int = 20) -> dict:
    after_at, after_id = after if after else (None, None)
    return {"actor": actor, "label": label, "uid": uid, "op": op, "source": source,
            "since": since, "until": until, "after_at": after_at, "after_id": after_id,
            "limit": limit}
