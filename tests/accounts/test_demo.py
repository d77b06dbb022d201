"""The demo step: the demo customer gets a Type I and a Type II account with movements and
messages; running it again changes nothing."""

from __future__ import annotations

import pytest

from rongshu.accounts.models import CustomerAccount, DepositCertificate, Notification
from rongshu.ledger import queries as ledger_queries
from rongshu.simulation.accounts_demo import load_accounts_demo
from rongshu.simulation.identity_demo import load_identity_demo

pytestmark = pytest.mark.django_db


def test_demo_accounts_are_idempotent() -> None:
    load_identity_demo()
    first = load_accounts_demo()
    assert first.startswith("opened Type I, Type II; 3 new transfers; deposit certificate ")
    again = load_accounts_demo()
    assert again.startswith("opened nothing new; 0 new transfers; deposit certificate ")
    assert first.split("deposit certificate ")[1] == again.split("deposit certificate ")[1]
    cert = DepositCertificate.objects.get()
    assert (cert.amount_minor, cert.state) == (10_000_00, "frozen")
    type1 = CustomerAccount.objects.get(account_type=1)
    type2 = CustomerAccount.objects.get(account_type=2)
    assert type2.bound_ledger_account_id == type1.ledger_account_id
    assert ledger_queries.get_account(type1.ledger_account_id).balance == 13_000_00
    assert ledger_queries.get_account(type1.ledger_account_id).available == 3_000_00
    assert ledger_queries.get_account(type2.ledger_account_id).balance == 1_968_00
    assert Notification.objects.filter(kind="movement").count() == 5  # 4 + the certificate hold
