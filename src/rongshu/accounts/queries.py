"""The accounts read side: overview, details, statements (search, filter, CSV), e-statements,
messages and preferences. Balances and lines come from the ledger's queries."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Iterator
from typing import Any

from rongshu.accounts.limits import get_limits
from rongshu.accounts.models import AccountHolder, CustomerAccount, EStatement, Notification
from rongshu.accounts.notify import display_title
from rongshu.accounts.rules import usage
from rongshu.accounts.services import _customer_id, access_account
from rongshu.accounts.types import (
    PRODUCTS,
    AccountSummary,
    EStatementView,
    NotificationView,
    Overview,
    Preferences,
    StatementFilter,
)
from rongshu.identity.types import Principal
from rongshu.kernel import clock
from rongshu.kernel.errors import DomainError
from rongshu.kernel.money import format_minor, parse_minor
from rongshu.ledger import queries as ledger_queries
from rongshu.ledger.types import AccountView, StatementLine


def _status(account: CustomerAccount, view: AccountView) -> str:
    if account.status in (CustomerAccount.CLOSED, CustomerAccount.CLOSING):
        return account.status
    if account.self_frozen:
        return "frozen"
    return "open" if view.status == "open" else "blocked"


def summarize(account: CustomerAccount, view: AccountView) -> AccountSummary:
    limits = get_limits()
    day_used, year_used = usage(account, clock.now())
    return AccountSummary(
        account_id=account.public_id,
        account_number=account.account_number,
        account_type=account.account_type,
        product_code=account.product_code,
        product_name=str(PRODUCTS.get(account.product_code, account.product_code)),
        currency=account.currency,
        status=_status(account, view),
        balance=view.balance,
        available=view.available,
        held=view.balance - view.available,
        bound_bank_code=account.bound_bank_code,
        bound_account_number=account.bound_account_number,
        ledger_account_id=account.ledger_account_id,
        opened_at=account.opened_at,
        daily_limit=limits.daily(account.account_type),
        daily_used=day_used,
        yearly_limit=limits.yearly(account.account_type),
        yearly_used=year_used,
        balance_cap=limits.type3_balance_cap if account.account_type == 3 else None,
    )


def get_overview(principal: Principal, *, include_closed: bool = False) -> Overview:
    customer_id = _customer_id(principal)
    rows = CustomerAccount.objects.filter(customer_id=customer_id).order_by("account_type", "pk")
    if not include_closed:
        rows = rows.exclude(status=CustomerAccount.CLOSED)
    views = {
        v.public_id: v
        for v in ledger_queries.list_accounts(owner_type="customer", owner_id=str(customer_id))
    }
    accounts = [
        summarize(
            a, views.get(a.ledger_account_id) or ledger_queries.get_account(a.ledger_account_id)
        )
        for a in rows
    ]
    total = sum(a.balance for a in accounts if a.currency == "CNY")
    unread = Notification.objects.filter(customer_id=customer_id, read_at__isnull=True).count()
    return Overview(accounts=accounts, total_cny=total, unread=unread)


def get_account_summary(principal: Principal, account_id: uuid.UUID) -> AccountSummary:
    account = access_account(principal, account_id)
    return summarize(account, ledger_queries.get_account(account.ledger_account_id))


def _filter_args(flt: StatementFilter, currency: str) -> dict[str, Any]:
    """A statement filter as :func:`rongshu.ledger.queries.iter_movements` arguments: dates
    in the bank's time zone become a ``[since, until)`` range; a search text that reads as an
    amount (``12.30``) also matches that exact amount."""
    zone = clock.bank_zone()
    since = until = None
    if flt.date_from is not None:
        since = dt.datetime.combine(flt.date_from, dt.time.min, tzinfo=zone)
    if flt.date_to is not None:
        until = dt.datetime.combine(flt.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    amount = None
    if flt.text:
        try:
            amount = parse_minor(flt.text.replace(",", ""), currency)
        except DomainError:
            amount = None
        if amount is not None and not 0 < amount < 2**62:
            amount = None
    return {
        "direction": flt.direction,
        "text": flt.text,
        "amount": amount,
        "since": since,
        "until": until,
    }


def get_statement_page(
    principal: Principal,
    account_id: uuid.UUID,
    *,
    flt: StatementFilter | None = None,
    after: int | None = None,
    limit: int = 50,
) -> tuple[AccountSummary, list[StatementLine], int | None]:
    """One page of lines, newest first, and the cursor of the next (older) page. Filters run
    in SQL on the ledger's per-account indexes (keyset pages, no count)."""
    flt = flt or StatementFilter()
    account = access_account(principal, account_id)
    summary = summarize(account, ledger_queries.get_account(account.ledger_account_id))
    lines, cursor = ledger_queries.get_movements_page(
        account.ledger_account_id,
        limit=limit,
        cursor=after,
        **_filter_args(flt, account.currency),
    )
    return summary, lines, cursor


def iter_statement_lines(
    principal: Principal, account_id: uuid.UUID, flt: StatementFilter | None = None
) -> tuple[CustomerAccount, Iterator[StatementLine]]:
    """The account and its filtered lines, oldest first (exports)."""
    flt = flt or StatementFilter()
    account = access_account(principal, account_id)
    rows = ledger_queries.iter_movements(
        account.ledger_account_id, newest_first=False, **_filter_args(flt, account.currency)
    )
    return account, (line for _pk, line in rows)


CSV_HEADER = [
    "date_time",
    "direction",
    "amount",
    "currency",
    "balance",
    "code",
    "reference",
    "counterparty",
    "transfer_id",
]


def iter_statement_csv(
    principal: Principal, account_id: uuid.UUID, flt: StatementFilter | None = None
) -> Iterator[str]:
    """The statement as CSV rows (UTF-8 with BOM for spreadsheet programs), streamed."""
    account, lines = iter_statement_lines(principal, account_id, flt)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    yield "\ufeff" + buffer.getvalue()
    for line in lines:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(
            [
                line.created_at.astimezone(clock.bank_zone()).isoformat(timespec="seconds"),
                "in" if line.credit else "out",
                format_minor(line.credit or line.debit, account.currency),
                account.currency,
                format_minor(line.balance, account.currency),
                line.code,
                _safe_cell(line.reference),
                str(line.counterparty),
                str(line.transfer_id),
            ]
        )
        yield buffer.getvalue()


def _safe_cell(text: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def list_estatements(principal: Principal, account_id: uuid.UUID) -> list[EStatementView]:
    account = access_account(principal, account_id)
    return [
        EStatementView(
            s.public_id,
            account.public_id,
            s.month,
            s.opening_balance,
            s.closing_balance,
            s.generated_at,
        )
        for s in EStatement.objects.filter(account=account).order_by("-month")
    ]


def get_estatement(
    principal: Principal, account_id: uuid.UUID, month: dt.date
) -> tuple[AccountSummary, EStatementView, list[StatementLine]]:
    account = access_account(principal, account_id)
    row = EStatement.objects.filter(account=account, month=month).first()
    if row is None:
        from rongshu.accounts.errors import AccountNotFound

        raise AccountNotFound("No e-statement for that month.")
    end = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    lines = [
        line
        for _pk, line in ledger_queries.iter_movements(
            account.ledger_account_id,
            newest_first=False,
            since=dt.datetime.combine(month, dt.time.min, tzinfo=clock.bank_zone()),
            until=dt.datetime.combine(end, dt.time.min, tzinfo=clock.bank_zone()),
        )
    ]
    view = EStatementView(
        row.public_id,
        account.public_id,
        row.month,
        row.opening_balance,
        row.closing_balance,
        row.generated_at,
    )
    return summarize(account, ledger_queries.get_account(account.ledger_account_id)), view, lines


def list_notifications(
    principal: Principal,
    *,
    unread_only: bool = False,
    limit: int = 50,
    before: uuid.UUID | None = None,
) -> list[NotificationView]:
    customer_id = _customer_id(principal)
    qs = Notification.objects.filter(customer_id=customer_id).order_by("-pk")
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    if before is not None:
        pivot = Notification.objects.filter(customer_id=customer_id, public_id=before).first()
        if pivot is not None:
            qs = qs.filter(pk__lt=pivot.pk)
    return [
        NotificationView(
            n.public_id,
            n.kind,
            display_title(n.title, n.title_msgid, n.title_params),
            n.body,
            n.account_number,
            n.created_at,
            n.read_at is not None,
        )
        for n in qs[: max(1, min(limit, 200))]
    ]


def get_preferences(principal: Principal) -> Preferences:
    customer_id = _customer_id(principal)
    holder = AccountHolder.objects.filter(customer_id=customer_id).first()
    if holder is None:
        return Preferences(["security"], None, None)
    return Preferences(list(holder.sms_kinds), holder.quiet_start, holder.quiet_end)


def export_accounts() -> Iterator[dict[str, object]]:
    """Read-only, for the insight lake export: every customer account as a plain row."""
    rows = CustomerAccount.objects.order_by("pk").values(
        "public_id",
        "customer_id",
        "ledger_account_id",
        "product_code",
        "currency",
        "opened_at",
        "closed_at",
    )
    for row in rows.iterator(chunk_size=5000):
        yield {
            "account_id": str(row["public_id"]),
            "customer_id": str(row["customer_id"]),
            "ledger_account_id": str(row["ledger_account_id"]),
            "product_code": row["product_code"],
            "currency": row["currency"],
            "opened_on": row["opened_at"].date(),
            "closed_on": row["closed_at"].date() if row["closed_at"] else None,
        }


# deposit certificates and PDF documents, part of this read API
from rongshu.accounts.certificates import get_certificate as get_certificate  # noqa: E402
from rongshu.accounts.certificates import list_certificates as list_certificates  # noqa: E402
from rongshu.accounts.certificates import verify_certificate as verify_certificate  # noqa: E402
from rongshu.accounts.documents import certificate_pdf as certificate_pdf  # noqa: E402
from rongshu.accounts.documents import estatement_pdf as estatement_pdf  # noqa: E402
from rongshu.accounts.documents import statement_pdf as statement_pdf  # noqa: E402
