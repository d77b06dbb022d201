"""Reactions to other domains' events: every movement on a customer's account, status changes
(security) and payment status become in-app messages (and SMS per preference).

Handlers are idempotent: each message has a dedupe key (transfer id and side, event id …), so a
redelivered event adds nothing.
"""

from __future__ import annotations

from typing import Any

from rongshu.accounts.models import AccountHolder, CustomerAccount
from rongshu.accounts.notify import do_notify
from rongshu.kernel.models import OutboxEvent
from rongshu.kernel.money import format_minor
from rongshu.kernel.outbox import handles
from rongshu.ledger.events import iter_transfers

MOVING = {"single", "post"}
# Payment events the notification centre turns into messages (rongshu.payments.events; the
# payload carries order_id, customer_id, amount_minor, currency and state).
PAYMENT_EVENT_TYPES = (
    "payments.PaymentSettled",
    "payments.PaymentRejected",
    "payments.PaymentReturned",
    "payments.PaymentRefunded",
)


def _ours(ledger_ids: set[str]) -> dict[str, CustomerAccount]:
    found: dict[str, CustomerAccount] = {}
    ids = sorted(ledger_ids)
    for start in range(0, len(ids), 2000):
        for account in CustomerAccount.objects.filter(
            ledger_account_id__in=ids[start : start + 2000]
        ):
            found[str(account.ledger_account_id)] = account
    return found


@handles("ledger.TransfersPosted", name="accounts.notify_movements")
def notify_movements(event: OutboxEvent) -> None:
    transfers = [t for t in iter_transfers(event.payload) if t["kind"] in MOVING | {"pending"}]
    if not transfers:
        return
    ours = _ours({t["debit_account"] for t in transfers} | {t["credit_account"] for t in transfers})
    if not ours:
        return
    holders = {
        h.customer_id: h
        for h in AccountHolder.objects.filter(
            customer_id__in={a.customer_id for a in ours.values()}
        )
    }
    for t in transfers:
        amount = format_minor(int(t["amount"]), t["currency"])
        for side, key in (("out", "debit_account"), ("in", "credit_account")):
            account = ours.get(t[key])
            if account is None:
                continue
            tail = account.account_number[-4:]
            if t["kind"] == "pending":
                if side != "out":
                    continue
                title = "Funds held"
                body = f"····{tail} −{amount} {t['currency']}（{t['code']}）"
            elif side == "in":
                title = "Money in"
                body = f"····{tail} +{amount} {t['currency']}（{t['code']}）"
            else:
                title = "Money out"
                body = f"····{tail} −{amount} {t['currency']}（{t['code']}）"
            do_notify(
                account.customer_id,
                "movement",
                "",
                body,
                title_msgid=title,
                dedupe_key=f"transfer:{t['id']}:{side}",
                account_number=account.account_number,
                holder=holders.get(account.customer_id),
            )


_STATUS_TEXT = {
    "frozen": "Account frozen",
    "debit_frozen": "Payments out stopped",
    "open": "Account unfrozen",
    "closed": "Account closed",
}


@handles("ledger.AccountStatusChanged", name="accounts.notify_status")
def notify_status(event: OutboxEvent) -> None:
    payload: dict[str, Any] = event.payload
    account = CustomerAccount.objects.filter(
        ledger_account_id=str(payload.get("account", ""))
    ).first()
    if account is None:
        return
    new_status = str(payload.get("new_status", ""))
    do_notify(
        account.customer_id,
        "security",
        "" if new_status in _STATUS_TEXT else new_status,
        f"····{account.account_number[-4:]}",
        title_msgid=_STATUS_TEXT.get(new_status, ""),
        dedupe_key=f"status:{event.event_id}",
        account_number=account.account_number,
    )


_PAYMENT_TITLES = {
    "settled": "Payment settled",
    "rejected": "Payment rejected",
    "returned": "Payment returned",
    "refunded": "Payment refunded",
}


def _payment_state(event: OutboxEvent) -> str:
    """The state a payment event reports (its payload's, else its type's last word)."""
    return str(event.payload.get("state") or event.event_type.rsplit(".", 1)[-1])


def notify_payment(event: OutboxEvent) -> None:
    payload: dict[str, Any] = event.payload
    customer_id = payload.get("customer_id")
    if not customer_id:
        return
    status = _payment_state(event)
    currency = str(payload.get("currency", "CNY"))
    amount = format_minor(int(payload.get("amount_minor", 0)), currency)
    do_notify(
        customer_id,
        "payment",
        "",
        f"{amount} {currency}",
        title_msgid=_PAYMENT_TITLES.get(status, "Payment %(status)s"),
        title_params={} if status in _PAYMENT_TITLES else {"status": status},
        dedupe_key=f"payment:{event.event_id}",
    )


for _event_type in PAYMENT_EVENT_TYPES:
    handles(_event_type, name="accounts.notify_payment")(notify_payment)


def settle_close_sweep(event: OutboxEvent) -> None:
    """A closing account's sweep order settled, was rejected or came back: close the account
    or open it again (``services.settle_close_sweep``; other orders are not looked at)."""
    from rongshu.accounts.services import settle_close_sweep as settle

    payload: dict[str, Any] = event.payload
    if payload.get("rail") != "interbank":
        return  # a sweep is an interbank order: nothing to look up for the others
    state = _payment_state(event)
    settle(str(payload.get("order_id", "")), state, int(payload.get("amount_minor", 0)))


for _event_type in (
    "payments.PaymentSettled",
    "payments.PaymentRejected",
    "payments.PaymentReturned",
):
    handles(_event_type, name="accounts.settle_close_sweep")(settle_close_sweep)
