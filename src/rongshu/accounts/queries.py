"""The accounts read side: overview, details, statements (search, filter, CSV), e-statements,
messages and preferences. Balances and lines come from the ledger's queries."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Iterator

from rongshu.accounts.limits import get_limits
from rongshu.accounts.models import AccountHolder, CustomerAccount, EStatement, Notification
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
from rongshu.kernel.money import format_minor
from rongshu.ledger import queries as ledger_queries
from rongshu.ledger.types import AccountView, StatementLine


def _status(account: CustomerAccount, view: AccountView) -> str:
    if account.status == CustomerAccount.CLOSED:
        return "closed"
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
        rows = rows.filter(status=CustomerAccount.OPEN)
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


def _matches(line: StatementLine, flt: StatementFilter) -> bool:
    if flt.direction == "in" and not line.credit:
        return False
    if flt.direction == "out" and not line.debit:
        return False
    day = line.created_at.astimezone(clock.bank_zone()).date()
    if flt.date_from is not None and day < flt.date_from:
        return False
    if flt.date_to is not None and day > flt.date_to:
        return False
    if flt.text:
        needle = flt.text.lower()
        hay = f"{line.reference} {line.code}".lower()
        if needle not in hay and needle not in format_minor(line.debit or line.credit, "CNY"):
            return False
    return True


def _filtered(flt: StatementFilter) -> bool:
    return bool(flt.text or flt.date_from or flt.date_to or flt.direction)


def get_statement_page(
    principal: Principal,
    account_id: uuid.UUID,
    *,
    flt: StatementFilter | None = None,
    after: int | None = None,
    limit: int = 50,
) -> tuple[AccountSummary, list[StatementLine], int | None]:
    """Newest-last page of lines; without a filter one ledger page, with a filter the lines
    that match (scanned from the ledger's history, stopping once the page is full)."""
    flt = flt or StatementFilter()
    account = access_account(principal, account_id)
    summary = summarize(account, ledger_queries.get_account(account.ledger_account_id))
    if not _filtered(flt):
        statement = ledger_queries.get_statement(
            account.ledger_account_id, after=after, limit=limit
        )
        return summary, statement.lines, statement.next_cursor
    lines = [
        line
        for line in ledger_queries.iter_statement(account.ledger_account_id)
        if _matches(line, flt)
    ]
    start = after or 0
    page = lines[start : start + limit]
    more = start + limit < len(lines)
    return summary, page, (start + limit) if more else None


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
    flt = flt or StatementFilter()
    account = access_account(principal, account_id)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    yield "\ufeff" + buffer.getvalue()
    for line in ledger_queries.iter_statement(account.ledger_account_id):
        if _filtered(flt) and not _matches(line, flt):
            continue
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
        for line in ledger_queries.iter_statement(account.ledger_account_id)
        if month <= line.created_at.astimezone(clock.bank_zone()).date() < end
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
            n.title,
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
