"""Transfers: single, two-phase, linked, batches, idempotency, constraints and statuses."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from rongshu.kernel import clock
from rongshu.kernel.audit import verify_chain
from rongshu.kernel.models import AuditEntry, OutboxEvent
from rongshu.ledger import queries, services
from rongshu.ledger.errors import (
    AccountBalanceNotZero,
    AccountSpecInvalid,
    AccountStatusInvalid,
    BatchTooLarge,
    TransferRefused,
)
from rongshu.ledger.events import iter_transfers
from rongshu.ledger.models import INT64_MAX, Account, Hold, Transfer
from rongshu.ledger.types import MAX_BATCH
from tests.ledger.conftest import fresh, make_account, make_bank_account, tr

pytestmark = pytest.mark.django_db


def results(items: list) -> list[str]:  # type: ignore[type-arg]
    return [r.result for r in services.do_create_transfers(items)]


def funded(bank: Account, amount: int = 10_000, **kw: object) -> Account:
    account = make_account(**kw)
    assert results([tr(bank, account, amount)]) == ["created"]
    return account


class TestSingle:
    def test_moves_posted_balances_on_both_sides(self, bank: Account) -> None:
        a = make_account()
        out = services.do_create_transfer(tr(bank, a, 1234, reference="salary"))
        assert out.amount == 1234 and out.kind == "single"
        a, b = fresh(a), fresh(bank)
        assert (a.credits_posted, a.debits_posted, a.posted_balance) == (1234, 0, 1234)
        assert (b.debits_posted, b.credits_posted, b.posted_balance) == (1234, 0, 1234)
        row = Transfer.objects.get(transfer_id=out.transfer_id)
        assert row.credit_account_net_after == 1234
        assert row.debit_account_net_after == -1234

    def test_insufficient_funds_refused_and_nothing_written(self, bank: Account) -> None:
        a = funded(bank, 500)
        c = make_account()
        with pytest.raises(TransferRefused) as err:
            services.do_create_transfer(tr(a, c, 501))
        assert err.value.code == "exceeds_credits"
        assert err.value.status == 422
        assert fresh(a).debits_posted == 0
        assert Transfer.objects.filter(debit_account=a).count() == 0

    def test_exact_balance_can_be_spent(self, bank: Account) -> None:
        a = funded(bank, 500)
        assert results([tr(a, make_account(), 500)]) == ["created"]
        assert fresh(a).posted_balance == 0

    def test_overdraft_limit(self, bank: Account) -> None:
        a = funded(bank, 100, overdraft_limit=50)
        c = make_account()
        assert results([tr(a, c, 151)]) == ["exceeds_credits"]
        assert results([tr(a, c, 150)]) == ["created"]
        assert fresh(a).posted_balance == -50

    def test_credits_must_not_exceed_debits(self, bank: Account) -> None:
        loan = make_account(
            kind=Account.ASSET,
            debits_must_not_exceed_credits=False,
            credits_must_not_exceed_debits=True,
        )
        customer = funded(bank, 1000)
        assert results([tr(loan, customer, 300)]) == ["created"]  # disbursement
        assert results([tr(customer, loan, 301)]) == ["exceeds_debits"]  # over-repayment
        assert results([tr(customer, loan, 300)]) == ["created"]

    @pytest.mark.parametrize(
        ("amount", "code"),
        [
            (0, "amount_must_be_positive"),
            (-5, "amount_must_be_positive"),
            (INT64_MAX + 1, "amount_out_of_range"),
        ],
    )
    def test_bad_amounts(self, bank: Account, amount: int, code: str) -> None:
        assert results([tr(bank, make_account(), amount)]) == [code]

    def test_overflow_is_refused(self) -> None:
        a = make_bank_account()
        b = make_bank_account()
        assert results([tr(a, b, INT64_MAX)]) == ["created"]
        assert results([tr(a, b, 1)]) == ["overflows_debits"]

    def test_same_account_unknown_account_currency(self, bank: Account) -> None:
        a = make_account()
        usd = make_account(currency="USD")
        ghost = make_account()
        ghost_id = ghost.public_id
        Account.objects.filter(pk=ghost.pk).delete()
        assert results([tr(a, a, 1)]) == ["accounts_must_be_different"]
        assert results([tr(bank, usd, 1)]) == ["currency_mismatch"]
        assert results([tr(bank, a, 1, currency="USD")]) == ["currency_mismatch"]
        assert results([tr(bank, a, 1, currency="XXZ")]) == ["invalid_currency"]
        item = tr(bank, a, 1)
        ghost_item = tr(bank, None, 1, credit_account=ghost_id)
        assert results([ghost_item]) == ["credit_account_not_found"]
        assert results([tr(None, a, 1, debit_account=ghost_id)]) == ["debit_account_not_found"]
        assert results([item]) == ["created"]

    def test_timeout_only_on_pending(self, bank: Account) -> None:
        assert results([tr(bank, make_account(), 1, timeout=5)]) == [
            "timeout_reserved_for_pending_transfer"
        ]

    def test_event_recorded_with_the_transfer(self, bank: Account) -> None:
        before = OutboxEvent.objects.filter(event_type="ledger.TransfersPosted").count()
        out = services.do_create_transfer(tr(bank, make_account(), 7))
        event = OutboxEvent.objects.filter(event_type="ledger.TransfersPosted").last()
        assert OutboxEvent.objects.filter(event_type="ledger.TransfersPosted").count() == before + 1
        assert event is not None
        (item,) = list(iter_transfers(event.payload))
        assert item["id"] == str(out.transfer_id)
        assert (item["amount"], item["kind"], item["currency"]) == (7, "single", "CNY")


class TestIdempotency:
    def test_replay_returns_original_and_changes_nothing(self, bank: Account) -> None:
        a = make_account()
        item = tr(bank, a, 100, metadata={"k": "v"})
        first = services.do_create_transfers([item])[0]
        again = services.do_create_transfers([item])[0]
        assert (first.result, again.result) == ("created", "exists")
        assert again.transfer == first.transfer
        assert fresh(a).credits_posted == 100
        assert Transfer.objects.filter(transfer_id=item.transfer_id).count() == 1

    def test_duplicate_inside_one_batch(self, bank: Account) -> None:
        a = make_account()
        item = tr(bank, a, 100)
        assert results([item, item]) == ["created", "exists"]
        assert fresh(a).credits_posted == 100

    @pytest.mark.parametrize(
        ("change", "code"),
        [
            ({"amount": 101}, "exists_with_different_amount"),
            ({"code": "other"}, "exists_with_different_code"),
            ({"reference": "x"}, "exists_with_different_reference"),
            ({"metadata": {"a": 1}}, "exists_with_different_metadata"),
            ({"kind": "pending"}, "exists_with_different_kind"),
            ({"linked": True}, "exists_with_different_linked"),
            ({"currency": "USD"}, "exists_with_different_currency"),
        ],
    )
    def test_same_id_different_content(self, bank: Account, change: dict, code: str) -> None:  # type: ignore[type-arg]
        a = make_account()
        item = tr(bank, a, 100)
        assert results([item]) == ["created"]
        fields = {**item.__dict__, **change}
        from rongshu.ledger.types import TransferIn

        assert results([TransferIn(**fields)])[0] == code
        assert fresh(a).credits_posted == 100

    def test_different_accounts(self, bank: Account) -> None:
        a, b = make_account(), make_account()
        item = tr(bank, a, 100)
        assert results([item]) == ["created"]
        assert results([tr(bank, b, 100, transfer_id=item.transfer_id)]) == [
            "exists_with_different_credit_account"
        ]
        assert results([tr(b, a, 100, transfer_id=item.transfer_id)]) == [
            "exists_with_different_debit_account"
        ]

    def test_failed_id_may_be_retried_once_funds_arrive(self, bank: Account) -> None:
        a, c = make_account(), make_account()
        item = tr(a, c, 100)
        assert results([item]) == ["exceeds_credits"]
        assert results([tr(bank, a, 100)]) == ["created"]
        assert results([item]) == ["created"]


class TestTwoPhase:
    def test_hold_then_post_full(self, bank: Account) -> None:
        a, merchant = funded(bank, 1000), make_account()
        hold = tr(a, merchant, 600, kind="pending", timeout=3600)
        assert results([hold]) == ["created"]
        a_now = fresh(a)
        assert (a_now.debits_pending, a_now.available_balance, a_now.posted_balance) == (
            600,
            400,
            1000,
        )
        assert results([tr(a, merchant, 500)]) == ["exceeds_credits"]  # the hold counts
        post = tr(None, None, None, kind="post", pending_id=hold.transfer_id)
        assert results([post]) == ["created"]
        a_now, m_now = fresh(a), fresh(merchant)
        assert (a_now.debits_pending, a_now.debits_posted) == (0, 600)
        assert (m_now.credits_pending, m_now.credits_posted) == (0, 600)
        assert Hold.objects.get(transfer_id=hold.transfer_id).state == Hold.POSTED
        assert results([post]) == ["exists"]
        again = tr(None, None, None, kind="post", pending_id=hold.transfer_id)
        assert results([again]) == ["pending_transfer_already_posted"]

    def test_partial_post_releases_the_rest(self, bank: Account) -> None:
        a, m = funded(bank, 1000), make_account()
        hold = tr(a, m, 600, kind="pending")
        assert results([hold, tr(a, m, 250, kind="post", pending_id=hold.transfer_id)]) == [
            "created",
            "created",
        ]
        a_now = fresh(a)
        assert (a_now.debits_pending, a_now.debits_posted, a_now.posted_balance) == (0, 250, 750)

    def test_post_more_than_pending(self, bank: Account) -> None:
        a, m = funded(bank, 1000), make_account()
        hold = tr(a, m, 600, kind="pending")
        assert results([hold]) == ["created"]
        assert results([tr(a, m, 601, kind="post", pending_id=hold.transfer_id)]) == [
            "exceeds_pending_transfer_amount"
        ]

    def test_void_releases_and_cannot_be_posted_after(self, bank: Account) -> None:
        a, m = funded(bank, 1000), make_account()
        hold = tr(a, m, 600, kind="pending")
        void = tr(None, None, None, kind="void", pending_id=hold.transfer_id)
        assert results([hold, void]) == ["created", "created"]
        assert fresh(a).debits_pending == 0 and fresh(m).credits_pending == 0
        post = tr(None, None, None, kind="post", pending_id=hold.transfer_id)
        assert results([post]) == ["pending_transfer_already_voided"]

    def test_voiding_a_posted_transfer(self, bank: Account) -> None:
        a, m = funded(bank, 1000), make_account()
        hold = tr(a, m, 600, kind="pending")
        assert results([hold, tr(None, None, None, kind="post", pending_id=hold.transfer_id)]) == [
            "created",
            "created",
        ]
        assert results([tr(None, None, None, kind="void", pending_id=hold.transfer_id)]) == [
            "pending_transfer_already_posted"
        ]

    def test_void_must_name_the_whole_amount(self, bank: Account) -> None:
        a, m = funded(bank, 1000), make_account()
        hold = tr(a, m, 600, kind="pending")
        assert results([hold, tr(a, m, 5, kind="void", pending_id=hold.transfer_id)]) == [
            "created",
            "pending_transfer_has_different_amount",
        ]

    def test_post_references(self, bank: Account) -> None:
        a, m = funded(bank, 1000), make_account()
        single = tr(bank, a, 1)
        assert results([single]) == ["created"]
        assert results([tr(None, None, None, kind="post", pending_id=single.transfer_id)]) == [
            "pending_transfer_not_pending"
        ]
        assert results([tr(None, None, None, kind="post", pending_id=uuid.uuid4())]) == [
            "pending_transfer_not_found"
        ]
        assert results([tr(None, None, None, kind="post")]) == ["pending_id_required"]
        hold = tr(a, m, 10, kind="pending")
        assert results([hold]) == ["created"]
        other = make_account()
        assert results([tr(a, other, None, kind="post", pending_id=hold.transfer_id)]) == [
            "pending_transfer_has_different_credit_account"
        ]
        assert results([tr(other, m, None, kind="post", pending_id=hold.transfer_id)]) == [
            "pending_transfer_has_different_debit_account"
        ]
        assert results([tr(a, m, 10, kind="pending", pending_id=hold.transfer_id)]) == [
            "pending_id_not_allowed"
        ]

    def test_expired_hold_cannot_be_posted_and_is_released_by_the_job(self, bank: Account) -> None:
        a, m = funded(bank, 1000), make_account()
        start = dt.datetime(2026, 3, 1, 8, tzinfo=dt.UTC)
        hold = tr(a, m, 600, kind="pending", timeout=60)
        with clock.frozen_time(start):
            assert results([hold]) == ["created"]
        later = start + dt.timedelta(seconds=61)
        with clock.frozen_time(later):
            post = tr(None, None, None, kind="post", pending_id=hold.transfer_id)
            assert results([post]) == ["pending_transfer_expired"]
            assert fresh(a).debits_pending == 600  # released only by the expiry job
            assert services.do_expire_holds() == 1
            assert services.do_expire_holds() == 0
        a_now, m_now = fresh(a), fresh(m)
        assert (a_now.debits_pending, a_now.debits_posted) == (0, 0)
        assert m_now.credits_pending == 0
        assert Hold.objects.get(transfer_id=hold.transfer_id).state == Hold.EXPIRED
        expiry = Transfer.objects.get(pending_id=hold.transfer_id)
        assert (expiry.kind, expiry.amount) == (Transfer.EXPIRY, 600)
        with clock.frozen_time(later):
            assert results([post]) == ["pending_transfer_expired"]

    def test_hold_not_expired_before_its_timeout(self, bank: Account) -> None:
        a, m = funded(bank, 1000), make_account()
        start = dt.datetime(2026, 3, 1, 8, tzinfo=dt.UTC)
        with clock.frozen_time(start):
            assert results([tr(a, m, 600, kind="pending", timeout=60)]) == ["created"]
        with clock.frozen_time(start + dt.timedelta(seconds=59)):
            assert services.do_expire_holds() == 0
        assert fresh(a).debits_pending == 600


class TestLinked:
    def test_chain_all_or_nothing(self, bank: Account) -> None:
        a, m = funded(bank, 100), make_account()
        fee = services.get_chart_account("income.fees.CNY")
        pay = tr(a, m, 90, linked=True)
        fee_item = tr(a, fee, 20)  # 90 + 20 > 100
        assert results([pay, fee_item]) == ["linked_event_failed", "exceeds_credits"]
        assert fresh(a).debits_posted == 0 and fresh(m).credits_posted == 0
        assert not Transfer.objects.filter(transfer_id=pay.transfer_id).exists()
        ok_fee = tr(a, fee, 10)
        assert results([tr(a, m, 90, linked=True), ok_fee]) == ["created", "created"]
        assert fresh(a).posted_balance == 0

    def test_failure_in_middle_fails_the_rest_of_the_chain_only(self, bank: Account) -> None:
        a, m = funded(bank, 100), make_account()
        items = [
            tr(a, m, 10, linked=True),
            tr(a, m, 1000, linked=True),
            tr(a, m, 10),
            tr(a, m, 5),  # a new chain: unaffected
        ]
        assert results(items) == [
            "linked_event_failed",
            "exceeds_credits",
            "linked_event_failed",
            "created",
        ]
        assert fresh(a).debits_posted == 5

    def test_open_chain_at_end_of_batch(self, bank: Account) -> None:
        a, m = funded(bank, 100), make_account()
        assert results([tr(a, m, 10, linked=True), tr(a, m, 10, linked=True)]) == [
            "linked_event_failed",
            "linked_event_chain_open",
        ]
        assert fresh(a).debits_posted == 0

    def test_failed_chain_restores_hold_state(self, bank: Account) -> None:
        a, m = funded(bank, 100), make_account()
        hold = tr(a, m, 50, kind="pending")
        assert results([hold]) == ["created"]
        post = tr(None, None, None, kind="post", pending_id=hold.transfer_id, linked=True)
        assert results([post, tr(a, m, 1000)]) == ["linked_event_failed", "exceeds_credits"]
        assert Hold.objects.get(transfer_id=hold.transfer_id).state == Hold.PENDING
        assert fresh(a).debits_pending == 50
        post2 = tr(None, None, None, kind="post", pending_id=hold.transfer_id)
        assert results([post2]) == ["created"]

    def test_failed_chain_drops_a_hold_it_created(self, bank: Account) -> None:
        a, m = funded(bank, 100), make_account()
        hold = tr(a, m, 50, kind="pending", linked=True)
        assert results([hold, tr(a, m, 1000)]) == ["linked_event_failed", "exceeds_credits"]
        assert not Hold.objects.filter(transfer_id=hold.transfer_id).exists()
        assert fresh(a).debits_pending == 0


class TestBatch:
    def test_batch_equals_one_by_one(self, bank: Account) -> None:
        accounts = [make_account() for _ in range(5)]
        items = [tr(bank, accounts[i % 5], 100 + i) for i in range(20)]
        items += [tr(accounts[i % 5], accounts[(i + 1) % 5], 150) for i in range(20)]
        batch_results = results(items)
        assert batch_results.count("created") == len(items)
        assert sum(fresh(a).posted_balance for a in accounts) == sum(100 + i for i in range(20))

    def test_batch_limit(self, bank: Account) -> None:
        a = make_account()
        with pytest.raises(BatchTooLarge):
            services.do_create_transfers([tr(bank, a, 1) for _ in range(MAX_BATCH + 1)])

    def test_full_batch(self, bank: Account) -> None:
        a = make_account()
        res = results([tr(bank, a, 1) for _ in range(MAX_BATCH)])
        assert res.count("created") == MAX_BATCH
        assert fresh(a).credits_posted == MAX_BATCH
        assert Transfer.objects.filter(credit_account=a).count() == MAX_BATCH


class TestStatuses:
    def test_freeze_blocks_debits_and_credits(self, bank: Account) -> None:
        a = funded(bank, 100)
        services.do_freeze_account(a.public_id, actor="staff:1", reason="court order 12")
        assert results([tr(a, make_account(), 1)]) == ["debit_account_frozen"]
        assert results([tr(bank, a, 1)]) == ["credit_account_frozen"]
        entry = AuditEntry.objects.filter(action="ledger.account_frozen").last()
        assert entry is not None and entry.object_id == str(a.public_id)
        assert entry.data == {"from": "open", "to": "frozen", "reason": "court order 12"}
        assert verify_chain().ok
        services.do_unfreeze_account(a.public_id, actor="staff:1", reason="lifted")
        assert results([tr(a, make_account(), 1)]) == ["created"]

    def test_debit_freeze_still_accepts_credits(self, bank: Account) -> None:
        a = funded(bank, 100)
        services.do_freeze_account(a.public_id, actor="staff:1", reason="x", debits_only=True)
        assert fresh(a).status == Account.DEBIT_FROZEN
        assert results([tr(a, make_account(), 1)]) == ["debit_account_frozen"]
        assert results([tr(bank, a, 1)]) == ["created"]

    def test_a_hold_made_before_a_freeze_can_be_posted_or_voided(self, bank: Account) -> None:
        """A freeze stops new debits (and new holds), not money already committed: the hold
        predates it (docs/decisions/0010). The rest of the balance stays frozen."""
        a, m = funded(bank, 100), make_account()
        held = tr(a, m, 50, kind="pending")
        other = tr(a, m, 20, kind="pending")
        assert results([held, other]) == ["created", "created"]
        services.do_freeze_account(a.public_id, actor="staff:1", reason="x")
        assert results([tr(a, m, 1, kind="pending")]) == ["debit_account_frozen"]
        post = tr(None, None, None, kind="post", pending_id=held.transfer_id)
        assert results([post]) == ["created"]
        void = tr(None, None, None, kind="void", pending_id=other.transfer_id)
        assert results([void]) == ["created"]
        after = fresh(a)
        assert (after.debits_posted, after.debits_pending) == (50, 0)
        assert results([tr(a, m, 1)]) == ["debit_account_frozen"]

    def test_a_hold_into_a_fully_frozen_account_is_not_posted(self, bank: Account) -> None:
        """The credit side keeps its rule: a fully frozen account takes no credits."""
        a, m = funded(bank, 100), make_account()
        held = tr(a, m, 50, kind="pending")
        assert results([held]) == ["created"]
        services.do_freeze_account(m.public_id, actor="staff:1", reason="x")
        post = tr(None, None, None, kind="post", pending_id=held.transfer_id)
        assert results([post]) == ["credit_account_frozen"]

    def test_close_requires_zero_balance(self, bank: Account) -> None:
        a = funded(bank, 100)
        with pytest.raises(AccountBalanceNotZero):
            services.do_close_account(a.public_id, actor="staff:1", reason="customer request")
        assert results([tr(a, bank, 100)]) == ["created"]
        services.do_close_account(a.public_id, actor="staff:1", reason="customer request")
        assert fresh(a).status == Account.CLOSED
        assert results([tr(bank, a, 1)]) == ["credit_account_closed"]
        assert results([tr(a, bank, 1)]) == ["debit_account_closed"]
        with pytest.raises(AccountStatusInvalid):
            services.do_freeze_account(a.public_id, actor="staff:1", reason="x")
        assert AuditEntry.objects.filter(action="ledger.account_closed").count() == 1

    def test_close_refused_with_a_hold(self, bank: Account) -> None:
        a, m = funded(bank, 100), make_account()
        assert results([tr(a, bank, 100), tr(m, a, 0)]) == ["created", "amount_must_be_positive"]
        assert results([tr(bank, m, 5), tr(m, a, 5, kind="pending")]) == ["created", "created"]
        with pytest.raises(AccountBalanceNotZero):
            services.do_close_account(a.public_id, actor="staff:1", reason="x")

    def test_account_spec(self) -> None:
        with pytest.raises(AccountSpecInvalid):
            make_account(credits_must_not_exceed_debits=True)  # both flags
        with pytest.raises(AccountSpecInvalid):
            make_account(currency="ZZZ")
        with pytest.raises(AccountSpecInvalid):
            make_account(debits_must_not_exceed_credits=False, overdraft_limit=10)


class TestChart:
    def test_chart_is_idempotent_and_complete(self) -> None:
        first = services.do_create_chart_of_accounts(["CNY", "USD"])
        second = services.do_create_chart_of_accounts(["CNY", "USD"])
        assert [a.pk for a in first] == [a.pk for a in second]
        codes = set(Account.objects.filter(owner_type="bank").values_list("code", flat=True))
        for code in (
            "cash.CNY",
            "deposits.customer.USD",
            "expense.interest.CNY",
            "income.fees.CNY",
            "loans.receivable.CNY",
            "suspense.USD",
            "settlement.cnaps_hvps.CNY",
            "income.interest.CNY",
        ):
            assert code in codes


class TestQueries:
    def test_statement_running_balance_and_pages(self, bank: Account) -> None:
        a, other = make_account(), make_account()
        amounts = [100, 250, 75, 30, 400]
        for amt in amounts:
            assert results([tr(bank, a, amt)]) == ["created"]
        assert results([tr(a, other, 55)]) == ["created"]
        assert results([tr(a, other, 10, kind="pending")]) == ["created"]  # not a posting
        page1 = queries.get_statement(a.public_id, limit=4)
        assert [line.balance for line in page1.lines] == [100, 350, 425, 455]
        assert page1.opening_balance == 0 and page1.closing_balance == 455
        assert page1.next_cursor is not None
        page2 = queries.get_statement(a.public_id, after=page1.next_cursor, limit=4)
        assert [(x.debit, x.credit, x.balance) for x in page2.lines] == [
            (0, 400, 855),
            (55, 0, 800),
        ]
        assert page2.opening_balance == 455 and page2.next_cursor is None
        assert page2.lines[1].counterparty == other.public_id
        assert [x.balance for x in queries.iter_statement(a.public_id)][-1] == 800

    def test_balance_as_of(self, bank: Account) -> None:
        a = make_account()
        t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        for hours, amount in [(1, 100), (2, 50), (3, 25)]:
            with clock.frozen_time(t0 + dt.timedelta(hours=hours)):
                assert results([tr(bank, a, amount)]) == ["created"]
        assert queries.get_balance_as_of(a.public_id, t0) == 0
        assert queries.get_balance_as_of(a.public_id, t0 + dt.timedelta(hours=1)) == 100
        assert queries.get_balance_as_of(a.public_id, t0 + dt.timedelta(hours=2, minutes=5)) == 150
        assert queries.get_balance_as_of(a.public_id, t0 + dt.timedelta(days=1)) == 175
        assert queries.get_balance_as_of(bank.public_id, t0 + dt.timedelta(days=1)) == 175

    def test_trial_balance_sums_to_zero(self, bank: Account) -> None:
        a = make_account()
        usd_bank = make_bank_account(currency="USD")
        usd = make_account(currency="USD")
        assert results([tr(bank, a, 999), tr(usd_bank, usd, 5, currency="USD")]) == [
            "created",
            "created",
        ]
        tb = queries.get_trial_balance()
        assert tb.balanced and tb.difference == {"CNY": 0, "USD": 0}
        debits = sum(r.debits for r in tb.rows if r.currency == "USD")
        assert debits == 5
