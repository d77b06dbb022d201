"""Staff console: interbank reconciliation runs and their breaks (``ledger.view``)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from rongshu.identity.types import Action
from rongshu.kernel.money import format_minor
from rongshu.payments.clearing.profiles import PROFILES
from rongshu.payments.clearing.reconciliation import (
    list_reconciliation_breaks,
    list_reconciliation_runs,
)
from rongshu.web.access import staff_required


def _amount(minor: int | None, currency: str) -> str:
    return "—" if minor is None else f"{format_minor(minor, currency)} {currency}"


@staff_required(Action.LEDGER_VIEW)
def reconciliation_breaks(request: HttpRequest) -> HttpResponse:
    network = request.GET.get("network") or None
    if network not in PROFILES:
        network = None
    day: dt.date | None = None
    raw_date = (request.GET.get("date") or "").strip()
    if raw_date:
        try:
            day = dt.date.fromisoformat(raw_date)
        except ValueError:
            day = None
    breaks = [
        {
            "row": b,
            "ours": _amount(b.ours_minor, b.currency),
            "theirs": _amount(b.theirs_minor, b.currency),
        }
        for b in list_reconciliation_breaks(network=network, business_date=day)
    ]
    return render(
        request,
        "clearing/breaks.html",
        {
            "breaks": breaks,
            "runs": list_reconciliation_runs(network=network, limit=30),
            "networks": sorted(PROFILES),
            "network": network or "",
            "date": day.isoformat() if day else "",
        },
    )
