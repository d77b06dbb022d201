"""Ledger endpoints: batches of transfers, accounts, statements (JSON and CSV), trial balance,
and account status (freeze, four-eyes unfreeze, close).

Staff only: a bearer token or web session of a staff member whose role allows
``ledger.view`` (reads), ``ledger.post`` (transfers), ``account.freeze`` (freeze, close) or
``account.unfreeze`` (request an unfreeze); denials are audited by identity.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Iterator
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from rongshu.api.auth import principal, principal_auth
from rongshu.api.base import command
from rongshu.identity.services import check_permission, do_request_approval
from rongshu.identity.types import Action
from rongshu.kernel.money import MoneyError, format_minor, parse_minor
from rongshu.ledger import queries
from rongshu.ledger.errors import BatchTooLarge
from rongshu.ledger.services import (
    do_close_account,
    do_create_transfers,
    do_freeze_account,
    do_request_unfreeze,
)
from rongshu.ledger.types import (
    ACCOUNT_OBJECT_TYPE,
    MAX_BATCH,
    AccountView,
    StatementLine,
    TransferIn,
    TransferOut,
)

router = Router(tags=["ledger"], auth=principal_auth)


def _allow(request: HttpRequest, action: Action) -> None:
    check_permission(principal(request), action)


# ---------------------------------------------------------------- schemas
class TransferItemIn(Schema):
    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID = Field(description="Client-supplied transfer id: the idempotency key.")
    debit_account_id: uuid.UUID | None = None
    credit_account_id: uuid.UUID | None = None
    amount: str | None = Field(None, description='Decimal string, e.g. "12.34".')
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    kind: Literal["single", "pending", "post", "void"] = "single"
    pending_id: uuid.UUID | None = None
    timeout: int = Field(0, ge=0, le=2**31 - 1, description="Seconds; pending only.")
    linked: bool = Field(False, description="Linked with the next item: all or nothing.")
    code: str = Field(min_length=1, max_length=40, description="Transaction type.")
    reference: str = Field("", max_length=140)
    metadata: dict[str, Any] = Field(default_factory=dict)


class TransferBatchIn(Schema):
    model_config = ConfigDict(extra="forbid")
    transfers: list[TransferItemIn]


class TransferSchema(Schema):
    id: uuid.UUID
    debit_account_id: uuid.UUID
    credit_account_id: uuid.UUID
    amount: str
    amount_minor: int
    currency: str
    kind: str
    linked: bool
    pending_id: uuid.UUID | None
    timeout: int
    code: str
    reference: str
    metadata: dict[str, Any]
    created_at: dt.datetime


class TransferResultSchema(Schema):
    index: int
    id: uuid.UUID
    result: str = Field(description="created, exists, or an error code.")
    ok: bool
    transfer: TransferSchema | None


class TransferBatchOut(Schema):
    created: int
    exists: int
    failed: int
    results: list[TransferResultSchema]


class AccountSchema(Schema):
    id: uuid.UUID
    code: str | None
    name: str
    owner_type: str
    owner_id: str
    currency: str
    kind: str
    product_code: str
    status: str
    debits_must_not_exceed_credits: bool
    credits_must_not_exceed_debits: bool
    overdraft_limit: str
    debits_pending: str
    debits_posted: str
    credits_pending: str
    credits_posted: str
    balance: str
    available: str
    created_at: dt.datetime


class StatementLineSchema(Schema):
    transfer_id: uuid.UUID
    created_at: dt.datetime
    kind: str
    code: str
    reference: str
    counterparty_account_id: uuid.UUID
    debit: str
    credit: str
    balance: str


class StatementSchema(Schema):
    account: AccountSchema
    opening_balance: str
    closing_balance: str
    lines: list[StatementLineSchema]
    next_cursor: int | None


class FreezeIn(Schema):
    model_config = ConfigDict(extra="forbid")
    mode: Literal["debit", "full"] = Field(
        description="debit: no debits (credits still arrive); full: neither debits nor credits."
    )
    reason: str = Field(max_length=200, pattern=r"\S", description="E.g. the court order.")


class ReasonIn(Schema):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(max_length=200, pattern=r"\S", description="Not blank.")


class UnfreezeRequestedSchema(Schema):
    approval_id: uuid.UUID
    action: str
    account_id: uuid.UUID
    state: str = Field(description="pending: a second staff member with the right decides.")


class TrialBalanceRowSchema(Schema):
    currency: str
    kind: str
    debits: str
    credits: str


class TrialBalanceSchema(Schema):
    balanced: bool
    difference: dict[str, str]
    rows: list[TrialBalanceRowSchema]


# ---------------------------------------------------------------- mapping
def _transfer(out: TransferOut) -> TransferSchema:
    return TransferSchema(
        id=out.transfer_id,
        debit_account_id=out.debit_account,
        credit_account_id=out.credit_account,
        amount=format_minor(out.amount, out.currency),
        amount_minor=out.amount,
        currency=out.currency,
        kind=out.kind,
        linked=out.linked,
        pending_id=out.pending_id,
        timeout=out.timeout,
        code=out.code,
        reference=out.reference,
        metadata=out.metadata,
        created_at=out.created_at,
    )


def _account(view: AccountView) -> AccountSchema:
    cur = view.currency
    return AccountSchema(
        id=view.public_id,
        code=view.code,
        name=view.name,
        owner_type=view.owner_type,
        owner_id=view.owner_id,
        currency=cur,
        kind=view.kind,
        product_code=view.product_code,
        status=view.status,
        debits_must_not_exceed_credits=view.debits_must_not_exceed_credits,
        credits_must_not_exceed_debits=view.credits_must_not_exceed_debits,
        overdraft_limit=format_minor(view.overdraft_limit, cur),
        debits_pending=format_minor(view.debits_pending, cur),
        debits_posted=format_minor(view.debits_posted, cur),
        credits_pending=format_minor(view.credits_pending, cur),
        credits_posted=format_minor(view.credits_posted, cur),
        balance=format_minor(view.balance, cur),
        available=format_minor(view.available, cur),
        created_at=view.created_at,
    )


def _line(line: StatementLine, currency: str) -> StatementLineSchema:
    return StatementLineSchema(
        transfer_id=line.transfer_id,
        created_at=line.created_at,
        kind=line.kind,
        code=line.code,
        reference=line.reference,
        counterparty_account_id=line.counterparty,
        debit=format_minor(line.debit, currency),
        credit=format_minor(line.credit, currency),
        balance=format_minor(line.balance, currency),
    )


# ---------------------------------------------------------------- endpoints
@router.post(
    "/transfers",
    response=TransferBatchOut,
    summary="Create a batch of up to 8,190 transfers (one result per item)",
)
@command()
def create_transfers(request: HttpRequest, payload: TransferBatchIn) -> TransferBatchOut:
    """Apply the transfers in order in one transaction, with TigerBeetle's semantics: each item
    answers ``created``, ``exists`` (same id, same content) or an error code
    (``exceeds_credits``, ``exists_with_different_amount`` …); a failed item of a ``linked``
    chain fails the whole chain (``linked_event_failed``). The batch answers 200 when it was
    processed, whatever its items' results."""
    _allow(request, Action.LEDGER_POST)
    if len(payload.transfers) > MAX_BATCH:
        raise BatchTooLarge(f"A batch holds at most {MAX_BATCH} transfers.")
    items: list[TransferIn] = []
    refused: dict[int, str] = {}
    for index, t in enumerate(payload.transfers):
        amount: int | None = None
        if t.amount is not None:
            try:
                amount = parse_minor(t.amount, t.currency)
            except MoneyError as exc:
                refused[index] = exc.code
        items.append(
            TransferIn(
                transfer_id=t.id,
                debit_account=t.debit_account_id,
                credit_account=t.credit_account_id,
                amount=amount,
                currency=t.currency,
                code=t.code,
                kind=t.kind,
                pending_id=t.pending_id,
                timeout=t.timeout,
                linked=t.linked,
                reference=t.reference,
                metadata=t.metadata,
            )
        )
    results = do_create_transfers(items, refused=refused)
    out = [
        TransferResultSchema(
            index=r.index,
            id=r.transfer_id,
            result=r.result,
            ok=r.ok,
            transfer=_transfer(r.transfer) if r.transfer is not None else None,
        )
        for r in results
    ]
    return TransferBatchOut(
        created=sum(1 for r in results if r.result == "created"),
        exists=sum(1 for r in results if r.result == "exists"),
        failed=sum(1 for r in results if not r.ok),
        results=out,
    )


@router.get("/accounts/{account_id}", response=AccountSchema, summary="An account and balances")
def get_account(request: HttpRequest, account_id: uuid.UUID) -> AccountSchema:
    _allow(request, Action.LEDGER_VIEW)
    return _account(queries.get_account(account_id))


@router.post(
    "/accounts/{account_id}/freeze",
    response=AccountSchema,
    summary="Freeze an account (debits only, or fully)",
)
@command()
def freeze_account(request: HttpRequest, account_id: uuid.UUID, payload: FreezeIn) -> AccountSchema:
    """``debit`` blocks debits (credits still arrive), ``full`` blocks both; an account already
    in that status, or closed, answers 409 ``account_status_invalid``. Audited."""
    _allow(request, Action.ACCOUNT_FREEZE)
    do_freeze_account(
        account_id,
        actor=principal(request).principal_key,
        reason=payload.reason.strip(),
        debits_only=payload.mode == "debit",
    )
    return _account(queries.get_account(account_id))


@router.post(
    "/accounts/{account_id}/unfreeze",
    response={202: UnfreezeRequestedSchema},
    summary="Request an unfreeze (four-eyes: another staff member approves)",
)
@command()
def unfreeze_account(
    request: HttpRequest, account_id: uuid.UUID, payload: ReasonIn
) -> Status[UnfreezeRequestedSchema]:
    """Opens an ``account.unfreeze`` approval (``/identity/approvals``); the account is unfrozen
    when a second staff member who may decide (branch manager, risk officer) approves it.
    An account that is not frozen answers 409 ``account_status_invalid``."""
    _allow(request, Action.ACCOUNT_UNFREEZE)
    approval = _request_unfreeze(request, account_id, payload.reason.strip())
    return Status(
        202,
        UnfreezeRequestedSchema(
            approval_id=approval.public_id,
            action=approval.action,
            account_id=account_id,
            state=approval.state,
        ),
    )


def _request_unfreeze(request: HttpRequest, account_id: uuid.UUID, reason: str) -> Any:
    """404 for an unknown account, 409 ``account_status_invalid`` for one that is not frozen
    and 409 ``unfreeze_already_requested`` while an earlier request waits for its decision."""
    return do_request_unfreeze(
        account_id,
        lambda status: do_request_approval(
            principal(request),
            Action.ACCOUNT_UNFREEZE,
            object_type=ACCOUNT_OBJECT_TYPE,
            object_id=str(account_id),
            payload={"reason": reason, "from_status": status},
            reason=reason,
        ),
    )


@router.post(
    "/accounts/{account_id}/close",
    response=AccountSchema,
    summary="Close an account (zero balance, no holds)",
)
@command()
def close_account(request: HttpRequest, account_id: uuid.UUID, payload: ReasonIn) -> AccountSchema:
    """Only an open account with a zero posted balance and no holds closes: otherwise 422
    ``account_balance_not_zero`` or 409 ``account_status_invalid``. Audited; irreversible."""
    _allow(request, Action.ACCOUNT_FREEZE)
    do_close_account(
        account_id, actor=principal(request).principal_key, reason=payload.reason.strip()
    )
    return _account(queries.get_account(account_id))


class StatementQuery(Schema):
    model_config = ConfigDict(extra="forbid")
    cursor: int | None = Field(None, ge=0, description="next_cursor of the previous page")
    limit: int = Field(50, ge=1, le=500)
    format: Literal["json", "csv"] = "json"


@router.get(
    "/accounts/{account_id}/statement",
    response=StatementSchema,
    summary="Posted movements with a running balance (paginated; ?format=csv for all of it)",
)
def get_statement(
    request: HttpRequest, account_id: uuid.UUID, params: Query[StatementQuery]
) -> StatementSchema | HttpResponse | StreamingHttpResponse:
    _allow(request, Action.LEDGER_VIEW)
    if params.format == "csv":
        view = queries.get_account(account_id)  # 404 before streaming starts
        response = StreamingHttpResponse(
            _csv_rows(account_id, view.currency), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="statement-{account_id}.csv"'
        return response
    statement = queries.get_statement(account_id, after=params.cursor, limit=params.limit)
    cur = statement.account.currency
    return StatementSchema(
        account=_account(statement.account),
        opening_balance=format_minor(statement.opening_balance, cur),
        closing_balance=format_minor(statement.closing_balance, cur),
        lines=[_line(line, cur) for line in statement.lines],
        next_cursor=statement.next_cursor,
    )


def _csv_rows(account_id: uuid.UUID, currency: str) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    header = ["created_at", "transfer_id", "kind", "code", "reference", "counterparty"]
    writer.writerow([*header, "debit", "credit", "balance", "currency"])
    for line in queries.iter_statement(account_id):
        writer.writerow(
            [
                line.created_at.isoformat(),
                line.transfer_id,
                line.kind,
                line.code,
                line.reference,
                line.counterparty,
                format_minor(line.debit, currency),
                format_minor(line.credit, currency),
                format_minor(line.balance, currency),
                currency,
            ]
        )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


@router.get("/trial-balance", response=TrialBalanceSchema, summary="Trial balance per currency")
def trial_balance(request: HttpRequest, currency: str | None = None) -> TrialBalanceSchema:
    _allow(request, Action.LEDGER_VIEW)
    tb = queries.get_trial_balance(currency)
    return TrialBalanceSchema(
        balanced=tb.balanced,
        difference={cur: format_minor(v, cur) for cur, v in tb.difference.items()},
        rows=[
            TrialBalanceRowSchema(
                currency=r.currency,
                kind=r.kind,
                debits=format_minor(r.debits, r.currency),
                credits=format_minor(r.credits, r.currency),
            )
            for r in tb.rows
        ],
    )
