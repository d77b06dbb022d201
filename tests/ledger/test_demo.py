from __future__ import annotations

import pytest

from rongshu.ledger import queries
from rongshu.ledger.models import Account, Hold, Transfer
from rongshu.simulation.ledger_demo import load_ledger_demo


@pytest.mark.django_db
def test_demo_step_is_idempotent() -> None:
    load_ledger_demo()
    transfers = Transfer.objects.count()
    accounts = Account.objects.count()
    load_ledger_demo()
    assert (Transfer.objects.count(), Account.objects.count()) == (transfers, accounts)
    assert Account.objects.filter(owner_id="demo-customer-1").count() == 1
    assert Hold.objects.filter(state=Hold.PENDING).count() == 1
    assert queries.get_trial_balance().balanced
    zhang = Account.objects.get(owner_id="demo-customer-1")
    assert zhang.posted_balance == 52_000_00 - 3_500_00 - 2_00
    assert zhang.available_balance == zhang.posted_balance - 199_00


@pytest.mark.django_db
def test_ledger_command() -> None:
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("ledger", "chart", "--currency", "USD", stdout=out)
    from rongshu.ledger.chart import CHART

    assert len(CHART) >= 13
    assert f"{len(CHART)} chart accounts present" in out.getvalue()
    out = io.StringIO()
    call_command("ledger", "trial-balance", stdout=out)
    assert out.getvalue().strip().endswith("balanced")
    out = io.StringIO()
    call_command("ledger", "expire-holds", stdout=out)
    assert "0 holds expired" in out.getvalue()
