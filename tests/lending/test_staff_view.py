"""The staff side: a customer's loans in the 360° view (query, console page, API)."""

from __future__ import annotations

import uuid

import pytest

from rongshu.kernel.money import Money
from rongshu.lending import queries, services
from rongshu.lending.models import ModelVersion
from tests.lending.conftest import make_borrower, step_up

pytestmark = pytest.mark.django_db


def test_list_loans_of(active_model: ModelVersion) -> None:
    b = make_borrower()
    assert queries.list_loans_of(b.customer_id) == []
    app = services.do_apply(
        b.principal,
        product_code="kuaidai",
        amount=Money.parse("8000.00", "CNY"),
        term_months=6,
        method="equal_principal",
        consent=True,
    )
    step_up(b)
    loan = services.do_accept(b.principal, app.public_id)
    [row] = queries.list_loans_of(b.customer_id)
    assert row.loan_id == loan.public_id and row.state == "active"
    assert row.principal_minor == row.outstanding_minor == 8_000_00
    assert row.next_due_on == loan.instalments.order_by("seq").first().due_on  # type: ignore[union-attr]
    assert row.bucket == "current" and "8000.00" in str(row)
    assert queries.list_loans_of(uuid.uuid4()) == []


def test_loans_in_the_360_view(active_model: ModelVersion) -> None:
    from rongshu.customers import services as customers
    from rongshu.customers.models import Customer
    from tests.identity.builders import make_staff, staff_client

    b = make_borrower()
    app = services.do_apply(
        b.principal,
        product_code="kuaidai",
        amount=Money.parse("5000.00", "CNY"),
        term_months=3,
        method="annuity",
        consent=True,
    )
    step_up(b)
    loan = services.do_accept(b.principal, app.public_id)
    risk = make_staff("risk_officer")
    customers.do_ingest_internal(risk, [str(b.customer_id)])
    customers.do_resolve()
    unified = Customer.objects.get(identity_customer_id=str(b.customer_id))
    client = staff_client(risk.user_id)
    body = client.get(f"/api/v1/customers/unified/{unified.public_id}").json()
    assert [x["loan_id"] for x in body["loans"]] == [str(loan.public_id)]
    assert body["loans"][0]["outstanding_minor"] == 5_000_00
    page = client.get(f"/console/customers/{unified.public_id}/")
    assert page.status_code == 200 and "5000.00" in page.content.decode()
