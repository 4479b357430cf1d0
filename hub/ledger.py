"""The hub's own ledger (accounts and API tokens) in SQL: SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    String,
    create_engine,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from graph.access import ROLES, Principal
from graph.checksums import inn_is_valid

TOKEN_PREFIX = "rrh_"


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
    account: Mapped[Account] = relationship(back_populates="tokens")


class LedgerError(Exception):
    pass


@dataclass(frozen=True)
class IssuedToken:
    id: int
    secret: str  # shown once, never stored


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@lru_cache
def engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        from pathlib import Path

        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    eng = create_engine(url, pool_pre_ping=True)
    Base.metadata.create_all(eng)
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


def authenticate(url: str, secret: str) -> Principal | None:
    """The account behind a bearer token, or None (unknown, revoked or disabled)."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    with Session(engine(url)) as session:
        token = session.scalar(select(Token).where(Token.digest == digest(secret)))
        if token is None or token.revoked_at is not None or token.account.disabled:
            return None
        return _principal(token.account)


def principal_by_name(url: str, name: str) -> Principal:
    with Session(engine(url)) as session:
        account = _account(session, name)
        if account.disabled:
            raise LedgerError(f"учётная запись «{name}» отключена")
        return _principal(account)
