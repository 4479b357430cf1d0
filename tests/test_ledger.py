import pytest
from sqlalchemy import create_engine, text

from hub import ledger
from tests.factories import inn


@pytest.fixture
def url(tmp_path):
    return f"sqlite:///{tmp_path / 'ledger.sqlite'}"


def test_token_is_shown_once_stored_hashed_and_authenticates(url):
    ledger.create_account(url, "college", "registrar", organizations=[inn(2)])
    issued = ledger.issue_token(url, "college")
    principal = ledger.authenticate(url, issued.secret)
    assert principal.role == "registrar" and principal.organizations == {inn(2)}
    with create_engine(url).connect() as conn:
        stored = conn.execute(text("SELECT digest, hint FROM tokens")).one()
    assert issued.secret not in stored and stored[0] == ledger.digest(issued.secret)
    assert ledger.authenticate(url, issued.secret + "x") is None
    assert ledger.authenticate(url, "Bearer nonsense") is None


def test_revoked_token_and_disabled_account_stop_working(url):
    ledger.create_account(url, "viewer", "viewer")
    one, two = ledger.issue_token(url, "viewer"), ledger.issue_token(url, "viewer")
    ledger.revoke_token(url, one.id)
    assert ledger.authenticate(url, one.secret) is None
    assert ledger.authenticate(url, two.secret) is not None
    ledger.disable_account(url, "viewer")
    assert ledger.authenticate(url, two.secret) is None
    with pytest.raises(ledger.LedgerError, match="отключена"):
        ledger.issue_token(url, "viewer")


def test_account_rules(url):
    with pytest.raises(ledger.LedgerError, match="регион"):
        ledger.create_account(url, "op", "operator")
    with pytest.raises(ledger.LedgerError, match="неверный ИНН"):
        ledger.create_account(url, "reg", "registrar", organizations=["1234567890"])
    with pytest.raises(ledger.LedgerError, match="неизвестная роль"):
        ledger.create_account(url, "x", "superuser")
    ledger.create_account(url, "op", "operator", region="52")
    with pytest.raises(ledger.LedgerError, match="уже существует"):
        ledger.create_account(url, "op", "operator", region="52")
    assert [p.name for p, _, _ in ledger.list_accounts(url)] == ["op"]
