"""Identity's end-of-day job purges tokens long past their expiry."""

from __future__ import annotations

import datetime as dt

import pytest

from rongshu.identity import services as identity
from rongshu.identity.models import AccessToken, RefreshToken
from rongshu.kernel import clock
from rongshu.kernel.eod import do_run_eod, list_eod_jobs
from tests.identity.builders import make_customer

pytestmark = pytest.mark.django_db


def test_eod_purges_expired_tokens_and_keeps_live_ones() -> None:
    assert "identity.purge_expired_tokens" in list_eod_jobs()
    customer = make_customer()
    identity.do_issue_app_tokens(customer.user_id)
    assert AccessToken.objects.count() == 1 and RefreshToken.objects.count() == 1
    do_run_eod()
    assert AccessToken.objects.count() == 1  # still valid: kept
    with clock.frozen_time(clock.now() + dt.timedelta(days=120)):
        result = do_run_eod()
    assert "identity.purge_expired_tokens" in result.ran
    assert AccessToken.objects.count() == 0 and RefreshToken.objects.count() == 0
