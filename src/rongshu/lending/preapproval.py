"""快贷 pre-approval: every night, score every customer holding a deposit account and set a
pre-approved line and rate ("you can borrow up to ¥X").

Batch: one ledger query for every customer account, a handful of lending queries, one
``score_many`` call per chunk and bulk upserts; no per-customer query.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from rongshu.lending import products
from rongshu.lending.features import build_profiles, model_features
from rongshu.lending.models import Application, Borrower, Offer
from rongshu.lending.registry import get_active_model

OFFER_DAYS = 30
MIN_TENURE_MONTHS = 0
CHUNK = 5000


def run_preapproval(today: dt.date, product_code: str = "kuaidai") -> dict[str, Any]:
    product = products.PRODUCTS[product_code]
    try:
        model_row, model = get_active_model()
    except Exception:
        return {"skipped": "no active model"}
    profiles = build_profiles(None, today)
    blacklisted = set(
        Borrower.objects.filter(blacklisted=True).values_list("customer_id", flat=True)
    )
    borrowing = set(
        Application.objects.filter(product_code=product_code, state__in=("accepted",)).values_list(
            "customer_id", flat=True
        )
    )
    eligible = [
        p
        for p in profiles.values()
        if p.customer_id not in blacklisted
        and p.customer_id not in borrowing
        and p.monthly_inflow > 0
        and p.tenure_months >= MIN_TENURE_MONTHS
        and p.late_payments == 0
        and p.age is not None  # the age policy, as at application
        and products.MIN_AGE <= p.age <= products.MAX_AGE
    ]
    made = 0
    existing = dict(
        Offer.objects.filter(product_code=product_code).values_list("customer_id", "pk")
    )
    for start in range(0, len(eligible), CHUNK):
        chunk = eligible[start : start + CHUNK]
        results = model.score_many([model_features(p) for p in chunk])
        creates: list[Offer] = []
        updates: list[Offer] = []
        drop: list[uuid.UUID] = []
        for p, res in zip(chunk, results, strict=True):
            rate = products.price(res.score, today)
            limit = (
                products.limit_for(
                    product, monthly_income=p.monthly_inflow, turnover=0, score=res.score
                )
                - p.outstanding
            )
            if rate is None or limit < product.min_amount:
                drop.append(p.customer_id)
                continue
            row = Offer(
                customer_id=p.customer_id,
                product_code=product_code,
                limit_minor=limit,
                annual_rate=rate,
                score=res.score,
                model_version=model_row,
                business_date=today,
                expires_on=today + dt.timedelta(days=OFFER_DAYS),
            )
            pk = existing.get(p.customer_id)
            if pk is None:
                creates.append(row)
            else:
                row.pk = pk
                updates.append(row)
        Offer.objects.bulk_create(creates, batch_size=2000)
        Offer.objects.bulk_update(
            updates,
            ["limit_minor", "annual_rate", "score", "model_version", "business_date", "expires_on"],
            batch_size=2000,
        )
        if drop:
            Offer.objects.filter(product_code=product_code, customer_id__in=drop).delete()
        made += len(creates) + len(updates)
    Offer.objects.filter(expires_on__lt=today).delete()
    return {
        "customers": len(profiles),
        "with_age": sum(p.age is not None for p in profiles.values()),
        "eligible": len(eligible),
        "offers": made,
    }
