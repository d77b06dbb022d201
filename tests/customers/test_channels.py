"""The API and the staff console: 360° view (masked by role, audited, merged ids redirect),
the review queue with a merge decision, quality dashboard, refusals."""

from __future__ import annotations

from typing import Any

import pytest

from rongshu.customers import services
from rongshu.customers.models import Customer, ReviewPair, SourceRecord
from rongshu.identity import services as identity
from rongshu.kernel.models import AuditEntry
from rongshu.ledger import services as ledger
from tests.customers.builders import make_people, rows_for
from tests.identity.builders import make_customer, make_staff, staff_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> dict[str, Any]:
    people = make_people(40, seed=3)
    for source in ("core", "insurance"):
        services.do_ingest_rows(source, rows_for(people, source, share=0.9))
    # a bank customer registered with identity, also present in the insurance file
    bank = make_customer(real_name="欧阳娜娜")
    risk = make_staff("risk_officer")
    services.do_ingest_internal(risk, [bank.customer_id])
    profile = identity.access_customer(risk, bank.customer_id)
    services.do_ingest_rows(
        "insurance",
        [{"record_id": "ins-bank", "name": "歐陽娜娜", "resident_id": profile.resident_id}],
    )
    ledger.do_create_customer_account(owner_id=bank.customer_id, name="欧阳娜娜 活期")
    services.do_resolve()
    # one uncertain pair for the queue
    a = SourceRecord.objects.get(
        source="core", record_key=rows_for(people, "core", share=0.9)[0]["record_id"]
    )
    b = SourceRecord.objects.exclude(customer=a.customer).filter(source="insurance").first()
    assert b is not None
    pair = ReviewPair.objects.create(
        record_a=a, record_b=b, match_probability=0.7, model_version="t", created_at=a.received_at
    )
    return {"bank": bank, "risk": risk, "pair": pair}


def test_360_view_joins_identity_ledger_and_sources(world: dict[str, Any]) -> None:
    client = staff_client(world["risk"].user_id)
    customer = Customer.objects.get(identity_customer_id=world["bank"].customer_id)
    body = client.get(f"/api/v1/customers/unified/{customer.public_id}").json()
    assert body["display_name"] == "欧阳娜娜"  # traditional 歐陽 simplified, risk sees names
    assert {r["source"] for r in body["records"]} == {"identity", "insurance"}
    assert [a["name"] for a in body["accounts"]] == ["欧阳娜娜 活期"]
    assert {c["purpose"] for c in body["consents"]} >= {"marketing", "third_party_sharing"}
    assert body["loans"] == []  # lending fills the slot (list_loans_of); no loans here
    rid = next(a for a in body["attributes"] if a["name"] == "resident_id")
    assert rid["source"] == "identity" and "*" not in rid["value"]
    assert AuditEntry.objects.filter(
        action="customers.viewed", object_id=str(customer.public_id)
    ).exists()


def test_pii_is_masked_for_roles_without_clear_access(world: dict[str, Any]) -> None:
    rm = make_staff("relationship_manager")
    client = staff_client(rm.user_id)
    customer = Customer.objects.get(identity_customer_id=world["bank"].customer_id)
    body = client.get(f"/api/v1/customers/unified/{customer.public_id}").json()
    rid = next(a for a in body["attributes"] if a["name"] == "resident_id")
    assert "*" in rid["value"]
    assert client.get("/api/v1/customers/review").status_code == 403
    customer_client = staff_client(world["bank"].user_id)
    assert customer_client.get(f"/api/v1/customers/unified/{customer.public_id}").status_code in {
        401,
        403,
    }


def test_review_merge_through_api_redirects_the_absorbed_id(world: dict[str, Any]) -> None:
    client = staff_client(world["risk"].user_id)
    pair = world["pair"]
    queue = client.get("/api/v1/customers/review").json()
    assert str(pair.public_id) in {p["id"] for p in queue}
    ids = {pair.record_a.customer.public_id, pair.record_b.customer.public_id}
    answer = client.post(
        f"/api/v1/customers/review/{pair.public_id}/decision",
        {"decision": "merge"},
        content_type="application/json",
    )
    assert answer.status_code == 200 and answer.json()["state"] == "merge"
    again = client.post(
        f"/api/v1/customers/review/{pair.public_id}/decision",
        {"decision": "split"},
        content_type="application/json",
    )
    assert again.status_code == 409 and again.json()["code"] == "review_already_decided"
    survivors = {c.public_id for c in Customer.objects.filter(public_id__in=ids, status="active")}
    assert len(survivors) == 1
    absorbed = (ids - survivors).pop()
    body = client.get(f"/api/v1/customers/unified/{absorbed}").json()
    assert body["id"] == str(survivors.pop())


def test_console_pages(world: dict[str, Any]) -> None:
    client = staff_client(world["risk"].user_id)
    assert "欧阳娜娜" in client.get("/console/customers/?q=欧阳").content.decode()
    page = client.get("/console/customers/review/").content.decode()
    assert str(world["pair"].public_id) in page
    done = client.post(
        f"/console/customers/review/{world['pair'].public_id}/decide/", {"decision": "merge"}
    )
    assert done.status_code == 302 and done["Location"].startswith("/console/customers/")
    view = client.get(done["Location"]).content.decode()
    assert "source-records" in view
    services.do_check_quality(services.clock.get_business_date())
    dash = client.get("/console/customers/quality/").content.decode()
    assert "quality-trend" in dash and "No quality run yet" not in dash
    teller = staff_client(make_staff("teller").user_id)
    assert teller.get("/console/customers/review/").status_code == 403
