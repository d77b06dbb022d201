"""悦生活 endpoints: catalogue (cities, billers), bill inquiry, bill payment (idempotent),
receipts, saved bill accounts, auto-pay mandates and notices for customers; reconciliation
breaks and biller KPIs for staff (``payment.view`` / ``payment.manage``); biller onboarding
(``partner.manage``) and a partner's own KPIs (scope ``lifepay``)."""

from __future__ import annotations

import datetime as dt
import uuid

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from rongshu.api.auth import principal, principal_auth
from rongshu.api.base import command
from rongshu.api.schemas import MoneyOut, money_out
from rongshu.identity.services import check_permission, check_scope
from rongshu.identity.types import Action, PartnerScope
from rongshu.kernel.money import Money
from rongshu.lifepay import queries, services
from rongshu.lifepay.types import BillerView, BillPaymentView, MandateView, PayBillRequest

router = Router(tags=["lifepay"], auth=principal_auth)


class CityOut(Schema):
    code: str
    name_zh: str
    name_en: str


class BillerOut(Schema):
    code: str
    city_code: str
    item_code: str
    category: str
    name_zh: str
    name_en: str
    mode: str
    partial_allowed: bool
    account_hint: str
    cutoff: dt.time
    fee: MoneyOut


def _biller(b: BillerView) -> BillerOut:
    return BillerOut(
        code=b.code,
        city_code=b.city_code,
        item_code=b.item_code,
        category=b.category,
        name_zh=b.name_zh,
        name_en=b.name_en,
        mode=b.mode,
        partial_allowed=b.partial_allowed,
        account_hint=b.account_hint,
        cutoff=b.cutoff,
        fee=money_out(b.fee),
    )


class BillOut(Schema):
    bill_ref: str
    period: str
    amount: MoneyOut
    due_on: dt.date


class InquiryOut(Schema):
    biller: BillerOut
    account_no: str
    holder: str
    bills: list[BillOut]


class PaymentOut(Schema):
    id: uuid.UUID
    biller: BillerOut
    account_no: str
    bill_ref: str
    amount: MoneyOut
    fee: MoneyOut
    refunded: MoneyOut
    state: str
    reason_code: str
    biller_ref: str
    autopay: bool
    created_at: dt.datetime
    paid_at: dt.datetime | None


def _payment(v: BillPaymentView) -> PaymentOut:
    return PaymentOut(
        id=v.payment_id,
        biller=_biller(v.biller),
        account_no=v.account_no,
        bill_ref=v.bill_ref,
        amount=money_out(v.amount),
        fee=money_out(v.fee),
        refunded=money_out(v.refunded),
        state=v.state,
        reason_code=v.reason_code,
        biller_ref=v.biller_ref,
        autopay=v.autopay,
        created_at=v.created_at,
        paid_at=v.paid_at,
    )


class InquiryIn(Schema):
    model_config = ConfigDict(extra="forbid")
    biller_code: str = Field(max_length=40)
    account_no: str = Field(max_length=40)


class PayIn(InquiryIn):
    debit_account_id: uuid.UUID
    amount: str = Field(description='Decimal string, e.g. "12.34".')
    currency: str = Field("CNY", pattern=r"^[A-Z]{3}$")
    bill_ref: str = Field("", max_length=40)


class SavedIn(InquiryIn):
    nickname: str = Field("", max_length=40)


class SavedOut(Schema):
    id: uuid.UUID
    biller: BillerOut
    account_no: str
    nickname: str


class MandateIn(InquiryIn):
    debit_account_id: uuid.UUID
    limit: str
    currency: str = Field("CNY", pattern=r"^[A-Z]{3}$")


class MandateOut(Schema):
    id: uuid.UUID
    biller: BillerOut
    account_no: str
    limit: MoneyOut
    due_day: int
    active: bool


def _mandate(v: MandateView) -> MandateOut:
    return MandateOut(
        id=v.mandate_id,
        biller=_biller(v.biller),
        account_no=v.account_no,
        limit=money_out(v.limit),
        due_day=v.due_day,
        active=v.active,
    )


class NoticeOut(Schema):
    id: uuid.UUID
    kind: str
    text: str
    created_at: dt.datetime


class BreakOut(Schema):
    id: uuid.UUID
    biller_code: str
    business_date: dt.date
    our_ref: str
    kind: str
    ours: MoneyOut
    theirs: MoneyOut
    state: str
    resolution: str


class ResolveIn(Schema):
    model_config = ConfigDict(extra="forbid")
    resolution: str = Field("", max_length=20)


class KpiOut(Schema):
    biller_code: str
    name: str
    payments: int
    paid: int
    failed: int
    pending: int
    success_rate: float
    avg_latency_ms: float
    open_breaks: int
    breaks: int


class OnboardIn(Schema):
    model_config = ConfigDict(extra="forbid")
    city_code: str = Field(max_length=6)
    item_code: str = Field(max_length=30)
    name_zh: str = Field(max_length=80)
    name_en: str = Field(max_length=120)
    partner_client_id: str = Field("", max_length=80)
    fee: str | None = Field(None, max_length=12, description='Per-payment fee, e.g. "1.00".')
    account_format: str = Field("", max_length=20, description="Default: the item's format.")


# ------------------------------------------------------------------ catalogue
@router.get("/cities", response=list[CityOut], auth=None, summary="Cities served")
def cities(request: HttpRequest, q: str = "") -> list[CityOut]:
    return [CityOut(**c.__dict__) for c in queries.list_cities(q)]


@router.get("/billers", response=list[BillerOut], auth=None, summary="Billers of a city")
def billers(request: HttpRequest, city: str = "110100", category: str = "") -> list[BillerOut]:
    return [_biller(b) for b in queries.list_billers(city, category)]


# ------------------------------------------------------------------ customers
@router.post("/inquiries", response=InquiryOut, summary="Look up a bill account")
@command()
def inquire(request: HttpRequest, payload: InquiryIn) -> InquiryOut:
    found = services.do_inquire(principal(request), payload.biller_code, payload.account_no)
    return InquiryOut(
        biller=_biller(found.biller),
        account_no=found.account_no,
        holder=found.holder,
        bills=[
            BillOut(
                bill_ref=b.bill_ref, period=b.period, amount=money_out(b.amount), due_on=b.due_on
            )
            for b in found.bills
        ],
    )


@router.post("/payments", response={201: PaymentOut, 202: PaymentOut}, summary="Pay a bill")
@command(idempotent=True)
def pay(request: HttpRequest, payload: PayIn) -> Status[PaymentOut]:
    view = services.do_pay_bill(
        principal(request),
        PayBillRequest(
            payload.biller_code,
            payload.account_no,
            payload.debit_account_id,
            Money.parse(payload.amount, payload.currency),
            payload.bill_ref,
        ),
        idempotency_key=request.headers.get("Idempotency-Key", ""),
    )
    return Status(202 if view.state == "unknown" else 201, _payment(view))


@router.get("/payments", response=list[PaymentOut], summary="My bill payments")
def my_payments(request: HttpRequest) -> list[PaymentOut]:
    return [_payment(v) for v in queries.list_my_payments(principal(request))]


@router.get("/payments/{payment_id}", response=PaymentOut, summary="A bill payment (receipt)")
def payment(request: HttpRequest, payment_id: uuid.UUID) -> PaymentOut:
    return _payment(queries.get_payment(principal(request), payment_id))


@router.get("/accounts", response=list[SavedOut], summary="My saved bill accounts")
def saved(request: HttpRequest) -> list[SavedOut]:
    return [
        SavedOut(
            id=s.saved_id, biller=_biller(s.biller), account_no=s.account_no, nickname=s.nickname
        )
        for s in queries.list_saved(principal(request))
    ]


@router.post("/accounts", response={201: SavedOut}, summary="Save a bill account")
@command()
def save_account(request: HttpRequest, payload: SavedIn) -> Status[SavedOut]:
    s = services.do_save_bill_account(
        principal(request), payload.biller_code, payload.account_no, payload.nickname
    )
    return Status(
        201,
        SavedOut(
            id=s.saved_id, biller=_biller(s.biller), account_no=s.account_no, nickname=s.nickname
        ),
    )


@router.delete("/accounts/{saved_id}", response={204: None}, summary="Forget a bill account")
@command()
def delete_account(request: HttpRequest, saved_id: uuid.UUID) -> Status[None]:
    services.do_delete_bill_account(principal(request), saved_id)
    return Status(204, None)


@router.get("/mandates", response=list[MandateOut], summary="My auto-pay mandates")
def mandates(request: HttpRequest) -> list[MandateOut]:
    return [_mandate(m) for m in queries.list_mandates(principal(request))]


@router.post("/mandates", response={201: MandateOut}, summary="Set up auto-pay (代扣)")
@command()
def create_mandate(request: HttpRequest, payload: MandateIn) -> Status[MandateOut]:
    m = services.do_create_mandate(
        principal(request),
        payload.biller_code,
        payload.account_no,
        payload.debit_account_id,
        Money.parse(payload.limit, payload.currency),
    )
    return Status(201, _mandate(m))


@router.post("/mandates/{mandate_id}/cancel", response=MandateOut, summary="Cancel auto-pay")
@command()
def cancel_mandate(request: HttpRequest, mandate_id: uuid.UUID) -> MandateOut:
    return _mandate(services.do_cancel_mandate(principal(request), mandate_id))


@router.get("/notices", response=list[NoticeOut], summary="Reminders and auto-pay notices")
def notices(request: HttpRequest) -> list[NoticeOut]:
    return [
        NoticeOut(id=n.notice_id, kind=n.kind, text=n.text, created_at=n.created_at)
        for n in queries.list_notices(principal(request))
    ]


# ------------------------------------------------------------------ staff and partners
@router.get("/staff/breaks", response=list[BreakOut], summary="Reconciliation breaks")
def breaks(request: HttpRequest, state: str = "") -> list[BreakOut]:
    check_permission(principal(request), Action.PAYMENT_VIEW)
    return [
        BreakOut(
            id=b.break_id,
            biller_code=b.biller_code,
            business_date=b.business_date,
            our_ref=b.our_ref,
            kind=b.kind,
            ours=money_out(b.ours),
            theirs=money_out(b.theirs),
            state=b.state,
            resolution=b.resolution,
        )
        for b in queries.list_breaks(state=state)
    ]


@router.post("/staff/breaks/{break_id}/resolve", response=BreakOut, summary="Resolve a break")
@command()
def resolve(request: HttpRequest, break_id: uuid.UUID, payload: ResolveIn) -> BreakOut:
    who = principal(request)
    check_permission(who, Action.PAYMENT_MANAGE)
    services.do_resolve_break(who.principal_key, break_id, payload.resolution)
    b = next(x for x in queries.list_breaks() if x.break_id == break_id)
    return BreakOut(
        id=b.break_id,
        biller_code=b.biller_code,
        business_date=b.business_date,
        our_ref=b.our_ref,
        kind=b.kind,
        ours=money_out(b.ours),
        theirs=money_out(b.theirs),
        state=b.state,
        resolution=b.resolution,
    )


@router.get("/staff/kpis", response=list[KpiOut], summary="Biller KPIs")
def kpis(request: HttpRequest) -> list[KpiOut]:
    check_permission(principal(request), Action.PAYMENT_VIEW)
    return [KpiOut(**k.__dict__) for k in queries.biller_kpis()]


@router.post("/staff/billers", response={201: BillerOut}, summary="Onboard a biller")
@command()
def onboard(request: HttpRequest, payload: OnboardIn) -> Status[BillerOut]:
    who = principal(request)
    check_permission(who, Action.PARTNER_MANAGE)
    view = services.do_onboard_biller(who.principal_key, **payload.dict())
    return Status(201, _biller(view))


@router.get("/partner/kpis", response=list[KpiOut], summary="My billers' KPIs (partners)")
def partner_kpis(request: HttpRequest) -> list[KpiOut]:
    who = principal(request)
    check_scope(who, PartnerScope.LIFEPAY)
    return [
        KpiOut(**k.__dict__)
        for k in queries.biller_kpis(partner_client_id=who.partner_client_id or "")
    ]
