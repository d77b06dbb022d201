"""Demo payments: a merchant with a static QR code and an issued bill QR code (a dynamic QR
for ¥38.00, bill number ``DEMO-0001``, valid 24 hours), a saved payee and two settled internal
payments for the demo customer (mobile 13800000001, see ``identity_demo``). The merchant
belongs to the partner client ``rsp_demo_teahouse`` (scope ``payments``; published secret
``rss_demo_teahouse_secret``), which signs in to the partner portal's bill QR page
(``/partners/qr/``) and the partner API (``POST /payments/partner/qr/dynamic``).

Idempotent: the merchant is found by its code, the payee by name and account, the customer's
funding transfer has a fixed id and the payments fixed idempotency keys, so a second run
changes nothing (the payments service answers the same orders); a bill QR code is issued only
when the merchant has no open one (after a day, or once paid, the next run issues a new one).
The partner client is found by its id; a merchant loaded by an earlier demo without a partner
is given this one.
"""

from __future__ import annotations

import uuid

from rongshu.identity import services as identity
from rongshu.identity.models import CustomerCredential, PartnerClient
from rongshu.identity.types import PartnerScope
from rongshu.kernel.money import Money
from rongshu.ledger import services as ledger
from rongshu.ledger.models import Account
from rongshu.ledger.types import TransferIn
from rongshu.payments import queries, services
from rongshu.payments.types import DynamicQrView, PaymentRequest
from rongshu.simulation.identity_demo import DEMO_CUSTOMER_PHONE
from rongshu.simulation.ledger_demo import DEMO_CUSTOMERS

DEMO_NAMESPACE = uuid.UUID("2f7c9a44-0d5b-4f3e-9c1a-6b8e2d4f0a71")
MERCHANT_CODE = "RSDEMO0001"
MERCHANT_OWNER = "demo-merchant-1"
CLIENT_ID = "rsp_demo_teahouse"
CLIENT_SECRET = "rss_demo_teahouse_secret"  # noqa: S105 - published demo credentials
PAYMENTS = (
    ("demo-payment-1", "128.00", "11 月水电费 AA"),
    ("demo-payment-2", "36.50", "咖啡"),
)
BILL_QR_AMOUNT = "38.00"
BILL_QR_NUMBER = "DEMO-0001"
BILL_QR_SECONDS = 24 * 60 * 60


def _account(owner_id: str, name: str) -> Account:
    account = (
        Account.objects.filter(owner_type="customer", owner_id=owner_id, currency="CNY")
        .order_by("pk")
        .first()
    )
    return account or ledger.do_create_customer_account(owner_id=owner_id, name=name)


def load_payments_demo() -> str:
    credential = CustomerCredential.objects.filter(phone=DEMO_CUSTOMER_PHONE).first()
    if credential is None:
        return "skipped: no demo customer (run the identity step first)"
    who = identity.principal_for_user(credential.user_id)
    assert who.customer_id is not None
    mine = _account(str(who.customer_id), "张伟 支付账户")
    funding = ledger.do_create_transfers(
        [
            TransferIn(
                uuid.uuid5(DEMO_NAMESPACE, "fund-demo-customer"),
                ledger.get_chart_account("cash.CNY").public_id,
                mine.public_id,
                20_000_00,
                "CNY",
                "cash_deposit",
                reference="柜台存现",
            )
        ]
    )
    if not funding[0].ok:
        raise RuntimeError(f"demo funding refused: {funding[0].result}")

    if not PartnerClient.objects.filter(client_id=CLIENT_ID).exists():
        identity.do_create_client(
            "榕树茶馆 Banyan Tea",
            [PartnerScope.PAYMENTS.value, PartnerScope.PROFILE.value],
            partner_ref="demo-banyan-tea",
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
        )
    shop_account = _account(MERCHANT_OWNER, "榕树茶馆 收款账户")
    merchant = services.do_create_merchant(
        merchant_code=MERCHANT_CODE,
        name="榕树茶馆 Banyan Tea",
        city="Shenzhen",
        mcc="5814",
        ledger_account_id=shop_account.public_id,
        partner_client_id=CLIENT_ID,
    )  # a merchant an earlier demo loaded without a partner takes this one

    friend_owner, friend_name = DEMO_CUSTOMERS[1]  # 李娜's deposit account (ledger demo)
    friend = _account(friend_owner, friend_name)
    known = [p for p in queries.list_payees(who) if p.ledger_account_id == friend.public_id]
    if not known:
        services.do_save_payee(
            who, name="李娜", ledger_account_id=friend.public_id, nickname="室友 李娜"
        )

    settled = 0
    for key, amount, note in PAYMENTS:
        order = services.do_create_payment(
            who,
            PaymentRequest(
                debit_account_id=mine.public_id,
                amount=Money.parse(amount, "CNY"),
                payee_ledger_account_id=friend.public_id,
                payee_name="李娜",
                remittance_info=note,
            ),
            channel="web",
            idempotency_key=key,
        )
        settled += order.state == "settled"
    bill_qr = _open_bill_qr(merchant.merchant_code)
    return (
        f"merchant {merchant.merchant_code} ({merchant.name}; partner client {CLIENT_ID} / "
        f"{CLIENT_SECRET}, /partners/qr/), 1 saved payee, "
        f"{settled} settled payments; bill QR {bill_qr.bill_number} "
        f"({bill_qr.amount.amount_str()} {bill_qr.amount.currency}, "
        f"console /console/payments/merchants/{merchant.merchant_code}/qr/) payload: "
        f"{bill_qr.payload}; static QR payload: {merchant.static_payload}"
    )


def _open_bill_qr(merchant_code: str) -> DynamicQrView:
    """The merchant's open bill QR code, issued when it has none."""
    for issued in queries.list_dynamic_qrs(merchant_code, limit=50):
        if issued.state == "open":
            return issued
    return services.do_issue_dynamic_qr(
        merchant_code=merchant_code,
        amount=Money.parse(BILL_QR_AMOUNT, "CNY"),
        bill_number=BILL_QR_NUMBER,
        expires_in_seconds=BILL_QR_SECONDS,
        actor="system:demo",
    )
