"""Demo accounts: the demo customer (13800000001) gets a Type I account opened by the demo
teller after in-person verification, and a Type II account bound to it with a few movements
(and so a few messages), and a deposit certificate (存款证明) of ¥10,000 on the Type I account,
frozen for 90 days. Idempotent: nothing is opened twice, transfer ids are fixed."""

from __future__ import annotations

import datetime as dt
import uuid

from rongshu.accounts import services as accounts
from rongshu.accounts.models import CustomerAccount
from rongshu.identity import services as identity
from rongshu.identity.models import CustomerCredential
from rongshu.identity.types import Principal, PrincipalKind
from rongshu.kernel import clock
from rongshu.kernel.outbox import dispatch_pending
from rongshu.ledger import services as ledger
from rongshu.ledger.types import TransferIn
from rongshu.simulation.identity_demo import DEMO_CUSTOMER_PHONE

NAMESPACE = uuid.UUID("5d1c8a52-3f9e-4a51-9b7f-0c2e6d8f4a11")


def _id(name: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, name)


def load_accounts_demo() -> str:
    credential = CustomerCredential.objects.filter(phone=DEMO_CUSTOMER_PHONE).first()
    if credential is None:
        return "no demo customer"
    customer_id = credential.public_id
    owner = Principal(kind=PrincipalKind.CUSTOMER, customer_id=customer_id)
    type1 = CustomerAccount.objects.filter(customer_id=customer_id, account_type=1).first()
    made: list[str] = []
    if type1 is None:
        teller = _demo_teller()
        type1 = accounts.do_open_type1_in_person(
            teller, customer_id, verification_note="演示：居民身份证原件核验，联网核查一致"
        )
        made.append("Type I")
    type2 = CustomerAccount.objects.filter(customer_id=customer_id, account_type=2).first()
    if type2 is None:
        type2 = accounts.do_open_account(
            owner, account_type=2, bind_bank_code="ours", bind_account_number=type1.account_number
        )
        made.append("Type II")
    ledger.do_create_chart_of_accounts(["CNY"])
    cash = ledger.get_chart_account("cash.CNY").public_id
    fees = ledger.get_chart_account("income.fees.CNY").public_id
    results = ledger.do_create_transfers(
        [
            TransferIn(
                _id("salary"),
                cash,
                type1.ledger_account_id,
                15_000_00,
                "CNY",
                "salary",
                reference="11月工资",
            ),
            TransferIn(
                _id("to-type2"),
                type1.ledger_account_id,
                type2.ledger_account_id,
                2_000_00,
                "CNY",
                "transfer",
                reference="转入Ⅱ类户",
            ),
            TransferIn(
                _id("coffee"),
                type2.ledger_account_id,
                fees,
                32_00,
                "CNY",
                "card_payment",
                reference="瑞幸咖啡",
            ),
        ]
    )
    failed = [r.result for r in results if not r.ok]
    if failed:
        raise RuntimeError(f"demo account transfers refused: {failed}")
    certificate = accounts.do_request_certificate(
        owner,
        type1.public_id,
        amount=10_000_00,
        frozen_until=clock.local_today() + dt.timedelta(days=90),
        purpose="留学签证（演示）",
        request_key="demo-deposit-certificate",  # asked once: a rerun returns the same one
    )
    dispatch_pending()
    created = sum(1 for r in results if r.result == "created")
    return (
        f"opened {', '.join(made) or 'nothing new'}; {created} new transfers; "
        f"deposit certificate {certificate.verification_code} "
        f"(¥10,000.00 frozen until {certificate.frozen_until}, "
        f"PDF /me/deposit-certificates/{certificate.certificate_id}.pdf)"
    )


def _demo_teller() -> Principal:
    from rongshu.identity.models import StaffMember

    member = StaffMember.objects.get(user__username="demo-teller")
    return identity.principal_for_user(member.user_id)
