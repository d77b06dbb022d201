"""Hypothesis stateful test: random transfers, holds, posts, voids, expiries, linked chains and
replays against a simple model of the ledger.

Invariants after every step: each currency's debits equal its credits (posted and pending);
no constrained account breaks its constraint; every account's four totals equal the model's
(so pending amounts are released exactly); a replay changes nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from rongshu.kernel import clock
from rongshu.ledger import queries, services
from rongshu.ledger.models import Account
from rongshu.ledger.types import TransferIn
from tests.ledger.conftest import make_account, make_bank_account

T0 = dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)


@dataclass
class ModelAccount:
    pk: int
    public_id: uuid.UUID
    currency: str
    dmnec: bool
    cmned: bool
    dp: int = 0
    dpo: int = 0
    cp: int = 0
    cpo: int = 0


@dataclass
class ModelHold:
    debit: int
    credit: int
    amount: int
    expires_at: dt.datetime | None
    state: str = "pending"


@dataclass
class Model:
    accounts: list[ModelAccount] = field(default_factory=list)
    holds: dict[uuid.UUID, ModelHold] = field(default_factory=dict)
    done: dict[uuid.UUID, TransferIn] = field(default_factory=dict)


class LedgerMachine(RuleBasedStateMachine):
    holds = Bundle("holds")
    submitted = Bundle("submitted")

    def __init__(self) -> None:
        super().__init__()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.now = T0
        self.model = Model()

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    # ------------------------------------------------------------------ set-up
    @initialize()
    def open_accounts(self) -> None:
        specs = [
            make_bank_account(currency="CNY"),
            make_bank_account(currency="USD"),
            make_account(currency="CNY"),
            make_account(currency="CNY"),
            make_account(currency="CNY", overdraft_limit=300),
            make_account(
                currency="CNY",
                kind=Account.ASSET,
                debits_must_not_exceed_credits=False,
                credits_must_not_exceed_debits=True,
            ),
            make_account(currency="USD"),
        ]
        for a in specs:
            self.model.accounts.append(
                ModelAccount(
                    a.pk,
                    a.public_id,
                    a.currency,
                    a.debits_must_not_exceed_credits,
                    a.credits_must_not_exceed_debits,
                )
            )

    def _acc(self, index: int) -> ModelAccount:
        return self.model.accounts[index % len(self.model.accounts)]

    def _submit(self, items: list[TransferIn]) -> list[str]:
        with clock.frozen_time(self.now):
            return [r.result for r in services.do_create_transfers(items)]

    # ------------------------------------------------------------------ rules
    @rule(
        target=submitted,
        d=st.integers(0, 6),
        c=st.integers(0, 6),
        amount=st.integers(1, 2000),
        pending=st.booleans(),
        timeout=st.sampled_from([0, 0, 30, 120]),
    )
    def transfer(self, d: int, c: int, amount: int, pending: bool, timeout: int) -> TransferIn:
        dr, cr = self._acc(d), self._acc(c)
        item = TransferIn(
            transfer_id=uuid.uuid4(),
            debit_account=dr.public_id,
            credit_account=cr.public_id,
            amount=amount,
            currency=dr.currency,
            code="test",
            kind="pending" if pending else "single",
            timeout=timeout if pending else 0,
        )
        expected = self._expect_new(item, dr, cr)
        assert self._submit([item]) == [expected]
        return item

    def _expect_new(self, item: TransferIn, dr: ModelAccount, cr: ModelAccount) -> str:
        assert item.amount is not None
        if dr.pk == cr.pk:
            return "accounts_must_be_different"
        if dr.currency != cr.currency:
            return "currency_mismatch"
        if not self._debit_side_ok(dr, item.amount):
            return "exceeds_credits"
        if not self._credit_ok(cr, item.amount):
            return "exceeds_debits"
        self._apply_new(item, dr, cr)
        return "created"

    def _debit_side_ok(self, dr: ModelAccount, amount: int) -> bool:
        overdraft = 300 if dr.pk == self.model.accounts[4].pk else 0
        return not (dr.dmnec and dr.dp + dr.dpo + amount > dr.cpo + overdraft)

    def _credit_ok(self, cr: ModelAccount, amount: int) -> bool:
        return not (cr.cmned and cr.cp + cr.cpo + amount > cr.dpo)

    def _apply_new(self, item: TransferIn, dr: ModelAccount, cr: ModelAccount) -> None:
        assert item.amount is not None
        if item.kind == "pending":
            dr.dp += item.amount
            cr.cp += item.amount
            expires = self.now + dt.timedelta(seconds=item.timeout) if item.timeout else None
            self.model.holds[item.transfer_id] = ModelHold(dr.pk, cr.pk, item.amount, expires)
        else:
            dr.dpo += item.amount
            cr.cpo += item.amount
        self.model.done[item.transfer_id] = item

    @rule(target=holds, item=submitted)
    def remember_hold(self, item: TransferIn) -> uuid.UUID:
        return item.transfer_id  # any id: a single transfer or a refused one tests the errors

    @rule(
        target=holds,
        d=st.sampled_from([0, 2, 3, 4]),
        c=st.sampled_from([0, 2, 3, 5]),
        amount=st.integers(1, 500),
        timeout=st.sampled_from([0, 30, 120]),
    )
    def hold(self, d: int, c: int, amount: int, timeout: int) -> uuid.UUID:
        dr, cr = self._acc(d), self._acc(c)
        item = TransferIn(
            transfer_id=uuid.uuid4(),
            debit_account=dr.public_id,
            credit_account=cr.public_id,
            amount=amount,
            currency="CNY",
            code="test",
            kind="pending",
            timeout=timeout,
        )
        assert self._submit([item]) == [self._expect_new(item, dr, cr)]
        return item.transfer_id

    @rule(hold_id=holds, post=st.booleans(), fraction=st.sampled_from([None, 1, 2, 3]))
    def resolve(self, hold_id: uuid.UUID, post: bool, fraction: int | None) -> None:
        hold = self.model.holds.get(hold_id)
        amount = None
        if hold is not None and post and fraction is not None:
            amount = max(1, hold.amount // fraction)
        item = TransferIn(
            transfer_id=uuid.uuid4(),
            debit_account=None,
            credit_account=None,
            amount=amount,
            currency=self._currency_of(hold_id),
            code="test",
            kind="post" if post else "void",
            pending_id=hold_id,
        )
        expected = self._expect_resolve(item)
        assert self._submit([item]) == [expected]

    def _currency_of(self, hold_id: uuid.UUID) -> str:
        hold = self.model.holds.get(hold_id)
        if hold is None:
            return "CNY"
        return next(a.currency for a in self.model.accounts if a.pk == hold.debit)

    def _expect_resolve(self, item: TransferIn) -> str:
        assert item.pending_id is not None
        hold = self.model.holds.get(item.pending_id)
        if hold is None:
            if item.pending_id in self.model.done:
                return "pending_transfer_not_pending"
            return "pending_transfer_not_found"
        if hold.state == "posted":
            return "pending_transfer_already_posted"
        if hold.state == "voided":
            return "pending_transfer_already_voided"
        if hold.state == "expired" or (hold.expires_at is not None and hold.expires_at <= self.now):
            return "pending_transfer_expired"
        dr = next(a for a in self.model.accounts if a.pk == hold.debit)
        cr = next(a for a in self.model.accounts if a.pk == hold.credit)
        amount = hold.amount if item.amount is None else item.amount
        dr.dp -= hold.amount
        cr.cp -= hold.amount
        if item.kind == "post":
            dr.dpo += amount
            cr.cpo += amount
            hold.state = "posted"
        else:
            hold.state = "voided"
        self.model.done[item.transfer_id] = item
        return "created"

    @rule(seconds=st.integers(1, 90))
    def time_passes(self, seconds: int) -> None:
        self.now += dt.timedelta(seconds=seconds)

    @rule()
    def expire(self) -> None:
        expected = 0
        for hold in self.model.holds.values():
            if (
                hold.state == "pending"
                and hold.expires_at is not None
                and hold.expires_at <= self.now
            ):
                dr = next(a for a in self.model.accounts if a.pk == hold.debit)
                cr = next(a for a in self.model.accounts if a.pk == hold.credit)
                dr.dp -= hold.amount
                cr.cp -= hold.amount
                hold.state = "expired"
                expected += 1
        with clock.frozen_time(self.now):
            assert services.do_expire_holds() == expected

    @rule(item=submitted)
    def replay(self, item: TransferIn) -> None:
        if item.transfer_id not in self.model.done:
            return  # a refused transfer is not stored; retrying it is a new attempt
        before = self._snapshot()
        assert self._submit([item]) == ["exists"]
        assert self._snapshot() == before

    @rule(d=st.integers(0, 6), c=st.integers(0, 6), a1=st.integers(1, 900), a2=st.integers(1, 900))
    def linked_pair(self, d: int, c: int, a1: int, a2: int) -> None:
        dr, cr = self._acc(d), self._acc(c)
        fee = self.model.accounts[0] if dr.currency == "CNY" else self.model.accounts[1]
        first = TransferIn(
            uuid.uuid4(), dr.public_id, cr.public_id, a1, dr.currency, "pay", linked=True
        )
        second = TransferIn(uuid.uuid4(), dr.public_id, fee.public_id, a2, dr.currency, "fee")
        before = self._model_state()
        r1 = self._expect_new(first, dr, cr)
        r2 = self._expect_new(second, dr, fee) if r1 == "created" else "not_run"
        got = self._submit([first, second])
        if r1 == "created" and r2 == "created":
            assert got == ["created", "created"]
            return
        # The chain failed: the ledger keeps neither, so neither does the model.
        for a, (dp, dpo, cp, cpo) in zip(self.model.accounts, before, strict=True):
            a.dp, a.dpo, a.cp, a.cpo = dp, dpo, cp, cpo
        self.model.done.pop(first.transfer_id, None)
        if r1 != "created":
            assert got == [r1, "linked_event_failed"]
        else:
            assert got == ["linked_event_failed", r2]

    def _model_state(self) -> list[tuple[int, int, int, int]]:
        return [(a.dp, a.dpo, a.cp, a.cpo) for a in self.model.accounts]

    def _snapshot(self) -> list[tuple[int, int, int, int]]:
        pks = [a.pk for a in self.model.accounts]
        rows = {
            r[0]: r[1:]
            for r in Account.objects.filter(pk__in=pks).values_list(
                "pk", "debits_pending", "debits_posted", "credits_pending", "credits_posted"
            )
        }
        return [rows[pk] for pk in pks]

    # ------------------------------------------------------------------ invariants
    @invariant()
    def books_balance(self) -> None:
        if not self.model.accounts:
            return
        assert queries.get_trial_balance().balanced
        for cur, (debits, credits) in queries.get_pending_totals().items():
            assert debits == credits, cur

    @invariant()
    def matches_model_and_constraints(self) -> None:
        if not self.model.accounts:
            return
        assert self._snapshot() == self._model_state()
        for a in Account.objects.filter(pk__in=[m.pk for m in self.model.accounts]):
            if a.debits_must_not_exceed_credits:
                assert a.debits_pending + a.debits_posted <= a.credits_posted + a.overdraft_limit
            if a.credits_must_not_exceed_debits:
                assert a.credits_pending + a.credits_posted <= a.debits_posted


@pytest.mark.django_db
def test_ledger_state_machine() -> None:
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=100,
            database=None,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
