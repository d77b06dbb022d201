"""The lending read side: offers, applications, loans with schedules, staff queues and the
portfolio dashboard (exposure, DPD buckets, vintages)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict

from django.db.models import Count, Sum

from rongshu.identity.types import Principal
from rongshu.kernel import clock
from rongshu.lending.errors import LoanNotFound
from rongshu.lending.models import Application, Instalment, Loan, ModelVersion, Offer, WriteOff
from rongshu.lending.products import PRODUCTS, Product
from rongshu.lending.registry import list_models
from rongshu.lending.servicing import BUCKETS, access_loan, bucket, payoff
from rongshu.lending.types import InstalmentView, LoanSummary, LoanView, OfferView, PortfolioRow

__all__ = [
    "PRODUCTS",
    "bucket",
    "find_offer",
    "get_loan",
    "get_portfolio",
    "get_product",
    "list_collections",
    "list_loans_of",
    "list_models",
    "list_my_applications",
    "list_my_loans",
    "list_review_queue",
    "list_write_offs",
]


def get_product(code: str) -> Product:
    """A loan product by code (the 快贷 one for an unknown code)."""
    return PRODUCTS.get(code) or PRODUCTS["kuaidai"]


def find_offer(customer_id: uuid.UUID, product_code: str = "kuaidai") -> OfferView | None:
    row = Offer.objects.filter(
        customer_id=customer_id,
        product_code=product_code,
        expires_on__gte=clock.get_business_date(),
    ).first()
    if row is None:
        return None
    return OfferView(
        row.public_id, row.product_code, row.limit_minor, row.annual_rate, row.score, row.expires_on
    )


def _instalment(row: Instalment, today_due: bool, overdue: bool) -> InstalmentView:
    paid = row.principal_paid_minor + row.interest_paid_minor + row.penalty_paid_minor
    status = (
        "paid" if row.paid_on else ("overdue" if overdue else ("due" if today_due else "future"))
    )
    return InstalmentView(
        row.seq,
        row.due_on,
        row.principal_minor,
        row.interest_minor,
        row.penalty_minor,
        paid,
        row.due_minor,
        status,
    )


def loan_view(loan: Loan) -> LoanView:
    today = clock.get_business_date()
    rows = list(loan.instalments.order_by("seq"))
    views = [_instalment(r, r.due_on <= today, r.due_on < today) for r in rows]
    nxt = next((r.due_on for r in rows if r.paid_on is None), None)
    po = payoff(loan, today)
    mv = (
        ModelVersion.objects.filter(pk=loan.model_version_id).values_list("name", "version").first()
    )
    return LoanView(
        loan_id=loan.public_id,
        application_id=Application.objects.values_list("public_id", flat=True).get(
            pk=loan.application_id
        ),
        product_code=loan.product_code,
        state=loan.state,
        principal=loan.principal_minor,
        outstanding=loan.outstanding_minor,
        annual_rate=loan.annual_rate,
        penalty_rate=loan.penalty_rate,
        method=loan.method,
        term_months=loan.term_months,
        start_on=loan.start_on,
        maturity_on=loan.maturity_on,
        dpd=loan.dpd,
        bucket=bucket(loan.dpd),
        due_now=po.due if loan.state == Loan.ACTIVE else 0,
        payoff=po.total if loan.state == Loan.ACTIVE else 0,
        next_due_on=nxt,
        model_version=f"{mv[0]}:{mv[1]}" if mv else "",
        contract_text=loan.contract_text,
        instalments=views,
    )


def get_loan(principal: Principal, loan_id: uuid.UUID) -> LoanView:
    return loan_view(access_loan(principal, loan_id))


def _mine(principal: Principal) -> uuid.UUID:
    if principal.customer_id is None:
        raise LoanNotFound()
    return principal.customer_id


def list_my_loans(principal: Principal) -> list[LoanView]:
    return [
        loan_view(loan)
        for loan in Loan.objects.filter(customer_id=_mine(principal)).order_by("-pk")[:20]
    ]


def list_my_applications(principal: Principal) -> list[Application]:
    return list(
        Application.objects.filter(customer_id=_mine(principal))
        .select_related("model_version")
        .order_by("-pk")[:20]
    )


def list_review_queue(limit: int = 100) -> list[Application]:
    return list(
        Application.objects.filter(state=Application.REFERRED)
        .select_related("model_version")
        .order_by("created_at")[:limit]
    )


def list_collections(limit: int = 200) -> list[Loan]:
    """The collections queue: active loans in arrears, worst first."""
    return list(Loan.objects.filter(state=Loan.ACTIVE, dpd__gt=0).order_by("-dpd", "pk")[:limit])


def list_write_offs() -> list[WriteOff]:
    return list(WriteOff.objects.select_related("loan").order_by("-created_at")[:100])


def get_portfolio() -> dict[str, list[PortfolioRow]]:
    """Exposure by product, DPD buckets, and vintages (share of each disbursement month's
    loans ever 30+ days past due)."""
    active = Loan.objects.filter(state=Loan.ACTIVE)
    exposure = [
        PortfolioRow(r["product_code"], int(r["n"]), int(r["out"] or 0))
        for r in active.values("product_code").annotate(n=Count("id"), out=Sum("outstanding_minor"))
    ]
    buckets: dict[str, list[int]] = {b: [0, 0] for b in BUCKETS}
    for dpd, out in active.values_list("dpd", "outstanding_minor"):
        cell = buckets[bucket(dpd)]
        cell[0] += 1
        cell[1] += out
    vint: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    late_loans = set(
        Instalment.objects.filter(was_late=True).values_list("loan_id", flat=True).distinct()
    )
    for pk, start in Loan.objects.values_list("pk", "start_on"):
        cell = vint[start.strftime("%Y-%m")]
        cell[0] += 1
        cell[1] += pk in late_loans
    return {
        "exposure": exposure,
        "buckets": [PortfolioRow(b, c, a) for b, (c, a) in buckets.items()],
        "vintages": [PortfolioRow(k, c, late) for k, (c, late) in sorted(vint.items())],
    }


def list_loans_of(customer_id: uuid.UUID) -> list[LoanSummary]:
    """Every loan of one customer, newest first, for the staff 360° view (a staff read: the
    channel has checked the viewer's permission and data scope). Two queries."""
    loans = list(Loan.objects.filter(customer_id=customer_id).order_by("-start_on", "-pk"))
    nxt: dict[int, dt.date] = {}
    for loan_id, due_on in (
        Instalment.objects.filter(loan__in=[x.pk for x in loans], paid_on__isnull=True)
        .order_by("loan_id", "due_on")
        .values_list("loan_id", "due_on")
    ):
        nxt.setdefault(loan_id, due_on)
    return [
        LoanSummary(
            loan_id=x.public_id,
            product_code=x.product_code,
            product_name=str(get_product(x.product_code).name),
            state=x.state,
            currency=x.currency,
            principal_minor=x.principal_minor,
            outstanding_minor=x.outstanding_minor,
            annual_rate=x.annual_rate,
            start_on=x.start_on,
            maturity_on=x.maturity_on,
            next_due_on=nxt.get(x.pk) if x.state == Loan.ACTIVE else None,
            dpd=x.dpd,
            bucket=bucket(x.dpd),
        )
        for x in loans
    ]
