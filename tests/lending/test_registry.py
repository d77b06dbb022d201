"""Model registry four-eyes, and write-off four-eyes through the ledger."""

from __future__ import annotations

import pytest

from rongshu.identity.types import Role
from rongshu.kernel.errors import PermissionDenied
from rongshu.kernel.money import Money
from rongshu.ledger.models import Account
from rongshu.lending import services
from rongshu.lending.errors import FourEyes, InvalidState
from rongshu.lending.models import Loan, ModelVersion
from tests.identity.builders import make_staff
from tests.lending.conftest import make_borrower, model_bytes, risk_officers, step_up

pytestmark = pytest.mark.django_db


def test_model_needs_a_second_officer_and_approval_before_activation() -> None:
    a, b = risk_officers()
    row = services.do_register_model(a, model_bytes())
    assert row.state == "draft" and len(row.sha256) == 64
    with pytest.raises(InvalidState):
        services.do_activate_model(b, row.public_id)  # not approved yet
    with pytest.raises(FourEyes):
        services.do_approve_model(a, row.public_id)  # the submitter
    teller = make_staff(Role.TELLER, username="teller-registry")
    with pytest.raises(PermissionDenied):
        services.do_approve_model(teller, row.public_id)
    services.do_approve_model(b, row.public_id)
    services.do_activate_model(a, row.public_id)
    assert ModelVersion.objects.get().state == "active"


def test_write_off_four_eyes(active_model: ModelVersion) -> None:
    b = make_borrower()
    app = services.do_apply(
        b.principal,
        product_code="kuaidai",
        amount=Money.parse("6000.00", "CNY"),
        term_months=6,
        method="interest_first",
        consent=True,
    )
    step_up(b)
    loan = services.do_accept(b.principal, app.public_id)
    first, second = risk_officers()
    request = services.do_request_write_off(first, loan.public_id, reason="fraud confirmed")
    with pytest.raises(FourEyes):
        services.do_approve_write_off(first, request.public_id)
    services.do_approve_write_off(second, request.public_id)
    loan.refresh_from_db()
    assert loan.state == Loan.WRITTEN_OFF and loan.written_off_minor == 6_000_00
    loss = Account.objects.get(code="expense.credit_loss.CNY")
    assert loss.debits_posted == 6_000_00


def test_model_upload_api() -> None:
    import base64
    import hashlib

    from tests.identity.builders import staff_client

    a, b = risk_officers()
    client = staff_client(a.user_id)
    data = model_bytes()
    body = {"artifact_base64": base64.b64encode(data).decode()}
    r = client.post("/api/v1/lending/staff/models", body, content_type="application/json")
    assert r.status_code == 201, r.content
    out = r.json()
    assert out["state"] == "draft" and out["sha256"] == hashlib.sha256(data).hexdigest()
    assert out["submitted_by"] == a.principal_key
    row = ModelVersion.objects.get(public_id=out["id"])
    assert bytes(row.artifact) == data
    # the same bytes again: the same version; broken bytes or base64: artifact_invalid
    again = client.post("/api/v1/lending/staff/models", body, content_type="application/json")
    assert again.status_code == 201 and again.json()["id"] == out["id"]
    for bad in ("%%%not-base64", base64.b64encode(b'{"format": "other"}').decode()):
        r = client.post(
            "/api/v1/lending/staff/models",
            {"artifact_base64": bad},
            content_type="application/json",
        )
        assert r.status_code == 400 and r.json()["code"] == "artifact_invalid", r.content
    assert ModelVersion.objects.count() == 1
    # the second officer approves through the same API family
    other = staff_client(b.user_id)
    approved = other.post(f"/api/v1/lending/staff/models/{out['id']}/approve")
    assert approved.status_code == 200 and approved.json()["state"] == "approved"
