"""A whole loan life — daily accrual posted to the interest receivable, auto-debit, an early
partial repayment (broken period at ACT/360), a late instalment with penalty interest, full
early repayment — reconciles to the ledger exactly."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pytest

from rongshu.kernel import clock
from rongshu.kernel.money import Money
from rongshu.ledger import services as ledger
from rongshu.ledger.models import Account, Transfer
from rongshu.lending import queries, services
from rongshu.lending.errors import RepaymentTooLarge
from rongshu.lending.models import Instalment, Loan, ModelVersion, Repayment
from rongshu.lending.servicing import (
    INTEREST_RECEIVABLE,
    bucket,
    payoff,
    run_accrual,
    run_auto_debit,
)
from tests.lending.conftest import Borrower, make_borrower, step_up

pytestmark = pytest.mark.django_db
START = dt.date(2026, 1, 10)


def eod_until(day: dt.date) -> None:
    today = clock.get_business_date()
    while today < day:
        run_auto_debit(today)
        run_accrual(today)
        today += dt.timedelta(days=1)
        clock.do_set_business_date(today)


def net(code: str) -> tuple[int, int]:
    a = Account.objects.get(code=code)
    return a.debits_posted, a.credits_posted


def drain(b: Borrower) -> int:
    """Move the borrower's money out (to suspense) so the next due date finds the account empty."""
    left = b.balance()
    ledger.do_transfer(
        debit=b.account.ledger_account_id,
        credit=ledger.get_chart_account("suspense.CNY").public_id,
        amount=left,
        currency="CNY",
        code="cash_withdrawal",
    )
    return left


def test_loan_life_reconciles(active_model: ModelVersion) -> None:
    clock.do_set_business_date(START)
    b = make_borrower()
    r0, i0 = net("loans.receivable.CNY"), net("income.interest.CNY")
    ir0 = net(INTEREST_RECEIVABLE)
    app = services.do_apply(
        b.principal,
        product_code="kuaidai",
        amount=Money.parse("12000.00", "CNY"),
        term_months=6,
        method="annuity",
        consent=True,
    )
    assert app.state == "approved", app.policy_codes
    step_up(b)
    loan = services.do_accept(b.principal, app.public_id)

    # month 1: the interest accrues daily into the receivable; auto-debit on the due date
    first = Instalment.objects.get(loan=loan, seq=1)
    eod_until(first.due_on - dt.timedelta(days=10))
    first.refresh_from_db()
    part = first.interest_accrued_minor
    assert 0 < part < first.interest_minor
    assert net(INTEREST_RECEIVABLE)[0] - ir0[0] == part == net("income.interest.CNY")[1] - i0[1]
    eod_until(first.due_on)
    first.refresh_from_db()
    assert first.interest_accrued_minor == first.interest_minor  # all accrued by the due date
    eod_until(first.due_on + dt.timedelta(days=1))
    first.refresh_from_db()
    assert first.paid_on == first.due_on and not first.was_late
    accruals = Transfer.objects.filter(
        reference=f"loan {loan.public_id}", code="loan_interest_accrual"
    )
    days = (first.due_on + dt.timedelta(days=1) - START).days
    assert accruals.count() == days  # one posting per loan and business date
    # a rerun of the same business date posts nothing
    assert run_accrual(first.due_on)["posted"] == 0 and accruals.count() == days

    # early partial repayment: 3,000 of principal; the rest of the schedule is recalculated
    before = list(
        Instalment.objects.filter(loan=loan, seq__gt=1).values_list("principal_minor", flat=True)
    )
    eod_until(clock.get_business_date() + dt.timedelta(days=4))
    loan.refresh_from_db()
    accrued_before = loan.accrued_interest
    assert accrued_before > 0
    services.do_repay(b.principal, loan.public_id, Money.parse("3000.00", "CNY"))
    after = list(
        Instalment.objects.filter(loan=loan, seq__gt=1).values_list("principal_minor", flat=True)
    )
    loan.refresh_from_db()
    assert sum(after) == loan.outstanding_minor < sum(before)
    # the broken period: accrued on the old balance + ACT/360 on the new one for the days left
    nxt = Instalment.objects.get(loan=loan, seq=2)
    days_left = (nxt.due_on - clock.get_business_date()).days
    expected = accrued_before + Decimal(loan.outstanding_minor) * loan.annual_rate * days_left / 360
    assert nxt.interest_minor == int(expected.quantize(Decimal(1), rounding=ROUND_HALF_UP))

    # month 2: the account is empty on the due date → late, DPD, penalty interest
    kept = drain(b)
    second = Instalment.objects.get(loan=loan, seq=2)
    eod_until(second.due_on + dt.timedelta(days=10))
    loan.refresh_from_db()
    second.refresh_from_db()
    assert loan.dpd == 9 and bucket(loan.dpd) == "1-30"
    assert second.penalty_minor > 0 and second.paid_on is None
    assert [x.pk for x in queries.list_collections()] == [loan.pk]

    # too much is refused; the money comes back and a repayment clears the arrears
    ledger.do_transfer(
        debit=ledger.get_chart_account("suspense.CNY").public_id,
        credit=b.account.ledger_account_id,
        amount=kept,
        currency="CNY",
        code="cash_deposit",
    )
    with pytest.raises(RepaymentTooLarge):
        services.do_repay(b.principal, loan.public_id, Money.parse("999999.00", "CNY"))
    services.do_repay(b.principal, loan.public_id, Money(second.due_minor, "CNY"))
    second.refresh_from_db()
    loan.refresh_from_db()
    assert second.paid_on is not None and second.was_late and loan.dpd == 0

    # full early repayment: principal + interest accrued since the last due date
    eod_until(clock.get_business_date() + dt.timedelta(days=5))
    loan.refresh_from_db()
    total = payoff(loan, clock.get_business_date()).total
    services.do_repay(b.principal, loan.public_id, Money(total, "CNY"))
    loan.refresh_from_db()
    assert loan.state == Loan.CLOSED and loan.outstanding_minor == 0

    reps = Repayment.objects.filter(loan=loan)
    principal_paid = sum(r.principal_minor for r in reps)
    interest_paid = sum(r.interest_minor for r in reps)
    penalty_paid = sum(r.penalty_minor for r in reps)
    assert principal_paid == 12_000_00 == loan.principal_paid_minor
    assert penalty_paid > 0 and interest_paid > 0
    r1, i1 = net("loans.receivable.CNY"), net("income.interest.CNY")
    # receivables: debited by the disbursement, credited by principal repaid
    assert r1[0] - r0[0] == 12_000_00
    assert r1[1] - r0[1] == principal_paid
    assert (r1[0] - r0[0]) - (r1[1] - r0[1]) == 12_000_00 - principal_paid == 0
    # interest: accrued daily (Dr receivable / Cr income), repayments settle the receivable
    ir1 = net(INTEREST_RECEIVABLE)
    accrued = sum(t.amount for t in accruals)
    assert accrued == loan.interest_accrued_minor == interest_paid == loan.interest_paid_minor
    assert i1[1] - i0[1] == accrued and i1[0] == i0[0]
    assert ir1[0] - ir0[0] == accrued and ir1[1] - ir0[1] == interest_paid
    assert net("income.penalty_interest.CNY")[1] == penalty_paid
    # every movement on the borrower's account: the disbursement in, the repayments out
    loan_moves = Transfer.objects.filter(reference=f"loan {loan.public_id}")
    out = sum(
        t.amount for t in loan_moves if t.debit_account.public_id == b.account.ledger_account_id
    )
    assert {t.code for t in loan_moves} == {
        "loan_interest_accrual",
        "loan_interest",
        "loan_principal",
        "loan_penalty",
    }
    assert out == sum(r.amount_minor for r in reps) == principal_paid + interest_paid + penalty_paid
