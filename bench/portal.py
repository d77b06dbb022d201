"""Customer portal benchmark: server time of the home page and of a statement page for a
customer with 100k transactions, and month-end e-statements for many accounts.

    home_p95_ms              GET /me/ (Django test client: middleware, session, templates)
    statement_p95_ms         GET /me/accounts/<id>/ (account + first statement page)
    statement_search_p95_ms  the same with a text search (SQL on the account's index walk)
    statement_deep_page_p95_ms  a page in the middle of the history (keyset cursor)
    *_cpu_p95_ms             the same requests in process CPU time (less moved by load)
    statement_pdf_search_ms  the statement PDF of a text search
    eom_statements_100k_s    do_generate_month_statements over ``eom_accounts`` accounts

``--quick``: 10k transactions and 2,000 accounts for the month-end run (under a minute).
Runs on a fresh SQLite database in a temporary folder (or on ``DATABASE_URL``).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import parse_args, percentile, report, setup_django


def main() -> None:
    args = parse_args(__doc__ or "portal benchmark")
    tmp = tempfile.TemporaryDirectory(prefix="rongshu-bench-portal-")
    if not os.environ.get("DATABASE_URL"):
        os.environ["RONGSHU_DATA_DIR"] = tmp.name
    os.environ.setdefault("RONGSHU_LOG_LEVEL", "WARNING")
    os.environ["RONGSHU_OUTBOX_DISPATCH_ON_COMMIT"] = "0"
    setup_django()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from stdnum.cn import ric

    from rongshu.accounts import services as accounts
    from rongshu.accounts.jobs import do_generate_month_statements
    from rongshu.accounts.models import AccountHolder, CustomerAccount
    from rongshu.accounts.numbers import make_account_number
    from rongshu.accounts.verifier import do_register_external_account
    from rongshu.identity import services as identity
    from rongshu.identity.models import UserSession
    from rongshu.kernel import clock
    from rongshu.ledger import services as ledger
    from rongshu.ledger.jobs import do_snapshot_balances
    from rongshu.ledger.types import TransferIn

    call_command("migrate", verbosity=0)
    settings.RONGSHU_SMS_SIMULATOR = {"failure_rate": 0.0, "min_delay_ms": 0, "max_delay_ms": 0}
    settings.RONGSHU_ACCOUNTS = {"verifier_delay_ms": 0}
    settings.ALLOWED_HOSTS = ["*"]
    transactions = 10_000 if args.quick else 100_000
    eom_accounts = 2_000 if args.quick else 100_000
    requests = 30 if args.quick else 100

    phone = f"136{int(time.time()) % 10**8:08d}"
    body = "110105" + "19850312" + "123"
    info = identity.do_start_registration(phone)
    code = identity.latest_code(phone)
    assert code is not None
    reg = identity.do_register_customer(
        challenge_id=str(info.challenge_id),
        code=code,
        password="bench-password-2026",  # noqa: S106
        real_name="周杰",
        resident_id=body + ric.calc_check_digit(body + "0"),
    )
    token = identity.do_issue_app_tokens(reg.user_id, device_key="bench-device-0001")
    who = identity.principal_for_token(token.access_token)
    assert who is not None
    do_register_external_account("105", "6217000099990001", "周杰")
    account = accounts.do_open_account(
        who, account_type=2, bind_bank_code="105", bind_account_number="6217000099990001"
    )
    ledger.do_create_chart_of_accounts(["CNY"])
    cash = ledger.get_chart_account("cash.CNY").public_id
    fees = ledger.get_chart_account("income.fees.CNY").public_id
    started = time.perf_counter()
    for start in range(0, transactions, 8000):
        items = []
        for i in range(start, min(start + 8000, transactions)):
            if i % 3 == 2:
                items.append(
                    TransferIn(
                        uuid.uuid4(),
                        account.ledger_account_id,
                        fees,
                        1_00,
                        "CNY",
                        "card_payment",
                        reference=f"商户 {i}",
                    )
                )
            else:
                items.append(
                    TransferIn(
                        uuid.uuid4(),
                        cash,
                        account.ledger_account_id,
                        2_00,
                        "CNY",
                        "deposit",
                        reference=f"入账 {i}",
                    )
                )
        ledger.do_create_transfers(items)
    load_s = time.perf_counter() - started

    client = Client()
    client.force_login(_user(reg.user_id))
    identity.do_start_session(
        reg.user_id, kind=UserSession.WEB, session_key=client.session.session_key or ""
    )

    cpu: dict[str, list[float]] = {}

    def sample(url: str, count: int = requests) -> list[float]:
        """Wall-clock server time per request; the process CPU time goes to ``cpu[url]``
        (less moved by other processes on a shared machine)."""
        out = []
        for _ in range(count):
            t0, c0 = time.perf_counter(), time.process_time()
            response = client.get(url)
            out.append((time.perf_counter() - t0) * 1000)
            cpu.setdefault(url, []).append((time.process_time() - c0) * 1000)
            assert response.status_code == 200, response.status_code
        return out

    statement_url = f"/me/accounts/{account.public_id}/"
    search_url = f"/me/accounts/{account.public_id}/?q=9999"
    sample(statement_url, 3)  # warm-up (templates, URL resolver)
    cpu.clear()
    home = sample("/me/")
    statement = sample(statement_url)
    search = sample(search_url, max(3, requests // 10))
    older = sample(f"{statement_url}?after=50000", max(3, requests // 10))  # a deep page
    t0 = time.perf_counter()
    pdf = client.get(
        f"/me/accounts/{account.public_id}/statement.pdf?q=9999"  # ~20 matching lines
    )
    pdf_ms = (time.perf_counter() - t0) * 1000
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF-")

    # month-end: many accounts with one movement each
    holder = AccountHolder.objects.get(customer_id=who.customer_id)
    rows = []
    ledger_ids = []
    for n in range(eom_accounts):
        acc = ledger.do_create_customer_account(owner_id=f"bench-{n}", name=f"bench {n}")
        ledger_ids.append(acc.public_id)
        rows.append(
            CustomerAccount(
                holder=holder,
                customer_id=who.customer_id,
                ledger_account_id=acc.public_id,
                account_number=make_account_number("621788", "0009", 2, n + 1),
                account_type=2,
                product_code="e_account_type2",
                holder_name="周杰",
                opened_at=clock.now(),
            )
        )
    CustomerAccount.objects.bulk_create(rows, batch_size=2000)
    for start in range(0, eom_accounts, 8000):
        ledger.do_create_transfers(
            [
                TransferIn(uuid.uuid4(), cash, lid, 10_00, "CNY", "deposit")
                for lid in ledger_ids[start : start + 8000]
            ]
        )
    today = clock.now().astimezone(clock.bank_zone()).date()
    month_end = (today.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    do_snapshot_balances(month_end)  # the ledger's EOD job runs before ours
    t0 = time.perf_counter()
    made = do_generate_month_statements(month_end)
    eom_s = time.perf_counter() - t0

    report(
        "portal",
        {
            "transactions": transactions,
            "load_transactions_s": round(load_s, 2),
            "home_p95_ms": round(percentile(home, 95), 2),
            "home_p50_ms": round(percentile(home, 50), 2),
            "statement_p95_ms": round(percentile(statement, 95), 2),
            "statement_p50_ms": round(percentile(statement, 50), 2),
            "statement_search_p95_ms": round(percentile(search, 95), 2),
            "statement_cpu_p95_ms": round(percentile(cpu[statement_url], 95), 2),
            "statement_search_cpu_p95_ms": round(percentile(cpu[search_url], 95), 2),
            "home_cpu_p95_ms": round(percentile(cpu["/me/"], 95), 2),
            "statement_deep_page_p95_ms": round(percentile(older, 95), 2),
            "statement_pdf_search_ms": round(pdf_ms, 2),
            "eom_accounts": made,
            "eom_statements_100k_s" if not args.quick else "eom_statements_s": round(eom_s, 2),
            "database": "postgresql" if os.environ.get("DATABASE_URL") else "sqlite",
        },
        quick=args.quick,
    )


def _user(user_id: int):  # type: ignore[no-untyped-def]
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(pk=user_id)


if __name__ == "__main__":
    main()
