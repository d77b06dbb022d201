from __future__ import annotations

import uuid
from typing import Any

import pytest

from rongshu.ledger import services
from rongshu.ledger.models import Account
from rongshu.ledger.types import TransferIn


def make_account(**overrides: Any) -> Account:
    fields: dict[str, Any] = {
        "name": "test account",
        "currency": "CNY",
        "kind": Account.LIABILITY,
        "owner_type": Account.OWNER_CUSTOMER,
        "owner_id": "c-1",
        "debits_must_not_exceed_credits": True,
    }
    fields.update(overrides)
    return services.do_create_account(**fields)


def make_bank_account(**overrides: Any) -> Account:
    """An unconstrained bank account (funding source in tests)."""
    fields: dict[str, Any] = {
        "name": "bank funding",
        "kind": Account.ASSET,
        "owner_type": Account.OWNER_BANK,
        "debits_must_not_exceed_credits": False,
    }
    fields.update(overrides)
    return make_account(**fields)


def tr(debit: Account | None, credit: Account | None, amount: int | None, **kw: Any) -> TransferIn:
    fields: dict[str, Any] = {
        "transfer_id": kw.pop("transfer_id", None) or uuid.uuid4(),
        "debit_account": debit.public_id if debit else None,
        "credit_account": credit.public_id if credit else None,
        "amount": amount,
        "currency": kw.pop("currency", "CNY"),
        "code": kw.pop("code", "test"),
    }
    fields.update(kw)
    return TransferIn(**fields)


def fresh(account: Account) -> Account:
    return Account.objects.get(pk=account.pk)


@pytest.fixture
def bank(db: None) -> Account:
    return make_bank_account()
