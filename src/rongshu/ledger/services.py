"""The ledger's write API: accounts, transfers (single, two-phase, linked, batched), holds.

Every function runs inside the caller's transaction (it opens a savepoint of its own, so it is
also safe to call in autocommit mode) and never commits.

Concurrency design (docs/ledger.md): a batch first reads the immutable facts it needs (which
accounts a hold touches), then locks **every account it touches in one statement, ordered by
primary key** (``SELECT … ORDER BY id FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE``
gives one writer at a time). Because every writer takes its locks in the same global order,
no two writers can wait on each other in a cycle: no deadlocks. Under those locks it re-reads
existing transfers and holds (so a concurrent duplicate id is seen), applies the batch in
memory item by item — exactly the semantics of one-by-one submission — and writes the new
transfers, hold changes and balances with a few bulk statements. A duplicate id racing in from
a writer on *other* accounts surfaces as a unique-key violation; the batch is then recomputed
(it sees the winner's row and answers ``exists``).
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from functools import lru_cache
from itertools import chain
from typing import Any, Protocol, TypeVar

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction

from rongshu.kernel import clock, fastsql
from rongshu.kernel.audit import do_audit
from rongshu.kernel.ids import new_id
from rongshu.kernel.money import MoneyError, check_currency
from rongshu.kernel.outbox import (
    OutboxRowTemplate,
    dispatch_after_commit,
    json_text,
    record_event,
    record_events,
)
from rongshu.ledger.chart import CHART
from rongshu.ledger.errors import (
    AccountBalanceNotZero,
    AccountNotFound,
    AccountSpecInvalid,
    AccountStatusInvalid,
    BatchTooLarge,
    TransferRefused,
    UnfreezeAlreadyRequested,
)
from rongshu.ledger.events import AccountStatusChanged, HoldsExpired, TransfersPosted
from rongshu.ledger.models import INT64_MAX, Account, Hold, Transfer
from rongshu.ledger.types import (
    FROZEN_STATUSES,
    MAX_BATCH,
    TransferIn,
    TransferOut,
    TransferResult,
)

KINDS_IN = ("single", "pending", "post", "void")
_RETRIES = 5
_GC_PAUSE_FROM = 256  # batches at least this large run with the cyclic GC paused
_OK = ("created", "exists")
_new_object = object.__new__


def _make_out(fields: dict[str, Any]) -> TransferOut:
    """A :class:`TransferOut` from its fields without the frozen dataclass's per-field
    ``object.__setattr__`` calls (the batch hot path builds 8,190 of them)."""
    out = _new_object(TransferOut)
    out.__dict__.update(fields)
    return out


def _make_result(index: int, transfer_id: uuid.UUID, result: str, transfer: Any) -> TransferResult:
    res = _new_object(TransferResult)
    res.__dict__.update(index=index, transfer_id=transfer_id, result=result, transfer=transfer)
    return res


# ====================================================================== accounts
def do_create_account(
    *,
    name: str,
    currency: str,
    kind: str,
    owner_type: str = Account.OWNER_CUSTOMER,
    owner_id: str = "",
    product_code: str = "",
    code: str | None = None,
    debits_must_not_exceed_credits: bool = False,
    credits_must_not_exceed_debits: bool = False,
    overdraft_limit: int = 0,
) -> Account:
    """Open an account with zero balances."""
    try:
        check_currency(currency)
    except MoneyError as exc:
        raise AccountSpecInvalid(f"{currency!r} is not an ISO 4217 currency.") from exc
    if kind not in dict(Account.KINDS):
        raise AccountSpecInvalid(f"{kind!r} is not an account kind.")
    if owner_type not in dict(Account.OWNER_TYPES):
        raise AccountSpecInvalid(f"{owner_type!r} is not an owner type.")
    if debits_must_not_exceed_credits and credits_must_not_exceed_debits:
        raise AccountSpecInvalid("An account takes at most one balance constraint.")
    if not 0 <= overdraft_limit <= INT64_MAX:
        raise AccountSpecInvalid("The overdraft limit must be between 0 and 2^63-1.")
    if overdraft_limit and not debits_must_not_exceed_credits:
        raise AccountSpecInvalid("An overdraft limit needs debits_must_not_exceed_credits.")
    return Account.objects.create(
        name=name,
        currency=currency,
        kind=kind,
        owner_type=owner_type,
        owner_id=owner_id,
        product_code=product_code,
        code=code,
        debits_must_not_exceed_credits=debits_must_not_exceed_credits,
        credits_must_not_exceed_debits=credits_must_not_exceed_debits,
        overdraft_limit=overdraft_limit,
        created_at=clock.now(),
    )


def do_create_customer_account(
    *, owner_id: str, name: str, currency: str = "CNY", product_code: str = "demand_deposit"
) -> Account:
    """A customer's deposit account: a liability that may not go overdrawn."""
    return do_create_account(
        name=name,
        currency=currency,
        kind=Account.LIABILITY,
        owner_type=Account.OWNER_CUSTOMER,
        owner_id=owner_id,
        product_code=product_code,
        debits_must_not_exceed_credits=True,
    )


def do_create_chart_of_accounts(currencies: Iterable[str] = ("CNY",)) -> list[Account]:
    """Create the bank's chart of accounts; idempotent (existing codes are kept)."""
    accounts: list[Account] = []
    for currency in currencies:
        check_currency(currency)
        for entry in CHART:
            code = entry.code.format(cur=currency)
            account = Account.objects.filter(code=code).first()
            if account is None:
                account = do_create_account(
                    name=entry.name,
                    currency=currency,
                    kind=entry.kind,
                    owner_type=Account.OWNER_BANK,
                    owner_id="bank",
                    code=code,
                    debits_must_not_exceed_credits=entry.debits_must_not_exceed_credits,
                    credits_must_not_exceed_debits=entry.credits_must_not_exceed_debits,
                )
            accounts.append(account)
    return accounts


def get_chart_account(code: str) -> Account:
    account = Account.objects.filter(code=code).first()
    if account is None:
        raise AccountNotFound(f"No chart account {code!r}; run do_create_chart_of_accounts().")
    return account


def _lock_account(public_id: uuid.UUID) -> Account:
    account = Account.objects.select_for_update().filter(public_id=public_id).first()
    if account is None:
        raise AccountNotFound(f"No account {public_id}.")
    return account


def _change_status(
    public_id: uuid.UUID, new_status: str, allowed_from: set[str], actor: str, reason: str
) -> Account:
    with transaction.atomic():
        account = _lock_account(public_id)
        old = account.status
        if old not in allowed_from:
            raise AccountStatusInvalid(f"The account is {old}; it cannot become {new_status}.")
        if new_status == Account.CLOSED and (
            account.debits_posted != account.credits_posted
            or account.debits_pending
            or account.credits_pending
        ):
            raise AccountBalanceNotZero(
                "The account still has a balance or holds; move them out before closing."
            )
        account.status = new_status
        fields = ["status"]
        if new_status not in FROZEN_STATUSES and account.pending_unfreeze is not None:
            account.pending_unfreeze = None  # nothing left to unfreeze
            fields.append("pending_unfreeze")
        if new_status == Account.CLOSED:
            account.closed_at = clock.now()
            fields.append("closed_at")
        account.save(update_fields=fields)
        action = {
            Account.FROZEN: "ledger.account_frozen",
            Account.DEBIT_FROZEN: "ledger.account_debit_frozen",
            Account.OPEN: "ledger.account_unfrozen",
            Account.CLOSED: "ledger.account_closed",
        }[new_status]
        do_audit(
            actor,
            action,
            object_type="ledger.account",
            object_id=str(public_id),
            data={"from": old, "to": new_status, "reason": reason},
        )
        record_event(
            AccountStatusChanged(
                account=str(public_id),
                old_status=old,
                new_status=new_status,
                actor=actor,
                reason=reason,
            )
        )
    return account


def do_freeze_account(
    public_id: uuid.UUID, *, actor: str, reason: str, debits_only: bool = False
) -> Account:
    """Freeze an account (a judicial freeze: no debits, or with ``debits_only`` only debits)."""
    target = Account.DEBIT_FROZEN if debits_only else Account.FROZEN
    allowed = {Account.OPEN, Account.FROZEN, Account.DEBIT_FROZEN} - {target}
    return _change_status(public_id, target, allowed, actor, reason)


def do_unfreeze_account(public_id: uuid.UUID, *, actor: str, reason: str) -> Account:
    return _change_status(
        public_id, Account.OPEN, {Account.FROZEN, Account.DEBIT_FROZEN}, actor, reason
    )


class _HasPublicId(Protocol):
    @property
    def public_id(self) -> uuid.UUID: ...


A = TypeVar("A", bound=_HasPublicId)


def do_request_unfreeze(public_id: uuid.UUID, open_approval: Callable[[str], A]) -> A:
    """Open the four-eyes request to unfreeze a frozen account: at most one at a time.

    ``open_approval(status)`` opens the approval (identity's, called by the API or console,
    which may use both domains) and returns it; under the account's lock the ledger refuses
    an account that is not frozen (:class:`AccountStatusInvalid`) or already has a request
    waiting (:class:`UnfreezeAlreadyRequested`), and remembers the new one until it is
    decided (:mod:`rongshu.ledger.handlers`) or the account is unfrozen or closed.
    """
    with transaction.atomic():
        account = _lock_account(public_id)
        if account.status not in FROZEN_STATUSES:
            raise AccountStatusInvalid(
                f"The account is {account.status}; only a frozen one is unfrozen."
            )
        if account.pending_unfreeze is not None:
            raise UnfreezeAlreadyRequested(
                f"Approval {account.pending_unfreeze} to unfreeze this account is pending."
            )
        approval = open_approval(account.status)
        account.pending_unfreeze = approval.public_id
        account.save(update_fields=["pending_unfreeze"])
    return approval


def do_clear_unfreeze_request(public_id: uuid.UUID, approval_id: uuid.UUID) -> None:
    """The approval was decided: the account may take a new unfreeze request."""
    Account.objects.filter(public_id=public_id, pending_unfreeze=approval_id).update(
        pending_unfreeze=None
    )


def do_close_account(public_id: uuid.UUID, *, actor: str, reason: str) -> Account:
    """Close an account; it must have a zero balance and no holds."""
    return _change_status(public_id, Account.CLOSED, {Account.OPEN}, actor, reason)


# ====================================================================== transfers
class _Acc:
    """A locked account's mutable state while a batch is applied."""

    __slots__ = (
        "cmned",
        "cp",
        "cpo",
        "currency",
        "dirty",
        "dmnec",
        "dp",
        "dpo",
        "overdraft",
        "pk",
        "pub",
        "status",
    )

    def __init__(self, row: tuple[Any, ...]) -> None:
        (
            self.pk,
            self.pub,
            self.currency,
            self.status,
            self.dmnec,
            self.cmned,
            self.overdraft,
            self.dp,
            self.dpo,
            self.cp,
            self.cpo,
        ) = row
        self.dirty = False


class _HoldState:
    __slots__ = (
        "amount",
        "credit",
        "debit",
        "dirty",
        "expires_at",
        "is_new",
        "resolved_at",
        "resolved_by",
        "state",
        "transfer_id",
    )

    def __init__(
        self,
        transfer_id: uuid.UUID,
        debit: int,
        credit: int,
        amount: int,
        state: str,
        expires_at: dt.datetime | None,
        *,
        is_new: bool,
    ) -> None:
        self.transfer_id = transfer_id
        self.debit = debit
        self.credit = credit
        self.amount = amount
        self.state = state
        self.expires_at = expires_at
        self.is_new = is_new
        self.dirty = False
        self.resolved_by: uuid.UUID | None = None
        self.resolved_at: dt.datetime | None = None


def _out_from_values(row: Mapping[str, Any]) -> TransferOut:
    return TransferOut(
        transfer_id=row["transfer_id"],
        debit_account=row["debit_account__public_id"],
        credit_account=row["credit_account__public_id"],
        amount=row["amount"],
        currency=row["currency"],
        kind=row["kind"],
        linked=row["linked"],
        pending_id=row["pending_id"],
        timeout=row["timeout"],
        code=row["code"],
        reference=row["reference"],
        metadata=row["metadata"],
        created_at=row["created_at"],
    )


def _difference(item: TransferIn, ex: TransferOut) -> str | None:
    """The first field in which a retried transfer differs from the stored one."""
    if item.kind != ex.kind:
        return "exists_with_different_kind"
    if item.linked != ex.linked:
        return "exists_with_different_linked"
    if item.debit_account is not None and item.debit_account != ex.debit_account:
        return "exists_with_different_debit_account"
    if item.credit_account is not None and item.credit_account != ex.credit_account:
        return "exists_with_different_credit_account"
    if item.amount is not None and item.amount != ex.amount:
        return "exists_with_different_amount"
    if item.currency != ex.currency:
        return "exists_with_different_currency"
    if item.pending_id != ex.pending_id:
        return "exists_with_different_pending_id"
    if item.timeout != ex.timeout:
        return "exists_with_different_timeout"
    if item.code != ex.code:
        return "exists_with_different_code"
    if item.reference != ex.reference:
        return "exists_with_different_reference"
    if item.metadata != ex.metadata:
        return "exists_with_different_metadata"
    return None


_CURRENCIES_SEEN: set[str] = set()


def _currency_ok(currency: object) -> bool:
    """``check_currency`` with a memo of the codes already accepted (hot path)."""
    if not isinstance(currency, str):
        return False
    if currency in _CURRENCIES_SEEN:
        return True
    try:
        check_currency(currency)
    except MoneyError:
        return False
    _CURRENCIES_SEEN.add(currency)
    return True


def _check_shape(item: TransferIn) -> str | None:
    """Checks that need no database."""
    if item.kind not in KINDS_IN:
        return "invalid_kind"
    if not _currency_ok(item.currency):
        return "invalid_currency"
    if item.amount is not None:
        if item.amount <= 0:
            return "amount_must_be_positive"
        if item.amount > INT64_MAX:
            return "amount_out_of_range"
    if item.timeout < 0 or item.timeout > 2**31 - 1:
        return "invalid_timeout"
    if item.timeout and item.kind != "pending":
        return "timeout_reserved_for_pending_transfer"
    if item.kind in ("single", "pending"):
        if item.pending_id is not None:
            return "pending_id_not_allowed"
        if item.amount is None:
            return "amount_must_be_positive"
        if item.debit_account is None:
            return "debit_account_required"
        if item.credit_account is None:
            return "credit_account_required"
        if item.debit_account == item.credit_account:
            return "accounts_must_be_different"
    else:
        if item.pending_id is None:
            return "pending_id_required"
        if item.pending_id == item.transfer_id:
            return "pending_id_must_be_different"
    if len(item.code) == 0 or len(item.code) > 40:
        return "invalid_code"
    if len(item.reference) > 140:
        return "invalid_reference"
    return None


class _Relock(Exception):
    """The set of accounts to lock grew while locking; retry the batch from the start."""


class _Recheck(Exception):
    """Stored ids were found after an unchecked evaluation; evaluate the batch again."""


class _Batch:
    """Applies one batch in memory under the account locks, then writes it in bulk.

    Internal maps are keyed by ``uuid.int`` (hashing a UUID object is a Python-level call).
    """

    def __init__(self, items: Sequence[TransferIn], refused: Mapping[int, str]) -> None:
        self.items = items
        self.refused = refused
        self.now = clock.now()
        self.by_pub: dict[int, _Acc] = {}
        self.by_pk: dict[int, _Acc] = {}
        self.checked = False  # whether ``existing`` was read (under the locks)
        self.existing: dict[int, TransferOut] = {}
        self.referenced_ids: set[uuid.UUID] = set()  # pending ids that are transfers
        self.holds: dict[uuid.UUID, _HoldState] = {}
        self.new: dict[int, TransferOut] = {}
        self.created: list[TransferOut] = []  # in order, aligned with rows
        self.rows: list[tuple[Any, ...]] = []
        self.sent = 0  # how many of ``created`` went into a COPY already (apply_streaming)

    # ------------------------------------------------------------------ load and lock
    def load(self, *, check_existing: bool) -> None:
        """Lock the accounts; with ``check_existing`` also read which ids are already stored.

        Without it the batch is evaluated as if none were: :func:`do_create_transfers` then
        checks afterwards when any item was not ``created`` (a stored id can only change an
        answer that is not ``created``), and otherwise the unique key on ``transfer_id`` turns
        a stored id into an ``IntegrityError`` at the insert and a checked retry.
        """
        pending_refs = {it.pending_id for it in self.items if it.pending_id is not None}
        pub_ints: set[int] = set()  # UUID.int: hashing a UUID is a Python-level call
        for it in self.items:
            if it.debit_account is not None:
                pub_ints.add(it.debit_account.int)
            if it.credit_account is not None:
                pub_ints.add(it.credit_account.int)
        account_pubs = {uuid.UUID(int=i) for i in pub_ints}
        # The accounts of referenced holds never change, so they can be read before locking.
        hold_accounts: set[int] = set()
        if pending_refs:
            for debit, credit in Hold.objects.filter(transfer_id__in=pending_refs).values_list(
                "debit_account_id", "credit_account_id"
            ):
                hold_accounts.update((debit, credit))
        # Lock every touched account at once, in primary-key order (deadlock-free).
        for row in _lock_accounts(account_pubs, hold_accounts):
            acc = _Acc(row)
            self.by_pub[acc.pub.int] = acc
            self.by_pk[acc.pk] = acc
        # Under the locks: what already exists (replays, races) and the holds' states.
        if check_existing:
            self.read_existing()
        if pending_refs:
            self.referenced_ids = set(
                Transfer.objects.filter(transfer_id__in=pending_refs).values_list(
                    "transfer_id", flat=True
                )
            )
            for h in Hold.objects.filter(transfer_id__in=pending_refs).values_list(
                "transfer_id",
                "debit_account_id",
                "credit_account_id",
                "amount",
                "state",
                "expires_at",
            ):
                self.holds[h[0]] = _HoldState(*h, is_new=False)
            if any(
                h.debit not in self.by_pk or h.credit not in self.by_pk for h in self.holds.values()
            ):
                # A hold committed by another writer between our first read and our locks:
                # its accounts are not locked. Start again (the savepoint's locks are dropped)
                # rather than lock out of order.
                raise _Relock

    def read_existing(self) -> bool:
        """Read the stored transfers among the batch's ids; returns whether there are any."""
        self.checked = True
        found = _existing_ids({it.transfer_id for it in self.items})
        if found:
            for values in Transfer.objects.filter(transfer_id__in=found).values(
                "transfer_id",
                "debit_account__public_id",
                "credit_account__public_id",
                "amount",
                "currency",
                "kind",
                "linked",
                "pending_id",
                "timeout",
                "code",
                "reference",
                "metadata",
                "created_at",
            ):
                self.existing[values["transfer_id"].int] = _out_from_values(values)
        return bool(found)

    # ------------------------------------------------------------------ apply
    def apply(self, sink: Any = None) -> list[TransferResult]:
        """Evaluate every item in order. With ``sink`` (an open binary ``COPY`` of
        ``ledger_transfer``, see :meth:`apply_streaming`) the new transfers are written to it
        as they are decided, a few hundred at a time and only between chains (a chain's
        transfers may still be undone until its last item)."""
        items, refused = self.items, self.refused
        n = len(items)
        codes: list[str] = [""] * n
        outs: list[TransferOut | None] = [None] * n
        apply_one, fresh_single = self.apply_one, self._fresh_single
        created = self.created
        i = 0
        while i < n:
            if sink is not None and len(created) - self.sent >= _STREAM_ROWS:
                self.send(sink)
            it = items[i]
            if not it.linked:  # a chain of one (the common case)
                if i in refused:
                    codes[i] = refused[i]
                else:
                    out = fresh_single(it) if it.kind == "single" else None
                    if out is not None:
                        codes[i], outs[i] = "created", out
                    else:
                        code, out = apply_one(it, None)
                        codes[i] = code
                        if code in _OK:
                            outs[i] = out
                i += 1
                continue
            # A chain runs from i to the first item without ``linked`` (or the batch's end).
            j = i
            while j < n - 1 and items[j].linked:
                j += 1
            chain = range(i, j + 1)
            undo = _Undo()
            failed_at: int | None = None
            failure = ""
            for k in chain:
                if k in refused:
                    code, out = refused[k], None
                else:
                    code, out = apply_one(items[k], undo)
                if code not in _OK:
                    failed_at, failure = k, code
                    break
                codes[k], outs[k] = code, out
            if failed_at is None and items[j].linked:
                failed_at, failure = j, "linked_event_chain_open"
            if failed_at is not None:
                undo.revert(self)
                for k in chain:
                    codes[k] = failure if k == failed_at else "linked_event_failed"
                    outs[k] = None
            i = j + 1
        return [_make_result(k, items[k].transfer_id, codes[k], outs[k]) for k in range(n)]

    def apply_streaming(self) -> tuple[list[TransferResult], list[Any] | None]:
        """PostgreSQL, a large batch: :meth:`apply` with the new transfers flowing into a
        binary ``COPY`` while the rest is evaluated, so that the server stores them while
        this process is still deciding (the two run on different CPUs). When every item is
        ``created`` (or the stored ids were read) the outbox row's parameters are built too
        before the ``COPY`` ends. Returns the results and those parameters (or ``None``).

        Nothing here is final: the caller's savepoint undoes the rows when the batch must be
        evaluated again (stored ids found afterwards, or a duplicate id, which surfaces as
        ``IntegrityError`` when the ``COPY`` ends), exactly as for the rows of
        :func:`_insert_transfers`."""
        event: list[Any] | None = None
        table, columns = Transfer._meta.db_table, ", ".join(_TRANSFER_COLUMNS)
        with (
            connection.wrap_database_errors,  # a duplicate id: IntegrityError, as for INSERT
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy,
        ):
            copy.set_types(_TRANSFER_COPY_TYPES)
            results = self.apply(copy)
            self.send(copy)
            if self.created and (self.checked or all(r.result == "created" for r in results)):
                event = _BatchEvent.of(connection).params(self.created)
        return results, event

    def send(self, copy: Any) -> None:
        """Write the new transfers not yet written to ``copy``."""
        start = self.sent
        if len(self.created) > start:
            write_row = copy.write_row
            for row in _transfer_params(
                self.created[start:], self.rows[start:], metadata=_jsonb_wire
            ):
                write_row(row)
            self.sent = len(self.created)

    def apply_one(self, it: TransferIn, undo: _Undo | None) -> tuple[str, TransferOut | None]:
        key = it.transfer_id.int
        known = self.new.get(key)
        if known is None and self.existing:
            known = self.existing.get(key)
        if known is not None:
            return (_difference(it, known) or "exists"), known
        problem = _check_shape(it)
        if problem:
            return problem, None
        if it.kind in ("single", "pending"):
            return self._apply_new(it, undo)
        return self._apply_resolve(it, undo)

    def _fresh_single(self, it: TransferIn) -> TransferOut | None:
        """The common case of :meth:`apply_one` for an unlinked ``single`` item, in one call:
        a new id, a well-formed item, both accounts found, open and in its currency, no
        overflow and no broken balance constraint. Then it applies the item exactly as
        :meth:`_apply_new` does and returns the new transfer; in any other case it changes
        nothing and returns ``None``, and :meth:`apply_one` answers (every refusal and every
        ``exists*`` comes from there). It may hand over more than it must, never less
        (``tests/ledger/test_fast_paths.py`` compares the two on random batches)."""
        key = it.transfer_id.int
        if key in self.new or (self.existing and key in self.existing):
            return None
        amount, currency, debit, credit = (
            it.amount,
            it.currency,
            it.debit_account,
            it.credit_account,
        )
        if (
            type(amount) is not int
            or not 0 < amount <= INT64_MAX
            or type(currency) is not str
            or currency not in _CURRENCIES_SEEN
            or it.timeout != 0
            or it.pending_id is not None
            or debit is None
            or credit is None
            or not 0 < len(it.code) <= 40
            or len(it.reference) > 140
        ):
            return None
        dr = self.by_pub.get(debit.int)
        cr = self.by_pub.get(credit.int)
        if (
            dr is None
            or cr is None
            or dr is cr
            or dr.currency != currency
            or cr.currency != currency
            or dr.status != "open"
            or cr.status != "open"
        ):
            return None
        dp_dpo = dr.dp + dr.dpo + amount
        cp_cpo = cr.cp + cr.cpo + amount
        if (
            dp_dpo > INT64_MAX
            or cp_cpo > INT64_MAX
            or (dr.dmnec and dp_dpo > dr.cpo + dr.overdraft)
            or (cr.cmned and cp_cpo > cr.dpo)
        ):
            return None
        dr.dpo += amount
        cr.cpo += amount
        dr.dirty = cr.dirty = True
        return self._record(it, dr, cr, amount, None)

    def _apply_new(self, it: TransferIn, undo: _Undo | None) -> tuple[str, TransferOut | None]:
        assert it.debit_account is not None
        assert it.credit_account is not None
        assert it.amount is not None
        dr = self.by_pub.get(it.debit_account.int)
        if dr is None:
            return "debit_account_not_found", None
        cr = self.by_pub.get(it.credit_account.int)
        if cr is None:
            return "credit_account_not_found", None
        if dr.currency != it.currency or cr.currency != it.currency:
            return "currency_mismatch", None
        if dr.status != Account.OPEN or cr.status != Account.OPEN:
            if dr.status == Account.CLOSED:
                return "debit_account_closed", None
            if cr.status == Account.CLOSED:
                return "credit_account_closed", None
            if dr.status != Account.OPEN:
                return "debit_account_frozen", None
            if cr.status == Account.FROZEN:
                return "credit_account_frozen", None
        amount = it.amount
        if dr.dp + dr.dpo + amount > INT64_MAX:
            return "overflows_debits", None
        if cr.cp + cr.cpo + amount > INT64_MAX:
            return "overflows_credits", None
        if dr.dmnec and dr.dp + dr.dpo + amount > dr.cpo + dr.overdraft:
            return "exceeds_credits", None
        if cr.cmned and cr.cp + cr.cpo + amount > cr.dpo:
            return "exceeds_debits", None
        if undo is not None:
            undo.save_acc(dr)
            undo.save_acc(cr)
        if it.kind == "pending":
            dr.dp += amount
            cr.cp += amount
            expires = self.now + dt.timedelta(seconds=it.timeout) if it.timeout else None
            hold = _HoldState(
                it.transfer_id, dr.pk, cr.pk, amount, Hold.PENDING, expires, is_new=True
            )
            self.holds[it.transfer_id] = hold
            if undo is not None:
                undo.new_holds.append(it.transfer_id)
        else:
            dr.dpo += amount
            cr.cpo += amount
        dr.dirty = cr.dirty = True
        return "created", self._record(it, dr, cr, amount, undo)

    def _apply_resolve(self, it: TransferIn, undo: _Undo | None) -> tuple[str, TransferOut | None]:
        assert it.pending_id is not None
        hold = self.holds.get(it.pending_id)
        if hold is None:
            if it.pending_id in self.referenced_ids or it.pending_id.int in self.new:
                return "pending_transfer_not_pending", None
            return "pending_transfer_not_found", None
        dr, cr = self.by_pk[hold.debit], self.by_pk[hold.credit]
        if it.debit_account is not None and it.debit_account != dr.pub:
            return "pending_transfer_has_different_debit_account", None
        if it.credit_account is not None and it.credit_account != cr.pub:
            return "pending_transfer_has_different_credit_account", None
        if it.currency != dr.currency:
            return "pending_transfer_has_different_currency", None
        if hold.state == Hold.POSTED:
            return "pending_transfer_already_posted", None
        if hold.state == Hold.VOIDED:
            return "pending_transfer_already_voided", None
        if hold.state == Hold.EXPIRED or (
            hold.expires_at is not None and hold.expires_at <= self.now
        ):
            return "pending_transfer_expired", None
        if it.kind == "post":
            amount = hold.amount if it.amount is None else it.amount
            if amount > hold.amount:
                return "exceeds_pending_transfer_amount", None
            # No debit-status check: a hold is a commitment made before any freeze (a frozen
            # account takes no new holds), so a freeze stops new debits, not the posting of
            # money already committed, e.g. sent to the clearing network (docs/decisions/0010).
            if cr.status == Account.FROZEN:
                return "credit_account_frozen", None
        else:
            amount = hold.amount if it.amount is None else it.amount
            if amount != hold.amount:
                return "pending_transfer_has_different_amount", None
        if undo is not None:
            undo.save_acc(dr)
            undo.save_acc(cr)
            undo.save_hold(hold)
        dr.dp -= hold.amount
        cr.cp -= hold.amount
        if it.kind == "post":
            dr.dpo += amount
            cr.cpo += amount
        dr.dirty = cr.dirty = True
        hold.state = Hold.POSTED if it.kind == "post" else Hold.VOIDED
        hold.resolved_by = it.transfer_id
        hold.resolved_at = self.now
        hold.dirty = True
        return "created", self._record(it, dr, cr, amount, undo)

    def _record(
        self, it: TransferIn, dr: _Acc, cr: _Acc, amount: int, undo: _Undo | None
    ) -> TransferOut:
        out = _make_out(
            {
                "transfer_id": it.transfer_id,
                "debit_account": dr.pub,
                "credit_account": cr.pub,
                "amount": amount,
                "currency": it.currency,
                "kind": it.kind,
                "linked": it.linked,
                "pending_id": it.pending_id,
                "timeout": it.timeout,
                "code": it.code,
                "reference": it.reference,
                "metadata": it.metadata,
                "created_at": self.now,
            }
        )
        self.new[it.transfer_id.int] = out
        self.created.append(out)
        self.rows.append((dr.pk, cr.pk, dr.cpo - dr.dpo, cr.cpo - cr.dpo))
        if undo is not None:
            undo.new_transfers += 1
        return out

    # ------------------------------------------------------------------ write
    def write(self, event: list[Any] | None = None) -> list[TransferOut]:
        """Write what :meth:`apply` decided: the new transfers (unless
        :meth:`apply_streaming` wrote them), holds, balances and the outbox row (``event``:
        its parameters, already built by :meth:`apply_streaming`)."""
        created = self.created
        if not created:
            return []
        if self.sent < len(created):
            _insert_transfers(created[self.sent :], self.rows[self.sent :])
        new_holds = [h for h in self.holds.values() if h.is_new]
        if new_holds:
            _insert_holds(new_holds)
        changed = [h for h in self.holds.values() if h.dirty and not h.is_new]
        if changed:
            _update_holds(changed)
        _update_accounts([a for a in self.by_pk.values() if a.dirty])
        # No savepoint and no de-duplication read: the event is new with this transaction.
        lz4 = len(created) >= _LZ4_FROM and _lz4_available()
        if event is None and not lz4:
            record_events([(TransfersPosted.of(created), None)])
            return created
        # A large batch's event is hundreds of kB of jsonb, which PostgreSQL compresses
        # when storing it: pglz costs ~20 ms of server CPU for a full batch, lz4 ~2 ms
        # (ADR 0005). Only for this row: the caller's setting is put back right after
        # (and a failed insert rolls back the savepoint, and with it the setting).
        with connection.cursor() as cursor:
            if lz4:
                cursor.execute(
                    "SELECT current_setting('default_toast_compression'), "
                    "set_config('default_toast_compression', 'lz4', true)"
                )
                previous = cursor.fetchone()[0]
            if event is None:
                record_events([(TransfersPosted.of(created), None)])
            else:
                _BatchEvent.of(connection).insert(event)
            if lz4:
                cursor.execute(
                    "SELECT set_config('default_toast_compression', %s, true)", [previous]
                )
        return created


class _BatchEvent:
    """A batch's ``ledger.TransfersPosted`` outbox row on PostgreSQL from the kernel's
    :class:`OutboxRowTemplate` — the row :func:`record_events` writes — so that its
    parameters (the payload's JSON text above all, ~0.7 MB for 8,190 transfers) can be built
    while the batch's ``COPY`` is still being stored, and sent as a bound parameter rather
    than quoted into the statement's text."""

    def __init__(self, db: Any) -> None:
        self.template = OutboxRowTemplate(TransfersPosted.event_type, db)
        self.sql = (
            f"INSERT INTO {self.template.table} ({self.template.columns}) "  # noqa: S608
            f"VALUES ({self.template.values}) RETURNING id"
        )

    @classmethod
    def of(cls, db: Any) -> _BatchEvent:
        known = _BATCH_EVENT.get(db.alias)
        if known is None:
            known = _BATCH_EVENT[db.alias] = cls(db)
        return known

    def params(self, created: list[TransferOut]) -> list[Any]:
        return self.template.params(TransfersPosted.of(created).payload(), clock.now())

    def insert(self, params: list[Any]) -> None:
        # bound separately: the payload travels as a parameter, not escaped into the text
        with fastsql.bound_cursor() as cursor:
            cursor.execute(self.sql, params)
            (event_pk,) = cursor.fetchone()
        dispatch_after_commit([event_pk], using=connection.alias)


_BATCH_EVENT: dict[str, _BatchEvent] = {}
_STREAM_FROM = 64  # PostgreSQL batches of at least this many items stream into a COPY
_STREAM_ROWS = 512  # new transfers written to the COPY at a time


_LZ4_FROM = 512  # transfers: below this the event row is small enough not to matter
_LZ4: dict[str, bool] = {}


def _lz4_available() -> bool:
    """Whether this PostgreSQL server can compress values with lz4 (built ``--with-lz4``,
    PostgreSQL 14+); asked once per database alias."""
    if connection.vendor != "postgresql":
        return False
    known = _LZ4.get(connection.alias)
    if known is None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT coalesce(bool_or('lz4' = ANY(enumvals)), false) FROM pg_settings "
                "WHERE name = 'default_toast_compression'"
            )
            known = _LZ4[connection.alias] = bool(cursor.fetchone()[0])
    return known


class _Undo:
    """What a linked chain changed, to put back when one of its transfers fails."""

    def __init__(self) -> None:
        self.accounts: dict[int, tuple[int, int, int, int, bool]] = {}
        self.holds: dict[uuid.UUID, tuple[str, uuid.UUID | None, dt.datetime | None, bool]] = {}
        self.new_holds: list[uuid.UUID] = []
        self.new_transfers = 0

    def save_acc(self, acc: _Acc) -> None:
        if acc.pk not in self.accounts:
            self.accounts[acc.pk] = (acc.dp, acc.dpo, acc.cp, acc.cpo, acc.dirty)

    def save_hold(self, hold: _HoldState) -> None:
        if hold.transfer_id not in self.holds:
            self.holds[hold.transfer_id] = (
                hold.state,
                hold.resolved_by,
                hold.resolved_at,
                hold.dirty,
            )

    def revert(self, batch: _Batch) -> None:
        for pk, (dp, dpo, cp, cpo, dirty) in self.accounts.items():
            acc = batch.by_pk[pk]
            acc.dp, acc.dpo, acc.cp, acc.cpo, acc.dirty = dp, dpo, cp, cpo, dirty
        for tid, (state, by, at, dirty) in self.holds.items():
            hold = batch.holds.get(tid)
            if hold is not None:
                hold.state, hold.resolved_by, hold.resolved_at, hold.dirty = state, by, at, dirty
        for tid in self.new_holds:
            batch.holds.pop(tid, None)
        for _ in range(self.new_transfers):
            out = batch.created.pop()
            batch.rows.pop()
            del batch.new[out.transfer_id.int]


# ---------------------------------------------------------------------- bulk SQL
# The hot path uses plain SQL: Django's query compiler costs more than the queries themselves.
_ACCOUNT_COLUMNS = (
    "id, public_id, currency, status, debits_must_not_exceed_credits, "
    "credits_must_not_exceed_debits, overdraft_limit, debits_pending, debits_posted, "
    "credits_pending, credits_posted"
)


def _uuid_param() -> Any:
    """How this database takes a UUID parameter (SQLite: 32 hex digits; others: UUID)."""
    if connection.vendor == "sqlite":
        return lambda value: value.hex
    if connection.vendor == "postgresql":
        return lambda value: value
    return _prep(Transfer, "transfer_id")


def _as_uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _in_chunks(values: list[Any], size: int = 4000) -> Iterable[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _lock_accounts(pubs: set[uuid.UUID], pks: set[int]) -> list[tuple[Any, ...]]:
    """``SELECT … FOR UPDATE`` the accounts, in primary-key order, in one statement."""
    if not pubs and not pks:
        return []
    table = Account._meta.db_table
    params: list[Any]
    if connection.vendor == "postgresql":  # two array parameters instead of thousands
        sql = (
            f"SELECT {_ACCOUNT_COLUMNS} FROM {table} "  # noqa: S608
            "WHERE public_id = ANY(%s::uuid[]) OR id = ANY(%s::bigint[]) ORDER BY id FOR UPDATE"
        )
        with fastsql.bound_cursor() as cursor:
            cursor.execute(sql, [list(pubs), list(pks)])
            locked: list[tuple[Any, ...]] = cursor.fetchall()  # UUIDs already
            return locked
    else:
        uid = _uuid_param()
        where, params = [], []
        as_stored: dict[Any, uuid.UUID] = {}  # stored form → UUID: no parsing of the rows
        if pubs:
            where.append(f"public_id IN ({', '.join(['%s'] * len(pubs))})")
            for p in pubs:
                stored = uid(p)
                as_stored[stored] = p
                params.append(stored)
        if pks:
            where.append(f"id IN ({', '.join(['%s'] * len(pks))})")
            params.extend(pks)
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        sql = (
            f"SELECT {_ACCOUNT_COLUMNS} FROM {table} "  # noqa: S608
            f"WHERE {' OR '.join(where)} ORDER BY id{lock}"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    known = as_stored.get
    return [(r[0], known(r[1]) or _as_uuid(r[1]), *r[2:]) for r in rows]


def _existing_ids(ids: set[uuid.UUID]) -> list[uuid.UUID]:
    """Which of these transfer ids are already stored (usually none)."""
    if not ids:
        return []
    table = Transfer._meta.db_table
    found: list[uuid.UUID] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT transfer_id FROM {table} WHERE transfer_id = ANY(%s::uuid[])",  # noqa: S608
                [list(ids)],
            )
            return [_as_uuid(row[0]) for row in cursor.fetchall()]
        uid = _uuid_param()
        for chunk in _in_chunks(list(ids)):
            cursor.execute(
                f"SELECT transfer_id FROM {table} "  # noqa: S608
                f"WHERE transfer_id IN ({', '.join(['%s'] * len(chunk))})",
                [uid(i) for i in chunk],
            )
            found.extend(_as_uuid(row[0]) for row in cursor.fetchall())
    return found


_TRANSFER_COLUMNS = (
    "transfer_id",
    "debit_account_id",
    "credit_account_id",
    "amount",
    "currency",
    "kind",
    "linked",
    "pending_id",
    "timeout",
    "code",
    "reference",
    "metadata",
    "created_at",
    "debit_account_net_after",
    "credit_account_net_after",
)


# PostgreSQL types of _TRANSFER_COLUMNS, for binary COPY.
_TRANSFER_COPY_TYPES = (
    "uuid",
    "int8",
    "int8",
    "int8",
    "varchar",
    "varchar",
    "bool",
    "uuid",
    "int4",
    "varchar",
    "varchar",
    "bytea",  # metadata: already in jsonb's binary wire format (see _jsonb_wire)
    "timestamptz",
    "int8",
    "int8",
)


def _prep(model: type[Any], field_name: str) -> Any:
    field = model._meta.get_field(field_name)
    return lambda value: field.get_db_prep_save(value, connection)


def _executemany(sql: str, params: list[tuple[Any, ...]]) -> None:
    if not params:
        return
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _transfer_params(
    created: list[TransferOut],
    rows: list[tuple[Any, ...]],
    metadata: Callable[[Mapping[str, Any]], Any] | None = None,
) -> list[tuple[Any, ...]]:
    """One parameter row per new transfer, in the order of _TRANSFER_COLUMNS."""
    when = _prep(Transfer, "created_at")
    meta = metadata or _prep(Transfer, "metadata")
    stamp = when(created[0].created_at)  # one timestamp per batch
    empty_meta = meta({})
    # no per-value conversion calls on the hot path: a UUID goes as it is where the database
    # has a uuid type (PostgreSQL), else as the 32 hex digits Django stores (SQLite)
    hexes = not connection.features.has_native_uuid_field
    return [
        (
            t.transfer_id.hex if hexes else t.transfer_id,
            r[0],
            r[1],
            t.amount,
            t.currency,
            t.kind,
            t.linked,
            (t.pending_id.hex if hexes else t.pending_id) if t.pending_id is not None else None,
            t.timeout,
            t.code,
            t.reference,
            meta(t.metadata) if t.metadata else empty_meta,
            stamp,
            r[2],
            r[3],
        )
        for t, r in zip(created, rows, strict=True)
    ]


_EMPTY_JSONB_WIRE = b"\x01{}"


def _jsonb_wire(metadata: Mapping[str, Any]) -> bytes:
    """jsonb's binary COPY format: version byte 1, then the JSON text. Encoding it here once
    per value (and not at all for the usual empty metadata) saves psycopg's per-row dumper a
    json.dumps call: a quarter of a batch's client time."""
    if not metadata:
        return _EMPTY_JSONB_WIRE
    return b"\x01" + json.dumps(metadata).encode()  # as JSONField


def _insert_transfers(created: list[TransferOut], rows: list[tuple[Any, ...]]) -> None:
    table = Transfer._meta.db_table
    columns = ", ".join(_TRANSFER_COLUMNS)
    marks = ", ".join(["%s"] * len(_TRANSFER_COLUMNS))
    if connection.vendor == "postgresql" and len(created) >= 64:
        # COPY is PostgreSQL's bulk path: several times faster than INSERTs for a batch; the
        # binary format halves the client's work (no text formatting of each value).
        params = _transfer_params(created, rows, metadata=_jsonb_wire)
        with (
            connection.wrap_database_errors,  # a duplicate id: IntegrityError, as for INSERT
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy,
        ):
            copy.set_types(_TRANSFER_COPY_TYPES)
            for row in params:
                copy.write_row(row)
        return
    params = _transfer_params(created, rows)
    if connection.vendor == "sqlite" and len(created) >= 64:
        # Multi-row INSERTs (up to 2,000 rows each) instead of one execution per row:
        # SQLite updates the AUTOINCREMENT counter and resets the statement once per chunk,
        # and Django's per-row executemany plumbing goes (a full batch: ~63 → ~39 ms of
        # CPU). The SQL is written with SQLite's own ``?`` marks and run on the sqlite3
        # cursor itself: Django's cursor would rewrite 30,000 ``%s`` marks with a regular
        # expression on every call (~4 ms). Errors are translated as Django's cursor
        # translates them (a duplicate id: IntegrityError). Not in Django's query log.
        with connection.wrap_database_errors, connection.cursor() as cursor:
            raw, start = cursor.cursor, 0
            for size in _sqlite_chunk_sizes(len(params), _sqlite_rows_per_insert()):
                chunk = params[start : start + size]
                start += size
                sqlite3.Cursor.execute(
                    raw, _sqlite_insert_sql(table, size), list(chain.from_iterable(chunk))
                )
        return
    _executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", params)  # noqa: S608


def _sqlite_rows_per_insert() -> int:
    """Rows per multi-row INSERT: this SQLite's limit on bound parameters allows (32,766
    since SQLite 3.32; 999 before), at most 2,000."""
    limit = 999
    with suppress(AttributeError, sqlite3.Error):
        limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return max(1, min(2000, limit // len(_TRANSFER_COLUMNS)))


def _sqlite_chunk_sizes(rows: int, per: int) -> list[int]:
    """Full chunks of ``per`` rows, then the rest in powers of two: whatever the batch's
    size, at most a dozen distinct statements exist (SQLite's statement cache keeps each
    compiled one; a statement per remainder size would fill it with 30,000-parameter
    statements)."""
    full, rest = divmod(rows, per)
    sizes = [per] * full
    bit = 1 << per.bit_length()
    while rest:
        bit >>= 1
        if rest >= bit:
            sizes.append(bit)
            rest -= bit
    return sizes


@lru_cache(maxsize=32)
def _sqlite_insert_sql(table: str, rows: int) -> str:
    one = "(" + ", ".join(["?"] * len(_TRANSFER_COLUMNS)) + ")"
    return f"INSERT INTO {table} ({', '.join(_TRANSFER_COLUMNS)}) VALUES " + ", ".join(  # noqa: S608
        [one] * rows
    )


def _insert_holds(holds: list[_HoldState]) -> None:
    uid = _prep(Hold, "transfer_id")
    when = _prep(Hold, "expires_at")
    params = [
        (
            uid(h.transfer_id),
            h.debit,
            h.credit,
            h.amount,
            h.state,
            when(h.expires_at) if h.expires_at else None,
            uid(h.resolved_by) if h.resolved_by else None,
            when(h.resolved_at) if h.resolved_at else None,
        )
        for h in holds
    ]
    table = Hold._meta.db_table
    _executemany(
        f"INSERT INTO {table} (transfer_id, debit_account_id, credit_account_id, amount, "  # noqa: S608
        "state, expires_at, resolved_by, resolved_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        params,
    )


def _update_holds(holds: list[_HoldState]) -> None:
    uid = _prep(Hold, "transfer_id")
    when = _prep(Hold, "resolved_at")
    table = Hold._meta.db_table
    _executemany(
        f"UPDATE {table} SET state = %s, resolved_by = %s, resolved_at = %s "  # noqa: S608
        "WHERE transfer_id = %s AND state = 'pending'",
        [
            (
                h.state,
                uid(h.resolved_by) if h.resolved_by else None,
                when(h.resolved_at) if h.resolved_at else None,
                uid(h.transfer_id),
            )
            for h in holds
        ],
    )


def _update_accounts(accounts: list[_Acc]) -> None:
    """Write the new totals: one ``UPDATE … FROM`` (PostgreSQL: five arrays unnested; SQLite:
    ``VALUES`` per 1,000 accounts)."""
    table = Account._meta.db_table
    if connection.vendor == "postgresql":
        with fastsql.bound_cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET debits_pending = v.dp, debits_posted = v.dpo, "  # noqa: S608
                "credits_pending = v.cp, credits_posted = v.cpo "
                "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], "
                "%s::bigint[]) AS v (id, dp, dpo, cp, cpo) "
                f"WHERE {table}.id = v.id",
                [
                    [a.pk for a in accounts],
                    [a.dp for a in accounts],
                    [a.dpo for a in accounts],
                    [a.cp for a in accounts],
                    [a.cpo for a in accounts],
                ],
            )
        return
    if connection.vendor == "sqlite":
        # SQLite ≥ 3.33 names the VALUES columns column1 … column5
        alias = "v"
        cols = ("v.column1", "v.column2", "v.column3", "v.column4", "v.column5")
        cast = "(%s, %s, %s, %s, %s)"
        with connection.cursor() as cursor:
            for chunk in _in_chunks(accounts, 1000):
                cursor.execute(
                    f"UPDATE {table} SET debits_pending = {cols[1]}, "  # noqa: S608
                    f"debits_posted = {cols[2]}, credits_pending = {cols[3]}, "
                    f"credits_posted = {cols[4]} "
                    f"FROM (VALUES {', '.join([cast] * len(chunk))}) AS {alias} "
                    f"WHERE {table}.id = {cols[0]}",
                    [v for a in chunk for v in (a.pk, a.dp, a.dpo, a.cp, a.cpo)],
                )
        return
    _executemany(
        f"UPDATE {table} SET debits_pending = %s, debits_posted = %s, "  # noqa: S608
        "credits_pending = %s, credits_posted = %s WHERE id = %s",
        [(a.dp, a.dpo, a.cp, a.cpo, a.pk) for a in accounts],
    )


# ---------------------------------------------------------------------- public API
def do_create_transfers(
    items: Sequence[TransferIn], *, refused: Mapping[int, str] | None = None
) -> list[TransferResult]:
    """Apply a batch of up to 8,190 transfers in order; one result per item.

    Same semantics as submitting them one by one, in one transaction: each item is
    ``created``, ``exists`` (a replay of the same id with the same content) or refused with a
    stable code, and a refused item of a linked chain refuses the whole chain.

    ``refused`` lets a channel pass items it already refused (index → code, e.g. an amount
    string it could not parse) so that they fail in place, with their chains.
    """
    if len(items) > MAX_BATCH:
        raise BatchTooLarge(f"A batch holds at most {MAX_BATCH} transfers, not {len(items)}.")
    if not items:
        return []
    if len(items) < _GC_PAUSE_FROM or not gc.isenabled():
        return _create_transfers(items, refused or {})
    # A large batch allocates tens of thousands of small acyclic objects (results, rows); the
    # cyclic collector would run over the whole heap many times meanwhile (measured: over half
    # of the in-memory evaluation). Pause it for the call; it runs again right after.
    gc.disable()
    try:
        return _create_transfers(items, refused or {})
    finally:
        gc.enable()


def _create_transfers(
    items: Sequence[TransferIn], refused: Mapping[int, str]
) -> list[TransferResult]:
    if (
        len(items) == 1
        and not refused
        and items[0].kind == "single"
        and connection.vendor == "postgresql"
    ):
        results = _post_single_pg(items[0])
        if results is not None:
            return results
    check = False  # read stored ids up front (after a retry) or only when needed
    attempt = 0
    while True:
        try:
            with transaction.atomic():
                batch = _Batch(items, refused)
                batch.load(check_existing=check)
                event = None
                if len(items) >= _STREAM_FROM and connection.vendor == "postgresql":
                    results, event = batch.apply_streaming()
                else:
                    results = batch.apply()
                if (
                    not batch.checked
                    and any(r.result != "created" for r in results)
                    and batch.read_existing()
                ):
                    raise _Recheck  # a stored id may change these answers: evaluate again
                batch.write(event)
                return results
        except _Recheck:
            check = True  # at most once: the next evaluation reads them up front
        except _Relock:
            attempt += 1
            if attempt == _RETRIES:
                raise RuntimeError("the accounts of a batch kept changing while locking") from None
        except IntegrityError:
            # One of our ids is stored already (a replay evaluated without the read, or a
            # concurrent writer on other accounts committed it first): recompute with the
            # stored ids read under the locks (the retry answers exists / exists_with_*).
            check = True
            attempt += 1
            if attempt == _RETRIES:
                raise


def _post_single_pg(item: TransferIn) -> list[TransferResult] | None:
    """One fresh single-phase transfer on PostgreSQL in one prepared statement (ADR 0005):
    the function ``ledger_post_single`` (migration 0006) locks both accounts and, only where
    the evaluator would certainly answer ``created``, inserts the transfer and adds to both
    balances; the same statement inserts the outbox row if it did. Any other case writes
    nothing and goes to the evaluator, which alone gives refusals and ``exists*`` answers.
    ``None`` hands the item to the general path."""
    if item.linked or _check_shape(item) is not None:
        return None  # the evaluator answers (a lone linked item is a chain left open)
    db = connections[DEFAULT_DB_ALIAS]  # one look-up of the thread's connection
    statement = _POST_SINGLE.get(db.alias) or _post_single_statement(db)
    now = clock.now()
    tid, debit, credit, amount = (
        item.transfer_id,
        item.debit_account,
        item.credit_account,
        item.amount,
    )
    currency, code, metadata = item.currency, item.code, item.metadata
    payload = _posted_payload(item)
    params = [
        tid,
        debit,
        credit,
        amount,
        currency,
        code,
        item.reference,
        statement.metadata(metadata) if metadata else statement.empty_metadata,
        now,
        *statement.event.params(payload, now),
    ]
    cursor = fastsql.prepared_cursor()
    cursor.execute(statement.sql, params)
    status, event_pk = cursor.fetchone()
    if status == 0:
        dispatch_after_commit([event_pk], using=db.alias)
        out = _make_out(
            {
                "transfer_id": tid,
                "debit_account": debit,
                "credit_account": credit,
                "amount": amount,
                "currency": currency,
                "kind": "single",
                "linked": False,
                "pending_id": None,
                "timeout": 0,
                "code": code,
                "reference": item.reference,
                "metadata": metadata,
                "created_at": now,
            }
        )
        return [_make_result(0, tid, "created", out)]
    if not db.in_atomic_block:
        return None  # the general path, in a savepoint of its own
    # 1: the id is stored (answers exists / exists_with_different_*); 2: the evaluator decides
    return _create_single_pg(item, check=status == 1)


def _posted_payload(item: TransferIn) -> dict[str, Any]:
    """``TransfersPosted.of([out]).payload()`` of one new single transfer, built directly
    (tests/ledger compare them): "single", then the two accounts (different: checked by
    ``_check_shape``), then the currency and the code, each string once (an account's text
    is not matched against other strings)."""
    strings = ["single", str(item.debit_account), str(item.credit_account)]
    text_at = {"single": 0}
    refs = [0, 0]
    for k, value in enumerate((item.currency, item.code)):
        at = text_at.get(value)
        if at is None:
            at = text_at[value] = len(strings)
            strings.append(value)
        refs[k] = at
    return {
        "format": 2,
        "ids": [str(item.transfer_id)],
        "amounts": [item.amount],
        "pending_ids": [None],
        "kinds": [0],
        "debit_accounts": [1],
        "credit_accounts": [2],
        "currencies": [refs[0]],
        "codes": [refs[1]],
        "strings": strings,
    }


def single_posting(
    item: TransferIn, now: dt.datetime
) -> tuple[str, OutboxRowTemplate, list[Any]] | None:
    """PostgreSQL, for a caller that posts ``item`` inside its own one-call statement through
    the ledger's SQL API ``ledger_post_single`` (migration 0006; e.g. the payments domain's
    internal order, docs/decisions/0006): the transfer's metadata as ``jsonb`` text, and the
    outbox row of its ``TransfersPosted`` event (the row template and its parameters at
    ``now``), which the caller inserts where the function answered 0 and hands to
    ``dispatch_after_commit``. ``None`` when the item is not one the function takes (linked,
    or a shape the evaluator refuses): post it with :func:`do_create_transfers`."""
    if item.kind != "single" or item.linked or _check_shape(item) is not None:
        return None
    db = connections[DEFAULT_DB_ALIAS]
    statement = _POST_SINGLE.get(db.alias) or _post_single_statement(db)
    metadata = statement.metadata(item.metadata) if item.metadata else statement.empty_metadata
    return metadata, statement.event, statement.event.params(_posted_payload(item), now)


class _SingleStatement:
    """The statement of :func:`_post_single_pg` for one database connection alias, and what
    it needs per call: the outbox row (the kernel's :class:`OutboxRowTemplate`, the row
    ``record_events`` writes). It runs prepared (``kernel.fastsql.prepared_cursor``)."""

    def __init__(self, db: Any) -> None:
        self.metadata = json_text(Transfer._meta.get_field("metadata"))
        self.empty_metadata = self.metadata({})
        self.event = OutboxRowTemplate(TransfersPosted.event_type, db)
        self.sql = (
            "WITH r AS MATERIALIZED (SELECT ledger_post_single(%s::uuid, %s::uuid, "  # noqa: S608
            "%s::uuid, %s::bigint, %s::varchar, %s::varchar, %s::varchar, %s::jsonb, "
            f"%s::timestamptz) AS res), ev AS (INSERT INTO {self.event.table} "
            f"({self.event.columns}) SELECT {self.event.values} FROM r WHERE r.res = 0 "
            "RETURNING id) "
            "SELECT r.res, (SELECT id FROM ev) FROM r"
        )


_POST_SINGLE: dict[str, _SingleStatement] = {}


def _post_single_statement(db: Any) -> _SingleStatement:
    statement = _POST_SINGLE[db.alias] = _SingleStatement(db)
    return statement


def _create_single_pg(item: TransferIn, *, check: bool = False) -> list[TransferResult] | None:
    """One single-phase transfer inside the caller's PostgreSQL transaction, without a
    savepoint: three statements (lock the two accounts; insert the transfer and update both
    balances in one statement; the outbox row) instead of seven.

    The same evaluator decides; only the write differs. The insert is ``ON CONFLICT
    (transfer_id) DO NOTHING`` and the balance update in the same statement runs only if the
    row went in, so a stored id raises no error (which would abort the caller's transaction)
    and changes nothing: the item is evaluated again with the stored ids read. Nothing is
    written before the outcome is known, so no savepoint is needed to undo. ``None`` hands
    the item to the general path (it never happens twice in practice).
    """
    for _ in range(3):
        batch = _Batch([item], {})
        batch.load(check_existing=check)
        results = batch.apply()
        if results[0].result != "created":
            if not batch.checked and batch.read_existing():
                check = True
                continue
            return results
        if _insert_one_and_update_pg(batch):
            record_events([(TransfersPosted.of(batch.created), None)])
            return results
        check = True  # the id was stored meanwhile: answer exists / exists_with_different_*
    return None


def _insert_one_and_update_pg(batch: _Batch) -> bool:
    """Insert the batch's one new transfer and, if it went in, write the balances; returns
    whether it went in (False: its id is stored already)."""
    (params,) = _transfer_params(batch.created, batch.rows)
    accounts = [a for a in batch.by_pk.values() if a.dirty]
    transfers, table = Transfer._meta.db_table, Account._meta.db_table
    columns = ", ".join(_TRANSFER_COLUMNS)
    marks = ", ".join(["%s"] * len(_TRANSFER_COLUMNS))
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH ins AS (INSERT INTO {transfers} ({columns}) VALUES ({marks}) "  # noqa: S608
            "ON CONFLICT (transfer_id) DO NOTHING RETURNING 1), "
            f"upd AS (UPDATE {table} SET debits_pending = v.dp, debits_posted = v.dpo, "
            "credits_pending = v.cp, credits_posted = v.cpo "
            "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], "
            "%s::bigint[]) AS v (id, dp, dpo, cp, cpo) "
            f"WHERE {table}.id = v.id AND EXISTS (SELECT 1 FROM ins) RETURNING 1) "
            "SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM upd)",
            [
                *params,
                [a.pk for a in accounts],
                [a.dp for a in accounts],
                [a.dpo for a in accounts],
                [a.cp for a in accounts],
                [a.cpo for a in accounts],
            ],
        )
        inserted, updated = cursor.fetchone()
    if inserted and updated != len(accounts):  # pragma: no cover - the accounts are locked
        raise RuntimeError("a locked account vanished while writing its balance")
    return bool(inserted)


def do_create_transfer(item: TransferIn) -> TransferOut:
    """Create one transfer; raises :class:`TransferRefused` with its code when refused.

    A replay with the same content returns the stored transfer.
    """
    result = do_create_transfers([item])[0]
    if result.transfer is None:
        raise TransferRefused(result.result)
    return result.transfer


def do_transfer(
    *,
    debit: uuid.UUID,
    credit: uuid.UUID,
    amount: int,
    currency: str,
    code: str,
    transfer_id: uuid.UUID | None = None,
    reference: str = "",
    metadata: dict[str, Any] | None = None,
) -> TransferOut:
    """Convenience: one single-phase transfer (a new id unless one is given)."""
    return do_create_transfer(
        TransferIn(
            transfer_id=transfer_id or new_id(),
            debit_account=debit,
            credit_account=credit,
            amount=amount,
            currency=currency,
            code=code,
            reference=reference,
            metadata=metadata or {},
        )
    )


# ====================================================================== hold expiry
def do_expire_holds(*, now: dt.datetime | None = None, limit: int = 100_000) -> int:
    """Release holds whose timeout has passed; returns how many expired.

    Each expiry is recorded as an ``expiry`` transfer row (pending amount, referring to the
    hold), so the history stays append-only. Accounts are locked in primary-key order.
    """
    at = now or clock.now()
    candidates = list(
        Hold.objects.filter(state=Hold.PENDING, expires_at__lte=at)
        .order_by("pk")
        .values_list("transfer_id", "debit_account_id", "credit_account_id")[:limit]
    )
    expired = 0
    for start in range(0, len(candidates), 2000):
        chunk = candidates[start : start + 2000]
        with transaction.atomic():
            pks = {c[1] for c in chunk} | {c[2] for c in chunk}
            accounts = {
                row[0]: _Acc(row)
                for row in Account.objects.select_for_update()
                .filter(pk__in=pks)
                .order_by("pk")
                .values_list(
                    "pk",
                    "public_id",
                    "currency",
                    "status",
                    "debits_must_not_exceed_credits",
                    "credits_must_not_exceed_debits",
                    "overdraft_limit",
                    "debits_pending",
                    "debits_posted",
                    "credits_pending",
                    "credits_posted",
                )
            }
            holds = list(
                Hold.objects.filter(
                    transfer_id__in=[c[0] for c in chunk], state=Hold.PENDING, expires_at__lte=at
                )
            )
            if not holds:
                continue
            currency_of = {pk: acc.currency for pk, acc in accounts.items()}
            outs: list[TransferOut] = []
            rows: list[tuple[Any, ...]] = []
            for hold in holds:
                dr, cr = accounts[hold.debit_account_id], accounts[hold.credit_account_id]
                dr.dp -= hold.amount
                cr.cp -= hold.amount
                dr.dirty = cr.dirty = True
                expiry_id = new_id()
                outs.append(
                    TransferOut(
                        transfer_id=expiry_id,
                        debit_account=dr.pub,
                        credit_account=cr.pub,
                        amount=hold.amount,
                        currency=currency_of[dr.pk],
                        kind=Transfer.EXPIRY,
                        linked=False,
                        pending_id=hold.transfer_id,
                        timeout=0,
                        code="hold_expired",
                        reference="",
                        metadata={},
                        created_at=at,
                    )
                )
                rows.append((dr.pk, cr.pk, dr.cpo - dr.dpo, cr.cpo - cr.dpo))
                hold.state = Hold.EXPIRED
                hold.resolved_by = expiry_id
                hold.resolved_at = at
            _insert_transfers(outs, rows)
            Hold.objects.bulk_update(holds, ["state", "resolved_by", "resolved_at"])
            _update_accounts([a for a in accounts.values() if a.dirty])
            record_event(HoldsExpired(holds=[str(h.transfer_id) for h in holds]))
            expired += len(holds)
    return expired
