"""Lifepay's outbox handlers: bill-payment results and lifepay notices become messages in the
accounts notification centre (``/me/`` notifications, SMS per the customer's preferences).

They run after the command's commit, so the auto-pay batch writes no notification itself:
it records one ``BillPaymentChanged`` per payment (as before) and the handlers turn them into
messages. Every message has a dedupe key, so a redelivered event adds nothing.
"""

from __future__ import annotations

import uuid

from rongshu.accounts import services as accounts
from rongshu.kernel import clock
from rongshu.kernel.models import OutboxEvent
from rongshu.kernel.money import format_minor
from rongshu.kernel.outbox import handles
from rongshu.lifepay.models import Biller, Notice

TITLE = "生活缴费 Bill payment"
# payment states a customer hears about ("held" is the moment of payment itself; a refund
# has its own notice, forwarded by forward_notice)
STATES_ZH = {"paid": "已缴", "unknown": "处理中", "failed": "未成功"}
STATES_EN = {"paid": "paid", "unknown": "processing", "failed": "not paid"}
RETRIED = {"biller_unavailable"}  # auto-pay tries again the next day: no message yet


@handles("lifepay.BillPaymentChanged", name="lifepay.notify_payment")
def notify_payment(event: OutboxEvent) -> None:
    data = event.payload
    state, channel = data["state"], data.get("channel", "")
    if state not in STATES_ZH:
        return
    autopay = channel == "autopay"
    if autopay and state == "failed" and data.get("reason_code") in RETRIED:
        return
    if not autopay and state == "unknown":
        return  # the customer saw "processing" on the receipt page
    biller = Biller.objects.filter(code=data["biller_code"]).only("name_zh", "name_en").first()
    name_zh = biller.name_zh if biller else data["biller_code"]
    name_en = biller.name_en if biller else data["biller_code"]
    amount = f"{format_minor(int(data['amount_minor']), data['currency'])} {data['currency']}"
    lead_zh, lead_en = ("自动缴费", "Auto-pay") if autopay else ("缴费", "Bill payment")
    zh = f"{lead_zh}：{name_zh} {amount}（{STATES_ZH[state]}）。"
    en = f"{lead_en}: {name_en} {amount} ({STATES_EN[state]})."
    customer_id = uuid.UUID(data["customer_id"])
    if autopay and state in ("paid", "unknown"):
        # lifepay's own notice list (/me/lifepay/): one per auto-pay payment
        Notice.objects.bulk_create(
            [
                Notice(
                    customer_id=customer_id,
                    kind="autopay_paid",
                    dedupe_key=f"autopay:{data['payment_id']}"[:120],
                    text_en=en[:300],
                    text_zh=zh[:300],
                    created_at=clock.now(),
                )
            ],
            ignore_conflicts=True,
        )
    accounts.do_notify(
        customer_id,
        "payment",
        TITLE,
        f"{zh}\n{en}",
        dedupe_key=f"lifepay:{data['payment_id']}:{state}",
    )


@handles("lifepay.NoticeIssued", name="lifepay.forward_notice")
def forward_notice(event: OutboxEvent) -> None:
    data = event.payload
    accounts.do_notify(
        uuid.UUID(data["customer_id"]),
        "payment",
        TITLE,
        f"{data['text_zh']}\n{data['text_en']}",
        dedupe_key=f"lifepay:notice:{data['dedupe_key']}",
    )
