"""Staff console pages for the ledger: accounts, statements and the trial balance.

Staff whose role allows ``ledger.view`` (``rongshu.web.access.staff_required``); others are sent
to the staff sign-in page.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from rongshu.identity.types import Action
from rongshu.kernel.money import format_minor
from rongshu.ledger import queries
from rongshu.ledger.errors import AccountNotFound
from rongshu.ledger.types import AccountView
from rongshu.web.access import staff_required


def _money(minor: int, currency: str) -> str:
    return f"{format_minor(minor, currency)} {currency}"


def _account_context(view: AccountView) -> dict[str, Any]:
    cur = view.currency
    return {
        "account": view,
        "balance": _money(view.balance, cur),
        "available": _money(view.available, cur),
        "totals": [
            ("debits_posted", _money(view.debits_posted, cur)),
            ("credits_posted", _money(view.credits_posted, cur)),
            ("debits_pending", _money(view.debits_pending, cur)),
            ("credits_pending", _money(view.credits_pending, cur)),
        ],
    }


@staff_required(Action.LEDGER_VIEW)
def ledger_home(request: HttpRequest) -> HttpResponse:
    """Find an account (public id or chart code) and list the bank's chart."""
    query = (request.GET.get("q") or "").strip()
    if query:
        found = queries.find_account_by_reference(query)
        if found is not None:
            return redirect("web:ledger_console:account", account_id=found.public_id)
    chart = [
        {"view": v, "balance": _money(v.balance, v.currency)} for v in queries.list_bank_accounts()
    ]
    recent = [
        {"view": v, "balance": _money(v.balance, v.currency)}
        for v in queries.list_recent_customer_accounts()
    ]
    return render(
        request,
        "console/ledger/home.html",
        {"chart": chart, "recent": recent, "query": query, "not_found": bool(query)},
    )


@staff_required(Action.LEDGER_VIEW)
def account(request: HttpRequest, account_id: uuid.UUID) -> HttpResponse:
    try:
        cursor = int(request.GET["after"]) if "after" in request.GET else None
    except ValueError as exc:
        raise Http404("bad cursor") from exc
    try:
        statement = queries.get_statement(account_id, after=cursor, limit=50)
    except AccountNotFound as exc:
        raise Http404(str(exc)) from exc
    cur = statement.account.currency
    lines = [
        {
            "line": line,
            "debit": format_minor(line.debit, cur) if line.debit else "",
            "credit": format_minor(line.credit, cur) if line.credit else "",
            "balance": format_minor(line.balance, cur),
        }
        for line in statement.lines
    ]
    holds = [
        {"hold": h, "amount": _money(h.amount, cur)} for h in queries.list_holds(account_id)[:50]
    ]
    context = _account_context(statement.account)
    context.update(
        {
            "lines": lines,
            "holds": holds,
            "opening": _money(statement.opening_balance, cur),
            "closing": _money(statement.closing_balance, cur),
            "next_cursor": statement.next_cursor,
            "csv_url": f"/api/v1/ledger/accounts/{account_id}/statement?format=csv",
        }
    )
    return render(request, "console/ledger/account.html", context)


@staff_required(Action.LEDGER_VIEW)
def trial_balance(request: HttpRequest) -> HttpResponse:
    tb = queries.get_trial_balance()
    rows = [
        {
            "row": r,
            "debits": format_minor(r.debits, r.currency),
            "credits": format_minor(r.credits, r.currency),
        }
        for r in tb.rows
    ]
    differences = [(cur, _money(v, cur), v == 0) for cur, v in sorted(tb.difference.items())]
    return render(
        request,
        "console/ledger/trial_balance.html",
        {"rows": rows, "differences": differences, "balanced": tb.balanced},
    )
