"""Demo lending: the bank's 快贷 model (``train_bank_model()``) registered by one demo risk
officer, approved and activated by another (four-eyes); the demo customer (13800000001) gets an
existing loan with its schedule (booked as a migrated loan: the demo customer is older than the
online product's age rule) and tonight's pre-approved line. Idempotent."""

from __future__ import annotations

import uuid
from decimal import Decimal

from rongshu.identity import services as identity
from rongshu.identity.types import Principal, PrincipalKind, Role
from rongshu.kernel import clock
from rongshu.lending import queries, services
from rongshu.simulation.identity_demo import (
    DEMO_CUSTOMER_PASSWORD,
    DEMO_CUSTOMER_PHONE,
    DEMO_STAFF_PASSWORD,
)

SECOND_RISK_OFFICER = "demo-risk-officer-2"


def _staff(username: str) -> Principal:
    user_id = identity.do_authenticate_staff(username, DEMO_STAFF_PASSWORD)
    return identity.principal_for_user(user_id)


def load_lending_demo() -> str:
    first = _staff("demo-risk-officer")
    try:
        second = _staff(SECOND_RISK_OFFICER)
    except Exception:
        identity.do_create_staff(
            SECOND_RISK_OFFICER, DEMO_STAFF_PASSWORD, Role.RISK_OFFICER, full_name="Demo risk 2"
        )
        second = _staff(SECOND_RISK_OFFICER)
    made: list[str] = []
    active = [m for m in queries.list_models() if m.state == "active"]
    if not active:
        row = services.do_register_model(first, services.train_bank_model().to_bytes())
        if row.state == "draft":
            services.do_approve_model(second, row.public_id)
        services.do_activate_model(second, row.public_id)
        made.append(f"model {row.name}:{row.version}")
    customer_id = _demo_customer_id()
    if customer_id is None:
        return "no demo customer"
    owner = Principal(kind=PrincipalKind.CUSTOMER, customer_id=customer_id)
    if not queries.list_my_loans(owner):
        type1 = services.find_type1(owner)
        if type1 is None:
            return ", ".join([*made, "no Type I account"])
        services.do_book_migrated_loan(
            first,
            customer_id,
            disbursement_account_id=type1.ledger_account_id,
            amount=30_000_00,
            term_months=12,
            method="annuity",
            annual_rate=Decimal("0.0450"),
        )
        made.append("loan ¥30,000 / 12 months")
    result = services.do_run_preapproval(clock.get_business_date())
    offer = queries.find_offer(customer_id)
    made.append(f"offers {result.get('offers', 0)}")
    made.append(f"demo offer {offer.limit_minor // 100 if offer else 0} CNY")
    return ", ".join(made)


def _demo_customer_id() -> uuid.UUID | None:
    try:
        user_id = identity.do_authenticate_customer(DEMO_CUSTOMER_PHONE, DEMO_CUSTOMER_PASSWORD)
    except Exception:
        return None
    who = identity.principal_for_user(user_id)
    return who.customer_id
