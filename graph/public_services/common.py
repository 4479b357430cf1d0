"""What the public-service flows share: refusals, hashing of secrets and contacts, audit."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import unicodedata
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


# Dashes people type in phone numbers (Word and phones replace "-" with these).
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_PHONE_SEPARATORS = " ()-." + _DASHES


def canonical_email(email: str | None) -> str | None:
    """One form of an address however it was typed: Unicode compatibility forms folded
    (full-width letters), outer spaces dropped, case folded."""
    if not email:
        return None
    return unicodedata.normalize("NFKC", email).strip().casefold() or None


def canonical_phone(phone: str | None) -> str | None:
    """One form of a number however it was typed: +7XXXXXXXXXX for Russian numbers (written
    +7…, 8…, 7… or the 10 digits alone, with spaces, dashes, dots or brackets), else + and the
    digits. None when the text is not a phone number (`phone_problem` says why)."""
    if not phone or phone_problem(phone):
        return None
    text = unicodedata.normalize("NFKC", phone).strip()
    digits = "".join(c for c in text if c.isdigit())
    if text.startswith("+"):
        return "+" + digits
    if len(digits) == 11 and digits[0] in "78":
        return "+7" + digits[1:]
    if len(digits) == 10:
        return "+7" + digits
    return "+" + digits


def phone_problem(phone: str) -> str | None:
    """Why `phone` is not a phone number (Russian), None when it is one."""
    text = unicodedata.normalize("NFKC", phone).strip()
    body = text.removeprefix("+")
    if any(not (c.isascii() and c.isdigit()) and c not in _PHONE_SEPARATORS for c in body):
        return ("телефон: допустимы цифры, «+» в начале, пробелы, скобки, дефисы и точки, "
                f"получено «{phone}»")
    digits = sum(c.isdigit() for c in body)
    if not 10 <= digits <= 15:
        return f"телефон: нужно от 10 до 15 цифр, получено {digits} («{phone}»)"
    return None


def contact_keys(email: str | None, phone: str | None, scope: str = "") -> list[str]:
    """Keys identifying a person's contacts within `scope`: `e:` and `p:` followed by the
    SHA-256 of the scope and the canonical form. Stored keys are scoped (a program, a
    region) so that a key links two applications only where duplicates are looked for; the
    rate limits use the unscoped keys in memory only."""
    keys = []
    address, number = canonical_email(email), canonical_phone(phone)
    if address:
        keys.append("e:" + digest(f"{scope}|email:{address}"))
    if number:
        keys.append("p:" + digest(f"{scope}|phone:{number}"))
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
