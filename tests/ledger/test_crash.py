"""Crash safety: a worker writing batches is killed with SIGKILL at random moments, again and
again, mostly while a batch transaction is open. No batch may be half there, and the totals
must agree with the transfers after every restart (on whatever database is configured)."""

from __future__ import annotations

import os
import random
import signal
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from django.db import transaction

from rongshu.ledger import services
from rongshu.ledger.models import Transfer
from rongshu.ledger.types import TransferIn
from tests.ledger._procs import CTX, start
from tests.ledger.conftest import make_account, make_bank_account
from tests.ledger.invariants import assert_ledger_consistent

BATCH = 400
KILLS = 24


def _writer(
    run: int, sources: list[uuid.UUID], sinks: list[uuid.UUID], in_batch: object, committed_log: str
) -> None:
    rnd = random.Random(run)
    n = 0
    while True:
        n += 1
        tag = f"crash-{run}-{n}"
        items = [
            TransferIn(
                uuid.uuid4(),
                rnd.choice(sources),
                rnd.choice(sinks),
                rnd.randint(1, 10_000),
                "CNY",
                "crash",
                reference=tag,
                linked=rnd.random() < 0.2,
            )
            for _ in range(BATCH - 1)
        ]
        items.append(
            TransferIn(uuid.uuid4(), sources[0], sinks[0], 1, "CNY", "crash", reference=tag)
        )
        with transaction.atomic():
            in_batch.value += 1  # type: ignore[attr-defined]
            results = services.do_create_transfers(items)
            assert all(r.result == "created" for r in results)
        in_batch.value += 1  # type: ignore[attr-defined]  # even: between batches
        with open(committed_log, "a") as log:
            log.write(tag + "\n")


@pytest.mark.django_db(transaction=True)
def test_sigkill_mid_batch_leaves_no_partial_batch(tmp_path: Path) -> None:
    sources = [make_bank_account().public_id for _ in range(3)]
    sinks = [make_account().public_id for _ in range(12)] + [make_bank_account().public_id]
    committed_log = str(tmp_path / "committed.log")
    rnd = random.Random(7)
    killed_in_batch = 0
    for run in range(KILLS):
        flag = CTX.Value("i", 0, lock=False)
        proc = start(_writer, run, sources, sinks, flag, committed_log)
        # wait until the worker has committed one batch and is inside the next, then kill it
        # a moment later (the counter is odd while a batch transaction is open)
        deadline = time.monotonic() + 30
        while flag.value < 3 and time.monotonic() < deadline and proc.is_alive():
            time.sleep(0.0005)
        time.sleep(rnd.uniform(0, 0.02))
        if flag.value % 2 == 0 and proc.is_alive():
            # between two batches (building the next one's items): a batch of 400 takes only
            # a few ms now, so wait for the next transaction to open and kill at a random
            # moment early in it
            soon = time.monotonic() + 1
            while flag.value % 2 == 0 and time.monotonic() < soon and proc.is_alive():
                time.sleep(0.0002)
            time.sleep(rnd.uniform(0, 0.003))
        if flag.value % 2 == 1:
            killed_in_batch += 1
        os.kill(proc.pid, signal.SIGKILL)
        proc.join(timeout=30)
        assert proc.exitcode == -signal.SIGKILL, "the worker must have been killed, not failed"
        # after every crash: nothing partial, totals consistent
        sizes = Counter(Transfer.objects.filter(code="crash").values_list("reference", flat=True))
        assert set(sizes.values()) <= {BATCH}, "a batch was partly written"
        assert_ledger_consistent()
    assert killed_in_batch >= 20
    stored = set(Transfer.objects.filter(code="crash").values_list("reference", flat=True))
    logged = set(Path(committed_log).read_text().split()) if Path(committed_log).exists() else set()
    assert logged <= stored, "a batch reported committed was lost"
    assert len(stored) >= KILLS  # every run committed at least its first batch
