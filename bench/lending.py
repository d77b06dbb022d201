"""Lending benchmark: decisions per second, apply → disburse latency, the nightly
pre-approval over many customers, and the credit models' accuracy on public data sets.

    .venv/bin/python bench/lending.py [--quick]

Runs in a child process on a fresh SQLite database (DEBUG=0, throwaway keys). Figures:

    decisions_per_s            ``lending.services.do_apply`` calls per second, one client: the
                               whole decision (KYC and Type I account lookup, consent, policy
                               rules, simulated bureau without latency, features from the
                               ledger, scorecard, limit, price, the application row, outbox
                               event and audit entry); each application is cancelled (untimed)
                               so the customer can apply again
    apply_to_disburse_p50_ms   apply + accept (contract, schedule, ledger disbursement) for a
    apply_to_disburse_p99_ms   fresh application; the one-time code is passed beforehand (it
                               is the customer's time, not the system's)
    preapproval_100k_s         the nightly pre-approval job over 100,000 customers (imported
                               through identity, with resident IDs, so the age policy applies)
                               with a deposit account (``--quick``: 10,000, reported as
                               ``preapproval_10k_s`` and extrapolated ×10 into the 100k key)
    german_auc, german_ks, taiwan_auc, taiwan_ks   from ``accuracy_metrics(quick=…)``
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import (
    child_main,
    parse_args,
    percentile,
    production_env,
    report,
    run_child,
    setup_django,
)


def _child(backend: str, quick: bool) -> dict[str, Any]:
    setup_django()
    from django.core.management import call_command
    from django.db import transaction

    call_command("migrate", verbosity=0)
    from django.conf import settings

    # the SMS simulator without random failures or delay (as in the test suite)
    settings.RONGSHU_SMS_SIMULATOR = {
        "failure_rate": 0.0,
        "min_delay_ms": 0,
        "max_delay_ms": 0,
        "per_minute": 1000,
        "per_hour": 1000,
        "per_day": 1000,
        "seed": 7,
    }
    from stdnum.cn import ric

    from rongshu.accounts import services as accounts
    from rongshu.identity import services as identity
    from rongshu.identity.types import Role
    from rongshu.kernel import clock
    from rongshu.kernel.money import Money
    from rongshu.ledger import services as ledger
    from rongshu.ledger.types import TransferIn
    from rongshu.lending import services
    from rongshu.lending.models import Application
    from rongshu.lending.preapproval import run_preapproval
    from rongshu.lending.scoring.bank import train_bank_model

    ledger.do_create_chart_of_accounts(("CNY",))
    cash = ledger.get_chart_account("cash.CNY").public_id
    staff = []
    for name, role in (("b-risk-1", Role.RISK_OFFICER), ("b-risk-2", Role.RISK_OFFICER)):
        m = identity.do_create_staff(name, "correct-horse-battery", role)
        staff.append(identity.principal_for_user(m.user_id))
    teller_m = identity.do_create_staff("b-teller", "correct-horse-battery", Role.TELLER)
    teller = identity.principal_for_user(teller_m.user_id)
    model = train_bank_model(seed=1, n=5_000 if quick else 20_000)
    row = services.do_register_model(staff[0], model.to_bytes())
    services.do_approve_model(staff[1], row.public_id)
    services.do_activate_model(staff[1], row.public_id)

    n_customers = 10 if quick else 30
    customers = []
    for k in range(n_customers):
        body = f"110105198{k % 10}0101{k:03d}"
        rid = body + ric.calc_check_digit(body + "0")
        reg = identity.do_create_customer_login(
            f"1370000{k:04d}", "correct-horse-battery", real_name="测试", resident_id=rid
        )
        user_id = int(reg.user_id)
        tokens = identity.do_issue_app_tokens(user_id, device_key=f"bench-{k}", device_label="b")
        who = identity.principal_for_token(tokens.access_token)
        assert who is not None
        assert who.customer_id is not None
        acc = accounts.do_open_type1_in_person(teller, who.customer_id, verification_note="bench")
        for _ in range(6):
            ledger.do_transfer(
                debit=cash,
                credit=acc.ledger_account_id,
                amount=40_000_00,
                currency="CNY",
                code="payroll",
                reference="工资",
            )
        customers.append(who)

    def apply(who: Any) -> Application:
        with transaction.atomic():
            return services.do_apply(
                who,
                product_code="kuaidai",
                amount=Money(5_000_00, "CNY"),
                term_months=12,
                method="annuity",
                consent=True,
            )

    # warm-up (model cache, first queries); keep the customers the model approves
    approved = []
    for who in customers:
        app = apply(who)
        if app.state in ("approved", "referred"):
            services.do_cancel(who, app.public_id)
        if app.state == "approved":
            approved.append(who)
    states: dict[str, int] = {}
    rounds = 10 if quick else 40
    spent = 0.0
    decided = 0
    for _ in range(rounds):
        for who in customers:
            started = time.perf_counter()
            app = apply(who)
            spent += time.perf_counter() - started
            decided += 1
            states[app.state] = states.get(app.state, 0) + 1
            if app.state in ("approved", "referred"):
                services.do_cancel(who, app.public_id)
    metrics: dict[str, Any] = {"decisions_per_s": round(decided / spent, 1)}
    metrics["decision_states"] = states

    def _loan_round(group: list[Any]) -> list[float]:
        out = []
        for who in group:
            info = identity.do_start_step_up(who, services.STEP_UP_ACTION)
            code = identity.latest_code(_phone(identity, who))
            assert code is not None
            identity.do_verify_step_up(who, str(info.challenge_id), code)
            started = time.perf_counter()
            app = apply(who)
            if app.state != "approved":
                raise RuntimeError(f"not approved: {app.state} {app.policy_codes}")
            with transaction.atomic():
                services.do_accept(who, app.public_id)
            out.append((time.perf_counter() - started) * 1000)
        return out

    latencies: list[float] = []
    loans = 3 if quick else 8
    base = clock.now()
    for r in range(loans):
        # the SMS gateway rate-limits codes per phone: each round is ten minutes later
        with clock.frozen_time(base + dt.timedelta(minutes=10 * (r + 1))):
            latencies += _loan_round(approved)
    metrics["apply_to_disburse_p50_ms"] = round(percentile(latencies, 50), 1)
    metrics["apply_to_disburse_p99_ms"] = round(percentile(latencies, 99), 1)
    metrics["apply_to_disburse_samples"] = len(latencies)

    population = 10_000 if quick else 100_000
    with transaction.atomic():
        # identity customers (imported in bulk, resident IDs born 1965–2003: the age policy
        # excludes the over-60s) each with a deposit account holding a payroll credit
        people = [
            identity.CustomerImport(
                customer_id=uuid.uuid4(),
                phone=f"138{k:08d}",
                real_name="测试",
                resident_id=_rid(dt.date(1965, 1, 1) + dt.timedelta(days=k % 14_000), k // 14_000),
            )
            for k in range(population)
        ]
        for start in range(0, population, 5000):
            identity.do_import_customers(people[start : start + 5000], actor="system:bench")
        ids = []
        for k, person in enumerate(people):
            a = ledger.do_create_customer_account(owner_id=str(person.customer_id), name=f"c{k}")
            ids.append(a.public_id)
        batch: list[TransferIn] = []
        for k, acc_id in enumerate(ids):
            batch.append(
                TransferIn(
                    transfer_id=uuid.uuid4(),
                    debit_account=cash,
                    credit_account=acc_id,
                    amount=(3_000_00 + (k * 7919) % 30_000_00),
                    currency="CNY",
                    code="payroll",
                )
            )
            if len(batch) == 8000:
                ledger.do_create_transfers(batch)
                batch = []
        ledger.do_create_transfers(batch)
    started = time.perf_counter()
    with transaction.atomic():
        result = run_preapproval(clock.get_business_date())
    took = time.perf_counter() - started
    metrics["preapproval_customers"] = result.get("customers", 0)
    metrics["preapproval_offers"] = result.get("offers", 0)
    metrics["preapproval_with_age"] = result.get("with_age", 0)
    metrics["preapproval_eligible"] = result.get("eligible", 0)
    if quick:
        metrics["preapproval_10k_s"] = round(took, 2)
        metrics["preapproval_100k_s"] = round(took * 10, 2)
        metrics["preapproval_100k_extrapolated"] = True
    else:
        metrics["preapproval_100k_s"] = round(took, 2)
    return metrics


def _rid(born: dt.date, serial: int) -> str:
    from stdnum.cn import ric

    body = f"110105{born:%Y%m%d}{serial % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def _phone(identity: Any, who: Any) -> str:
    return str(identity.access_customer(who, who.customer_id).phone)


def main() -> None:
    if child_main(_child):
        return
    args = parse_args(__doc__ or "lending benchmark")
    started = time.perf_counter()
    env = production_env()
    with tempfile.TemporaryDirectory(prefix="rongshu-bench-lending-") as tmp:
        metrics = run_child(__file__, "sqlite", {**env, "RONGSHU_DATA_DIR": tmp}, args.quick)
    setup_django()
    from rongshu.lending.scoring.benchmarks import accuracy_metrics

    metrics.update(accuracy_metrics(quick=args.quick))
    metrics["database"] = "sqlite"
    metrics["wall_s"] = round(time.perf_counter() - started, 1)
    report("lending", metrics, quick=args.quick)


if __name__ == "__main__":
    main()
