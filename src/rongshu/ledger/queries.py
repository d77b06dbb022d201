"""The ledger's read side: accounts, balances (now and as of a time), statements, trial balance."""

from __future__ import annotations

import datetime as dt
import heapq
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator

from django.db import connection
from django.db.models import Q, Sum

from rongshu.kernel import fastsql
from rongshu.ledger.errors import AccountNotFound
from rongshu.ledger.models import Account, BalanceSnapshot, Hold, Transfer
from rongshu.ledger.types import (
    AccountOwner,
    AccountView,
    Statement,
    StatementLine,
    TransferOut,
    TrialBalance,
    TrialBalanceRow,
)

POSTING_KINDS = (Transfer.SINGLE, Transfer.POST)


def account_view(account: Account) -> AccountView:
    return AccountView(
        public_id=account.public_id,
        code=account.code,
        name=account.name,
        owner_type=account.owner_type,
        owner_id=account.owner_id,
        currency=account.currency,
        kind=account.kind,
        product_code=account.product_code,
        status=account.status,
        debits_must_not_exceed_credits=account.debits_must_not_exceed_credits,
        credits_must_not_exceed_debits=account.credits_must_not_exceed_debits,
        overdraft_limit=account.overdraft_limit,
        debits_pending=account.debits_pending,
        debits_posted=account.debits_posted,
        credits_pending=account.credits_pending,
        credits_posted=account.credits_posted,
        balance=account.posted_balance,
        available=account.available_balance,
        created_at=account.created_at,
    )


def find_account(public_id: uuid.UUID) -> Account | None:
    return Account.objects.filter(public_id=public_id).first()


def owners_of(public_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, AccountOwner]:
    """Owner, currency and name of each of these accounts that exists, in one statement."""
    wanted = list(dict.fromkeys(public_ids))
    if not wanted:
        return {}
    select = f"SELECT public_id, owner_type, owner_id, currency, name FROM {fastsql.table(Account)}"  # noqa: S608
    if connection.vendor == "postgresql":  # on every payment: one text, planned once
        sql, params = f"{select} WHERE public_id = ANY(%s::uuid[])", [wanted]
    else:
        marks = ", ".join(["%s"] * len(wanted))
        sql = f"{select} WHERE public_id IN ({marks})"
        params = [fastsql.prep(Account, "public_id", value) for value in wanted]
    rows = fastsql.fetchall(sql, params)
    out = {}
    for public_id, owner_type, owner_id, currency, name in rows:
        key = public_id if isinstance(public_id, uuid.UUID) else uuid.UUID(public_id)
        out[key] = AccountOwner(key, owner_type, owner_id, currency, name)
    return out


def get_account(public_id: uuid.UUID) -> AccountView:
    account = find_account(public_id)
    if account is None:
        raise AccountNotFound(f"No account {public_id}.")
    return account_view(account)


def find_account_by_reference(query: str) -> AccountView | None:
    """An account by its chart code (``cash.CNY``) or its public id; None when neither."""
    account = Account.objects.filter(code=query).first()
    if account is None:
        try:
            account = find_account(uuid.UUID(query))
        except ValueError:
            return None
    return None if account is None else account_view(account)


def list_bank_accounts() -> list[AccountView]:
    """The bank's chart of accounts, by currency and code."""
    qs = Account.objects.filter(owner_type=Account.OWNER_BANK).order_by("currency", "code")
    return [account_view(a) for a in qs]


def list_recent_customer_accounts(limit: int = 25) -> list[AccountView]:
    """The most recently opened accounts that are not the bank's own."""
    qs = Account.objects.exclude(owner_type=Account.OWNER_BANK).order_by("-pk")[:limit]
    return [account_view(a) for a in qs]


def list_accounts(
    *, owner_type: str | None = None, owner_id: str | None = None, limit: int = 200
) -> list[AccountView]:
    qs = Account.objects.order_by("pk")
    if owner_type:
        qs = qs.filter(owner_type=owner_type)
    if owner_id:
        qs = qs.filter(owner_id=owner_id)
    return [account_view(a) for a in qs[:limit]]


def _natural(account: Account, net: int) -> int:
    """Credits − debits in the account's natural sign."""
    return net if account.normal_credit else -net


def get_balance_as_of(public_id: uuid.UUID, at: dt.datetime) -> int:
    """The posted balance (natural sign) right after the last transfer at or before ``at``."""
    account = find_account(public_id)
    if account is None:
        raise AccountNotFound(f"No account {public_id}.")
    last_debit = (
        Transfer.objects.filter(debit_account=account, created_at__lte=at)
        .order_by("-pk")
        .values_list("pk", "debit_account_net_after")
        .first()
    )
    last_credit = (
        Transfer.objects.filter(credit_account=account, created_at__lte=at)
        .order_by("-pk")
        .values_list("pk", "credit_account_net_after")
        .first()
    )
    candidates = [c for c in (last_debit, last_credit) if c is not None]
    if not candidates:
        return 0
    return _natural(account, max(candidates)[1])


def _lines(
    account: Account, after: int | None, limit: int | None
) -> Iterator[tuple[int, StatementLine]]:
    qs = (
        Transfer.objects.filter(Q(debit_account=account) | Q(credit_account=account))
        .filter(kind__in=POSTING_KINDS)
        .order_by("pk")
        .values_list(
            "pk",
            "transfer_id",
            "created_at",
            "kind",
            "code",
            "reference",
            "debit_account_id",
            "debit_account__public_id",
            "credit_account__public_id",
            "amount",
            "debit_account_net_after",
            "credit_account_net_after",
        )
    )
    if after is not None:
        qs = qs.filter(pk__gt=after)
    rows = qs[:limit] if limit is not None else qs.iterator(chunk_size=2000)
    for row in rows:
        (pk, tid, at, kind, code, ref, debit_pk, debit_pub, credit_pub, amount, dna, cna) = row
        is_debit = debit_pk == account.pk
        yield (
            pk,
            StatementLine(
                transfer_id=tid,
                created_at=at,
                kind=kind,
                code=code,
                reference=ref,
                counterparty=credit_pub if is_debit else debit_pub,
                debit=amount if is_debit else 0,
                credit=0 if is_debit else amount,
                balance=_natural(account, dna if is_debit else cna),
            ),
        )


def get_statement(public_id: uuid.UUID, *, after: int | None = None, limit: int = 50) -> Statement:
    """One page of posted movements with a running balance; ``after`` is the page cursor."""
    account = find_account(public_id)
    if account is None:
        raise AccountNotFound(f"No account {public_id}.")
    limit = max(1, min(limit, 500))
    page: list[StatementLine] = []
    last_pk = None
    more = False
    for pk, line in _lines(account, after, limit + 1):
        if len(page) == limit:
            more = True
            break
        page.append(line)
        last_pk = pk
    if page:
        first = page[0]
        signed = first.credit - first.debit
        opening = first.balance - (signed if account.normal_credit else -signed)
        closing = page[-1].balance
    else:
        opening = closing = account.posted_balance if after is not None else 0
        # (an empty first page: no movements yet; an empty later page: nothing after cursor)
    return Statement(
        account=account_view(account),
        lines=page,
        opening_balance=opening,
        closing_balance=closing,
        next_cursor=last_pk if more else None,
    )


def iter_statement(public_id: uuid.UUID) -> Iterator[StatementLine]:
    """Every posted movement of the account, oldest first (for CSV export)."""
    account = find_account(public_id)
    if account is None:
        raise AccountNotFound(f"No account {public_id}.")
    for _pk, line in _lines(account, None, None):
        yield line


def _side(
    account: Account,
    side: str,
    *,
    newest_first: bool,
    cursor: int | None,
    text: str,
    amount: int | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    take: int | None,
) -> Iterator[tuple[int, StatementLine]]:
    """One side (debits or credits) of an account's movements, walked along the
    ``(debit_account, id)`` / ``(credit_account, id)`` index in id order (= posting order)."""
    qs = Transfer.objects.filter(**{f"{side}_account": account}, kind__in=POSTING_KINDS)
    if cursor is not None:
        qs = qs.filter(pk__lt=cursor) if newest_first else qs.filter(pk__gt=cursor)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    if until is not None:
        qs = qs.filter(created_at__lt=until)
    if text:
        match = Q(reference__icontains=text) | Q(code__icontains=text)
        if amount is not None:
            match |= Q(amount=amount)
        qs = qs.filter(match)
    rows = qs.order_by("-pk" if newest_first else "pk").values_list(
        "pk",
        "transfer_id",
        "created_at",
        "kind",
        "code",
        "reference",
        "debit_account__public_id",
        "credit_account__public_id",
        "amount",
        "debit_account_net_after",
        "credit_account_net_after",
    )
    is_debit = side == "debit"
    for row in rows[:take] if take is not None else rows.iterator(chunk_size=1000):
        pk, tid, at, kind, code, ref, debit_pub, credit_pub, value, dna, cna = row
        yield (
            pk,
            StatementLine(
                transfer_id=tid,
                created_at=at,
                kind=kind,
                code=code,
                reference=ref,
                counterparty=credit_pub if is_debit else debit_pub,
                debit=value if is_debit else 0,
                credit=0 if is_debit else value,
                balance=_natural(account, dna if is_debit else cna),
            ),
        )


def iter_movements(
    public_id: uuid.UUID,
    *,
    newest_first: bool = True,
    cursor: int | None = None,
    direction: str = "",
    text: str = "",
    amount: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    take: int | None = None,
) -> Iterator[tuple[int, StatementLine]]:
    """An account's posted movements as ``(cursor, line)``, newest first (or oldest first),
    filtered in SQL: ``direction`` ``in`` (credits) / ``out`` (debits), ``text`` (in the
    reference or code, case-insensitive, or an exact ``amount`` in minor units), created in
    ``[since, until)``. Pages continue from ``cursor`` (exclusive); ``take`` caps the rows
    read per side (a page of n needs n).

    Each side is read along its ``(account, id)`` index and the two are merged, so a page
    costs two index range scans of the page's length (no OR, no sort, no count); the running
    balance is the one stored with each transfer (no summing of history). A text search
    that matches little still walks the account's index (bounded by ``since``)."""
    account = find_account(public_id)
    if account is None:
        raise AccountNotFound(f"No account {public_id}.")
    options = {
        "newest_first": newest_first,
        "cursor": cursor,
        "text": text,
        "amount": amount,
        "since": since,
        "until": until,
        "take": take,
    }
    sides = [
        _side(account, side, **options)  # type: ignore[arg-type]
        for side, wanted in (("debit", direction != "in"), ("credit", direction != "out"))
        if wanted
    ]
    yield from heapq.merge(*sides, key=lambda item: item[0], reverse=newest_first)


def get_movements_page(
    public_id: uuid.UUID,
    *,
    limit: int = 50,
    cursor: int | None = None,
    direction: str = "",
    text: str = "",
    amount: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> tuple[list[StatementLine], int | None]:
    """One newest-first page of :func:`iter_movements` and the cursor of the next page."""
    limit = max(1, min(limit, 500))
    page: list[StatementLine] = []
    last: int | None = None
    for pk, line in iter_movements(
        public_id,
        cursor=cursor,
        direction=direction,
        text=text,
        amount=amount,
        since=since,
        until=until,
        take=limit + 1,
    ):
        if len(page) == limit:
            return page, last
        page.append(line)
        last = pk
    return page, None


def get_trial_balance(currency: str | None = None) -> TrialBalance:
    """Posted debits and credits per currency and kind; each currency's difference is zero."""
    qs = Account.objects.all()
    if currency:
        qs = qs.filter(currency=currency)
    grouped = (
        qs.values("currency", "kind")
        .annotate(d=Sum("debits_posted"), c=Sum("credits_posted"))
        .order_by("currency", "kind")
    )
    rows: list[TrialBalanceRow] = []
    difference: dict[str, int] = defaultdict(int)
    for g in grouped:
        debits, credits = int(g["d"] or 0), int(g["c"] or 0)
        rows.append(TrialBalanceRow(g["currency"], g["kind"], debits, credits))
        difference[g["currency"]] += debits - credits
    return TrialBalance(rows=rows, difference=dict(difference))


def get_pending_totals() -> dict[str, tuple[int, int]]:
    """Per currency: (Σ debits_pending, Σ credits_pending); equal when holds balance."""
    out: dict[str, tuple[int, int]] = {}
    for g in Account.objects.values("currency").annotate(
        d=Sum("debits_pending"), c=Sum("credits_pending")
    ):
        out[g["currency"]] = (int(g["d"] or 0), int(g["c"] or 0))
    return out


def list_holds(public_id: uuid.UUID, *, state: str = Hold.PENDING) -> list[Hold]:
    account = find_account(public_id)
    if account is None:
        raise AccountNotFound(f"No account {public_id}.")
    return list(
        Hold.objects.filter(Q(debit_account=account) | Q(credit_account=account))
        .filter(state=state)
        .order_by("pk")
    )


def find_transfer(transfer_id: uuid.UUID) -> TransferOut | None:
    row = (
        Transfer.objects.filter(transfer_id=transfer_id)
        .select_related("debit_account", "credit_account")
        .first()
    )
    if row is None:
        return None
    return TransferOut(
        transfer_id=row.transfer_id,
        debit_account=row.debit_account.public_id,
        credit_account=row.credit_account.public_id,
        amount=row.amount,
        currency=row.currency,
        kind=row.kind,
        linked=row.linked,
        pending_id=row.pending_id,
        timeout=row.timeout,
        code=row.code,
        reference=row.reference,
        metadata=row.metadata,
        created_at=row.created_at,
    )


def get_snapshot(public_id: uuid.UUID, business_date: dt.date) -> BalanceSnapshot | None:
    return BalanceSnapshot.objects.filter(
        account__public_id=public_id, business_date=business_date
    ).first()


def export_transfers(since: dt.datetime, until: dt.datetime) -> Iterator[dict[str, object]]:
    """Read-only, for the insight lake export: posted transfers created in [since, until), as
    plain rows (account ids are the accounts' public ids)."""
    # accounts are few next to transfers: their public ids are read once, not joined per row
    public = {
        pk: str(public_id) for pk, public_id in Account.objects.values_list("pk", "public_id")
    }
    rows = (
        Transfer.objects.filter(kind__in=POSTING_KINDS, created_at__gte=since, created_at__lt=until)
        .order_by("created_at", "pk")
        .values_list(
            "transfer_id",
            "debit_account_id",
            "credit_account_id",
            "amount",
            "currency",
            "code",
            "metadata",
            "created_at",
        )
    )
    for transfer_id, debit, credit, amount, currency, code, metadata, created_at in rows.iterator(
        chunk_size=5000
    ):
        yield {
            "transfer_id": str(transfer_id),
            "debit_account_id": public[debit],
            "credit_account_id": public[credit],
            "amount": amount,
            "currency": currency,
            "code": code,
            "metadata": metadata,
            "created_at": created_at,
        }


def export_balances_at(
    account_ids: Iterable[uuid.UUID], moments: list[dt.datetime]
) -> Iterator[tuple[dt.datetime, uuid.UUID, int]]:
    """Read-only, for the insight lake export: each account's posted balance (natural sign) at
    each moment, as :func:`get_balance_as_of` gives it (the net after the latest transfer at
    or before the moment), in one pass over the append-only transfers. Accounts with no
    transfer by a moment are left out for that moment."""
    if not moments:
        return
    wanted = {str(a) for a in account_ids}
    credit_kinds = (Account.LIABILITY, Account.EQUITY, Account.INCOME)  # as Account.normal_credit
    accounts = {
        pk: (public_id, kind in credit_kinds)
        for pk, public_id, kind in Account.objects.values_list("pk", "public_id", "kind").iterator(
            chunk_size=5000
        )
        if str(public_id) in wanted
    }
    ordered = sorted(moments)
    latest: list[dict[int, tuple[int, int]]] = [{} for _ in ordered]  # per moment: pk → (tx, net)
    rows = (
        Transfer.objects.filter(created_at__lte=ordered[-1])
        .order_by("pk")
        .values_list(
            "pk",
            "created_at",
            "debit_account_id",
            "debit_account_net_after",
            "credit_account_id",
            "credit_account_net_after",
        )
    )
    from bisect import bisect_left

    for pk, created_at, debit, debit_net, credit, credit_net in rows.iterator(chunk_size=5000):
        slot = latest[bisect_left(ordered, created_at)]
        for account, net in ((debit, debit_net), (credit, credit_net)):
            if account in accounts:
                slot[account] = (pk, net)  # rows come in pk order: the last one wins
    carried: dict[int, tuple[int, int]] = {}
    for moment, slot in zip(ordered, latest, strict=True):
        for account, (pk, net) in slot.items():
            if account not in carried or carried[account][0] < pk:
                carried[account] = (pk, net)
        for account, (_pk, net) in sorted(carried.items()):
            public_id, normal_credit = accounts[account]
            yield moment, public_id, net if normal_credit else -net
