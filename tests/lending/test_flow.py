"""Apply → decide → accept with a one-time code → disburse through the ledger; the refusals."""

from __future__ import annotations

import pytest

from rongshu.identity.errors import StepUpRequired
from rongshu.kernel.money import Money
from rongshu.lending import bureau, services
from rongshu.lending.errors import (
    AccountUnavailable,
    AmountOutOfBounds,
    ApplicationOpen,
    ConsentRequired,
    KycIncomplete,
    MethodNotOffered,
    NoActiveModel,
    TermOutOfBounds,
)
from rongshu.lending.models import Application, Instalment, Loan, ModelVersion
from tests.accounts.builders import customer
from tests.lending.conftest import CleanBureau, make_borrower, step_up

pytestmark = pytest.mark.django_db


def cny(text: str) -> Money:
    return Money.parse(text, "CNY")


def apply(b: object, amount: str = "20000.00", **kw: object) -> Application:
    args: dict[str, object] = {
        "product_code": "kuaidai",
        "amount": cny(amount),
        "term_months": 12,
        "method": "annuity",
        "consent": True,
    }
    args.update(kw)
    return services.do_apply(b.principal, **args)  # type: ignore[attr-defined,arg-type]


def test_apply_accept_and_disburse(active_model: ModelVersion) -> None:
    b = make_borrower()
    before = b.balance()
    app = apply(b)
    assert app.state == "approved", (app.policy_codes, app.score, app.limit_minor)
    assert app.model_version_id == active_model.pk
    assert app.annual_rate is not None and app.annual_rate > 0
    with pytest.raises(StepUpRequired):
        services.do_accept(b.principal, app.public_id)
    assert b.balance() == before  # nothing moved without the code
    step_up(b)
    loan = services.do_accept(b.principal, app.public_id)
    assert b.balance() == before + 20_000_00
    assert loan.model_version_id == active_model.pk
    rows = list(Instalment.objects.filter(loan=loan).order_by("seq"))
    assert len(rows) == 12
    assert sum(r.principal_minor for r in rows) == 20_000_00
    assert Application.objects.get(pk=app.pk).state == "disbursed"


def test_refusals_leave_nothing_behind(active_model: ModelVersion) -> None:
    b = make_borrower()
    with pytest.raises(AmountOutOfBounds):
        apply(b, "10.00")
    with pytest.raises(AmountOutOfBounds):
        apply(b, "300000.01")
    with pytest.raises(TermOutOfBounds):
        apply(b, term_months=48)
    with pytest.raises(MethodNotOffered):
        apply(b, product_code="shanrong_edai", method="equal_principal")
    with pytest.raises(ConsentRequired):
        apply(b, consent=False)
    no_kyc = customer("赵六")
    with pytest.raises(KycIncomplete):
        services.do_apply(
            no_kyc.principal,
            product_code="kuaidai",
            amount=cny("5000.00"),
            term_months=6,
            method="annuity",
            consent=True,
        )
    assert Application.objects.count() == 0
    apply(b)
    with pytest.raises(ApplicationOpen):
        apply(b)
    assert Application.objects.count() == 1


def test_no_active_model_no_decision(db: None) -> None:
    b = make_borrower()
    with pytest.raises(NoActiveModel):
        apply(b)
    assert Application.objects.count() == 0


def test_bureau_no_record_is_referred_and_reviewed(
    active_model: ModelVersion, clean_bureau: CleanBureau
) -> None:
    from tests.lending.conftest import risk_officers

    b = make_borrower()
    clean_bureau.answers[b.customer_id] = bureau.BureauReport("no_record")
    app = apply(b)
    assert app.state == "referred"
    officer, _ = risk_officers()
    reviewed = services.do_review(officer, app.public_id, approve=True, note="payroll verified")
    assert reviewed.state == "approved"


def test_frozen_account_refuses_disbursement(active_model: ModelVersion) -> None:
    from rongshu.accounts import services as accounts

    b = make_borrower()
    app = apply(b)
    accounts.do_freeze_my_account(b.principal, b.account.public_id)
    step_up(b)
    with pytest.raises(AccountUnavailable):
        services.do_accept(b.principal, app.public_id)
    assert Loan.objects.count() == 0
    assert Application.objects.get(pk=app.pk).state == "approved"
