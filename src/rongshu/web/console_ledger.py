"""Staff console pages for the ledger: accounts, statements and the trial balance.

Staff whose role allows ``ledger.view`` (``rongshu.web.access.staff_required``); others are sent
to the staff sign-in page. On an account's page staff with ``account.freeze`` freeze and close it,
and staff with ``account.unfreeze`` request an unfreeze, which a second staff member approves
(four-eyes, ``rongshu.ledger.handlers``).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from rongshu.identity import services as identity
from rongshu.identity.types import Action, Principal
from rongshu.kernel.errors import DomainError
from rongshu.kernel.money import format_minor
from rongshu.ledger import queries, services
from rongshu.ledger.errors import AccountNotFound
from rongshu.ledger.types import (
    ACCOUNT_OBJECT_TYPE,
    FROZEN_STATUSES,
    STATUS_CLOSED,
    STATUS_OPEN,
    AccountView,
)
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


# The permission each status form needs (closing is a status change like a freeze).
STATUS_OPS = {
    "freeze": Action.ACCOUNT_FREEZE,
    "unfreeze": Action.ACCOUNT_UNFREEZE,
    "close": Action.ACCOUNT_FREEZE,
}


def _change_status(request: HttpRequest, account_id: uuid.UUID) -> HttpResponse:
    """A Freeze / Request unfreeze / Close form: apply it, then back to the page with a message."""
    who: Principal = request.principal  # type: ignore[attr-defined]
    op = request.POST.get("op", "")
    reason = request.POST.get("reason", "").strip()[:200]
    if op not in STATUS_OPS:
        raise Http404("unknown operation")
    try:  # audited, so outside the transaction; the friendly 403 page like staff_required
        identity.check_permission(who, STATUS_OPS[op])
    except DomainError as exc:
        raise DjangoPermissionDenied(str(exc.title)) from exc
    try:
        if not reason:
            messages.error(request, _("Please give a reason."))
            return redirect("web:ledger_console:account", account_id=account_id)
        with transaction.atomic():
            if op == "freeze":
                full = request.POST.get("mode") == "full"
                services.do_freeze_account(
                    account_id, actor=who.principal_key, reason=reason, debits_only=not full
                )
                messages.success(request, _("The account is frozen."))
            elif op == "close":
                services.do_close_account(account_id, actor=who.principal_key, reason=reason)
                messages.success(request, _("The account is closed."))
            else:
                view = queries.get_account(account_id)
                if view.status not in FROZEN_STATUSES:
                    messages.error(request, _("Only a frozen account can be unfrozen."))
                    return redirect("web:ledger_console:account", account_id=account_id)
                services.do_request_unfreeze(  # one request at a time (409 otherwise)
                    account_id,
                    lambda status: identity.do_request_approval(
                        who,
                        Action.ACCOUNT_UNFREEZE,
                        object_type=ACCOUNT_OBJECT_TYPE,
                        object_id=str(account_id),
                        payload={"reason": reason, "from_status": status},
                        reason=reason,
                    ),
                )
                messages.success(
                    request,
                    _("Unfreeze requested. Another staff member must approve it."),
                )
    except AccountNotFound as exc:
        raise Http404(str(exc)) from exc
    except DomainError as exc:
        messages.error(request, str(exc.title))
    return redirect("web:ledger_console:account", account_id=account_id)


def _status_forms(who: Principal, status: str) -> dict[str, bool]:
    may_freeze = identity.has_permission(who, Action.ACCOUNT_FREEZE)
    return {
        "can_freeze": may_freeze and status != STATUS_CLOSED,
        "can_unfreeze": identity.has_permission(who, Action.ACCOUNT_UNFREEZE)
        and status in FROZEN_STATUSES,
        "can_close": may_freeze and status == STATUS_OPEN,
    }


@staff_required(Action.LEDGER_VIEW)
def account(request: HttpRequest, account_id: uuid.UUID) -> HttpResponse:
    if request.method == "POST":
        return _change_status(request, account_id)
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
            **_status_forms(request.principal, statement.account.status),  # type: ignore[attr-defined]
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
