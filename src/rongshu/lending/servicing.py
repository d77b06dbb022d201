"""Servicing: repayment with allocation, early repayment with a recalculated schedule,
auto-debit on due dates, daily accrual and penalty interest (罚息), DPD buckets, write-off.

Allocation order of every payment: **penalty → interest → principal**, oldest instalment
first; what remains after every due amount is an early repayment of principal (full: the
principal plus the interest accrued in the current period; partial: the remaining instalments
are recalculated with the same method and term).

Interest is accounted on the **accrual basis** (as Fineract does): every business day the EOD
job accrues each active loan's interest of the current period and posts it, by business date,
**Dr interest receivable / Cr interest income** — one ledger batch per run (8,190 loans a
batch), one transfer per loan and date (``uuid5(loan, "accrual:<date>")``, so a rerun is a
no-op). Day-count: a period's scheduled interest (rate ÷ 12 on the balance, see
:mod:`rongshu.lending.schedule`) is spread over the period's **actual days** (what is left to
accrue ÷ days left, exact ``Decimal``, posted as whole fen cumulatively, so the period posts
exactly the instalment's interest by the eve of its due date); a partial prepayment turns the
current period into a broken one whose interest is what was accrued on the old balance plus
**ACT/360** on the new balance for the days left (``products.DAY_COUNT``). Repayments of
interest then settle the receivable (Dr deposit / Cr interest receivable). Penalty interest is
charged to the overdue instalments daily (ACT/360 on overdue principal) and recognised when
paid (Cr penalty income), as is usual for 罚息. A write-off takes the principal and the unpaid
interest receivable to credit losses.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from django.db import transaction
from django.db.models import Q

from rongshu.identity import services as identity
from rongshu.identity.types import Action, Principal
from rongshu.kernel import clock
from rongshu.kernel.audit import do_audit
from rongshu.kernel.errors import PermissionDenied
from rongshu.kernel.money import Money
from rongshu.kernel.outbox import record_event
from rongshu.ledger import queries as ledger_queries
from rongshu.ledger import services as ledger
from rongshu.ledger.errors import AccountNotFound, TransferRefused
from rongshu.ledger.types import MAX_BATCH, TransferIn
from rongshu.lending.errors import (
    FourEyes,
    InsufficientFunds,
    InvalidState,
    LoanNotFound,
    RepaymentTooLarge,
)
from rongshu.lending.events import LoanRepaid, LoanWrittenOff
from rongshu.lending.models import Borrower, Instalment, Loan, Repayment, WriteOff
from rongshu.lending.products import DAY_COUNT
from rongshu.lending.schedule import build_schedule

_WINDOW_DAYS = 35  # every instalment period is at most a month
BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")
INTEREST_RECEIVABLE = "loans.interest_receivable.CNY"
# In the ledger's chart since lending 0002; created on first use in a database set up earlier.
_EXTRA_ACCOUNTS = {
    INTEREST_RECEIVABLE: ("Interest receivable (应收利息)", "asset"),
    "income.penalty_interest.CNY": ("Penalty interest income (罚息收入)", "income"),
    "expense.credit_loss.CNY": ("Credit losses written off (核销损失)", "expense"),
}


def bucket(dpd: int) -> str:
    if dpd <= 0:
        return "current"
    if dpd <= 30:
        return "1-30"
    if dpd <= 60:
        return "31-60"
    if dpd <= 90:
        return "61-90"
    return "90+"


@cache
def _ledger_id(code: str) -> uuid.UUID:
    try:
        return ledger.get_chart_account(code).public_id
    except AccountNotFound:
        if code not in _EXTRA_ACCOUNTS:
            raise
        name, kind = _EXTRA_ACCOUNTS[code]
        return ledger.do_create_account(
            name=name, currency="CNY", kind=kind, owner_type="bank", owner_id="bank", code=code
        ).public_id


def ledger_code(code: str) -> uuid.UUID:
    """The ledger account of a chart code (lending's own three are created on first use)."""
    value = _ledger_id(code)
    if ledger_queries.find_account(value) is None:  # a test flushed the tables
        _ledger_id.cache_clear()
        value = _ledger_id(code)
    return value


def scope_of(customer_id: uuid.UUID) -> tuple[str, str]:
    """The customer's home branch and region (recorded at the first application)."""
    found = (
        Borrower.objects.filter(customer_id=customer_id)
        .values_list("branch_code", "region_code")
        .first()
    )
    return (found[0], found[1]) if found else ("", "")


def access_loan(principal: Principal, loan_id: uuid.UUID, *, lock: bool = False) -> Loan:
    qs = Loan.objects.all()
    if lock:
        qs = qs.select_for_update()
    loan = qs.filter(public_id=loan_id).first()
    if loan is None:
        raise LoanNotFound()
    if principal.is_customer:
        if principal.customer_id != loan.customer_id:
            raise LoanNotFound()
        return loan
    scope = scope_of(loan.customer_id)
    identity.check_owner(
        principal,
        loan.customer_id,
        branch_code=scope[0],
        region_code=scope[1],
        action=Action.LOAN_DECIDE,
        object_type="loan",
        object_id=str(loan_id),
    )
    return loan


@dataclass(frozen=True)
class Payoff:
    penalty: int
    interest: int  # due interest
    principal_due: int
    principal_outstanding: int
    accrued_interest: int  # posted in the current period (charged on full early repayment)

    @property
    def due(self) -> int:
        return self.penalty + self.interest + self.principal_due

    @property
    def total(self) -> int:
        return self.penalty + self.interest + self.principal_outstanding + self.accrued_interest


def _fen(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _due_rows(loan: Loan, today: dt.date) -> list[Instalment]:
    return list(
        loan.instalments.select_for_update()
        .filter(due_on__lte=today, paid_on__isnull=True)
        .order_by("seq")
    )


def payoff(loan: Loan, today: dt.date) -> Payoff:
    rows = list(loan.instalments.filter(paid_on__isnull=True).order_by("seq"))
    due = [r for r in rows if r.due_on <= today]
    current = next((r for r in rows if r.due_on > today), None)
    return Payoff(
        penalty=sum(r.penalty_minor - r.penalty_paid_minor for r in due),
        interest=sum(r.interest_minor - r.interest_paid_minor for r in due),
        principal_due=sum(r.principal_minor - r.principal_paid_minor for r in due),
        principal_outstanding=loan.outstanding_minor,
        accrued_interest=current.interest_accrued_minor if current is not None else 0,
    )


# ------------------------------------------------------------------ accrual
def _accrue(loan: Loan, rows: list[Instalment], through: dt.date) -> tuple[int, list[Instalment]]:
    """Accrue ``loan`` day by day after ``accrued_on`` up to ``through`` (inclusive).

    ``rows``: the loan's instalments by due date — at least the unpaid ones and every one due
    after ``accrued_on``. Day *t* accrues into the instalment with the first due date after
    *t* (what is left of its interest ÷ the days left); an instalment overdue on day *t* is
    charged a day of penalty interest. Returns the whole fen to post and the changed rows.
    """
    done = loan.accrued_on or loan.start_on - dt.timedelta(days=1)
    if done >= through:
        return 0, []
    upcoming = [r for r in rows if r.due_on > done]
    holder = upcoming[0] if upcoming else None
    posted = 0
    changed: dict[int, Instalment] = {}
    day = done + dt.timedelta(days=1)
    while day <= through:
        while upcoming and upcoming[0].due_on <= day:
            upcoming.pop(0)
        current = upcoming[0] if upcoming else None
        if current is not holder:
            loan.accrued_interest, holder = Decimal(0), current
        if current is not None:
            left = Decimal(current.interest_minor) - loan.accrued_interest
            if left > 0:
                loan.accrued_interest += left / (current.due_on - day).days
            fen = _fen(loan.accrued_interest) - current.interest_accrued_minor
            if fen > 0:
                current.interest_accrued_minor += fen
                posted += fen
                changed[current.pk] = current
        for inst in rows:
            if inst.paid_on is None and inst.due_on < day:
                unpaid = inst.principal_minor - inst.principal_paid_minor
                inst.penalty_accrued += Decimal(unpaid) * loan.penalty_rate / DAY_COUNT
                inst.penalty_minor = inst.penalty_paid_minor + max(
                    0, _fen(inst.penalty_accrued) - inst.penalty_paid_minor
                )
                inst.was_late = True
                changed[inst.pk] = inst
        day += dt.timedelta(days=1)
    loan.accrued_on = through
    loan.interest_accrued_minor += posted
    return posted, list(changed.values())


def _accrual_transfer(loan: Loan, amount: int, through: dt.date) -> TransferIn:
    return TransferIn(
        transfer_id=uuid.uuid5(loan.public_id, f"accrual:{through.isoformat()}"),
        debit_account=ledger_code(INTEREST_RECEIVABLE),
        credit_account=ledger_code("income.interest.CNY"),
        amount=amount,
        currency="CNY",
        code="loan_interest_accrual",
        reference=f"loan {loan.public_id}",
        metadata={"loan": str(loan.public_id), "business_date": through.isoformat()},
    )


def _catch_up(loan: Loan, today: dt.date) -> None:
    """Accrue a locked loan up to yesterday (when the EOD job has not) before money moves."""
    through = today - dt.timedelta(days=1)
    if loan.accrued_on is not None and loan.accrued_on >= through:
        return
    rows = list(loan.instalments.select_for_update().order_by("seq"))
    posted, changed = _accrue(loan, rows, through)
    Instalment.objects.bulk_update(
        changed, ["interest_accrued_minor", "penalty_accrued", "penalty_minor", "was_late"]
    )
    loan.save(update_fields=["accrued_interest", "accrued_on", "interest_accrued_minor"])
    if posted:
        ledger.do_create_transfer(_accrual_transfer(loan, posted, through))


def _collect(loan: Loan, amount: int, *, kind: str, today: dt.date, actor: str) -> Repayment:
    """Allocate ``amount`` and move it through the ledger (the loan row is locked)."""
    rows = _due_rows(loan, today)
    left = amount
    pen = intr = prin = 0
    for field_due, field_paid in (
        ("penalty_minor", "penalty_paid_minor"),
        ("interest_minor", "interest_paid_minor"),
        ("principal_minor", "principal_paid_minor"),
    ):
        for r in rows:
            take = min(left, getattr(r, field_due) - getattr(r, field_paid))
            if take <= 0:
                continue
            setattr(r, field_paid, getattr(r, field_paid) + take)
            left -= take
            if field_due == "penalty_minor":
                pen += take
            elif field_due == "interest_minor":
                intr += take
            else:
                prin += take
    for r in rows:
        if r.due_minor == 0:
            r.paid_on = today
            r.was_late = r.was_late or r.due_on < today
        r.save()
    loan.outstanding_minor -= prin
    prepaid = 0
    if left > 0:
        current = (
            loan.instalments.select_for_update()
            .filter(due_on__gt=today, paid_on__isnull=True)
            .order_by("seq")
            .first()
        )
        accrued = current.interest_accrued_minor if current is not None else 0
        if left >= loan.outstanding_minor + accrued:  # full early repayment
            intr += accrued
            prepaid = loan.outstanding_minor
            left -= accrued + prepaid
            loan.accrued_interest = Decimal(0)
        else:
            prepaid = left
            left = 0
        prin += prepaid
        loan.outstanding_minor -= prepaid
    if left:
        raise RepaymentTooLarge()
    if prepaid:
        _reschedule(loan, today)
    loan.principal_paid_minor += prin
    loan.interest_paid_minor += intr
    loan.penalty_paid_minor += pen
    closed = (
        loan.outstanding_minor == 0
        and not loan.instalments.filter(paid_on__isnull=True)
        .exclude(pk__in=[r.pk for r in rows if r.paid_on])
        .exists()
    )
    if closed:
        loan.state = Loan.CLOSED
        loan.dpd = 0
        loan.accrued_interest = Decimal(0)
    elif not loan.instalments.filter(due_on__lt=today, paid_on__isnull=True).exists():
        loan.dpd = 0
    loan.save()
    repayment = Repayment.objects.create(
        loan=loan,
        kind=kind,
        amount_minor=amount,
        penalty_minor=pen,
        interest_minor=intr,
        principal_minor=prin,
        business_date=today,
        created_at=clock.now(),
    )
    legs = [
        (pen, "income.penalty_interest.CNY", "loan_penalty"),
        (intr, INTEREST_RECEIVABLE, "loan_interest"),
        (prin, "loans.receivable.CNY", "loan_principal"),
    ]
    legs = [leg for leg in legs if leg[0] > 0]
    items = [
        TransferIn(
            transfer_id=uuid.uuid5(repayment.public_id, code),
            debit_account=loan.repayment_account_id,
            credit_account=ledger_code(target),
            amount=value,
            currency="CNY",
            code=code,
            linked=k < len(legs) - 1,
            reference=f"loan {loan.public_id}",
            metadata={"loan": str(loan.public_id), "repayment": str(repayment.public_id)},
        )
        for k, (value, target, code) in enumerate(legs)
    ]
    results = ledger.do_create_transfers(items)
    failed = [r.result for r in results if not r.ok]
    if failed:
        reason = next((f for f in failed if f != "linked_event_failed"), failed[0])
        if "exceeds" in reason:
            raise InsufficientFunds()
        raise TransferRefused(reason)
    record_event(
        LoanRepaid(
            loan_id=str(loan.public_id),
            customer_id=str(loan.customer_id),
            amount_minor=amount,
            currency="CNY",
            closed=closed,
        ),
        dedupe_key=f"lending.repaid:{repayment.public_id}",
    )
    do_audit(
        actor,
        "lending.repaid",
        object_type="loan",
        object_id=str(loan.public_id),
        data={"amount": amount, "kind": kind, "penalty": pen, "interest": intr, "principal": prin},
    )
    return repayment


def _reschedule(loan: Loan, today: dt.date) -> None:
    """Recalculate the future instalments after an early partial repayment (same term).

    The current period becomes a broken one: its interest is what was accrued on the old
    balance up to yesterday plus ACT/360 on the new balance from today to its due date; the
    later periods are the method's schedule of the new balance.
    """
    future = list(
        loan.instalments.select_for_update()
        .filter(due_on__gt=today, paid_on__isnull=True)
        .order_by("seq")
    )
    if not future:
        return
    if loan.outstanding_minor == 0:
        loan.instalments.filter(pk__in=[r.pk for r in future]).delete()
        return
    first = future[0]
    previous = loan.instalments.filter(seq=first.seq - 1).first()
    start = previous.due_on if previous is not None else loan.start_on
    rows = build_schedule(
        principal=loan.outstanding_minor,
        annual_rate=loan.annual_rate,
        term=len(future),
        method=loan.method,
        start_on=start,
        first_seq=first.seq,
    )
    done = loan.accrued_on or loan.start_on - dt.timedelta(days=1)
    accrued = loan.accrued_interest if done >= start else Decimal(0)
    days_left = (first.due_on - max(today, start)).days
    broken = accrued + Decimal(loan.outstanding_minor) * loan.annual_rate * days_left / DAY_COUNT
    for k, (row, new) in enumerate(zip(future, rows, strict=True)):
        row.principal_minor = new.principal
        row.interest_minor = (
            max(_fen(broken), row.interest_accrued_minor) if k == 0 else new.interest
        )
        row.save(update_fields=["principal_minor", "interest_minor"])


def do_repay(principal: Principal, loan_id: uuid.UUID, amount: Money) -> Repayment:
    """A customer's repayment from the loan's deposit account (allocation as above)."""
    if amount.currency != "CNY" or amount.minor <= 0:
        raise RepaymentTooLarge("The amount must be a positive CNY amount.")
    with transaction.atomic():
        loan = access_loan(principal, loan_id, lock=True)
        if not principal.is_customer:
            raise PermissionDenied("Only the borrower repays here.")
        if loan.state != Loan.ACTIVE:
            raise InvalidState("The loan is not active.")
        today = clock.get_business_date()
        _catch_up(loan, today)
        if amount.minor > payoff(loan, today).total:
            raise RepaymentTooLarge(data={"outstanding": payoff(loan, today).total})
        return _collect(
            loan, amount.minor, kind="manual", today=today, actor=principal.principal_key
        )


# ------------------------------------------------------------------ end of day
def run_auto_debit(today: dt.date) -> dict[str, int]:
    """Debit what is due (up to the available balance) from each borrower's account."""
    loan_ids = (
        Instalment.objects.filter(due_on__lte=today, paid_on__isnull=True, loan__state=Loan.ACTIVE)
        .values_list("loan_id", flat=True)
        .distinct()
    )
    collected = partial = 0
    for pk in sorted(set(loan_ids)):
        with transaction.atomic():
            loan = Loan.objects.select_for_update().get(pk=pk)
            _catch_up(loan, today)
            due = payoff(loan, today).due
            view = ledger_queries.find_account(loan.repayment_account_id)
            available = 0
            if view is not None and view.status == "open":
                available = view.credits_posted - view.debits_posted - view.debits_pending
            take = min(due, max(0, available))
            if take <= 0:
                continue
            try:
                with transaction.atomic():
                    _collect(loan, take, kind="auto_debit", today=today, actor="system:eod")
            except (InsufficientFunds, TransferRefused):
                continue
            collected += 1
            partial += take < due
    return {"collected": collected, "partial": partial}


def run_accrual(today: dt.date) -> dict[str, int]:
    """End of day: accrue every active loan through ``today`` (interest into the receivable,
    penalty interest on overdue instalments) and age arrears (DPD). One transaction; the
    interest goes to the ledger in one batch (per 8,190 loans); idempotent per loan and date."""
    with transaction.atomic():
        loans = list(Loan.objects.select_for_update().filter(state=Loan.ACTIVE).order_by("pk"))
        todo = [x for x in loans if x.accrued_on is None or x.accrued_on < today]
        if not todo:
            return {"loans": 0, "posted": 0, "interest_minor": 0, "overdue_instalments": 0}
        earliest = min(x.accrued_on or x.start_on - dt.timedelta(days=1) for x in todo)
        by_loan: dict[int, list[Instalment]] = {}
        for inst in (
            Instalment.objects.filter(loan__state=Loan.ACTIVE)
            .filter(
                Q(paid_on__isnull=True, due_on__lte=today)
                | Q(due_on__gt=earliest, due_on__lte=today + dt.timedelta(days=_WINDOW_DAYS))
            )
            .order_by("loan_id", "seq")
        ):
            by_loan.setdefault(inst.loan_id, []).append(inst)
        items: list[TransferIn] = []
        changed: list[Instalment] = []
        overdue = 0
        for loan in todo:
            rows = by_loan.get(loan.pk, [])
            posted, touched = _accrue(loan, rows, today)
            changed += touched
            late = [r for r in rows if r.paid_on is None and r.due_on < today]
            overdue += len(late)
            loan.dpd = (today - late[0].due_on).days if late else 0
            if posted:
                items.append(_accrual_transfer(loan, posted, today))
        Loan.objects.bulk_update(
            todo,
            ["accrued_interest", "accrued_on", "interest_accrued_minor", "dpd"],
            batch_size=2000,
        )
        Instalment.objects.bulk_update(
            changed,
            ["interest_accrued_minor", "penalty_accrued", "penalty_minor", "was_late"],
            batch_size=2000,
        )
        for start in range(0, len(items), MAX_BATCH):
            results = ledger.do_create_transfers(items[start : start + MAX_BATCH])
            failed = [r.result for r in results if not r.ok]
            if failed:
                raise TransferRefused(failed[0])
    return {
        "loans": len(todo),
        "posted": len(items),
        "interest_minor": sum(i.amount or 0 for i in items),
        "overdue_instalments": overdue,
    }


# ------------------------------------------------------------------ write-off (four-eyes)
def do_request_write_off(principal: Principal, loan_id: uuid.UUID, *, reason: str) -> WriteOff:
    identity.check_permission(principal, Action.LOAN_WRITE_OFF)
    with transaction.atomic():
        loan = access_loan(principal, loan_id, lock=True)
        if loan.state != Loan.ACTIVE:
            raise InvalidState("Only an active loan can be written off.")
        if loan.write_offs.filter(state="pending").exists():
            raise InvalidState("A write-off is already waiting for approval.")
        row = WriteOff.objects.create(
            loan=loan,
            requested_by=principal.principal_key,
            reason=reason[:300],
            created_at=clock.now(),
        )
        do_audit(
            principal.principal_key,
            "lending.write_off_requested",
            object_type="loan",
            object_id=str(loan.public_id),
        )
    return row


def do_approve_write_off(principal: Principal, write_off_id: uuid.UUID) -> WriteOff:
    """The second risk officer approves: the outstanding principal leaves the books."""
    identity.check_permission(principal, Action.LOAN_WRITE_OFF)
    with transaction.atomic():
        row = WriteOff.objects.select_for_update().filter(public_id=write_off_id).first()
        if row is None:
            raise LoanNotFound()
        if row.state != "pending":
            raise InvalidState("This write-off is already decided.")
        if row.requested_by == principal.principal_key:
            raise FourEyes("The requester cannot approve their own write-off.")
        loan = access_loan(principal, row.loan.public_id, lock=True)
        _catch_up(loan, clock.get_business_date())
        amount = loan.outstanding_minor
        interest = loan.interest_accrued_minor - loan.interest_paid_minor
        legs = [
            (amount, "loans.receivable.CNY", "write_off"),
            (interest, INTEREST_RECEIVABLE, "write_off_interest"),
        ]
        legs = [leg for leg in legs if leg[0] > 0]
        results = ledger.do_create_transfers(
            [
                TransferIn(
                    transfer_id=uuid.uuid5(row.public_id, key),
                    debit_account=ledger_code("expense.credit_loss.CNY"),
                    credit_account=ledger_code(target),
                    amount=value,
                    currency="CNY",
                    code="loan_write_off",
                    linked=k < len(legs) - 1,
                    reference=f"loan {loan.public_id}",
                )
                for k, (value, target, key) in enumerate(legs)
            ]
        )
        failed = [r.result for r in results if not r.ok]
        if failed:
            raise TransferRefused(failed[0])
        loan.written_off_minor, loan.outstanding_minor = amount + interest, 0
        loan.state = Loan.WRITTEN_OFF
        loan.save()
        row.state, row.approved_by, row.decided_at = (
            "approved",
            principal.principal_key,
            clock.now(),
        )
        row.save()
        record_event(
            LoanWrittenOff(loan_id=str(loan.public_id), amount_minor=amount),
            dedupe_key=f"lending.written_off:{loan.public_id}",
        )
        do_audit(
            principal.principal_key,
            "lending.written_off",
            object_type="loan",
            object_id=str(loan.public_id),
            data={"amount": amount},
        )
    return row
