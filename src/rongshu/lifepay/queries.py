"""The lifepay read side: catalogue, my payments, receipts, saved accounts, mandates, notices,
breaks and biller KPIs."""

from __future__ import annotations

import math
import uuid

from django.db.models import Avg, Count, Q

from rongshu.identity.types import Principal
from rongshu.lifepay import catalogue, simulator
from rongshu.lifepay.access import customer_id_of
from rongshu.lifepay.errors import BillerUnknown, BillPaymentNotFound
from rongshu.lifepay.models import (
    Biller,
    BillPayment,
    Break,
    City,
    Mandate,
    Notice,
    PaymentItem,
    SavedBillAccount,
)
from rongshu.lifepay.projections import (
    biller_view,
    break_view,
    mandate_view,
    notice_view,
    payment_view,
    saved_view,
)
from rongshu.lifepay.types import (
    BillerKpi,
    BillerView,
    BillPaymentView,
    BreakView,
    CityView,
    MandateView,
    NoticeView,
    PartnerBiller,
    SavedAccountView,
)


def list_cities(query: str = "") -> list[CityView]:
    rows = City.objects.order_by("code")
    if query:
        rows = rows.filter(Q(name_zh__contains=query) | Q(name_en__icontains=query))
    return [CityView(c.code, c.name_zh, c.name_en) for c in rows]


def default_city(principal: Principal) -> str:
    """The city of the customer's profile (its province's first city), else Beijing."""
    region = principal.region_code or "110000"
    city = City.objects.filter(province_code=region[:2] + "0000").order_by("code").first()
    if city is None:
        city = City.objects.order_by("code").first()
    return city.code if city else ""


def list_categories() -> list[str]:
    seen: list[str] = []
    for cat in PaymentItem.objects.order_by("position").values_list("category", flat=True):
        if cat not in seen:
            seen.append(cat)
    return seen


def list_billers(city_code: str, category: str = "") -> list[BillerView]:
    rows = Biller.objects.select_related("city", "item").filter(
        city__code=city_code, status=Biller.ACTIVE
    )
    if category:
        rows = rows.filter(item__category=category)
    return [biller_view(b) for b in rows.order_by("item__position")]


def get_biller(code: str) -> BillerView:
    """An active biller (pending, rejected and suspended ones are not offered)."""
    found = (
        Biller.objects.select_related("city", "item")
        .filter(code=code, status=Biller.ACTIVE)
        .first()
    )
    if found is None:
        raise BillerUnknown()
    return biller_view(found)


def catalogue_stats() -> tuple[int, int]:
    """(cities, the smallest number of items a city has)."""
    per_city = Biller.objects.values("city_id").annotate(n=Count("id")).order_by("n")
    first = per_city.first()
    return City.objects.filter(billers__isnull=False).distinct().count(), (
        int(first["n"]) if first else 0
    )


def list_my_payments(principal: Principal, *, limit: int = 50) -> list[BillPaymentView]:
    customer_id = customer_id_of(principal)
    rows = (
        BillPayment.objects.select_related("biller__item", "biller__city")
        .filter(customer_id=customer_id)
        .order_by("-pk")[:limit]
    )
    return [payment_view(p) for p in rows]


def payment_for(principal: Principal, payment_id: uuid.UUID) -> BillPayment:
    """The principal's own payment (``BillPaymentNotFound`` for anyone else's)."""
    found = (
        BillPayment.objects.select_related("biller__item", "biller__city")
        .filter(public_id=payment_id, customer_id=customer_id_of(principal))
        .first()
    )
    if found is None:
        raise BillPaymentNotFound()
    return found


def get_payment(principal: Principal, payment_id: uuid.UUID) -> BillPaymentView:
    return payment_view(payment_for(principal, payment_id))


def list_saved(principal: Principal) -> list[SavedAccountView]:
    customer_id = customer_id_of(principal)
    rows = SavedBillAccount.objects.select_related("biller__item", "biller__city").filter(
        customer_id=customer_id
    )
    return [saved_view(s) for s in rows.order_by("pk")]


def list_mandates(principal: Principal) -> list[MandateView]:
    customer_id = customer_id_of(principal)
    rows = Mandate.objects.select_related("biller__item", "biller__city").filter(
        customer_id=customer_id
    )
    return [mandate_view(m) for m in rows.order_by("pk")]


def list_notices(principal: Principal, *, limit: int = 50) -> list[NoticeView]:
    customer_id = customer_id_of(principal)
    rows = Notice.objects.filter(customer_id=customer_id).order_by("-pk")[:limit]
    return [notice_view(n) for n in rows]


def list_breaks(*, state: str = "", limit: int = 200) -> list[BreakView]:
    rows = Break.objects.select_related("biller", "run").order_by("-pk")
    if state:
        rows = rows.filter(state=state)
    return [break_view(b) for b in rows[:limit]]


def count_open_breaks() -> int:
    return Break.objects.filter(state=Break.OPEN).count()


def biller_kpis(*, partner_client_id: str | None = None, limit: int = 50) -> list[BillerKpi]:
    """Success rate, average latency and breaks of the busiest billers (or a partner's)."""
    rows = BillPayment.objects.values("biller_id").annotate(
        total=Count("id"),
        paid=Count("id", filter=Q(state__in=[BillPayment.PAID, BillPayment.REFUNDED])),
        failed=Count("id", filter=Q(state=BillPayment.FAILED)),
        pending=Count("id", filter=Q(state__in=[BillPayment.HELD, BillPayment.UNKNOWN])),
        latency=Avg("latency_ms"),
    )
    if partner_client_id is not None:
        rows = rows.filter(biller__partner_client_id=partner_client_id)
    rows = rows.order_by("-total")[:limit]
    billers = {b.pk: b for b in Biller.objects.filter(pk__in=[r["biller_id"] for r in rows])}
    breaks = dict(
        Break.objects.filter(biller_id__in=list(billers))
        .values("biller_id")
        .annotate(n=Count("id"))
        .values_list("biller_id", "n")
    )
    open_breaks = dict(
        Break.objects.filter(biller_id__in=list(billers), state=Break.OPEN)
        .values("biller_id")
        .annotate(n=Count("id"))
        .values_list("biller_id", "n")
    )
    out = []
    for r in rows:
        b = billers[r["biller_id"]]
        decided = r["paid"] + r["failed"]
        out.append(
            BillerKpi(
                biller_code=b.code,
                name=b.name_zh,
                payments=r["total"],
                paid=r["paid"],
                failed=r["failed"],
                pending=r["pending"],
                success_rate=round(r["paid"] / decided, 4) if decided else 0.0,
                avg_latency_ms=round(float(r["latency"] or 0), 1),
                open_breaks=int(open_breaks.get(b.pk, 0)),
                breaks=int(breaks.get(b.pk, 0)),
            )
        )
    return out


def _percentile(sorted_values: list[int], fraction: float) -> int:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def partner_billers(partner_client_id: str, *, window: int = 1000) -> list[PartnerBiller]:
    """A partner's billers (any status) with success rate, latency p50/p95 over each one's
    last ``window`` decided payments, and open breaks."""
    if not partner_client_id:
        return []
    billers = list(
        Biller.objects.select_related("city", "item")
        .filter(partner_client_id=partner_client_id)
        .order_by("city__code", "item__position")
    )
    ids = [b.pk for b in billers]
    counts = {
        r["biller_id"]: r
        for r in BillPayment.objects.filter(biller_id__in=ids)
        .values("biller_id")
        .annotate(
            total=Count("id"),
            paid=Count("id", filter=Q(state__in=[BillPayment.PAID, BillPayment.REFUNDED])),
            failed=Count("id", filter=Q(state=BillPayment.FAILED)),
        )
    }
    open_breaks = dict(
        Break.objects.filter(biller_id__in=ids, state=Break.OPEN)
        .values("biller_id")
        .annotate(n=Count("id"))
        .values_list("biller_id", "n")
    )
    decided = [BillPayment.PAID, BillPayment.REFUNDED, BillPayment.FAILED]
    out = []
    for b in billers:
        r = counts.get(b.pk, {"total": 0, "paid": 0, "failed": 0})
        settled = r["paid"] + r["failed"]
        latencies = sorted(
            BillPayment.objects.filter(biller_id=b.pk, state__in=decided)
            .order_by("-pk")
            .values_list("latency_ms", flat=True)[:window]
        )
        out.append(
            PartnerBiller(
                biller=biller_view(b),
                payments=int(r["total"]),
                success_rate=round(r["paid"] / settled, 4) if settled else 0.0,
                latency_p50_ms=_percentile(latencies, 0.5) if latencies else None,
                latency_p95_ms=_percentile(latencies, 0.95) if latencies else None,
                open_breaks=int(open_breaks.get(b.pk, 0)),
            )
        )
    return out


def pending_billers() -> list[BillerView]:
    """Partners' billers waiting for staff approval, oldest first."""
    rows = Biller.objects.select_related("city", "item").filter(status=Biller.PENDING)
    return [biller_view(b) for b in rows.order_by("created_at", "pk")]


def list_items() -> list[tuple[str, str, str]]:
    """(code, name_zh, name_en) of every payment item, in catalogue order."""
    return list(PaymentItem.objects.order_by("position").values_list("code", "name_zh", "name_en"))


def account_formats() -> list[tuple[str, str]]:
    """(format, hint) of every known account-number format."""
    return sorted(catalogue.FORMAT_HINTS.items())


def category_label(code: str) -> str:
    """The translated name of a payment-item category (its code when unknown)."""
    return str(catalogue.CATEGORY_LABELS.get(code, code))


def sample_known_account(account_format: str) -> str:
    """A valid account number of ``account_format`` that the biller simulator knows (demos)."""
    index = 1
    while simulator.unknown_at_biller(number := catalogue.sample_account(account_format, index)):
        index += 1
    return number
