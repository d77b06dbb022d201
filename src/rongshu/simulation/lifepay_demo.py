"""Demo 悦生活: the biller catalogue (every prefecture-level city × 45 items), and for the demo
customer (13800000001) two saved bill accounts, a paid electricity bill with its receipt and a
water auto-pay mandate. Idempotent (fixed keys; saved accounts and mandate found first)."""

from __future__ import annotations

from rongshu.kernel.errors import DomainError
from rongshu.kernel.money import Money
from rongshu.ledger import queries as ledger
from rongshu.lifepay import queries, services
from rongshu.lifepay.types import PayBillRequest
from rongshu.simulation.identity_demo import demo_customer_principal


def load_lifepay_demo() -> str:
    cities, billers = services.do_load_catalogue()
    who = demo_customer_principal()
    if who is None:
        return f"{cities} cities, {billers} billers; no demo customer"
    accounts = ledger.list_accounts(owner_type="customer", owner_id=str(who.customer_id), limit=1)
    account = accounts[0] if accounts else None
    if account is None:
        return f"{cities} cities, {billers} billers; demo customer has no account"
    power, water = "110100-electricity", "110100-water"
    power_no = queries.sample_known_account("luhn10")
    water_no = queries.sample_known_account("digits8")
    services.do_save_bill_account(who, power, power_no, "家里电费")
    services.do_save_bill_account(who, water, water_no, "家里水费")
    if not queries.list_my_payments(who):
        try:  # the biller answers like a real one: down in its maintenance window, …
            bills = services.inquire(power, power_no).bills
            if bills:
                services.do_pay_bill(
                    who,
                    PayBillRequest(
                        power, power_no, account.public_id, bills[0].amount, bills[0].bill_ref
                    ),
                    idempotency_key="demo-lifepay-1",
                    channel="web",
                )
        except DomainError as exc:  # … or after the cut-off: the next `make demo` pays it
            return f"{cities} cities, {billers} billers; demo payment skipped ({exc})"
    if not queries.list_mandates(who):
        services.do_create_mandate(who, water, water_no, account.public_id, Money(500_00, "CNY"))
    return f"{cities} cities, {billers} billers; saved accounts, a paid bill, a mandate"
