"""The lending demo step: a four-eyes approved active model, the demo customer's loan with its
schedule and a pre-approved line; idempotent."""

from __future__ import annotations

import pytest

from rongshu.lending import services
from rongshu.lending.models import Instalment, Loan, ModelVersion, Offer
from rongshu.simulation import lending_demo
from rongshu.simulation.accounts_demo import load_accounts_demo
from rongshu.simulation.identity_demo import load_identity_demo
from rongshu.simulation.ledger_demo import load_ledger_demo
from tests.lending.conftest import model_bytes

pytestmark = pytest.mark.django_db


class _Small:
    @staticmethod
    def to_bytes() -> bytes:
        return model_bytes()


def test_lending_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "train_bank_model", lambda: _Small())
    load_identity_demo()
    load_ledger_demo()
    load_accounts_demo()
    first = lending_demo.load_lending_demo()
    assert "loan" in first
    model = ModelVersion.objects.get()
    assert (
        model.state == "active" and model.approved_by and model.approved_by != (model.submitted_by)
    )
    loan = Loan.objects.get()
    assert Instalment.objects.filter(loan=loan).count() == 12
    # the demo customer was born in 1990: inside the age policy (18–60), a pre-approved line
    offer = Offer.objects.get(customer_id=loan.customer_id)
    assert offer.limit_minor > 0
    assert "demo offer 0 CNY" not in first
    lending_demo.load_lending_demo()
    assert (Loan.objects.count(), ModelVersion.objects.count()) == (1, 1)
