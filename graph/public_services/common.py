"""What the public-service flows share: refusals, hashing of secrets and contacts, audit."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from typing import Any

from graph import audit
from graph.access import Principal
from graph.ingest import IngestReport
from graph.writes import Plan


class Refused(Exception):
    """A transition or submission refused by a rule: `code` for the API, message in Russian."""

    def __init__(self, message: str, code: str = "BAD_REQUEST") -> None:
        super().__init__(message)
        self.code = code


def new_secret() -> str:
    """A status-link token: shown once to the submitter, stored only as its hash."""
    return secrets.token_urlsafe(24)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def same_secret(a: str, b: str) -> bool:
    return hmac.compare_digest(a, b)


def normal_email(email: str | None) -> str | None:
    return email.strip().casefold() if email else None


def normal_phone(phone: str | None) -> str | None:
    """Russian numbers: the 10 digits after +7 / 8."""
    if not phone:
        return None
    digits = re.sub(r"\D", "", phone)
    if len(digits) == 11 and digits[0] in "78":
        digits = digits[1:]
    return digits


def contact_keys(email: str | None, phone: str | None) -> list[str]:
    """Hashes identifying a person's contacts (rate limits per contact, duplicates)."""
    keys = []
    if normal_email(email):
        keys.append(digest("email:" + normal_email(email)))  # type: ignore[operator]
    if normal_phone(phone):
        keys.append(digest("phone:" + normal_phone(phone)))  # type: ignore[operator]
    return keys


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def audited(label: str, changes: Sequence[dict[str, Any]], principal: Principal | None,
            source: str, at: dt.datetime) -> Plan:
    """Audit workflow changes. Personal values never enter the audit: callers pass only
    the names of personal fields, values of the others."""
    actor = principal.name if principal is not None else "anonymous"
    yield from audit.record_plan(label, changes, actor, source, at)


def refuse_report(report: IngestReport, what: str) -> None:
    """An ingest refused inside a transition: the whole transition is refused."""
    if not report.written:
        details = "; ".join(f"{e.field}: {e.message}" for e in report.errors[:5])
        code = "FORBIDDEN" if any(
            w in e.message for e in report.errors
            for w in ("не даёт права", "вне региона", "не закреплена", "другой организации",
                      "вне регионов", "зачислен только")) else "BAD_REQUEST"
        raise Refused(f"{what}: {details}", code)


def handler_denial(principal: Principal, region: str | None,
                   organizations: Sequence[str | None]) -> str | None:
    """Who works a workflow item: admin; the operator of its region; a registrar of one of
    its organizations (None: allowed)."""
    if principal.role == "admin":
        return None
    if principal.role == "operator":
        return None if region is not None and region == principal.region else \
            f"заявка вне региона оператора ({principal.region})"
    if principal.role == "registrar":
        if any(o in principal.organizations for o in organizations if o):
            return None
        return "заявка относится к другой организации"
    return f"роль «{principal.role}» не даёт права рассматривать заявки"
