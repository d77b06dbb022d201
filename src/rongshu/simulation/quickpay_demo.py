"""Demo quick pay (快捷支付): a partner merchant (榕树商城, OAuth2 client ``rsp_demo_quickpay``
with the ``quickpay`` scope) and the demo customer's (13800000001) account bound to it through
the real flow — consent, a one-time code read from the SMS simulator, the partner collecting the
binding token — then three debits by the partner and a partial refund.

Idempotent: the client, merchant and binding are found again on a second run, which changes
nothing (the binding token exists only as a digest, so the debits are made on the first run).
"""

from __future__ import annotations

from rongshu.identity import services as identity
from rongshu.identity.errors import InvalidClient
from rongshu.kernel.money import Money
from rongshu.ledger import queries as ledger_queries
from rongshu.ledger import services as ledger
from rongshu.payments import quickpay, services
from rongshu.simulation.identity_demo import DEMO_CUSTOMER_PHONE, demo_customer_principal

CLIENT_ID = "rsp_demo_quickpay"
CLIENT_SECRET = "rss_demo_quickpay_secret"  # noqa: S105 - published demo credentials
MERCHANT_CODE = "RSQP0001"
MERCHANT_OWNER = "demo-quickpay-merchant"
DEBITS = (
    ("BANYAN-MALL-1001", "59.90", "榕树商城 订单 1001 纸巾"),
    ("BANYAN-MALL-1002", "128.00", "榕树商城 订单 1002 茶叶"),
    ("BANYAN-MALL-1003", "36.80", "榕树商城 订单 1003 水果"),
)


def _cny(text: str) -> Money:
    return Money.parse(text, "CNY")


def load_quickpay_demo() -> str:
    who = demo_customer_principal()
    if who is None or who.user_id is None:
        return "skipped: no demo customer (run the identity step first)"
    mine = next(
        (
            a
            for a in ledger_queries.list_accounts(
                owner_type="customer", owner_id=str(who.customer_id)
            )
            if a.currency == "CNY" and a.status == "open"
        ),
        None,
    )
    if mine is None:
        return "skipped: the demo customer has no account (run the payments step first)"
    try:
        identity.do_issue_client_token(CLIENT_ID, CLIENT_SECRET)  # registered already?
    except InvalidClient:
        identity.do_create_client(
            "榕树商城 Banyan Mall",
            ["quickpay", "profile"],
            partner_ref="demo-banyan-mall",
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
        )
    shop = next(
        iter(ledger_queries.list_accounts(owner_type="customer", owner_id=MERCHANT_OWNER)), None
    ) or ledger.do_create_customer_account(owner_id=MERCHANT_OWNER, name="榕树商城 结算账户")
    services.do_create_merchant(
        merchant_code=MERCHANT_CODE,
        name="榕树商城 Banyan Mall",
        city="Shenzhen",
        mcc="5311",
        ledger_account_id=shop.public_id,
        partner_client_id=CLIENT_ID,
    )
    quickpay.do_enable_merchant(
        MERCHANT_CODE,
        max_per_transaction=_cny("2000.00"),
        max_daily=_cny("5000.00"),
        max_monthly=_cny("20000.00"),
    )
    live = [
        b
        for b in quickpay.list_my_bindings(who)
        if b.merchant_code == MERCHANT_CODE and b.state != "revoked" and b.token_issued
    ]
    if live:
        return (
            f"merchant {MERCHANT_CODE} already bound to the demo customer "
            f"({len(quickpay.list_binding_debits(who, live[0].binding_id))} debits); "
            f"partner client {CLIENT_ID} / {CLIENT_SECRET}"
        )

    # The customer binds in an app session (the step-up needs one), with the code by SMS.
    tokens = identity.do_issue_app_tokens(
        who.user_id, device_key="demo-quickpay-phone", device_label="demo phone"
    )
    customer = identity.principal_for_token(tokens.access_token)
    assert customer is not None
    view, challenge = quickpay.do_start_binding(
        customer,
        merchant_code=MERCHANT_CODE,
        debit_account_id=mine.public_id,
        per_transaction=_cny("500.00"),
        daily=_cny("1000.00"),
        monthly=_cny("5000.00"),
        consent=True,
        channel="demo",
    )
    code = identity.latest_code(DEMO_CUSTOMER_PHONE)
    assert code is not None
    quickpay.do_confirm_binding(
        customer, view.binding_id, challenge_id=str(challenge.challenge_id), code=code
    )
    token = identity.do_issue_client_token(CLIENT_ID, CLIENT_SECRET, "quickpay").access_token
    partner = identity.principal_for_token(token)
    assert partner is not None
    _bound, binding_token = quickpay.do_issue_binding_token(partner, view.binding_id)
    paid = [
        quickpay.do_debit(
            partner,
            binding_token=binding_token,
            amount=_cny(amount),
            client_order_id=order_id,
            description=note,
        )
        for order_id, amount, note in DEBITS
    ]
    quickpay.do_refund(partner, paid[1].debit_id, _cny("28.00"), reason="缺货退差价")
    if customer.session_id is not None:  # the demo's app session has done its job
        identity.do_revoke_session(customer, customer.session_id)
    return (
        f"merchant {MERCHANT_CODE} bound to the demo customer, {len(paid)} debits and a "
        f"partial refund; partner client {CLIENT_ID} / {CLIENT_SECRET}"
    )
