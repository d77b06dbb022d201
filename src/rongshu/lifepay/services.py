"""The lifepay write API (docs/lifepay.md).

A bill payment is two-phase in the ledger: the customer's funds are **held** (a pending
transfer to the biller's clearing account, and one for the fee) before the biller is called;
the biller's confirmation **posts** the holds, a definite refusal **voids** them, and a timeout
keeps them pending (state ``unknown``) until a re-query, the biller's late confirmation or the
reconciliation file decides. Ledger transfer ids derive from the payment id and the customer's
``Idempotency-Key`` identifies the payment, so no retry, duplicate confirmation or re-query
ever moves money twice.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import logging
import time
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

from django.db import IntegrityError, connections, models, transaction
from django.db.models import Q, QuerySet

from rongshu.identity.types import Principal
from rongshu.kernel import clock
from rongshu.kernel.audit import do_audit
from rongshu.kernel.errors import DomainError, InvalidInput, PartnerUnavailable
from rongshu.kernel.money import Money, MoneyError, parse_minor
from rongshu.kernel.outbox import record_event, record_events
from rongshu.ledger import queries as ledger_queries
from rongshu.ledger import services as ledger
from rongshu.ledger.types import TransferIn, TransferResult
from rongshu.lifepay import catalogue, simulator
from rongshu.lifepay.access import customer_id_of
from rongshu.lifepay.errors import (
    AccountFormatUnknown,
    AccountNumberInvalid,
    AfterCutoff,
    AmountInvalid,
    AmountMismatch,
    BillAccountUnknown,
    BillAlreadyPaid,
    BillerDown,
    BillerExists,
    BillerNotPending,
    BillerTimeout,
    BillerUnknown,
    BillNotFound,
    BreakAlreadyResolved,
    BreakNotFound,
    CityUnknown,
    DebitAccountInvalid,
    FeeInvalid,
    InsufficientFunds,
    KeyReused,
    MandateLimitInvalid,
    MandateNotFound,
    PaymentItemUnknown,
    PaymentRefused,
    ResolutionInvalid,
    SavedAccountNotFound,
)
from rongshu.lifepay.events import BillerSettled, BillPaymentChanged, NoticeIssued
from rongshu.lifepay.models import (
    Biller,
    BillPayment,
    Break,
    City,
    Mandate,
    Notice,
    PaymentItem,
    ReconRun,
    SavedBillAccount,
    Settlement,
)
from rongshu.lifepay.projections import (
    biller_view,
    bills_of,
    mandate_view,
    payment_view,
    saved_view,
)
from rongshu.lifepay.types import (
    BillerView,
    BillPaymentView,
    Inquiry,
    MandateView,
    PayBillRequest,
    ReconSummary,
    SavedAccountView,
)
from rongshu.payments import services as payments
from rongshu.payments.types import PaymentCheck

logger = logging.getLogger(__name__)

_NS = uuid.UUID("4b1e6f0a-7c2d-4e8b-9a35-0f6c2d1e8b47")
SYSTEM = "system:lifepay"
MAX_REQUERIES = 3
AUTOPAY_RETRIES = 3
REMIND_DAYS = 3


def tid(payment: BillPayment, purpose: str) -> uuid.UUID:
    return uuid.uuid5(_NS, f"{payment.public_id}:{purpose}")


_M = TypeVar("_M", bound=models.Model)


def _find(
    rows: models.Manager[_M] | QuerySet[_M], *, lock: bool = False, **where: Any
) -> _M | None:
    """The first row matching ``where`` (locked ``FOR UPDATE`` with ``lock``), or ``None``."""
    if lock:
        rows = rows.select_for_update()
    return rows.filter(**where).first()


def _get(
    rows: models.Manager[_M] | QuerySet[_M],
    missing: type[DomainError],
    *,
    lock: bool = False,
    **where: Any,
) -> _M:
    """The row matching ``where`` (locked with ``lock``); ``missing()`` raised when none."""
    found = _find(rows, lock=lock, **where)
    if found is None:
        raise missing()
    return found


def _payments() -> QuerySet[BillPayment]:
    return BillPayment.objects.select_related("biller__item", "biller__city")


def _ref_id(our_ref: str) -> uuid.UUID:
    """The payment id of a biller's ``our_ref`` (the nil UUID, matching nothing, if not one)."""
    try:
        return uuid.UUID(our_ref)
    except ValueError:
        return uuid.UUID(int=0)


# ------------------------------------------------------------------ catalogue
def do_load_catalogue() -> tuple[int, int]:
    """Create the demo catalogue (idempotent): (cities, billers)."""
    now = clock.now()
    items = {i.code: i for i in PaymentItem.objects.all()}
    new_items = [
        PaymentItem(
            code=it.code,
            category=it.category,
            name_zh=it.name_zh,
            name_en=it.name_en,
            mode=it.mode,
            partial_allowed=it.partial,
            account_format=it.account_format,
            position=index,
        )
        for index, it in enumerate(catalogue.ITEMS)
        if it.code not in items
    ]
    PaymentItem.objects.bulk_create(new_items)
    items = {i.code: i for i in PaymentItem.objects.all()}
    have = set(City.objects.values_list("code", flat=True))
    City.objects.bulk_create(
        [
            City(code=c.code, province_code=c.province_code, name_zh=c.name_zh, name_en=c.name_en)
            for c in catalogue.read_cities()
            if c.code not in have
        ]
    )
    cities = list(City.objects.all())
    existing = set(Biller.objects.values_list("code", flat=True))
    rows = []
    for city in cities:
        for it in catalogue.ITEMS:
            code = catalogue.biller_code(city.code, it.code)
            if code in existing:
                continue
            rows.append(
                Biller(
                    code=code,
                    city=city,
                    item=items[it.code],
                    name_zh=f"{city.name_zh}{it.name_zh}",
                    name_en=f"{city.name_en} {it.name_en}",
                    account_format=it.account_format,
                    created_at=now,
                    **catalogue.biller_terms(city.code, it),
                )
            )
    Biller.objects.bulk_create(rows, batch_size=2000)
    return len(cities), Biller.objects.count()


def _biller(code: str, *, lock: bool = False) -> Biller:
    found = _find(Biller.objects.select_related("item", "city"), lock=lock, code=code)
    if found is None or found.status != Biller.ACTIVE:
        raise BillerUnknown()
    return found


def _ensure_ledger_accounts(biller: Biller) -> Biller:
    """The biller's clearing and settlement accounts (made at onboarding or first use)."""
    if biller.clearing_account_id is not None and biller.settlement_account_id is not None:
        return biller
    with transaction.atomic():
        locked = Biller.objects.select_for_update().get(pk=biller.pk)
        if locked.clearing_account_id is None or locked.settlement_account_id is None:
            clearing = ledger.do_create_account(
                name=f"Lifepay clearing {locked.code}",
                currency=locked.currency,
                kind="liability",
                owner_type="partner",
                owner_id=f"biller:{locked.code}",
                product_code="lifepay_clearing",
            )
            settlement = ledger.do_create_account(
                name=f"Lifepay settlement {locked.code}",
                currency=locked.currency,
                kind="liability",
                owner_type="partner",
                owner_id=f"biller:{locked.code}",
                product_code="lifepay_settlement",
            )
            locked.clearing_account_id = clearing.public_id
            locked.settlement_account_id = settlement.public_id
            locked.save(update_fields=["clearing_account_id", "settlement_account_id"])
        biller.clearing_account_id = locked.clearing_account_id
        biller.settlement_account_id = locked.settlement_account_id
    return biller


MAX_FEE_MINOR = 100_00  # a biller's per-payment fee to the customer: at most 100.00


def _parse_fee(fee: str | int | None, currency: str) -> int | None:
    if fee is None or (isinstance(fee, str) and not fee.strip()):
        return None
    try:
        minor = parse_minor(fee.strip() if isinstance(fee, str) else fee, currency)
    except MoneyError as exc:
        raise FeeInvalid() from exc
    if not 0 <= minor <= MAX_FEE_MINOR:
        raise FeeInvalid()
    return minor


def _partner_biller_code(city_code: str, item_code: str, partner_client_id: str) -> str:
    """The catalogue's code for the bank's own biller; a partner's gets a short suffix."""
    base = catalogue.biller_code(city_code, item_code)
    if not partner_client_id:
        return base
    return f"{base}-p{hashlib.sha256(partner_client_id.encode()).hexdigest()[:8]}"


def do_onboard_biller(
    actor: str,
    *,
    city_code: str,
    item_code: str,
    name_zh: str,
    name_en: str,
    partner_client_id: str = "",
    adapter_type: str = "simulator",
    cutoff: dt.time = dt.time(22, 0),
    commission_bp: int = 20,
    fee: str | int | None = None,
    account_format: str = "",
    pending: bool = False,
) -> BillerView:
    """Register a biller for a city and item (one per city, item and partner) with its ledger
    clearing and settlement accounts; audited. ``fee`` (a decimal string, at most 100.00) and
    ``account_format`` (one of :data:`catalogue.FORMAT_HINTS`) default to none and the item's
    format. ``pending`` (partners' own applications) leaves it invisible to customers until
    staff approve it (:func:`do_review_biller`); a rejected application may be filed again."""
    city = _get(City.objects, CityUnknown, code=city_code)
    item = _get(PaymentItem.objects, PaymentItemUnknown, code=item_code)
    if account_format and account_format not in catalogue.FORMAT_HINTS:
        raise AccountFormatUnknown()
    fee_minor = _parse_fee(fee, "CNY")
    status = Biller.PENDING if pending else Biller.ACTIVE
    fields: dict[str, Any] = {
        "name_zh": (name_zh.strip() or f"{city.name_zh}{item.name_zh}")[:80],
        "name_en": (name_en.strip() or f"{city.name_en} {item.name_en}")[:120],
        "adapter_type": adapter_type,
        "account_format": account_format or item.account_format,
        "cutoff": cutoff,
        "commission_bp": commission_bp,
        "fee_minor": fee_minor or 0,
        "status": status,
        "created_at": clock.now(),
    }
    with transaction.atomic():
        existing = _find(
            Biller.objects, lock=True, city=city, item=item, partner_client_id=partner_client_id
        )
        if existing is not None and existing.status != Biller.REJECTED:
            raise BillerExists()
        try:
            with transaction.atomic():
                if existing is not None:  # a rejected application, filed again
                    for name, value in fields.items():
                        setattr(existing, name, value)
                    existing.save()
                    biller = existing
                else:
                    biller = Biller.objects.create(
                        code=_partner_biller_code(city.code, item.code, partner_client_id),
                        city=city,
                        item=item,
                        partner_client_id=partner_client_id,
                        **fields,
                    )
        except IntegrityError as exc:  # a concurrent application for the same pair
            raise BillerExists() from exc
        if status == Biller.ACTIVE:
            _ensure_ledger_accounts(biller)
        do_audit(
            actor,
            "lifepay.biller_onboarded",
            object_type="lifepay.biller",
            object_id=biller.code,
            data={"status": status, "partner_client_id": partner_client_id},
        )
    return biller_view(biller)


def do_review_biller(actor: str, biller_code: str, *, approve: bool) -> BillerView:
    """Approve (``active``, with its ledger accounts) or reject a partner's pending biller;
    audited. The caller checks ``payment.manage``."""
    with transaction.atomic():
        biller = _get(
            Biller.objects.select_related("city", "item"),
            BillerUnknown,
            lock=True,
            code=biller_code,
        )
        if biller.status != Biller.PENDING:
            raise BillerNotPending()
        biller.status = Biller.ACTIVE if approve else Biller.REJECTED
        biller.save(update_fields=["status"])
        if approve:
            _ensure_ledger_accounts(biller)
        do_audit(
            actor,
            "lifepay.biller_approved" if approve else "lifepay.biller_rejected",
            object_type="lifepay.biller",
            object_id=biller.code,
            data={"partner_client_id": biller.partner_client_id},
        )
    return biller_view(biller)


# ------------------------------------------------------------------ inquiry
def check_account_no(biller: Biller, account_no: str) -> str:
    number = catalogue.normalize_account(account_no)
    if not catalogue.is_valid_account(biller.account_format, number):
        raise AccountNumberInvalid(
            f"Expected: {catalogue.FORMAT_HINTS.get(biller.account_format, '')}."
        )
    return number


def inquire(biller_code: str, account_no: str) -> Inquiry:
    biller = _biller(biller_code)
    number = check_account_no(biller, account_no)
    holder, bills = simulator.adapter_for(biller).inquire(biller, number)
    return Inquiry(biller_view(biller), number, holder, bills_of(bills, biller.currency))


def do_inquire(principal: Principal, biller_code: str, account_no: str) -> Inquiry:
    customer_id_of(principal)
    return inquire(biller_code, account_no)


# ------------------------------------------------------------------ payment
def _check_debit_account(customer_id: uuid.UUID, account_id: uuid.UUID, currency: str) -> None:
    account = ledger_queries.find_account(account_id)
    if account is None or account.owner_type != "customer" or account.owner_id != str(customer_id):
        raise DebitAccountInvalid("This account is not one of yours.")
    if account.currency != currency:
        raise DebitAccountInvalid("The account is in another currency.", code="currency_mismatch")


def _check_cutoff(biller: Biller) -> None:
    local = clock.now().astimezone(clock.bank_zone()).time()
    if local >= biller.cutoff:
        raise AfterCutoff(
            f"This biller accepts payments until {biller.cutoff:%H:%M}; please pay tomorrow."
        )


def _check_amount(biller: Biller, request: PayBillRequest, inquiry: Inquiry | None) -> str:
    """Check the amount against the bill; returns the bill reference to pay."""
    amount = request.amount.minor
    if request.amount.currency != biller.currency or amount <= 0:
        raise AmountInvalid("The amount must be greater than zero.")
    if biller.item.mode == "prepaid":
        if not biller.min_minor <= amount <= biller.max_minor:
            raise AmountInvalid("The amount is outside this biller's limits.")
        return ""
    assert inquiry is not None
    bills = {b.bill_ref: b for b in inquiry.bills}
    if not bills:
        raise BillAlreadyPaid("There is nothing to pay on this account.")
    ref = request.bill_ref or next(iter(bills))
    bill = bills.get(ref)
    if bill is None:
        raise BillNotFound()
    if biller.item.partial_allowed:
        if amount > bill.amount.minor:
            raise AmountInvalid("The amount is more than the bill.", code="amount_over_bill")
    elif amount != bill.amount.minor:
        raise AmountMismatch(
            f"This bill must be paid in full: {bill.amount.amount_str()} {bill.amount.currency}."
        )
    return ref


def _existing(customer_id: uuid.UUID, key: str, request: PayBillRequest) -> BillPayment | None:
    found = _find(_payments(), customer_id=customer_id, idempotency_key=key)
    if found is None:
        return None
    same = (
        found.biller.code == request.biller_code
        and found.account_no == catalogue.normalize_account(request.account_no)
        and found.amount_minor == request.amount.minor
        and found.debit_account_id == request.debit_account_id
        and (not request.bill_ref or request.bill_ref == found.bill_ref)
    )
    if not same:
        raise KeyReused()
    return found


def _event_of(payment: BillPayment) -> BillPaymentChanged:
    return BillPaymentChanged(
        payment_id=str(payment.public_id),
        customer_id=str(payment.customer_id),
        biller_code=payment.biller.code,
        amount_minor=payment.amount_minor,
        currency=payment.currency,
        state=payment.state,
        reason_code=payment.reason_code,
        channel=payment.channel,
    )


def _event(payment: BillPayment) -> None:
    record_event(
        _event_of(payment),
        dedupe_key=f"lifepay:{payment.public_id}:{payment.state}:{payment.confirmations}",
    )


def _hold_transfers(payment: BillPayment) -> list[TransferIn]:
    biller = payment.biller
    assert biller.clearing_account_id is not None
    meta = {"bill_payment": str(payment.public_id), "biller": biller.code}
    items = [
        TransferIn(
            tid(payment, "hold"),
            payment.debit_account_id,
            biller.clearing_account_id,
            payment.amount_minor,
            payment.currency,
            "lifepay_bill",
            kind="pending",
            linked=bool(payment.fee_minor),
            reference=f"{biller.name_zh} {payment.account_no}"[:140],
            metadata=meta,
        )
    ]
    if payment.fee_minor:
        items.append(
            TransferIn(
                tid(payment, "fee-hold"),
                payment.debit_account_id,
                ledger.get_chart_account(f"income.fees.{payment.currency}").public_id,
                payment.fee_minor,
                payment.currency,
                "lifepay_fee",
                kind="pending",
                reference="缴费手续费",
                metadata=meta,
            )
        )
    return items


def _resolve_items(payment: BillPayment, kind: str) -> list[TransferIn]:
    items = [
        TransferIn(
            tid(payment, kind),
            None,
            None,
            None,
            payment.currency,
            "lifepay_bill",
            kind=kind,
            pending_id=tid(payment, "hold"),
            linked=bool(payment.fee_minor),
        )
    ]
    if payment.fee_minor:
        items.append(
            TransferIn(
                tid(payment, f"fee-{kind}"),
                None,
                None,
                None,
                payment.currency,
                "lifepay_fee",
                kind=kind,
                pending_id=tid(payment, "fee-hold"),
            )
        )
    return items


def _resolve(payment: BillPayment, kind: str) -> None:
    """Post or void the payment's holds (idempotent: a second call answers ``exists``)."""
    results = ledger.do_create_transfers(_resolve_items(payment, kind))
    bad = [r.result for r in results if not r.ok]
    if bad:
        raise PaymentRefused(f"The ledger refused to {kind} the hold ({bad[0]}).", code=bad[0])


def _set_state(payment: BillPayment, state: str, reason: str = "") -> None:
    payment.state = state
    payment.reason_code = reason[:60]
    payment.updated_at = clock.now()
    if state == BillPayment.PAID and payment.paid_at is None:
        payment.paid_at = payment.updated_at
    payment.save()
    _event(payment)


def _create_held(
    customer_id: uuid.UUID,
    biller: Biller,
    request: PayBillRequest,
    *,
    key: str,
    channel: str,
    bill_ref: str,
    mandate: Mandate | None = None,
) -> BillPayment:
    now = clock.now()
    payment = BillPayment(
        customer_id=customer_id,
        idempotency_key=key,
        biller=biller,
        account_no=catalogue.normalize_account(request.account_no),
        bill_ref=bill_ref,
        amount_minor=request.amount.minor,
        fee_minor=biller.fee_minor,
        currency=request.amount.currency,
        debit_account_id=request.debit_account_id,
        channel=channel,
        mandate=mandate,
        state=BillPayment.HELD,
        business_date=clock.get_business_date(),
        created_at=now,
        updated_at=now,
    )
    payments.check_payment_rules(
        PaymentCheck(
            customer_id=customer_id,
            debit_account_id=request.debit_account_id,
            amount=request.amount,
            rail="internal",
            counterparty_account_id=biller.clearing_account_id,
            counterparty_bank_code=None,
            counterparty_account_number=None,
            at=now,
        )
    )
    results = ledger.do_create_transfers(_hold_transfers(payment))
    failed = [r.result for r in results if not r.ok and r.result != "linked_event_failed"]
    if failed:
        if failed[0] == "exceeds_credits":
            raise InsufficientFunds("The account does not have enough available funds.")
        raise PaymentRefused(f"The ledger refused the payment ({failed[0]}).", code=failed[0])
    payment.save()
    # new by construction (the row above is unique per key): one INSERT, no read, no savepoint
    record_events([(_event_of(payment), f"lifepay:{payment.public_id}:{payment.state}:0")])
    return payment


def _call_biller(payment: BillPayment) -> None:
    """Send a held payment to its biller and settle the hold on a definite answer."""
    biller = payment.biller
    started = time.monotonic()
    try:
        confirmation = simulator.adapter_for(biller).pay(
            biller,
            str(payment.public_id),
            payment.account_no,
            payment.bill_ref,
            payment.amount_minor,
        )
    except BillerTimeout:
        payment.latency_ms = int((time.monotonic() - started) * 1000)
        _set_state(payment, BillPayment.UNKNOWN, "biller_timeout")
        return
    except (BillerDown, BillAccountUnknown, BillAlreadyPaid, BillNotFound) as exc:
        payment.latency_ms = int((time.monotonic() - started) * 1000)
        _resolve(payment, "void")
        _set_state(payment, BillPayment.FAILED, exc.code)
        return
    payment.latency_ms = int((time.monotonic() - started) * 1000)
    payment.biller_ref = confirmation.biller_ref[:60]
    payment.confirmations = 1
    _resolve(payment, "post")
    _set_state(payment, BillPayment.PAID)


def _pay(
    customer_id: uuid.UUID,
    request: PayBillRequest,
    *,
    key: str,
    channel: str,
    mandate: Mandate | None = None,
    inquiry: Inquiry | None = None,
) -> BillPayment:
    found = _existing(customer_id, key, request)
    if found is not None:
        return found
    biller = _ensure_ledger_accounts(_biller(request.biller_code))
    number = check_account_no(biller, request.account_no)
    request = PayBillRequest(
        request.biller_code, number, request.debit_account_id, request.amount, request.bill_ref
    )
    _check_cutoff(biller)
    _check_debit_account(customer_id, request.debit_account_id, request.amount.currency)
    if inquiry is None and biller.item.mode == "bill":
        holder, bills = simulator.adapter_for(biller).inquire(biller, number)
        inquiry = Inquiry(biller_view(biller), number, holder, bills_of(bills, biller.currency))
    bill_ref = _check_amount(biller, request, inquiry)
    try:
        with transaction.atomic():
            payment = _create_held(
                customer_id,
                biller,
                request,
                key=key,
                channel=channel,
                bill_ref=bill_ref,
                mandate=mandate,
            )
    except IntegrityError:
        replay = _existing(customer_id, key, request)
        if replay is None:
            raise
        return replay
    with transaction.atomic():
        _call_biller(payment)
    return payment


def do_pay_bill(
    principal: Principal, request: PayBillRequest, *, idempotency_key: str, channel: str = "api"
) -> BillPaymentView:
    """Pay a bill (or top up) from the customer's account. The same key answers the same
    payment. Ends ``paid``, ``failed`` (funds released) or ``unknown`` (funds held until the
    biller's answer is known)."""
    customer_id = customer_id_of(principal)
    if not idempotency_key:
        raise InvalidInput("An idempotency key is required.", code="idempotency_key_required")
    payment = _pay(customer_id, request, key=idempotency_key[:80], channel=channel)
    return payment_view(payment)


def handle_confirmation(our_ref: str, biller_ref: str, amount_minor: int) -> str:
    """A biller's (possibly late, possibly repeated) confirmation; returns what it did."""
    with transaction.atomic():
        payment = _find(_payments(), lock=True, public_id=_ref_id(our_ref))
        if payment is None:
            return "unknown"
        if payment.state in (BillPayment.HELD, BillPayment.UNKNOWN):
            payment.biller_ref = biller_ref[:60]
            payment.confirmations += 1
            _resolve(payment, "post")
            _set_state(payment, BillPayment.PAID)
            return "posted"
        payment.confirmations += 1
        payment.save(update_fields=["confirmations"])
        do_audit(
            SYSTEM,
            "lifepay.duplicate_confirmation",
            object_type="lifepay.payment",
            object_id=our_ref,
            data={"state": payment.state, "biller_ref": biller_ref},
        )
        return "duplicate"


def do_process_callbacks() -> dict[str, int]:
    counts: dict[str, int] = {}
    for adapter in simulator.all_adapters():
        for _code, conf in adapter.take_callbacks():
            outcome = handle_confirmation(conf.our_ref, conf.biller_ref, conf.amount_minor)
            counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def do_requery(payment_id: uuid.UUID) -> str:
    """Ask the biller about a payment whose answer is unknown: found → post; not found →
    void (the biller never booked it: the customer keeps the money); down → stay."""
    with transaction.atomic():
        payment = _find(_payments(), lock=True, public_id=payment_id)
        if payment is None or payment.state not in (BillPayment.HELD, BillPayment.UNKNOWN):
            return payment.state if payment else "unknown"
        payment.requeries += 1
        try:
            found = simulator.adapter_for(payment.biller).query(
                payment.biller, str(payment.public_id)
            )
        except (BillerDown, BillerTimeout):
            payment.save(update_fields=["requeries"])
            return payment.state
        if found is not None:
            payment.biller_ref = found.biller_ref[:60]
            payment.confirmations += 1
            _resolve(payment, "post")
            _set_state(payment, BillPayment.PAID)
        else:
            _resolve(payment, "void")
            _set_state(payment, BillPayment.FAILED, "not_booked_by_biller")
        return payment.state


def do_requery_pending() -> int:
    ids = list(
        BillPayment.objects.filter(state__in=[BillPayment.HELD, BillPayment.UNKNOWN])
        .order_by("pk")
        .values_list("public_id", flat=True)[:10_000]
    )
    return sum(1 for i in ids if do_requery(i) in (BillPayment.PAID, BillPayment.FAILED))


# ------------------------------------------------------------------ saved accounts
def do_save_bill_account(
    principal: Principal, biller_code: str, account_no: str, nickname: str = ""
) -> SavedAccountView:
    customer_id = customer_id_of(principal)
    biller = _biller(biller_code)
    number = check_account_no(biller, account_no)
    saved, _created = SavedBillAccount.objects.get_or_create(
        customer_id=customer_id,
        biller=biller,
        account_no=number,
        defaults={"nickname": nickname[:40], "created_at": clock.now()},
    )
    if nickname and saved.nickname != nickname[:40]:
        saved.nickname = nickname[:40]
        saved.save(update_fields=["nickname"])
    return saved_view(saved)


def do_delete_bill_account(principal: Principal, saved_id: uuid.UUID) -> None:
    customer_id = customer_id_of(principal)
    deleted, _ = SavedBillAccount.objects.filter(
        customer_id=customer_id, public_id=saved_id
    ).delete()
    if not deleted:
        raise SavedAccountNotFound()


# ------------------------------------------------------------------ mandates
def do_create_mandate(
    principal: Principal,
    biller_code: str,
    account_no: str,
    debit_account_id: uuid.UUID,
    limit: Money,
) -> MandateView:
    customer_id = customer_id_of(principal)
    biller = _biller(biller_code)
    number = check_account_no(biller, account_no)
    if not limit.is_positive or limit.currency != biller.currency:
        raise MandateLimitInvalid()
    if biller.item.mode != "bill":
        raise InvalidInput("Auto-pay needs a biller that issues bills.", code="autopay_unsupported")
    _check_debit_account(customer_id, debit_account_id, limit.currency)
    mandate = Mandate.objects.create(
        customer_id=customer_id,
        biller=biller,
        account_no=number,
        debit_account_id=debit_account_id,
        limit_minor=limit.minor,
        due_day=simulator.due_day(biller.code, number),
        created_at=clock.now(),
    )
    do_audit(
        principal.principal_key,
        "lifepay.mandate_created",
        object_type="lifepay.mandate",
        object_id=str(mandate.public_id),
        data={"biller": biller.code, "limit_minor": limit.minor},
    )
    return mandate_view(mandate)


def _mandates() -> QuerySet[Mandate]:
    return Mandate.objects.select_related("biller__item", "biller__city")


def do_cancel_mandate(principal: Principal, mandate_id: uuid.UUID) -> MandateView:
    customer_id = customer_id_of(principal)
    mandate = _get(_mandates(), MandateNotFound, customer_id=customer_id, public_id=mandate_id)
    mandate.active = False
    mandate.save(update_fields=["active"])
    do_audit(
        principal.principal_key,
        "lifepay.mandate_cancelled",
        object_type="lifepay.mandate",
        object_id=str(mandate.public_id),
    )
    return mandate_view(mandate)


def do_pause_mandate(principal: Principal, mandate_id: uuid.UUID, paused: bool) -> MandateView:
    """Pause (skipped by the due-date run, kept) or resume an active mandate; audited."""
    customer_id = customer_id_of(principal)
    mandate = _get(
        _mandates(), MandateNotFound, customer_id=customer_id, public_id=mandate_id, active=True
    )
    mandate.paused = paused
    mandate.save(update_fields=["paused"])
    do_audit(
        principal.principal_key,
        "lifepay.mandate_paused" if paused else "lifepay.mandate_resumed",
        object_type="lifepay.mandate",
        object_id=str(mandate.public_id),
    )
    return mandate_view(mandate)


def _notice(customer_id: uuid.UUID, kind: str, key: str, en: str, zh: str) -> Notice:
    return Notice(
        customer_id=customer_id,
        kind=kind,
        dedupe_key=key[:120],
        text_en=en[:300],
        text_zh=zh[:300],
        created_at=clock.now(),
    )


def _notify(customer_id: uuid.UUID, kind: str, key: str, en: str, zh: str) -> None:
    _notify_many([_notice(customer_id, kind, key, en, zh)])


def _notify_many(notes: list[Notice]) -> None:
    """Store notices once per dedupe key (a rerun adds nothing) and hand them to the
    notification centre through the outbox (``handlers.forward_notice``, idempotent by the
    same key): one INSERT each, whatever the number of notices."""
    if not notes:
        return
    Notice.objects.bulk_create(notes, batch_size=1000, ignore_conflicts=True)
    record_events(
        [
            (
                NoticeIssued(str(n.customer_id), n.kind, n.dedupe_key, n.text_en, n.text_zh),
                None,
            )
            for n in notes
        ]
    )


AUTOPAY_CHUNK = 1000


def _due_mandates(day: dt.date, period: str) -> QuerySet[Mandate]:
    return Mandate.objects.filter(active=True, paused=False).filter(
        Q(due_day=day.day) & ~Q(last_period=period) | Q(retry_on__lte=day)
    )


def do_run_autopay(day: dt.date | None = None, *, chunk: int = AUTOPAY_CHUNK) -> dict[str, int]:
    """Execute the mandates due on ``day`` (due day of month, or a retry after an outage) in
    chunks: per chunk one transaction holds the funds of every payment (one ledger batch),
    one batch file per biller is sent, and one transaction posts or voids every hold (one
    ledger batch). A crash between the two leaves payments ``held`` under their
    ``autopay:<mandate>:<bill>`` keys: a rerun finds them and never holds twice, and the
    re-query job settles them with the biller."""
    day = day or clock.get_business_date()
    period = f"{day.year:04d}{day.month:02d}"
    ids = list(_due_mandates(day, period).order_by("pk").values_list("pk", flat=True))
    counts: dict[str, int] = {}
    for start in range(0, len(ids), chunk):
        for outcome in _run_chunk(ids[start : start + chunk], day, period):
            counts[outcome] = counts.get(outcome, 0) + 1
    return counts


class _Line:
    """One auto-pay payment of a chunk while it is being built."""

    __slots__ = ("answer", "mandate", "payment")

    def __init__(self, mandate: Mandate, payment: BillPayment) -> None:
        self.mandate = mandate
        self.payment = payment
        self.answer: simulator.Confirmation | DomainError | None = None


def _run_chunk(ids: list[int], day: dt.date, period: str) -> list[str]:
    outcome: dict[int, str] = {}
    with transaction.atomic():
        mandates = list(
            _due_mandates(day, period)
            .select_for_update()
            .filter(pk__in=ids)
            .select_related("biller__item", "biller__city")
            .order_by("pk")
        )
        lines = _hold_chunk(mandates, day, period, outcome)
    # the biller calls, outside any transaction: one batch file per biller
    by_biller: dict[int, list[_Line]] = {}
    for line in lines:
        by_biller.setdefault(line.payment.biller_id, []).append(line)
    for group in by_biller.values():
        biller = group[0].payment.biller
        orders = [
            simulator.PayOrder(
                str(x.payment.public_id),
                x.payment.account_no,
                x.payment.bill_ref,
                x.payment.amount_minor,
            )
            for x in group
        ]
        started = time.monotonic()
        try:
            answers = simulator.adapter_for(biller).pay_many(biller, orders)
        except DomainError as exc:
            answers = [exc for _ in orders]
        latency = int((time.monotonic() - started) * 1000 / max(1, len(orders)))
        for x, answer in zip(group, answers, strict=True):
            x.answer = answer
            x.payment.latency_ms = latency
    with transaction.atomic():
        _resolve_chunk(lines, day, period, outcome)
    return list(outcome.values())


def _hold_chunk(
    mandates: list[Mandate], day: dt.date, period: str, outcome: dict[int, str]
) -> list[_Line]:
    """Transaction 1 of a chunk: inquire in bulk, hold every payment with one ledger batch."""
    by_biller: dict[int, list[Mandate]] = {}
    for m in mandates:
        by_biller.setdefault(m.biller_id, []).append(m)
    bills: dict[int, list[simulator.SimBill]] = {}
    finished: list[tuple[Mandate, str, str]] = []  # (mandate, outcome, reason)
    for group in by_biller.values():
        biller = _ensure_ledger_accounts(group[0].biller)
        for m in group:
            m.biller = biller
        try:
            _check_cutoff(biller)
            found = simulator.adapter_for(biller).inquire_many(
                biller, [m.account_no for m in group]
            )
        except BillerDown:
            finished.extend((m, "retry", "biller_unavailable") for m in group)
            continue
        except AfterCutoff as exc:
            finished.extend((m, "failed", exc.code) for m in group)
            continue
        for m in group:
            answer = found.get(m.account_no)
            if isinstance(answer, BillerDown):
                finished.append((m, "retry", answer.code))
            elif answer is None or isinstance(answer, DomainError):
                finished.append((m, "failed", getattr(answer, "code", "bill_account_unknown")))
            elif sum(b.amount_minor for b in answer[1]) > m.limit_minor:
                finished.append((m, "failed", "over_limit"))
            else:
                bills[m.pk] = answer[1]
    keys = {f"autopay:{m.public_id}:{b.bill_ref}": m for m in mandates for b in bills.get(m.pk, [])}
    existing = {
        p.idempotency_key: p
        for p in BillPayment.objects.filter(idempotency_key__in=list(keys), channel="autopay")
    }
    now, business_date = clock.now(), clock.get_business_date()
    candidates: list[_Line] = []
    for m in mandates:
        if m.pk not in bills:
            continue
        if not bills[m.pk]:
            outcome[m.pk] = "nothing_due"
        for b in bills[m.pk]:
            key = f"autopay:{m.public_id}:{b.bill_ref}"
            prior = existing.get(key)
            if prior is not None:  # a rerun after a crash: never hold twice
                outcome[m.pk] = prior.state
                continue
            payment = BillPayment(
                customer_id=m.customer_id,
                idempotency_key=key,
                biller=m.biller,
                account_no=m.account_no,
                bill_ref=b.bill_ref,
                amount_minor=b.amount_minor,
                fee_minor=m.biller.fee_minor,
                currency=m.biller.currency,
                debit_account_id=m.debit_account_id,
                channel="autopay",
                mandate=m,
                state=BillPayment.HELD,
                business_date=business_date,
                created_at=now,
                updated_at=now,
            )
            candidates.append(_Line(m, payment))
    held = _hold_lines(candidates, now, finished)
    BillPayment.objects.bulk_create([x.payment for x in held], batch_size=1000)
    record_events(
        [
            (
                _event_of(x.payment),
                f"lifepay:{x.payment.public_id}:{x.payment.state}:{x.payment.confirmations}",
            )
            for x in held
        ]
    )
    notes: list[Notice] = []
    for m, result, reason in finished:
        outcome[m.pk] = _close_mandate(m, day, period, result, reason, notes)
    _notify_many(notes)
    if finished:
        _update_mandates([m for m, _r, _c in finished])
    return held


class _HoldsRefused(Exception):
    """The ledger refused some holds of a chunk: undo the attempt (its limit counters too)."""

    def __init__(self, refused: dict[int, str]) -> None:
        super().__init__(f"{len(refused)} holds refused")
        self.refused = refused  # id(line) → reason code


def _hold_batch(lines: list[_Line]) -> dict[int, str]:
    """Hold every line with one ledger batch per 8,000 items; returns the refused lines
    (id(line) → reason code)."""
    transfers: list[TransferIn] = []
    spans: list[tuple[int, int]] = []
    for line in lines:
        items = _hold_transfers(line.payment)
        spans.append((len(transfers), len(items)))
        transfers.extend(items)
    results: list[TransferResult] = []
    for start in range(0, len(transfers), 8000):  # chains never straddle: ≤ 2 items each
        piece = transfers[start : start + 8000]
        while piece and piece[-1].linked:
            piece = piece[:-1]
        results.extend(ledger.do_create_transfers(piece))
        if len(piece) < len(transfers[start : start + 8000]):  # pragma: no cover
            raise AssertionError("a linked chain straddles a ledger batch")
    refused: dict[int, str] = {}
    for line, (first, size) in zip(lines, spans, strict=True):
        codes = [r.result for r in results[first : first + size] if not r.ok]
        codes = [c for c in codes if c != "linked_event_failed"] or codes
        if codes:
            refused[id(line)] = "insufficient_funds" if codes[0] == "exceeds_credits" else codes[0]
    return refused


def _hold_lines(
    lines: list[_Line], now: dt.datetime, finished: list[tuple[Mandate, str, str]]
) -> list[_Line]:
    """Run the payments rules, then hold with one ledger batch, in a savepoint. When the
    ledger refuses some holds (e.g. insufficient funds) the savepoint is rolled back — the
    account limit counters the rules raised for them with it — and the rest is tried again,
    so a refused hold never keeps a limit counter raised."""
    refused_mandates: set[int] = set()
    while True:
        attempt: list[tuple[Mandate, str, str]] = []
        try:
            with transaction.atomic():
                ok = _check_rules(lines, now, attempt)
                refused = _hold_batch(ok)
                if refused:
                    raise _HoldsRefused(refused)
        except _HoldsRefused as exc:
            for line in lines:
                code = exc.refused.get(id(line))
                if code is not None and line.mandate.pk not in refused_mandates:
                    refused_mandates.add(line.mandate.pk)
                    finished.append((line.mandate, "failed", code))
            lines = [x for x in lines if id(x) not in exc.refused]
            continue
        finished.extend(x for x in attempt if x[0].pk not in refused_mandates)
        return ok


_PAYMENT_FIELDS = (
    "state",
    "reason_code",
    "biller_ref",
    "confirmations",
    "paid_at",
    "updated_at",
    "latency_ms",
)


def _update_payments(rows: list[BillPayment]) -> None:
    """One ``executemany`` (Django's ``bulk_update`` builds a CASE per field and row: it cost
    more than the rest of auto-pay together)."""
    if not rows:
        return
    meta = BillPayment._meta
    conn = connections[BillPayment.objects.db]
    fields: list[Any] = [meta.get_field(name) for name in _PAYMENT_FIELDS]
    sets = ", ".join(f"{conn.ops.quote_name(f.column)} = %s" for f in fields)
    sql = f"UPDATE {conn.ops.quote_name(meta.db_table)} SET {sets} WHERE id = %s"  # noqa: S608 — names from the model, values bound
    params = [
        (*(f.get_db_prep_save(getattr(r, f.attname), conn) for f in fields), r.pk) for r in rows
    ]
    with conn.cursor() as cursor:
        cursor.executemany(sql, params)


def _update_mandates(rows: list[Mandate]) -> None:
    """Few distinct (last_period, retry_on, attempts): one UPDATE per combination."""
    groups: dict[tuple[str, dt.date | None, int], list[int]] = {}
    for m in rows:
        groups.setdefault((m.last_period, m.retry_on, m.attempts), []).append(m.pk)
    for (last_period, retry_on, attempts), pks in groups.items():
        for start in range(0, len(pks), 2000):
            Mandate.objects.filter(pk__in=pks[start : start + 2000]).update(
                last_period=last_period, retry_on=retry_on, attempts=attempts
            )


def _check_rules(
    lines: list[_Line], now: dt.datetime, finished: list[tuple[Mandate, str, str]]
) -> list[_Line]:
    """The payments rules (account status, Type II/III limit counters) once per debit account
    and biller with the summed amount; only when that sum is refused is each payment checked
    alone (the refused check raised no counter: the rule runs in a savepoint)."""
    groups: dict[tuple[uuid.UUID, uuid.UUID, int], list[_Line]] = {}
    for x in lines:
        p = x.payment
        groups.setdefault((p.customer_id, p.debit_account_id, p.biller_id), []).append(x)
    ok: set[int] = set()
    refused: set[int] = set()

    def check(group: list[_Line]) -> None:
        p = group[0].payment
        payments.check_payment_rules(
            PaymentCheck(
                customer_id=p.customer_id,
                debit_account_id=p.debit_account_id,
                amount=Money(sum(x.payment.amount_minor for x in group), p.currency),
                rail="internal",
                counterparty_account_id=p.biller.clearing_account_id,
                counterparty_bank_code=None,
                counterparty_account_number=None,
                at=now,
            )
        )

    for group in groups.values():
        try:
            check(group)
            ok.update(id(x) for x in group)
            continue
        except DomainError:
            pass  # find which payments of the group fit
        for x in group:
            try:
                check([x])
                ok.add(id(x))
            except DomainError as exc:
                if x.mandate.pk not in refused:
                    refused.add(x.mandate.pk)
                    finished.append((x.mandate, "failed", exc.code))
    return [x for x in lines if id(x) in ok]


def _close_mandate(
    m: Mandate, day: dt.date, period: str, result: str, reason: str, notes: list[Notice]
) -> str:
    """Mark a mandate done for the period (or due again tomorrow); queue its notice."""
    if result == "retry":
        m.attempts += 1
        if m.attempts < AUTOPAY_RETRIES:
            m.retry_on = day + dt.timedelta(days=1)
            return "retry"
        result = "failed"
    m.last_period = period
    m.retry_on = None
    m.attempts = 0
    if result == "failed":
        notes.append(
            _notice(
                m.customer_id,
                "autopay_failed",
                f"autopay-failed:{m.public_id}:{period}",
                f"Auto-pay for {m.biller.name_en} did not go through ({reason}); please pay it "
                "yourself.",
                f"{m.biller.name_zh}自动缴费未成功（{reason}），请手动缴费。",
            )
        )
    return result


def _resolve_chunk(lines: list[_Line], day: dt.date, period: str, outcome: dict[int, str]) -> None:
    """Transaction 2 of a chunk: post or void every answered hold with one ledger batch."""
    still_held = set(
        BillPayment.objects.select_for_update()
        .filter(pk__in=[x.payment.pk for x in lines], state=BillPayment.HELD)
        .values_list("pk", flat=True)
    )  # a late confirmation may have settled one meanwhile
    transfers: list[TransferIn] = []
    changed: list[_Line] = []
    now = clock.now()
    retry: dict[int, Mandate] = {}
    for x in lines:
        p = x.payment
        if p.pk not in still_held:
            continue
        answer = x.answer
        if isinstance(answer, simulator.Confirmation):
            transfers.extend(_resolve_items(p, "post"))
            p.state, p.reason_code = BillPayment.PAID, ""
            p.biller_ref, p.confirmations, p.paid_at = answer.biller_ref[:60], 1, now
        elif isinstance(answer, BillerTimeout) or answer is None:
            p.state, p.reason_code = BillPayment.UNKNOWN, "biller_timeout"
        else:
            transfers.extend(_resolve_items(p, "void"))
            p.state, p.reason_code = BillPayment.FAILED, answer.code
            if isinstance(answer, BillerDown):
                retry[x.mandate.pk] = x.mandate
        p.updated_at = now
        changed.append(x)
    for start in range(0, len(transfers), 8000):
        results = ledger.do_create_transfers(transfers[start : start + 8000])
        bad = [r.result for r in results if not r.ok]
        if bad:
            raise PaymentRefused(f"The ledger refused to settle auto-pay holds ({bad[0]}).")
    _update_payments([x.payment for x in changed])
    record_events(
        [
            (
                _event_of(x.payment),
                f"lifepay:{x.payment.public_id}:{x.payment.state}:{x.payment.confirmations}",
            )
            for x in changed
        ]
    )
    mandates: dict[int, Mandate] = {}
    notes: list[Notice] = []
    for x in lines:  # "paid"/"processing" notices: handlers.notify_payment, after commit
        m = x.mandate
        mandates[m.pk] = m
        p = x.payment
        if m.pk in retry:
            continue
        if outcome.get(m.pk) != BillPayment.FAILED:
            outcome[m.pk] = p.state
    for pk, m in mandates.items():
        if pk in retry:
            outcome[pk] = _close_mandate(m, day, period, "retry", "biller_unavailable", notes)
        else:
            m.last_period, m.retry_on, m.attempts = period, None, 0
    _update_mandates(list(mandates.values()))
    # mandates with nothing due and those whose payments existed already (a rerun)
    Mandate.objects.filter(
        pk__in=[pk for pk, o in outcome.items() if pk not in mandates and o != "retry"]
    ).exclude(last_period=period).update(last_period=period, retry_on=None, attempts=0)
    _notify_many(notes)


def do_send_reminders(day: dt.date | None = None) -> int:
    """Remind customers of saved bill accounts due in REMIND_DAYS days (once per period)."""
    day = day or clock.get_business_date()
    target = day + dt.timedelta(days=REMIND_DAYS)
    sent = 0
    for saved in SavedBillAccount.objects.filter(remind=True).select_related("biller__item"):
        if saved.biller.item.mode != "bill":
            continue
        if simulator.due_day(saved.biller.code, saved.account_no) != target.day:
            continue
        _notify(
            saved.customer_id,
            "reminder",
            f"remind:{saved.public_id}:{target.isoformat()}",
            f"Your {saved.biller.name_en} bill ({saved.account_no}) is due on {target}.",
            f"您的{saved.biller.name_zh}账单（{saved.account_no}）将于 {target} 到期。",
        )
        sent += 1
    return sent


# ------------------------------------------------------------------ reconciliation
def _parse_amount(text: str, currency: str) -> int:
    try:
        return parse_minor(text, currency)
    except MoneyError:
        return -1


def parse_reconciliation_file(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    missing = set(simulator.CSV_HEADER) - set(reader.fieldnames or [])
    if missing:
        raise InvalidInput(
            f"The reconciliation file lacks columns {sorted(missing)}.", code="recon_file_invalid"
        )
    return list(reader)


def do_reconcile(biller_code: str, day: dt.date) -> ReconSummary:
    """Match the biller's file for ``day`` with our payments; record breaks (idempotent per
    biller and day)."""
    biller = Biller.objects.select_related("item", "city").get(code=biller_code)
    existing = _find(ReconRun.objects, biller=biller, business_date=day)
    if existing is not None:
        return ReconSummary(
            biller.code,
            day,
            existing.ours_count,
            existing.theirs_count,
            existing.matched,
            existing.breaks,
        )
    text = simulator.adapter_for(biller).reconciliation_file(biller, day)
    theirs = {
        r["our_ref"]: _parse_amount(r["amount"], r["currency"])
        for r in parse_reconciliation_file(text)
    }
    ours_rows = BillPayment.objects.filter(biller=biller, business_date=day)
    ours = {
        str(p.public_id): (p.state, p.amount_minor, p.reason_code)
        for p in ours_rows.only("public_id", "state", "amount_minor", "reason_code")
    }
    verified = _verify_refusals(
        biller,
        [
            ref
            for ref, (state, _amount, reason) in ours.items()
            if state == BillPayment.FAILED and reason == BillerDown.code and ref not in theirs
        ],
    )
    now = clock.now()
    run = ReconRun.objects.create(
        biller=biller,
        business_date=day,
        file_text=text,
        created_at=now,
        theirs_count=len(theirs),
        ours_count=sum(1 for s, _a, _r in ours.values() if s == BillPayment.PAID),
    )
    breaks: list[Break] = []
    matched = 0
    for ref, (state, amount, _reason) in ours.items():
        if state != BillPayment.PAID:
            continue
        if ref not in theirs:
            breaks.append(
                Break(
                    run=run,
                    biller=biller,
                    our_ref=ref,
                    kind=Break.OURS_ONLY,
                    ours_minor=amount,
                    created_at=now,
                )
            )
        elif theirs[ref] != amount:
            breaks.append(
                Break(
                    run=run,
                    biller=biller,
                    our_ref=ref,
                    kind=Break.AMOUNT_MISMATCH,
                    ours_minor=amount,
                    theirs_minor=theirs[ref],
                    created_at=now,
                )
            )
        else:
            matched += 1
    for ref, amount in theirs.items():
        state_amount = ours.get(ref)
        if state_amount is None or state_amount[0] != BillPayment.PAID:
            breaks.append(
                Break(
                    run=run,
                    biller=biller,
                    our_ref=ref,
                    kind=Break.THEIRS_ONLY,
                    theirs_minor=amount,
                    created_at=now,
                )
            )
    for ref, booked in verified.items():
        breaks.append(
            Break(
                run=run,
                biller=biller,
                our_ref=ref,
                kind=Break.UNCONFIRMED if booked is None else Break.THEIRS_ONLY,
                theirs_minor=booked or 0,
                created_at=now,
            )
        )
    Break.objects.bulk_create(breaks)
    run.matched = matched
    run.breaks = len(breaks)
    run.save(update_fields=["matched", "breaks"])
    do_audit(
        SYSTEM,
        "lifepay.reconciled",
        object_type="lifepay.biller",
        object_id=biller.code,
        data={"date": day.isoformat(), "matched": matched, "breaks": len(breaks)},
    )
    return ReconSummary(biller.code, day, run.ours_count, run.theirs_count, matched, len(breaks))


def _verify_refusals(biller: Biller, refs: list[str]) -> dict[str, int | None]:
    """Ask the biller about payments we voided on its error answer ("unavailable") that its
    file does not show: an error answer is not proof that nothing was booked, and a booking
    left out of the file would otherwise be seen by nobody (the biller thinks the bill paid,
    we took no money). Returns the booked amount of each ref the biller has, ``None`` for each
    it could not be asked about; refs it confirms it never booked are left out."""
    adapter = simulator.adapter_for(biller)
    out: dict[str, int | None] = {}
    for ref in refs:
        try:
            found = adapter.query(biller, ref)
        except PartnerUnavailable:
            out[ref] = None
            continue
        if found is not None:
            out[ref] = found.amount_minor
    return out


def do_reconcile_day(day: dt.date) -> list[ReconSummary]:
    codes = set(
        BillPayment.objects.filter(business_date=day).values_list("biller__code", flat=True)
    )
    from rongshu.lifepay.models import SimReceipt

    codes |= set(SimReceipt.objects.filter(booked_on=day).values_list("biller_code", flat=True))
    return [do_reconcile(code, day) for code in sorted(codes)]


RESOLUTIONS = {
    Break.OURS_ONLY: ("resend", "refund"),
    Break.THEIRS_ONLY: ("post", "recall"),
    Break.AMOUNT_MISMATCH: ("correct", "refund"),
    Break.UNCONFIRMED: ("verify", "recall"),
}


def _refund(payment: BillPayment, amount: int, actor: str) -> None:
    """Give ``amount`` of a paid payment back to the customer (from the clearing account, or
    from the settlement account once settled)."""
    biller = payment.biller
    source = biller.settlement_account_id if payment.settlement_id else biller.clearing_account_id
    assert source is not None
    results = ledger.do_create_transfers(
        [
            TransferIn(
                tid(payment, f"refund-{payment.refunded_minor}"),
                source,
                payment.debit_account_id,
                amount,
                payment.currency,
                "lifepay_refund",
                reference=f"退款 {biller.name_zh}"[:140],
                metadata={"bill_payment": str(payment.public_id)},
            )
        ]
    )
    if not results[0].ok:
        raise PaymentRefused(f"The ledger refused the refund ({results[0].result}).")
    payment.refunded_minor += amount
    if payment.refunded_minor >= payment.amount_minor:
        _set_state(payment, BillPayment.REFUNDED, "reconciliation_refund")
    else:
        payment.save(update_fields=["refunded_minor"])
    _notify(
        payment.customer_id,
        "refund",
        f"refund:{payment.public_id}:{payment.refunded_minor}",
        f"{Money(amount, payment.currency).amount_str()} {payment.currency} from your "
        f"{biller.name_en} payment was refunded.",
        f"您的{biller.name_zh}缴费已退款 {Money(amount, payment.currency).amount_str()} 元。",
    )


def default_resolution(brk: Break) -> str:
    if brk.kind == Break.THEIRS_ONLY:
        payment = _find(BillPayment.objects, public_id=_ref_id(brk.our_ref))
        if payment is not None and payment.state in (BillPayment.HELD, BillPayment.UNKNOWN):
            return "post"
        return "recall"
    if brk.kind == Break.UNCONFIRMED:
        return "verify"
    return "resend" if brk.kind == Break.OURS_ONLY else "correct"


def do_resolve_break(actor: str, break_id: uuid.UUID, resolution: str = "") -> Break:
    """Resolve one break (audited): ``resend`` the payment to the biller, ``refund`` the
    customer, ``post`` a held payment the biller booked, ``recall`` a payment the biller booked
    but we did not take, ``correct`` the biller's amount, ``verify`` a refusal the biller could
    not confirm (ask it again; recall the payment if it booked it)."""
    with transaction.atomic():
        brk = _get(
            Break.objects.select_related("biller__item", "biller__city"),
            BreakNotFound,
            lock=True,
            public_id=break_id,
        )
        if brk.state == Break.RESOLVED:
            raise BreakAlreadyResolved()
        resolution = resolution or default_resolution(brk)
        if resolution not in RESOLUTIONS[brk.kind]:
            raise ResolutionInvalid()
        biller = brk.biller
        adapter = simulator.adapter_for(biller)
        payment = _find(_payments(), lock=True, public_id=_ref_id(brk.our_ref))
        if resolution == "resend":
            assert payment is not None
            adapter.pay(
                biller, brk.our_ref, payment.account_no, payment.bill_ref, payment.amount_minor
            )
        elif resolution == "refund":
            if payment is None:
                raise ResolutionInvalid()
            amount = (
                brk.ours_minor
                if brk.kind == Break.OURS_ONLY
                else (brk.ours_minor - brk.theirs_minor)
            )
            if amount <= 0:
                raise ResolutionInvalid()
            if brk.kind == Break.AMOUNT_MISMATCH:
                adapter.correct(biller, brk.our_ref, payment.amount_minor - amount)
            _refund(payment, amount, actor)
        elif resolution == "post":
            if payment is None or payment.state not in (BillPayment.HELD, BillPayment.UNKNOWN):
                raise ResolutionInvalid()
            payment.confirmations += 1
            _resolve(payment, "post")
            _set_state(payment, BillPayment.PAID)
        elif resolution == "recall":
            if payment is not None and payment.state == BillPayment.PAID:
                raise ResolutionInvalid()
            adapter.reverse(biller, brk.our_ref)
        elif resolution == "verify":  # ask again (down: stays open); booked → recall it
            if payment is not None and payment.state == BillPayment.PAID:
                raise ResolutionInvalid()
            if adapter.query(biller, brk.our_ref) is not None:
                adapter.reverse(biller, brk.our_ref)
        elif resolution == "correct":
            assert payment is not None
            adapter.correct(biller, brk.our_ref, payment.amount_minor)
        brk.state = Break.RESOLVED
        brk.resolution = resolution
        brk.resolved_by = actor[:80]
        brk.resolved_at = clock.now()
        brk.save()
        do_audit(
            actor,
            "lifepay.break_resolved",
            object_type="lifepay.break",
            object_id=str(brk.public_id),
            data={"kind": brk.kind, "resolution": resolution, "our_ref": brk.our_ref},
        )
        return brk


def do_auto_resolve_breaks(actor: str = SYSTEM) -> int:
    """Resolve every open break with its default resolution; returns how many were resolved.
    A break whose biller does not answer (down, timeout) stays open for the next run."""
    resolved = 0
    ids = list(Break.objects.filter(state=Break.OPEN).values_list("public_id", flat=True))
    for break_id in ids:
        try:
            do_resolve_break(actor, break_id)
        except PartnerUnavailable:
            logger.warning("lifepay break %s left open: biller unavailable", break_id)
            continue
        resolved += 1
    return resolved


# ------------------------------------------------------------------ settlement
def do_settle(day: dt.date) -> list[Settlement]:
    """Net settlement per biller: paid payments up to ``day`` not yet settled and without an
    open break, less the bank's commission, from the clearing to the settlement account."""
    open_refs = set(Break.objects.filter(state=Break.OPEN).values_list("our_ref", flat=True))
    out: list[Settlement] = []
    biller_ids = set(
        BillPayment.objects.filter(
            state=BillPayment.PAID, settlement__isnull=True, business_date__lte=day
        ).values_list("biller_id", flat=True)
    )
    for biller in Biller.objects.filter(pk__in=biller_ids).order_by("pk"):
        with transaction.atomic():
            if Settlement.objects.filter(biller=biller, business_date=day).exists():
                continue
            rows = [
                p
                for p in BillPayment.objects.select_for_update().filter(
                    biller=biller,
                    state=BillPayment.PAID,
                    settlement__isnull=True,
                    business_date__lte=day,
                )
                if str(p.public_id) not in open_refs
            ]
            if not rows:
                continue
            gross = sum(p.amount_minor - p.refunded_minor for p in rows)
            commission = int(
                (Decimal(gross) * biller.commission_bp / Decimal(10_000)).quantize(
                    Decimal(1), rounding=ROUND_HALF_UP
                )
            )
            net = gross - commission
            transfer = uuid.uuid5(_NS, f"settle:{biller.code}:{day.isoformat()}")
            assert biller.clearing_account_id
            assert biller.settlement_account_id
            items = []
            if net:
                items.append(
                    TransferIn(
                        transfer,
                        biller.clearing_account_id,
                        biller.settlement_account_id,
                        net,
                        biller.currency,
                        "lifepay_settlement",
                        linked=bool(commission),
                        reference=f"{biller.code} {day.isoformat()}",
                    )
                )
            if commission:
                items.append(
                    TransferIn(
                        uuid.uuid5(_NS, f"commission:{biller.code}:{day.isoformat()}"),
                        biller.clearing_account_id,
                        ledger.get_chart_account(f"income.fees.{biller.currency}").public_id,
                        commission,
                        biller.currency,
                        "lifepay_commission",
                        reference=f"{biller.code} {day.isoformat()}",
                    )
                )
            results = ledger.do_create_transfers(items)
            if any(not r.ok for r in results):
                raise PaymentRefused("The ledger refused the settlement.")
            settlement = Settlement.objects.create(
                biller=biller,
                business_date=day,
                count=len(rows),
                gross_minor=gross,
                commission_minor=commission,
                net_minor=net,
                currency=biller.currency,
                transfer_id=transfer,
                created_at=clock.now(),
            )
            BillPayment.objects.filter(pk__in=[p.pk for p in rows]).update(settlement=settlement)
            record_event(
                BillerSettled(biller.code, day.isoformat(), net, biller.currency),
                dedupe_key=f"lifepay:settle:{biller.code}:{day.isoformat()}",
            )
            out.append(settlement)
    return out
