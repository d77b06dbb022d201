"""End-of-day jobs: monthly e-statements on the last business date of a month, and SMS
deliveries that waited for the end of quiet hours."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rongshu.accounts.models import CustomerAccount, EStatement, Notification
from rongshu.accounts.notify import do_deliver_pending, stored_title
from rongshu.kernel import clock
from rongshu.kernel.eod import eod_job
from rongshu.ledger import queries as ledger_queries


def _end_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.max, tzinfo=clock.bank_zone()).astimezone(dt.UTC)


def do_generate_month_statements(month_end: dt.date, *, chunk: int = 2000) -> int:
    """E-statements for the month ending ``month_end`` for every account open in it
    (idempotent: existing statements are kept). Returns how many were made."""
    month = month_end.replace(day=1)
    previous_end = month - dt.timedelta(days=1)
    done = set(EStatement.objects.filter(month=month).values_list("account_id", flat=True))
    previous = dict(
        EStatement.objects.filter(month=previous_end.replace(day=1)).values_list(
            "account_id", "closing_balance"
        )
    )
    now = clock.now()
    until = _end_of_day(month_end)
    since = _end_of_day(previous_end)
    made = 0
    accounts = (
        CustomerAccount.objects.filter(opened_at__lte=until)
        .exclude(status=CustomerAccount.CLOSED, closed_at__lt=since)
        .values_list("pk", "ledger_account_id", "customer_id", "account_number", "opened_at")
    )
    batch: list[EStatement] = []
    notes: list[Notification] = []
    for pk, ledger_id, customer_id, number, opened_at in accounts.iterator(chunk_size=chunk):
        if pk in done:
            continue
        opening = previous.get(pk)
        if opening is None:
            opening = 0 if opened_at > since else ledger_queries.get_balance_as_of(ledger_id, since)
        closing = _closing(ledger_id, month_end, until)
        batch.append(
            EStatement(
                account_id=pk,
                month=month,
                opening_balance=opening,
                closing_balance=closing,
                generated_at=now,
            )
        )
        notes.append(
            Notification(
                customer_id=customer_id,
                kind="statement",
                title=stored_title("E-statement %(month)s", {"month": f"{month:%Y-%m}"}),
                title_msgid="E-statement %(month)s",
                title_params={"month": f"{month:%Y-%m}"},
                body=f"····{number[-4:]}",
                account_number=number,
                dedupe_key=f"estatement:{pk}:{month:%Y-%m}",
                created_at=now,
            )
        )
        if len(batch) >= chunk:
            made += _flush(batch, notes)
    made += _flush(batch, notes)
    return made


def _closing(ledger_id: Any, month_end: dt.date, until: dt.datetime) -> int:
    """The month's closing balance: the ledger's end-of-day snapshot of ``month_end`` (taken
    by its EOD job before ours), else the balance as of the end of that day."""
    snapshot = ledger_queries.get_snapshot(ledger_id, month_end)
    if snapshot is not None:
        return snapshot.credits_posted - snapshot.debits_posted  # deposits: credit-normal
    return ledger_queries.get_balance_as_of(ledger_id, until)


def _flush(batch: list[EStatement], notes: list[Notification]) -> int:
    count = len(batch)
    EStatement.objects.bulk_create(batch, ignore_conflicts=True)
    Notification.objects.bulk_create(notes, ignore_conflicts=True)
    batch.clear()
    notes.clear()
    return count


@eod_job("accounts.month_end_statements", order=60)
def month_end_statements(business_date: dt.date) -> dict[str, Any]:
    if (business_date + dt.timedelta(days=1)).month == business_date.month:
        return {"skipped": "not the last day of the month"}
    return {"statements": do_generate_month_statements(business_date)}


@eod_job("accounts.deliver_notifications", order=960)
def deliver_notifications(business_date: dt.date) -> dict[str, Any]:
    sent, failed = do_deliver_pending(limit=100_000)
    return {"sent": sent, "failed": failed}
