"""Many writers at once: ≥ 8 processes, ≥ 20,000 random transfers among 100 accounts, with
overdraft attempts, holds, linked chains and duplicate ids racing in different processes.

Invariants: the books balance, constraints hold, every account's totals equal its transfers,
and each id is applied exactly once however many processes submitted it. A deadlock would
surface as an error in a worker (PostgreSQL aborts one of the transactions) and fail the test.
"""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter
from pathlib import Path

import pytest
from django.db import transaction

from rongshu.ledger import services
from rongshu.ledger.models import Account, Transfer
from rongshu.ledger.types import TransferIn
from tests.conftest import on_postgres
from tests.ledger._procs import start
from tests.ledger.conftest import make_account, make_bank_account
from tests.ledger.invariants import assert_ledger_consistent


def _plan(
    accounts: list[uuid.UUID], banks: int, total: int, workers: int, seed: int
) -> list[list[list[TransferIn]]]:
    """Per worker, a list of batches (1–12 items). ~5% of items are exact duplicates of an
    item given to another worker; ~5% are linked pairs; ~5% holds later posted or voided."""
    rnd = random.Random(seed)
    items: list[TransferIn] = []
    holds: list[TransferIn] = []
    while len(items) < total:
        roll = rnd.random()
        d, c = rnd.sample(range(len(accounts)), 2)
        amount = rnd.choice([rnd.randint(1, 500), rnd.randint(1, 500), rnd.randint(1, 20_000)])
        if roll < 0.05 and holds:
            hold = holds.pop(rnd.randrange(len(holds)))
            kind = rnd.choice(["post", "void"])
            items.append(
                TransferIn(
                    uuid.uuid4(),
                    None,
                    None,
                    None,
                    "CNY",
                    "c",
                    kind=kind,
                    pending_id=hold.transfer_id,
                )
            )
            continue
        kind = "pending" if roll < 0.10 else "single"
        item = TransferIn(
            uuid.uuid4(),
            accounts[d],
            accounts[c],
            amount,
            "CNY",
            "c",
            kind=kind,
            linked=0.10 <= roll < 0.15,
        )
        items.append(item)
        if kind == "pending":
            holds.append(item)
    if items[-1].linked:
        items.append(TransferIn(uuid.uuid4(), accounts[0], accounts[1], 1, "CNY", "c"))
    per_worker: list[list[TransferIn]] = [[] for _ in range(workers)]
    for index, item in enumerate(items):
        per_worker[(index // 40) % workers].append(item)  # runs of 40 keep chains together
    # duplicates: copy items to a different worker, at a random place
    for _ in range(total // 20):
        src = rnd.randrange(workers)
        if not per_worker[src]:
            continue
        item = rnd.choice(per_worker[src])
        dst = (src + rnd.randrange(1, workers)) % workers
        per_worker[dst].insert(
            rnd.randrange(len(per_worker[dst]) + 1),
            TransferIn(**{**item.__dict__, "linked": False}),
        )
    plans = []
    for work in per_worker:
        batches, i = [], 0
        while i < len(work):
            size = rnd.randint(1, 12)
            batch = work[i : i + size]
            while batch[-1].linked and i + len(batch) < len(work):
                batch.append(work[i + len(batch)])
            batches.append(batch)
            i += len(batch)
        plans.append(batches)
    return plans


def _work(batches: list[list[TransferIn]], out: str) -> None:
    seen: list[tuple[str, str]] = []
    for batch in batches:
        with transaction.atomic():
            results = services.do_create_transfers(batch)
        seen.extend((str(r.transfer_id), r.result) for r in results)
    Path(out).write_text(json.dumps(seen))


def _run(tmp_path: Path, *, workers: int, total: int, n_accounts: int) -> None:
    services.do_create_chart_of_accounts()
    banks = [make_bank_account() for _ in range(5)]
    customers = [
        make_account(overdraft_limit=(1000 if i % 10 == 0 else 0)) for i in range(n_accounts - 5)
    ]
    funding = [
        TransferIn(uuid.uuid4(), banks[i % 5].public_id, c.public_id, 20_000, "CNY", "fund")
        for i, c in enumerate(customers)
    ]
    assert all(r.ok for r in services.do_create_transfers(funding))
    ids = [a.public_id for a in banks + customers]
    plans = _plan(ids, len(banks), total, workers, seed=20261129)
    outs = [str(tmp_path / f"w{i}.json") for i in range(workers)]
    procs = [start(_work, plan, out) for plan, out in zip(plans, outs, strict=True)]
    for p in procs:
        p.join(timeout=600)
        assert p.exitcode == 0, "a worker failed (see its traceback above)"
    created: Counter[str] = Counter()
    answers: dict[str, set[str]] = {}
    for out in outs:
        for tid, result in json.loads(Path(out).read_text()):
            if result == "created":
                created[tid] += 1
            answers.setdefault(tid, set()).add(result)
    assert sum(len(p) and sum(len(b) for b in p) for p in plans) >= total
    # each id applied at most once, and exactly the applied ids are stored
    assert max(created.values()) == 1
    stored = {
        str(t) for t in Transfer.objects.exclude(code="fund").values_list("transfer_id", flat=True)
    }
    assert stored == set(created)
    duplicated = [tid for tid, res in answers.items() if "exists" in res]
    assert duplicated, "the plan must make duplicates race"
    for tid in duplicated:
        assert created[tid] == 1
    refusals = Counter(r for res in answers.values() for r in res if r not in ("created", "exists"))
    assert refusals["exceeds_credits"] > 0, "the plan must include overdraft attempts"
    assert_ledger_consistent()
    assert Account.objects.count() >= n_accounts


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_many_writers_postgres(tmp_path: Path) -> None:
    if not on_postgres():
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://…)")
    _run(tmp_path, workers=8, total=20_000, n_accounts=100)


@pytest.mark.django_db(transaction=True)
def test_many_writers_small(tmp_path: Path) -> None:
    """The same race on whatever database is configured (SQLite: one writer at a time)."""
    _run(tmp_path, workers=4, total=2_000, n_accounts=30)
