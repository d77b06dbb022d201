"""Demo unified customer view: a small multi-source set from the synthetic bank (seven
systems seeing the same 120 people), the demo customer 张伟 from identity plus an insurance
record of him in traditional characters, resolved with Splink; the pairs the model is unsure
of stay in the review queue (staff console → Unified customers → Review queue).

Idempotent: the files are generated deterministically (same checksums, so a second ingest
changes nothing) and the saved model is reused, so a re-run resolves to the same customers.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from rongshu.customers import queries, services
from rongshu.identity import services as identity
from rongshu.simulation.bank.sources import write_sources
from rongshu.simulation.identity_demo import (
    DEMO_CUSTOMER_PASSWORD,
    DEMO_CUSTOMER_PHONE,
    DEMO_STAFF_PASSWORD,
)

DEMO_PEOPLE = 120
SOURCES = ("core", "insurance", "securities", "leasing", "telco", "utility", "ecommerce")


def load_customers_demo() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_sources(folder, people=DEMO_PEOPLE, seed=1)
        for source in SOURCES:
            services.do_ingest_file(folder / f"{source}.csv", source=source)
    try:
        staff_user = identity.do_authenticate_staff("demo-risk-officer", DEMO_STAFF_PASSWORD)
        customer_user = identity.do_authenticate_customer(
            DEMO_CUSTOMER_PHONE, DEMO_CUSTOMER_PASSWORD
        )
    except Exception:
        staff_user = customer_user = 0
    if staff_user and customer_user:
        risk = identity.principal_for_user(staff_user)
        customer_id = identity.principal_for_user(customer_user).customer_id
        if customer_id is not None:
            services.do_ingest_internal(risk, [customer_id])
            services.do_ingest_rows(
                "insurance",
                [
                    {
                        "record_id": "INS-DEMO-0001",
                        "name": "張偉",
                        "resident_id": "110105900307002",  # the 15-digit first-generation ID
                        "phone": "138 0000 0001",
                        "address": "北京市朝阳区建国路 88 号",
                    }
                ],
                file_name="insurance-demo.csv",
            )
    result = services.do_resolve()
    pending = queries.count_pending_reviews()
    return f"{result.records} source records → {result.customers} customers, {pending} to review"
