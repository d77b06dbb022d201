"""The nightly pre-approval reads birth dates in bulk through identity and applies the age
policy (18–60 on the business date) before scoring."""

from __future__ import annotations

import datetime as dt

import pytest

from rongshu.identity import queries as identity_queries
from rongshu.kernel import clock
from rongshu.lending import queries
from rongshu.lending.models import Borrower, ModelVersion
from rongshu.lending.preapproval import run_preapproval
from tests.lending.conftest import make_borrower

pytestmark = pytest.mark.django_db


def test_birth_dates_in_bulk_and_the_age_policy(active_model: ModelVersion) -> None:
    clock.do_set_business_date(dt.date(2026, 3, 1))
    young = make_borrower(name="青年", born="19900615")
    old = make_borrower(name="老年", born="19550101")
    minor = make_borrower(name="少年", born="20100101")
    ids = [young.customer_id, old.customer_id, minor.customer_id]
    assert identity_queries.birth_dates_of(ids) == {
        young.customer_id: dt.date(1990, 6, 15),
        old.customer_id: dt.date(1955, 1, 1),
        minor.customer_id: dt.date(2010, 1, 1),
    }
    assert not Borrower.objects.exists()  # nobody has applied: no cached birth date
    result = run_preapproval(clock.get_business_date())
    assert result["with_age"] == result["customers"] >= 3
    assert queries.find_offer(young.customer_id) is not None
    assert queries.find_offer(old.customer_id) is None  # 71
    assert queries.find_offer(minor.customer_id) is None  # 16
