"""Model rows → boundary types."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import get_language

from rongshu.kernel.money import Money
from rongshu.lifepay import catalogue
from rongshu.lifepay.models import Biller, BillPayment, Break, Mandate, Notice, SavedBillAccount
from rongshu.lifepay.simulator import SimBill
from rongshu.lifepay.types import (
    Bill,
    BillerView,
    BillPaymentView,
    BreakView,
    MandateView,
    NoticeView,
    SavedAccountView,
)


def biller_view(b: Biller) -> BillerView:
    return BillerView(
        code=b.code,
        city_code=b.city.code,
        city_zh=b.city.name_zh,
        city_en=b.city.name_en,
        item_code=b.item.code,
        category=b.item.category,
        name_zh=b.name_zh,
        name_en=b.name_en,
        item_zh=b.item.name_zh,
        item_en=b.item.name_en,
        mode=b.item.mode,
        partial_allowed=b.item.partial_allowed,
        account_format=b.account_format,
        account_hint=catalogue.FORMAT_HINTS.get(b.account_format, ""),
        cutoff=b.cutoff,
        fee=Money(b.fee_minor, b.currency),
        adapter_type=b.adapter_type,
        status=b.status,
        partner_client_id=b.partner_client_id,
    )


def bills_of(bills: Iterable[SimBill], currency: str) -> tuple[Bill, ...]:
    return tuple(
        Bill(b.bill_ref, b.period, Money(b.amount_minor, currency), b.due_on) for b in bills
    )


def payment_view(p: BillPayment) -> BillPaymentView:
    return BillPaymentView(
        payment_id=p.public_id,
        customer_id=p.customer_id,
        biller=biller_view(p.biller),
        account_no=p.account_no,
        bill_ref=p.bill_ref,
        amount=Money(p.amount_minor, p.currency),
        fee=Money(p.fee_minor, p.currency),
        refunded=Money(p.refunded_minor, p.currency),
        debit_account_id=p.debit_account_id,
        state=p.state,
        reason_code=p.reason_code,
        biller_ref=p.biller_ref,
        confirmations=p.confirmations,
        channel=p.channel,
        autopay=p.mandate_id is not None,
        business_date=p.business_date,
        created_at=p.created_at,
        paid_at=p.paid_at,
    )


def saved_view(s: SavedBillAccount) -> SavedAccountView:
    return SavedAccountView(s.public_id, biller_view(s.biller), s.account_no, s.nickname, s.remind)


def mandate_view(m: Mandate) -> MandateView:
    return MandateView(
        mandate_id=m.public_id,
        biller=biller_view(m.biller),
        account_no=m.account_no,
        debit_account_id=m.debit_account_id,
        limit=Money(m.limit_minor, m.biller.currency),
        due_day=m.due_day,
        active=m.active,
        attempts=m.attempts,
        last_period=m.last_period,
        paused=m.paused,
    )


def notice_view(n: Notice) -> NoticeView:
    zh = (get_language() or "zh-hans").startswith("zh")
    return NoticeView(n.public_id, n.kind, n.text_zh if zh else n.text_en, n.created_at)


def break_view(b: Break) -> BreakView:
    currency = b.biller.currency
    return BreakView(
        break_id=b.public_id,
        biller_code=b.biller.code,
        business_date=b.run.business_date,
        our_ref=b.our_ref,
        kind=b.kind,
        ours=Money(b.ours_minor, currency),
        theirs=Money(b.theirs_minor, currency),
        state=b.state,
        resolution=b.resolution,
        resolved_by=b.resolved_by,
    )
