from __future__ import annotations

import uuid

import pytest

from rongshu.identity import services as identity
from rongshu.identity.errors import CustomerNotFound, UnknownPurpose
from rongshu.identity.models import ConsentRecord
from rongshu.identity.types import ConsentPurpose
from rongshu.kernel.audit import verify_chain
from rongshu.kernel.models import AuditEntry, OutboxEvent
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


def test_bulk_grant_records_what_single_grants_would() -> None:
    a, b, c = make_customer(), make_customer(), make_customer()
    identity.do_set_consent(a.customer_id, "profiling", True)
    identity.do_set_consent(b.customer_id, "profiling", True)
    identity.do_set_consent(b.customer_id, "profiling", False)
    ids = [a.customer_id, b.customer_id, c.customer_id]
    assert identity.do_grant_consents(ids, "profiling", channel="demo") == 2  # a already has it
    assert identity.do_grant_consents(ids, "profiling") == 0
    assert all(identity.has_consent(i, "profiling") for i in ids)
    granted = OutboxEvent.objects.filter(event_type="identity.ConsentGranted")
    assert sorted(e.payload["customer_id"] for e in granted) == sorted([*ids, b.customer_id])
    assert AuditEntry.objects.filter(action="identity.consent_granted").count() == 4
    assert verify_chain().ok
    with pytest.raises(UnknownPurpose):
        identity.do_grant_consents(ids, "astrology")
    with pytest.raises(CustomerNotFound):
        identity.do_grant_consents([str(uuid.uuid4())], "profiling")
