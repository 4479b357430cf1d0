"""The hub's own ledger (accounts and API tokens) in SQL: SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import secrets
import stat
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    String,
    bindparam,
    create_engine,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from graph.access import ROLES, Principal
from graph.checksums import inn_is_valid

TOKEN_PREFIX = "rrh_"
# `last_used_at` of a token is written at most this often (seconds), not on every request.
LAST_USED_EVERY = 60.0

log = logging.getLogger("hub.ledger")


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    region: Mapped[str | None] = mapped_column(String(3))
    organizations: Mapped[list[str]] = mapped_column(JSON, default=list)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    tokens: Mapped[list[Token]] = relationship(back_populates="account")


class Token(Base):
    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(16))
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # added after the first release: `engine()` adds the column to older ledgers
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    account: Mapped[Account] = relationship(back_populates="tokens")


class LedgerError(Exception):
    pass


@dataclass(frozen=True)
class IssuedToken:
    id: int
    secret: str  # shown once, never stored


@dataclass(frozen=True)
class TokenInfo:
    id: int
    account: str
    label: str | None
    hint: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite gives stored timestamps back without their (UTC) zone."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def _sqlite_path(url: str) -> Path | None:
    if not url.startswith("sqlite:///"):
        return None
    raw = url.removeprefix("sqlite:///").split("?", 1)[0]
    return None if raw in ("", ":memory:") else Path(raw)


def _private_file(path: Path) -> None:
    """The ledger (account scopes, token digests) readable by the hub's user only: created
    0600, an existing file with wider rights is narrowed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    if stat.S_IMODE(path.stat().st_mode) != 0o600:
        path.chmod(0o600)
    for extra in ("-journal", "-wal", "-shm"):
        side = path.with_name(path.name + extra)
        if side.exists() and stat.S_IMODE(side.stat().st_mode) != 0o600:
            side.chmod(0o600)


def _upgrade(eng: Engine) -> None:
    """Columns added since a ledger was created (create_all makes only missing tables)."""
    columns = {c["name"] for c in inspect(eng).get_columns("tokens")}
    if "last_used_at" not in columns:
        kind = Token.__table__.c.last_used_at.type.compile(dialect=eng.dialect)
        with eng.begin() as conn:
            conn.execute(text(f"ALTER TABLE tokens ADD COLUMN last_used_at {kind}"))


@lru_cache
def engine(url: str) -> Engine:
    path = _sqlite_path(url)
    if path is not None:
        _private_file(path)
    # pre-ping costs a statement per checkout: only for a server that can drop connections
    eng = create_engine(url, pool_pre_ping=path is None)
    Base.metadata.create_all(eng)
    _upgrade(eng)
    return eng


def _account(session: Session, name: str) -> Account:
    account = session.scalar(select(Account).where(Account.name == name))
    if account is None:
        raise LedgerError(f"учётная запись «{name}» не найдена")
    return account


def create_account(url: str, name: str, role: str, *, region: str | None = None,
                   organizations: list[str] | None = None) -> Principal:
    if role not in ROLES:
        raise LedgerError(f"неизвестная роль «{role}»; допустимо: {', '.join(ROLES)}")
    if role == "operator" and not region:
        raise LedgerError("оператору ЦОПП нужен регион (--region)")
    if role == "registrar" and not organizations:
        raise LedgerError("регистратору нужна хотя бы одна организация (--org ИНН)")
    bad = [inn for inn in organizations or [] if not inn_is_valid(inn)]
    if bad:
        raise LedgerError(f"неверный ИНН организации: {', '.join(bad)}")
    with Session(engine(url)) as session, session.begin():
        if session.scalar(select(Account).where(Account.name == name)):
            raise LedgerError(f"учётная запись «{name}» уже существует")
        account = Account(name=name, role=role, region=region,
                          organizations=sorted(organizations or []), created_at=_now())
        session.add(account)
        session.flush()
        return _principal(account)


def _principal(account: Account) -> Principal:
    return Principal(name=account.name, role=account.role, region=account.region,
                     organizations=frozenset(account.organizations or ()))


def list_accounts(url: str) -> list[tuple[Principal, bool, int]]:
    """(principal, disabled, active token count) per account."""
    with Session(engine(url)) as session:
        out = []
        for account in session.scalars(select(Account).order_by(Account.name)):
            active = sum(1 for t in account.tokens if t.revoked_at is None)
            out.append((_principal(account), account.disabled, active))
        return out


def disable_account(url: str, name: str) -> None:
    with Session(engine(url)) as session, session.begin():
        account = _account(session, name)
        account.disabled = True
        for token in account.tokens:
            token.revoked_at = token.revoked_at or _now()


def issue_token(url: str, name: str, label: str | None = None) -> IssuedToken:
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with Session(engine(url)) as session, session.begin():
        account = _account(session, name)
        if account.disabled:
            raise LedgerError(f"учётная запись «{name}» отключена")
        token = Token(account=account, digest=digest(secret), hint=secret[:10], label=label,
                      created_at=_now())
        session.add(token)
        session.flush()
        return IssuedToken(token.id, secret)


def revoke_token(url: str, token_id: int) -> None:
    with Session(engine(url)) as session, session.begin():
        token = session.get(Token, token_id)
        if token is None:
            raise LedgerError(f"токен {token_id} не найден")
        token.revoked_at = token.revoked_at or _now()


# One statement object, the digest bound per call: SQLAlchemy compiles and keys it once
# (a fresh `where` per request cost more than the SELECT itself)
_AUTH_QUERY = (
    select(Token.id, Token.revoked_at, Token.last_used_at, Account.name, Account.role,
           Account.region, Account.organizations, Account.disabled)
    .join(Account, Token.account_id == Account.id)
    .where(Token.digest == bindparam("digest"))
)
# (ledger, token id) → monotonic time this process last wrote its last_used_at
_touched: dict[tuple[int, int], float] = {}
_touched_lock = threading.Lock()


def authenticate(url: str, secret: str) -> Principal | None:
    """The account behind a bearer token, or None (unknown, revoked or disabled).

    Asked on every request (one indexed SELECT), so a revoked token or a disabled account is
    refused from the next request on, by every process sharing the ledger."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    eng = engine(url)
    with eng.connect() as conn:
        row = conn.execute(_AUTH_QUERY, {"digest": digest(secret)}).first()
    if row is None or row.revoked_at is not None or row.disabled:
        return None
    _note_use(eng, row.id, _aware(row.last_used_at))
    return Principal(name=row.name, role=row.role, region=row.region,
                     organizations=frozenset(row.organizations or ()))


def _note_use(eng: Engine, token_id: int, last_used: dt.datetime | None) -> None:
    """Write `last_used_at` when it is older than LAST_USED_EVERY (at most about once a
    minute per token and process; the WHERE keeps concurrent processes from repeating it)."""
    now_mono = time.monotonic()
    now = _now()
    if last_used is not None and (now - last_used).total_seconds() < LAST_USED_EVERY:
        return
    key = (id(eng), token_id)
    with _touched_lock:
        if now_mono - _touched.get(key, -LAST_USED_EVERY) < LAST_USED_EVERY:
            return
        if len(_touched) > 10000:
            _touched.clear()
        _touched[key] = now_mono
    cutoff = now - dt.timedelta(seconds=LAST_USED_EVERY)
    try:
        with eng.begin() as conn:
            conn.execute(update(Token).where(Token.id == token_id).where(
                (Token.last_used_at.is_(None)) | (Token.last_used_at < cutoff)
            ).values(last_used_at=now))
    except Exception as exc:  # noqa: BLE001 - bookkeeping must never refuse a request
        log.warning("last use of token %s not recorded: %s", token_id, exc)


def list_tokens(url: str, account: str | None = None) -> list[TokenInfo]:
    """Tokens (all, or of one account), oldest first."""
    with Session(engine(url)) as session:
        query = select(Token, Account.name).join(Account, Token.account_id == Account.id)
        if account is not None:
            _account(session, account)
            query = query.where(Account.name == account)
        return [
            TokenInfo(id=t.id, account=name, label=t.label, hint=t.hint,
                      created_at=_aware(t.created_at) or t.created_at,
                      last_used_at=_aware(t.last_used_at),
                      revoked_at=_aware(t.revoked_at))
            for t, name in session.execute(query.order_by(Token.id))
        ]


def principal_by_name(url: str, name: str) -> Principal:
    with Session(engine(url)) as session:
        account = _account(session, name)
        if account.disabled:
            raise LedgerError(f"учётная запись «{name}» отключена")
        return _principal(account)
