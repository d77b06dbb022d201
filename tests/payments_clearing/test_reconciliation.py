"""End-of-day reconciliation of the settlement account against the network's camt.053.

Payment orders are not built here: a callback posts the ledger transfers a payment order would
(customer → settlement on ``settled``, back on ``returned``), with the end-to-end id as the
transfer's ``reference``."""

from __future__ import annotations

import datetime as dt
import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from rongshu.kernel import clock
from rongshu.kernel.eod import list_eod_jobs
from rongshu.kernel.money import Money
from rongshu.ledger import services as ledger
from rongshu.payments.clearing import (
    ClearingOutcome,
    do_reconcile,
    get_network,
    on_outcome,
    process_inbound,
)
from rongshu.payments.clearing.models import ReconciliationBreakRecord, ReconciliationRun, SimEntry
from rongshu.payments.clearing.reconciliation import list_reconciliation_breaks, reconcile_all
from rongshu.payments.clearing.simulator import simulator_overrides
from tests.payments_clearing.conftest import WORKDAY_10AM, make_instruction

pytestmark = pytest.mark.django_db

DAY = WORKDAY_10AM.date()


@pytest.fixture
def customer() -> uuid.UUID:
    with clock.frozen_time(WORKDAY_10AM - dt.timedelta(days=1)):
        account = ledger.do_create_customer_account(owner_id="c-1", name="林小榕")
        ledger.do_transfer(
            debit=ledger.get_chart_account("equity.capital.CNY").public_id,
            credit=account.public_id,
            amount=10_000_000,
            currency="CNY",
            code="test.funding",
        )
    return account.public_id


def settlement(network: str = "ibps") -> uuid.UUID:
    return ledger.get_chart_account(get_network(network).settlement_account_code()).public_id


def book(customer: uuid.UUID, outcome: ClearingOutcome) -> None:
    """What a payment order does when it hears the outcome (idempotent by transfer id)."""
    if outcome.duplicate or outcome.status == "rejected":
        return
    assert outcome.amount is not None
    out = outcome.status == "settled"
    ledger.do_transfer(
        transfer_id=uuid.uuid5(uuid.NAMESPACE_URL, f"{outcome.instruction_id}/{outcome.status}"),
        debit=customer if out else settlement(outcome.network),
        credit=settlement(outcome.network) if out else customer,
        amount=outcome.amount.minor,
        currency=outcome.amount.currency,
        code="payment.interbank" if out else "payment.return",
        reference=outcome.end_to_end_id,
    )


def run_day(customer: uuid.UUID, amounts: list[str], **faults: object) -> list[str]:
    on_outcome(lambda o: book(customer, o))
    e2e_ids: list[str] = []
    with simulator_overrides(**faults):
        for n, amount in enumerate(amounts):
            # fixed ids: the simulator's fates (seeded by id) are the same on every run
            instruction = make_instruction(
                instruction_id=f"recon{n:02d}",
                end_to_end_id=f"e2e-recon{n:02d}",
                amount=Money.parse(amount, "CNY"),
            )
            with clock.frozen_time(WORKDAY_10AM + dt.timedelta(minutes=n)):
                get_network("ibps").submit(instruction)
            e2e_ids.append(instruction.end_to_end_id)
    for hours in (1, 4, 8):
        with clock.frozen_time(WORKDAY_10AM + dt.timedelta(hours=hours)):
            process_inbound()
    return e2e_ids


def test_consistent_books_reconcile_without_breaks(customer: uuid.UUID) -> None:
    run_day(
        customer,
        ["100.00", "2500.50", "49999.99", "0.01"],
        duplicate_rate=0.5,
        late_return_rate=0.5,
        late_return_min_s=600,
        late_return_max_s=3600,
    )
    assert SimEntry.objects.filter(direction="CRDT").exists()  # some came back
    with clock.frozen_time(WORKDAY_10AM + dt.timedelta(hours=9)):
        report = do_reconcile("ibps", DAY)
    assert report.breaks == []
    assert report.clean
    assert report.ours_count == report.theirs_count == SimEntry.objects.count()
    assert report.matched == report.theirs_count
    run = ReconciliationRun.objects.get(network="ibps", business_date=DAY)
    assert (run.breaks_count, run.matched) == (0, report.matched)


def test_injected_inconsistencies_are_the_right_breaks(customer: uuid.UUID) -> None:
    e2e = run_day(customer, ["100.00", "200.00"])
    later = WORKDAY_10AM + dt.timedelta(hours=2)
    with clock.frozen_time(later):
        # ours only: a posting the network never saw
        ledger.do_transfer(
            debit=customer,
            credit=settlement(),
            amount=5_000,
            currency="CNY",
            code="payment.interbank",
            reference="OURS-ONLY-1",
        )
        # amount mismatch: a second posting for a settled payment
        ledger.do_transfer(
            debit=customer,
            credit=settlement(),
            amount=1,
            currency="CNY",
            code="payment.interbank",
            reference=e2e[1],
        )
    # theirs only: the network booked something we did not
    SimEntry.objects.create(
        network="ibps",
        entry_ref="EXTRA1",
        booked_at=later,
        booked_on=DAY,
        direction="CRDT",
        amount_minor=4_200,
        currency="CNY",
        end_to_end_id="THEIRS-ONLY-1",
        instruction_id="THEIRS-ONLY-1",
    )
    with clock.frozen_time(later + dt.timedelta(hours=1)):
        report = do_reconcile("ibps", DAY)
    got = sorted(
        (
            b.kind,
            b.end_to_end_id,
            b.direction,
            b.ours and b.ours.minor,
            b.theirs and b.theirs.minor,
        )
        for b in report.breaks
    )
    assert got == sorted(
        [
            ("ours_only", "OURS-ONLY-1", "DBIT", 5_000, None),
            ("amount_mismatch", e2e[1], "DBIT", 20_001, 20_000),
            ("theirs_only", "THEIRS-ONLY-1", "CRDT", None, 4_200),
        ]
    )
    assert report.matched == 1
    stored = list_reconciliation_breaks(network="ibps", business_date=DAY)
    assert sorted(b.kind for b in stored) == ["amount_mismatch", "ours_only", "theirs_only"]
    # a rerun replaces the run's breaks, it does not add to them
    SimEntry.objects.filter(entry_ref="EXTRA1").delete()
    with clock.frozen_time(later + dt.timedelta(hours=1)):
        again = do_reconcile("ibps", DAY)
    assert len(again.breaks) == 2
    assert ReconciliationBreakRecord.objects.count() == 2
    assert ReconciliationRun.objects.count() == 1


def test_other_days_are_not_mixed_in(customer: uuid.UUID) -> None:
    run_day(customer, ["100.00"])
    with clock.frozen_time(WORKDAY_10AM + dt.timedelta(days=1)):
        report = do_reconcile("ibps", DAY + dt.timedelta(days=1))
        earlier = do_reconcile("ibps", DAY)
    assert (report.ours_count, report.theirs_count, report.breaks) == (0, 0, [])
    assert (earlier.ours_count, earlier.theirs_count, earlier.breaks) == (1, 1, [])


def test_eod_job_and_command(customer: uuid.UUID) -> None:
    assert "clearing.reconcile" in list_eod_jobs()
    run_day(customer, ["100.00"])
    with clock.frozen_time(WORKDAY_10AM + dt.timedelta(hours=9)):
        detail = reconcile_all(DAY)
        assert detail == {"bulk": 0, "hvps": 0, "ibps": 0}
        out = StringIO()
        call_command(
            "clearing", "reconcile", "--network", "ibps", "--date", DAY.isoformat(), stdout=out
        )
        assert "ibps 2026-03-11: 1 matched, 0 breaks" in out.getvalue()
        ledger.do_transfer(
            debit=customer,
            credit=settlement("hvps"),
            amount=100,
            currency="CNY",
            code="payment.interbank",
            reference="LOST",
        )
        with pytest.raises(CommandError, match="1 reconciliation breaks"):
            call_command("clearing", "reconcile", "--date", DAY.isoformat(), stdout=StringIO())


def test_process_command() -> None:
    with clock.frozen_time(WORKDAY_10AM):
        get_network("ibps").submit(make_instruction())
    out = StringIO()
    with clock.frozen_time(WORKDAY_10AM + dt.timedelta(minutes=5)):
        call_command("clearing", "process", stdout=out)
    assert out.getvalue().strip() == "1 inbound messages processed"
