"""Accounts endpoints for customers (apps and the web): open Type II/III accounts, the
overview, details, statements (JSON and CSV), e-statements, messages, preferences, freeze,
unfreeze and close. A customer sees only their own accounts (others answer 404). Staff open
Type I accounts after in-person verification (``account.open_type1``)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Literal

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from rongshu.accounts import queries, services
from rongshu.accounts.types import AccountSummary, CertificateView, StatementFilter
from rongshu.api.auth import principal, principal_auth
from rongshu.api.base import command
from rongshu.kernel.money import format_minor, parse_minor

router = Router(tags=["accounts"], auth=principal_auth)


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class OpenIn(Strict):
    account_type: Literal[2, 3] = Field(description="2: Type II, 3: Type III.")
    bind_bank_code: str = Field(
        min_length=3, max_length=12, description='CNAPS bank code, or "ours" for our account.'
    )
    bind_account_number: str = Field(min_length=8, max_length=40)
    product_code: str | None = Field(None, max_length=40)


class Type1In(Strict):
    customer_id: uuid.UUID
    verification_note: str = Field(min_length=4, max_length=300)


class AccountOut(Schema):
    id: uuid.UUID
    account_number: str
    account_type: int
    product_code: str
    product_name: str
    currency: str
    status: str
    balance: str
    available: str
    held: str
    bound_bank_code: str
    bound_account_number: str
    opened_at: dt.datetime
    daily_limit: str | None
    daily_used: str
    yearly_limit: str | None
    yearly_used: str
    balance_cap: str | None


class OverviewOut(Schema):
    accounts: list[AccountOut]
    total_cny: str
    unread_messages: int


class LineOut(Schema):
    transfer_id: uuid.UUID
    created_at: dt.datetime
    direction: str
    amount: str
    balance: str
    code: str
    reference: str


class StatementOut(Schema):
    account: AccountOut
    lines: list[LineOut]
    next_cursor: int | None


class EStatementOut(Schema):
    id: uuid.UUID
    month: dt.date
    opening_balance: str
    closing_balance: str
    generated_at: dt.datetime


class NotificationOut(Schema):
    id: uuid.UUID
    kind: str
    title: str
    body: str
    account_number: str
    created_at: dt.datetime
    read: bool


class MarkedOut(Schema):
    marked: int


class PreferencesIO(Strict):
    sms_kinds: list[Literal["movement", "security", "payment", "statement"]]
    quiet_start: dt.time | None = None
    quiet_end: dt.time | None = None


class StatementQuery(Strict):
    after: int | None = Field(None, ge=0)
    limit: int = Field(50, ge=1, le=500)
    q: str = Field("", max_length=80)
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    direction: Literal["", "in", "out"] = ""


class StatementPdfQuery(Strict):
    q: str = Field("", max_length=80)
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    direction: Literal["", "in", "out"] = ""


class CertificateIn(Strict):
    amount: str = Field(description='Decimal string, at most the available balance: "5000.00".')
    frozen_until: dt.date | None = Field(
        None, description="Hold the amount until the end of this day (bank time zone)."
    )
    purpose: str = Field("", max_length=100)


class CertificateOut(Schema):
    id: uuid.UUID
    account_id: uuid.UUID
    account_number: str
    holder_name: str
    amount: str
    currency: str
    purpose: str
    state: str
    frozen_until: dt.date | None
    verification_code: str
    issued_at: dt.datetime
    released_at: dt.datetime | None


PDF_RESPONSE = {
    "responses": {
        200: {
            "description": "A PDF document.",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}


def _pdf(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _cert_out(c: CertificateView) -> CertificateOut:
    return CertificateOut(
        id=c.certificate_id,
        account_id=c.account_id,
        account_number=c.account_number,
        holder_name=c.holder_name,
        amount=format_minor(c.amount, c.currency),
        currency=c.currency,
        purpose=c.purpose,
        state=c.state,
        frozen_until=c.frozen_until,
        verification_code=c.verification_code,
        issued_at=c.issued_at,
        released_at=c.released_at,
    )


def _amount(minor: int | None, currency: str) -> str | None:
    return None if minor is None else format_minor(minor, currency)


def _out(a: AccountSummary) -> AccountOut:
    c = a.currency
    return AccountOut(
        id=a.account_id,
        account_number=a.account_number,
        account_type=a.account_type,
        product_code=a.product_code,
        product_name=a.product_name,
        currency=c,
        status=a.status,
        balance=format_minor(a.balance, c),
        available=format_minor(a.available, c),
        held=format_minor(a.held, c),
        bound_bank_code=a.bound_bank_code,
        bound_account_number=a.bound_account_number,
        opened_at=a.opened_at,
        daily_limit=_amount(a.daily_limit, c),
        daily_used=format_minor(a.daily_used, c),
        yearly_limit=_amount(a.yearly_limit, c),
        yearly_used=format_minor(a.yearly_used, c),
        balance_cap=_amount(a.balance_cap, c),
    )


def _filter(query: StatementQuery) -> StatementFilter:
    return StatementFilter(query.q.strip(), query.date_from, query.date_to, query.direction)


@router.post("/accounts", response={201: AccountOut}, summary="Open a Type II/III account")
@command()
def open_account(request: HttpRequest, payload: OpenIn) -> Status[AccountOut]:
    who = principal(request)
    account = services.do_open_account(
        who,
        account_type=payload.account_type,
        bind_bank_code=payload.bind_bank_code,
        bind_account_number=payload.bind_account_number,
        product_code=payload.product_code,
    )
    return Status(201, _out(queries.get_account_summary(who, account.public_id)))


@router.post("/accounts/type1", response={201: AccountOut}, summary="Open a Type I account (staff)")
@command()
def open_type1(request: HttpRequest, payload: Type1In) -> Status[AccountOut]:
    account = services.do_open_type1_in_person(
        principal(request), payload.customer_id, verification_note=payload.verification_note
    )
    return Status(
        201,
        AccountOut(
            id=account.public_id,
            account_number=account.account_number,
            account_type=1,
            product_code=account.product_code,
            product_name=account.product_code,
            currency=account.currency,
            status="open",
            balance="0.00",
            available="0.00",
            held="0.00",
            bound_bank_code="",
            bound_account_number="",
            opened_at=account.opened_at,
            daily_limit=None,
            daily_used="0.00",
            yearly_limit=None,
            yearly_used="0.00",
            balance_cap=None,
        ),
    )


@router.get("/accounts", response=OverviewOut, summary="My accounts and the total")
def list_accounts(request: HttpRequest) -> OverviewOut:
    overview = queries.get_overview(principal(request))
    return OverviewOut(
        accounts=[_out(a) for a in overview.accounts],
        total_cny=format_minor(overview.total_cny, "CNY"),
        unread_messages=overview.unread,
    )


@router.get("/accounts/{account_id}", response=AccountOut, summary="One of my accounts")
def account_detail(request: HttpRequest, account_id: uuid.UUID) -> AccountOut:
    return _out(queries.get_account_summary(principal(request), account_id))


@router.get(
    "/accounts/{account_id}/statement", response=StatementOut, summary="Statement (search, filter)"
)
def statement(
    request: HttpRequest, account_id: uuid.UUID, query: Query[StatementQuery]
) -> StatementOut:
    summary, lines, cursor = queries.get_statement_page(
        principal(request), account_id, flt=_filter(query), after=query.after, limit=query.limit
    )
    c = summary.currency
    return StatementOut(
        account=_out(summary),
        lines=[
            LineOut(
                transfer_id=line.transfer_id,
                created_at=line.created_at,
                direction="in" if line.credit else "out",
                amount=format_minor(line.credit or line.debit, c),
                balance=format_minor(line.balance, c),
                code=line.code,
                reference=line.reference,
            )
            for line in lines
        ],
        next_cursor=cursor,
    )


@router.get(
    "/accounts/{account_id}/statement.csv",
    response={200: None},
    summary="Statement as CSV",
    openapi_extra={"responses": {200: {"content": {"text/csv": {}}}}},
)
def statement_csv(
    request: HttpRequest, account_id: uuid.UUID, query: Query[StatementQuery]
) -> StreamingHttpResponse:
    rows = queries.iter_statement_csv(principal(request), account_id, _filter(query))
    first = next(rows)  # access is checked before the response starts
    response = StreamingHttpResponse(_chain(first, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="statement-{account_id}.csv"'
    return response


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


@router.get(
    "/accounts/{account_id}/statement.pdf",
    response={200: None},
    summary="Statement as PDF (same filters)",
    openapi_extra=PDF_RESPONSE,
)
def statement_pdf(
    request: HttpRequest, account_id: uuid.UUID, query: Query[StatementPdfQuery]
) -> HttpResponse:
    flt = StatementFilter(query.q.strip(), query.date_from, query.date_to, query.direction)
    data = queries.statement_pdf(principal(request), account_id, flt)
    return _pdf(data, f"statement-{account_id}.pdf")


@router.get(
    "/accounts/{account_id}/e-statements/{month}.pdf",
    response={200: None},
    summary="A monthly e-statement as PDF (month: YYYY-MM)",
    openapi_extra=PDF_RESPONSE,
)
def e_statement_pdf(request: HttpRequest, account_id: uuid.UUID, month: str) -> HttpResponse:
    try:
        first_day = dt.date.fromisoformat(f"{month}-01")
    except ValueError:
        first_day = dt.date(1970, 1, 1)  # answers "no e-statement" (404) after the access check
    data = queries.estatement_pdf(principal(request), account_id, first_day)
    return _pdf(data, f"e-statement-{month}.pdf")


@router.post(
    "/accounts/{account_id}/deposit-certificates",
    response={201: CertificateOut},
    summary="Request a deposit certificate (存款证明), optionally freezing the amount",
)
@command(idempotent=True)
def request_certificate(
    request: HttpRequest, account_id: uuid.UUID, payload: CertificateIn
) -> Status[CertificateOut]:
    who = principal(request)
    summary = queries.get_account_summary(who, account_id)
    cert = services.do_request_certificate(
        who,
        account_id,
        amount=parse_minor(payload.amount, summary.currency),
        frozen_until=payload.frozen_until,
        purpose=payload.purpose,
    )
    return Status(201, _cert_out(cert))


@router.get(
    "/accounts/{account_id}/deposit-certificates",
    response=list[CertificateOut],
    summary="My deposit certificates of an account",
)
def list_certificates(request: HttpRequest, account_id: uuid.UUID) -> list[CertificateOut]:
    return [_cert_out(c) for c in queries.list_certificates(principal(request), account_id)]


@router.get(
    "/deposit-certificates/{certificate_id}.pdf",
    response={200: None},
    summary="A deposit certificate as PDF",
    openapi_extra=PDF_RESPONSE,
)
def certificate_pdf(request: HttpRequest, certificate_id: uuid.UUID) -> HttpResponse:
    data = queries.certificate_pdf(principal(request), certificate_id)
    return _pdf(data, f"deposit-certificate-{certificate_id}.pdf")


@router.get(
    "/deposit-certificates/verify",
    response=CertificateOut,
    summary="Verify a deposit certificate by its code (staff: customer.view)",
)
def verify_certificate(request: HttpRequest, code: str = "") -> CertificateOut:
    return _cert_out(queries.verify_certificate(principal(request), code))


@router.get(
    "/accounts/{account_id}/e-statements",
    response=list[EStatementOut],
    summary="Monthly e-statements",
)
def e_statements(request: HttpRequest, account_id: uuid.UUID) -> list[EStatementOut]:
    return [
        EStatementOut(
            id=s.statement_id,
            month=s.month,
            opening_balance=format_minor(s.opening_balance, "CNY"),
            closing_balance=format_minor(s.closing_balance, "CNY"),
            generated_at=s.generated_at,
        )
        for s in queries.list_estatements(principal(request), account_id)
    ]


@router.post("/accounts/{account_id}/freeze", response=AccountOut, summary="Freeze my account")
@command()
def freeze(request: HttpRequest, account_id: uuid.UUID) -> AccountOut:
    who = principal(request)
    services.do_freeze_my_account(who, account_id)
    return _out(queries.get_account_summary(who, account_id))


@router.post(
    "/accounts/{account_id}/unfreeze",
    response=AccountOut,
    summary="Unfreeze my account (step-up: accounts.unfreeze)",
)
@command()
def unfreeze(request: HttpRequest, account_id: uuid.UUID) -> AccountOut:
    who = principal(request)
    services.do_unfreeze_my_account(who, account_id)
    return _out(queries.get_account_summary(who, account_id))


@router.post(
    "/accounts/{account_id}/close",
    response=AccountOut,
    summary="Close my account (balance to the bound account)",
)
@command()
def close(request: HttpRequest, account_id: uuid.UUID) -> AccountOut:
    who = principal(request)
    services.do_close_my_account(who, account_id)
    return _out(queries.get_account_summary(who, account_id))


@router.get("/notifications", response=list[NotificationOut], summary="My messages")
def notifications(
    request: HttpRequest, unread: bool = False, limit: int = 50, before: uuid.UUID | None = None
) -> list[NotificationOut]:
    return [
        NotificationOut(
            id=n.notification_id,
            kind=n.kind,
            title=n.title,
            body=n.body,
            account_number=n.account_number,
            created_at=n.created_at,
            read=n.read,
        )
        for n in queries.list_notifications(
            principal(request), unread_only=unread, limit=limit, before=before
        )
    ]


@router.post(
    "/notifications/{notification_id}/read", response=MarkedOut, summary="Mark a message read"
)
@command()
def mark_read(request: HttpRequest, notification_id: uuid.UUID) -> MarkedOut:
    return MarkedOut(marked=services.do_mark_read(principal(request), notification_id))


@router.post("/notifications/read-all", response=MarkedOut, summary="Mark all messages read")
@command()
def mark_all_read(request: HttpRequest) -> MarkedOut:
    return MarkedOut(marked=services.do_mark_read(principal(request)))


@router.get(
    "/notification-preferences", response=PreferencesIO, summary="My notification preferences"
)
def get_preferences(request: HttpRequest) -> PreferencesIO:
    prefs = queries.get_preferences(principal(request))
    return PreferencesIO(
        sms_kinds=prefs.sms_kinds,  # type: ignore[arg-type]
        quiet_start=prefs.quiet_start,
        quiet_end=prefs.quiet_end,
    )


@router.put(
    "/notification-preferences", response=PreferencesIO, summary="Set notification preferences"
)
@command()
def put_preferences(request: HttpRequest, payload: PreferencesIO) -> PreferencesIO:
    prefs = services.do_set_preferences(
        principal(request),
        sms_kinds=list(payload.sms_kinds),
        quiet_start=payload.quiet_start,
        quiet_end=payload.quiet_end,
    )
    return PreferencesIO(
        sms_kinds=prefs.sms_kinds,  # type: ignore[arg-type]
        quiet_start=prefs.quiet_start,
        quiet_end=prefs.quiet_end,
    )
