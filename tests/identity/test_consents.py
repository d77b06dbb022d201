from __future__ import annotations

import pytest

from rongshu.identity import services as identity
from rongshu.identity.errors import UnknownPurpose
from rongshu.identity.models import ConsentRecord
from rongshu.identity.types import ConsentPurpose
from rongshu.kernel.models import OutboxEvent
from tests.identity.builders import make_customer

pytestmark = pytest.mark.django_db


def test_grant_withdraw_history_and_events() -> None:
    customer = make_customer()
    assert not identity.has_consent(customer.customer_id, ConsentPurpose.PROFILING)
    identity.do_set_consent(customer.customer_id, "profiling", True, notice_version="2026-01")
    identity.do_set_consent(customer.customer_id, "profiling", True, notice_version="2026-01")
    assert identity.has_consent(customer.customer_id, "profiling")
    state = identity.do_set_consent(customer.customer_id, "profiling", False)
    assert not state.granted and not identity.has_consent(customer.customer_id, "profiling")
    history = list(ConsentRecord.objects.order_by("at", "pk").values_list("granted", flat=True))
    assert history == [True, False]  # the repeated grant recorded nothing
    withdrawn = OutboxEvent.objects.get(event_type="identity.ConsentWithdrawn")
    assert withdrawn.payload["customer_id"] == customer.customer_id
    assert withdrawn.payload["purpose"] == "profiling"
    assert withdrawn.payload["notice_version"] == "2026-01"


def test_a_new_notice_version_is_a_new_record() -> None:
    customer = make_customer()
    identity.do_set_consent(customer.customer_id, "marketing", True, notice_version="2026-01")
    identity.do_set_consent(customer.customer_id, "marketing", True, notice_version="2026-07")
    versions = [
        s.notice_version
        for s in identity.list_consents(customer.customer_id)
        if s.purpose == "marketing"
    ]
    assert versions == ["2026-07"] and ConsentRecord.objects.count() == 2


def test_every_purpose_is_listed_and_unknown_ones_refused() -> None:
    customer = make_customer()
    assert [s.purpose for s in identity.list_consents(customer.customer_id)] == [
        p.value for p in ConsentPurpose
    ]
    with pytest.raises(UnknownPurpose):
        identity.has_consent(customer.customer_id, "astrology")
