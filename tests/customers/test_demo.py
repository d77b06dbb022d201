"""The demo step: multi-source records resolved, the demo customer joined across the bank's
registry and a traditional-character insurance record, pairs left for review; idempotent."""

from __future__ import annotations

import pytest

from rongshu.customers.models import Customer, ReviewPair, SourceRecord
from rongshu.simulation.customers_demo import load_customers_demo
from rongshu.simulation.identity_demo import load_identity_demo

pytestmark = pytest.mark.django_db


def test_demo_resolves_and_is_idempotent() -> None:
    load_identity_demo()
    first = load_customers_demo()
    demo = SourceRecord.objects.get(source="insurance", record_key="INS-DEMO-0001")
    assert demo.std["resident_id"] == "110105199003070025" and demo.std["name"] == "张伟"
    mine = SourceRecord.objects.get(source="identity")
    assert demo.customer_id == mine.customer_id is not None
    assert ReviewPair.objects.filter(state="pending").exists()
    before = sorted(Customer.objects.values_list("public_id", "updated_at"))
    assert load_customers_demo() == first
    assert sorted(Customer.objects.values_list("public_id", "updated_at")) == before
