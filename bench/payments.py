"""Payments benchmark: internal payment orders per second through the payments service (1 and 8
clients), latency, the overhead against raw ledger transfers measured the same way in the same
run, and a duplicate storm.

    .venv/bin/python bench/payments.py [--quick]

Each database runs in a child process on a fresh database: SQLite in a temporary folder and
PostgreSQL on ``DATABASE_URL`` — or, when that is not set, on a throwaway server started with
``scripts/pg.sh`` (its figures are skipped if none starts). DEBUG=0, throwaway keys, outbox
dispatch after commit off (each order still writes its outbox rows), as in bench/ledger.py.

A client is a forked process running a closed loop: one order per transaction through
``rongshu.payments.services.do_create_payment`` (customer principal, channel ``api``, a fresh
idempotency key, payee by ledger account id; limits, the registered payment rules, the order,
its state history, the outbox events and the ledger posting). The ledger baseline runs the
same loop with one ``ledger.do_create_transfers`` per transaction between the same accounts.
The two loops run in ABBA order (transfers, orders, orders, transfers; each phase half the
time), in a full run twice with 1 client and six times with 8 (once each with ``--quick``;
docs/decisions/0006, sixth and ninth addenda), and on PostgreSQL each phase starts after a
``VACUUM (ANALYZE)``, as pgbench starts its runs: otherwise the phase that always ran second
could carry the autovacuum owed to the first's writes (docs/decisions/0006, fourth
addendum).

    orders_per_s_{sqlite,postgres}_{1c,8c}       payment orders per second (the service)
    ledger_per_s_{sqlite,postgres}_{1c,8c}       raw ledger single transfers per second
    ratio_{db}_{1c,8c}                           orders/s ÷ ledger/s; ratio_{db}_8c_by_cycle:
                                                 that of each ABBA cycle (its spread is the
                                                 run's own noise)
    steal_pct_{db}_8c                            share of the CPUs' time the hypervisor gave
                                                 to other guests during the 8-client cycles
                                                 (/proc/stat; with the CPU model in
                                                 ``machine``: which host a ratio came from,
                                                 docs/decisions/0006, tenth addendum)
    api_orders_per_s_{db}_{1c,8c}                orders per second through the REST API, end
                                                 to end: registered customers with app tokens,
                                                 ``rongshu serve`` (gunicorn, its defaults) on
                                                 the same database, HTTP/1.1 clients (forked
                                                 processes, one connection each) POSTing
                                                 /api/v1/payments/orders with a fresh
                                                 Idempotency-Key; every 201 is checked
                                                 against the orders stored
    api_p50_ms_{db}, api_p99_ms_{db}             one order through the API, 1 client
    api_vs_ledger_{db}_8c                        API orders/s ÷ raw ledger transfers/s, 8 clients
    orders_per_s_8c_postgres                     = api_orders_per_s_postgres_8c (the issue's
                                                 "API end to end, 8 clients")
    orders_per_s_1c_sqlite                       = orders_per_s_sqlite_1c (the service)
    p50_ms, p99_ms                               one order, 1 client (PostgreSQL when present)
    cpu_us_per_{order,transfer}_{client,server}_{db}
                                                 CPU per order / raw transfer, 1 client (client:
                                                 process_time; server: the backend's /proc),
                                                 steadier than rates on a loaded box
    statements_per_{order,transfer}_{db}         statements of one, BEGIN and COMMIT included
    overhead_vs_ledger_ratio                     orders/s ÷ ledger/s, 8 clients on PostgreSQL
                                                 (else 1 client on SQLite): the payments
                                                 service against the ledger service, both
                                                 called in process — what payments add to a
                                                 transfer. The HTTP stack, common to every
                                                 endpoint, is in api_vs_ledger_* instead
    duplicates_applied                           duplicate storm: 8 clients submit every one of
                                                 K keys R times, shuffled; ledger transfers
                                                 beyond one per distinct key (must be 0), the
                                                 service's and the API's storms together
    api_storm_*_{db}                             the API's storm (a key's copies sent by the 8
                                                 clients at once): submissions, 409s answered
                                                 (in flight; sent again after 50 ms),
                                                 duplicates applied, keys missing, keys whose
                                                 201 answers named more than one order
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import (
    child_main,
    cpu_ticks,
    free_port,
    parse_args,
    percentile,
    report,
    run_on_both_databases,
    serving,
    setup_django,
)

CLIENTS = 8
PAYERS_PER_CLIENT = 25


# ====================================================================== child: one database
def _child(backend: str, quick: bool) -> dict[str, Any]:
    os.environ["RONGSHU_OUTBOX_DISPATCH_ON_COMMIT"] = "0"
    os.environ.setdefault("RONGSHU_LOG_LEVEL", "WARNING")
    setup_django()
    from django.core.management import call_command
    from django.db import connections, transaction
    from django.test.utils import CaptureQueriesContext

    from rongshu.identity.types import Principal, PrincipalKind
    from rongshu.kernel.ids import new_id
    from rongshu.kernel.money import Money
    from rongshu.ledger import queries as ledger_queries
    from rongshu.ledger import services as ledger
    from rongshu.ledger.models import Transfer
    from rongshu.ledger.types import TransferIn
    from rongshu.payments import services
    from rongshu.payments.models import PaymentOrder
    from rongshu.payments.types import PaymentRequest

    call_command("migrate", verbosity=0)
    ledger.do_create_chart_of_accounts(["CNY"])
    cash = ledger.get_chart_account("cash.CNY").public_id
    seconds = 2.0 if quick else 8.0  # per loop and cycle
    # ABBA cycles with 1 and with 8 clients: the 8-client ratio swings by ±10 % from one
    # 4-second phase to the next on a shared 2-core host, so it gets more of them
    # (docs/decisions/0006, ninth addendum)
    cycles_1c, cycles_8c = (1, 1) if quick else (2, 6)
    metrics: dict[str, Any] = {}

    def make_payers(n: int, tag: str) -> list[tuple[Principal, uuid.UUID]]:
        out = []
        for i in range(n):
            customer_id = uuid.uuid4()
            account = ledger.do_create_customer_account(
                owner_id=str(customer_id), name=f"bench {tag} {i}"
            ).public_id
            out.append((Principal(kind=PrincipalKind.CUSTOMER, customer_id=customer_id), account))
        ledger.do_create_transfers(
            [TransferIn(uuid.uuid4(), cash, a, 10**9, "CNY", "fund") for _, a in out]
        )
        return out

    payers = make_payers(CLIENTS * PAYERS_PER_CLIENT, "payer")
    payees = [a for _, a in make_payers(200, "payee")]

    def order_loop(client: int, duration: float, *, once: bool = False) -> list[float]:
        """Orders from this client's own payers (their limit rows are theirs) to any payee;
        ``once``: one order."""
        rnd = random.Random(100 + client)
        mine = payers[client * PAYERS_PER_CLIENT : (client + 1) * PAYERS_PER_CLIENT]
        latencies: list[float] = []
        end = time.perf_counter() + duration
        while once or time.perf_counter() < end:
            who, debit = rnd.choice(mine)
            request = PaymentRequest(
                debit_account_id=debit,
                amount=Money(rnd.randint(1, 100), "CNY"),
                payee_ledger_account_id=rnd.choice(payees),
                remittance_info="bench",
            )
            started = time.perf_counter()
            with transaction.atomic():
                view = services.do_create_payment(
                    who, request, channel="api", idempotency_key=str(new_id())
                )
            latencies.append(time.perf_counter() - started)
            assert view.state == "settled", view.state
            if once:
                break
        return latencies

    def ledger_loop(client: int, duration: float, *, once: bool = False) -> list[float]:
        """The same loop, one raw ledger transfer per transaction between the same accounts."""
        rnd = random.Random(200 + client)
        mine = payers[client * PAYERS_PER_CLIENT : (client + 1) * PAYERS_PER_CLIENT]
        latencies: list[float] = []
        end = time.perf_counter() + duration
        while once or time.perf_counter() < end:
            _, debit = rnd.choice(mine)
            item = TransferIn(
                new_id(), debit, rnd.choice(payees), rnd.randint(1, 100), "CNY", "bench"
            )
            started = time.perf_counter()
            with transaction.atomic():
                result = ledger.do_create_transfers([item])[0]
            latencies.append(time.perf_counter() - started)
            assert result.result == "created", result.result
            if once:
                break
        return latencies

    def in_clients(work: Any, clients: int) -> tuple[list[Any], float]:
        """Run ``work(client)`` in ``clients`` forked processes; their JSON results and wall."""
        connections.close_all()
        out = Path(tempfile.mkdtemp(prefix="rongshu-bench-payments-"))
        pids = []
        for k in range(clients):
            pid = os.fork()
            if pid == 0:  # a client
                code = 0
                try:
                    (out / f"{k}").write_text(json.dumps(work(k)))
                except BaseException:
                    import traceback

                    traceback.print_exc()
                    code = 1
                finally:
                    connections.close_all()
                    os._exit(code)
            pids.append(pid)
        started = time.perf_counter()
        failed = 0
        for pid in pids:
            _, status = os.waitpid(pid, 0)
            failed += status != 0
        wall = time.perf_counter() - started
        if failed:
            raise RuntimeError(f"{failed} benchmark clients failed")
        results = [json.loads((out / f"{k}").read_text()) for k in range(clients)]
        shutil.rmtree(out, ignore_errors=True)
        return results, wall

    def settle() -> None:
        """PostgreSQL: vacuum and analyse before a phase, as pgbench does before its run, so
        that no autovacuum round owed to an earlier phase's writes runs during this one."""
        if backend == "postgres":
            with connections["default"].cursor() as cursor:
                cursor.execute("VACUUM (ANALYZE)")
            connections.close_all()

    def phase(loop: Any, clients: int, duration: float) -> tuple[int, float, list[float]]:
        """Operations, wall seconds and latencies of one phase."""
        settle()
        if clients == 1:
            started = time.perf_counter()
            lat = loop(0, duration)
            return len(lat), time.perf_counter() - started, lat
        results, wall = in_clients(lambda k: loop(k, duration), clients)
        lat = [x for r in results for x in r]
        return len(lat), max(wall, duration), lat

    def rates(clients: int, cycles: int) -> tuple[float, float, list[float], list[float]]:
        """Transfers/s and orders/s with ``clients`` clients, the orders' latencies and the
        ratio of each cycle: ``cycles`` rounds of the two loops in ABBA order (transfers,
        orders, orders, transfers), each phase half the time, so that a drift of the host
        over the run weighs on both alike; the rates are the totals' (docs/decisions/0006,
        sixth addendum)."""
        done = {"ledger": [0, 0.0], "orders": [0, 0.0]}
        lat: list[float] = []
        by_cycle = []
        for _cycle in range(cycles):
            cycle = {"ledger": [0, 0.0], "orders": [0, 0.0]}
            for name in ("ledger", "orders", "orders", "ledger"):
                loop = ledger_loop if name == "ledger" else order_loop
                n, wall, phase_lat = phase(loop, clients, seconds / 2)
                for tally in (done, cycle):
                    tally[name][0] += n
                    tally[name][1] += wall
                if name == "orders":
                    lat += phase_lat
            by_cycle.append(
                round(
                    (cycle["orders"][0] / cycle["orders"][1])
                    / (cycle["ledger"][0] / cycle["ledger"][1]),
                    3,
                )
            )
        return (
            done["ledger"][0] / done["ledger"][1],
            done["orders"][0] / done["orders"][1],
            lat,
            by_cycle,
        )

    ledger_1c, orders_1c, lat, _ = rates(1, cycles_1c)
    ticks0 = cpu_ticks()
    ledger_8c, orders_8c, _, ratio_by_cycle = rates(CLIENTS, cycles_8c)
    ticks1 = cpu_ticks()
    if ticks0 is not None and ticks1 is not None and ticks1[1] > ticks0[1]:
        steal = (ticks1[0] - ticks0[0]) / (ticks1[1] - ticks0[1])
        metrics[f"steal_pct_{backend}_8c"] = round(100 * steal, 2)
    metrics[f"orders_per_s_{backend}_1c"] = round(orders_1c, 1)
    metrics[f"orders_per_s_{backend}_8c"] = round(orders_8c, 1)
    metrics[f"ledger_per_s_{backend}_1c"] = round(ledger_1c, 1)
    metrics[f"ledger_per_s_{backend}_8c"] = round(ledger_8c, 1)
    metrics[f"ratio_{backend}_1c"] = round(orders_1c / ledger_1c, 3)
    metrics[f"ratio_{backend}_8c"] = round(orders_8c / ledger_8c, 3)
    metrics[f"ratio_{backend}_8c_by_cycle"] = ratio_by_cycle
    metrics[f"p50_ms_{backend}"] = round(percentile(lat, 50) * 1000, 3)
    metrics[f"p99_ms_{backend}"] = round(percentile(lat, 99) * 1000, 3)

    # ---------------------------------------------------------------- CPU per order / transfer
    def one_loop(loop: Any, client: int) -> Any:
        """``loop`` cut to single steps: one order (transfer) per call, same accounts."""
        return lambda: loop(client, 0.0, once=True)

    def cpu_per(step: Any, n: int) -> tuple[float, float | None]:
        """Client and server (the backend process, from /proc) CPU µs per call of ``step``."""
        for _ in range(100):
            step()
        backend_pid = None
        if backend == "postgres":
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                backend_pid = int(cursor.fetchone()[0])
        server0 = _proc_cpu(backend_pid) if backend_pid else None
        client0 = time.process_time()
        for _ in range(n):
            step()
        client = (time.process_time() - client0) / n * 1e6
        server1 = _proc_cpu(backend_pid) if backend_pid else None
        server = None
        if server0 is not None and server1 is not None:
            server = (server1 - server0) / n * 1e6
        return client, server

    n_cpu = 300 if quick else 2000
    for name, loop in (("order", order_loop), ("transfer", ledger_loop)):
        client_us, server_us = cpu_per(one_loop(loop, 0), n_cpu)
        metrics[f"cpu_us_per_{name}_client_{backend}"] = round(client_us, 1)
        if server_us is not None:
            metrics[f"cpu_us_per_{name}_server_{backend}"] = round(server_us, 1)
    with CaptureQueriesContext(connections["default"]) as captured:
        order_loop(0, 0.0, once=True)
    metrics[f"statements_per_order_{backend}"] = len(captured)  # with BEGIN and COMMIT
    with CaptureQueriesContext(connections["default"]) as captured:
        ledger_loop(0, 0.0, once=True)
    metrics[f"statements_per_transfer_{backend}"] = len(captured)

    # ---------------------------------------------------------------- the API, end to end
    # Registered customers with app tokens, each client its own two, and ``rongshu serve``
    # (gunicorn, its default 2 workers × 4 threads) on this database; each client keeps one
    # HTTP/1.1 connection and POSTs /api/v1/payments/orders with a fresh Idempotency-Key.
    api_users = _api_customers(CLIENTS * 2)
    ledger.do_create_transfers(
        [TransferIn(uuid.uuid4(), cash, uuid.UUID(a), 10**9, "CNY", "fund") for _, a in api_users]
    )
    api_payees = [str(a) for a in payees]
    connections.close_all()
    port = free_port()
    command = [str(Path(sys.executable).with_name("rongshu")), "serve", "--port", str(port)]
    with serving(command, port, timeout=120):

        def post_order(
            http: HTTPConnection,
            user: tuple[str, str],
            payee: str,
            amount: str,
            key: str,
            note: str,
        ) -> tuple[int, bytes]:
            """POST one order as ``user`` (token, debit account): the status and the body."""
            token, debit = user
            body = json.dumps(
                {
                    "debit_account_id": debit,
                    "amount": amount,
                    "payee_account_id": payee,
                    "remittance_info": note,
                }
            )
            headers = {
                "Authorization": f"Bearer {token}",
                "Idempotency-Key": key,
                "Content-Type": "application/json",
            }
            http.request("POST", "/api/v1/payments/orders", body=body, headers=headers)
            response = http.getresponse()
            return response.status, response.read()

        def api_loop(client: int, duration: float, clients: int) -> list[float]:
            rnd = random.Random(300 + client)
            mine = api_users[client::clients]
            http = HTTPConnection("127.0.0.1", port, timeout=60)
            latencies: list[float] = []
            end = time.perf_counter() + duration
            warm = 5
            while warm or time.perf_counter() < end:
                user, payee = rnd.choice(mine), rnd.choice(api_payees)
                amount = f"0.{rnd.randint(1, 99):02d}"
                started = time.perf_counter()
                status, answer = post_order(http, user, payee, amount, uuid.uuid4().hex, "bench")
                if status != 201:
                    raise RuntimeError(f"{status}: {answer[:300]!r}")
                if warm:
                    warm -= 1
                    end = time.perf_counter() + duration
                else:
                    latencies.append(time.perf_counter() - started)
            http.close()
            return latencies

        before = PaymentOrder.objects.count()
        connections.close_all()
        settle()
        api_1c = api_loop(0, seconds / 2, 1)
        settle()
        results, wall = in_clients(lambda k: api_loop(k, seconds, CLIENTS), CLIENTS)
        api_8c = [x for r in results for x in r]
        created = PaymentOrder.objects.count() - before
        connections.close_all()

        # The duplicate storm through the API: every key sent R times, its copies side by
        # side in the plan, so that the 8 clients send them at the same moment; a key is
        # one customer's (its token) with one body. A 409 (the first is still in flight) is
        # sent again after a pause, as a client would.
        storm_keys, storm_repeats = (50, 10) if quick else (100, 10)
        storm_plan = [k for k in range(storm_keys) for _ in range(storm_repeats)]

        def api_storm(client: int) -> dict[str, Any]:
            http = HTTPConnection("127.0.0.1", port, timeout=60)
            answers: dict[str, list[str]] = {}
            in_flight = 0
            for k in storm_plan[client::CLIENTS]:
                user, payee = api_users[k % len(api_users)], api_payees[k % len(api_payees)]
                while True:
                    status, answer = post_order(
                        http, user, payee, f"1.{k % 100:02d}", f"api-storm-{k}", f"api storm {k}"
                    )
                    if status == 409:
                        in_flight += 1
                        time.sleep(0.05)
                        continue
                    if status != 201:
                        raise RuntimeError(f"{status}: {answer[:300]!r}")
                    answers.setdefault(str(k), []).append(json.loads(answer)["id"])
                    break
            http.close()
            return {"answers": answers, "in_flight": in_flight}

        storm_results, _ = in_clients(api_storm, CLIENTS)
    answered = len(api_1c) + len(api_8c) + 5 * (1 + CLIENTS)
    if created != answered:
        raise RuntimeError(f"{answered} orders answered 201, {created} stored")
    metrics[f"api_orders_per_s_{backend}_1c"] = round(len(api_1c) / sum(api_1c), 1)
    metrics[f"api_orders_per_s_{backend}_8c"] = round(len(api_8c) / max(wall, seconds), 1)
    metrics[f"api_p50_ms_{backend}"] = round(percentile(api_1c, 50) * 1000, 3)
    metrics[f"api_p99_ms_{backend}"] = round(percentile(api_1c, 99) * 1000, 3)
    metrics[f"api_vs_ledger_{backend}_8c"] = round(
        metrics[f"api_orders_per_s_{backend}_8c"] / ledger_8c, 3
    )
    ids_per_key: dict[str, set[str]] = {}
    for result in storm_results:
        for k, ids in result["answers"].items():
            ids_per_key.setdefault(k, set()).update(ids)
    stored = PaymentOrder.objects.filter(idempotency_key__startswith="api-storm-")
    settled = Transfer.objects.filter(
        transfer_id__in=stored.values_list("settle_transfer_id", flat=True)
    ).count()
    metrics[f"api_storm_submissions_{backend}"] = len(storm_plan)
    metrics[f"api_storm_in_flight_{backend}"] = sum(r["in_flight"] for r in storm_results)
    metrics[f"api_duplicates_applied_{backend}"] = max(stored.count(), settled) - storm_keys
    metrics[f"api_storm_missing_{backend}"] = max(0, storm_keys - settled)
    metrics[f"api_storm_answers_differ_{backend}"] = sum(
        len(ids) != 1 for ids in ids_per_key.values()
    ) + (storm_keys - len(ids_per_key))

    # ---------------------------------------------------------------- duplicate storm
    keys, repeats = (100, 10) if quick else (100, 20)
    storm = make_payers(keys, "storm")
    storm_accounts = [a for _, a in storm]
    plan = [k for k in range(keys) for _ in range(repeats)]
    random.Random(7).shuffle(plan)

    def storm_client(client: int) -> dict[str, int]:
        counts = {"answered": 0, "refused": 0}
        for k in plan[client::CLIENTS]:
            who, debit = storm[k]
            request = PaymentRequest(
                debit_account_id=debit,
                amount=Money(100 + k, "CNY"),
                payee_ledger_account_id=payees[k % len(payees)],
                remittance_info=f"storm {k}",
            )
            try:
                with transaction.atomic():
                    services.do_create_payment(
                        who, request, channel="api", idempotency_key=f"storm-{k}"
                    )
                counts["answered"] += 1
            except Exception:  # a refusal is allowed; paying twice is not
                counts["refused"] += 1
        return counts

    results, _ = in_clients(storm_client, CLIENTS)
    applied = Transfer.objects.filter(debit_account__public_id__in=storm_accounts).exclude(
        code="fund"
    )
    per_key = applied.count()
    metrics[f"storm_submissions_{backend}"] = len(plan)
    metrics[f"storm_refused_{backend}"] = sum(r["refused"] for r in results)
    metrics[f"duplicates_applied_{backend}"] = per_key - keys
    metrics[f"storm_missing_{backend}"] = max(0, keys - per_key)
    tb = ledger_queries.get_trial_balance()
    assert tb.balanced, tb.difference
    return metrics


def _api_customers(n: int) -> list[tuple[str, str]]:
    """``n`` customers registered through identity (the SMS simulator without faults), each
    with an app access token and a deposit account: (token, ledger account id)."""
    from django.conf import settings
    from stdnum.cn import ric

    from rongshu.identity import services as identity
    from rongshu.ledger import services as ledger

    settings.RONGSHU_SMS_SIMULATOR = {"failure_rate": 0.0, "min_delay_ms": 0, "max_delay_ms": 0}
    out = []
    for i in range(n):
        phone = f"137{i:08d}"
        body = f"11010519900101{i:03d}"
        challenge = identity.do_start_registration(phone)
        registered = identity.do_register_customer(
            challenge_id=str(challenge.challenge_id),
            code=identity.latest_code(phone) or "",
            password="bench-password-1",  # noqa: S106
            real_name="测试",
            resident_id=body + ric.calc_check_digit(body + "0"),
        )
        token = identity.do_issue_app_tokens(registered.user_id, device_key=f"bench-api-{i:04d}")
        account = ledger.do_create_customer_account(
            owner_id=str(registered.customer_id), name=f"bench api {i}"
        )
        out.append((token.access_token, str(account.public_id)))
    return out


def _proc_cpu(pid: int) -> float | None:
    """User + system CPU seconds of a process (None: not on this host)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ====================================================================== parent: orchestration
def main() -> None:
    if child_main(_child):
        return
    args = parse_args(__doc__ or "payments benchmark")
    started = time.perf_counter()
    metrics, pg = run_on_both_databases(__file__, "payments", args.quick)
    if pg is not None:  # the issue's figure: through the API, end to end
        metrics["orders_per_s_8c_postgres"] = metrics["api_orders_per_s_postgres_8c"]
    metrics["orders_per_s_1c_sqlite"] = metrics["orders_per_s_sqlite_1c"]
    main_db = "postgres" if pg is not None else "sqlite"
    metrics["p50_ms"] = metrics[f"p50_ms_{main_db}"]
    metrics["p99_ms"] = metrics[f"p99_ms_{main_db}"]
    metrics["latency_database"] = main_db
    metrics["overhead_vs_ledger_ratio"] = (
        metrics["ratio_postgres_8c"] if pg is not None else metrics["ratio_sqlite_1c"]
    )
    metrics["duplicates_applied"] = sum(
        metrics[f"{path}duplicates_applied_{db}"]
        for db in ("sqlite", "postgres")
        if pg or db == "sqlite"
        for path in ("", "api_")
    )
    metrics["wall_s"] = round(time.perf_counter() - started, 1)
    report("payments", metrics, quick=args.quick)


if __name__ == "__main__":
    main()
