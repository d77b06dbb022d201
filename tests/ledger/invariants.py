"""Whole-ledger invariants, checked from the tables themselves."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Sum

from rongshu.ledger import queries
from rongshu.ledger.models import Account, Hold, Transfer


def assert_ledger_consistent() -> None:
    """Books balance per currency; constraints hold; every account's four totals equal what
    its transfers and holds add up to (so nothing was applied twice or half)."""
    tb = queries.get_trial_balance()
    assert tb.balanced, tb.difference
    for cur, (debits, credits) in queries.get_pending_totals().items():
        assert debits == credits, cur
    posted_d: dict[int, int] = defaultdict(int)
    posted_c: dict[int, int] = defaultdict(int)
    for row in (
        Transfer.objects.filter(kind__in=[Transfer.SINGLE, Transfer.POST])
        .values("debit_account_id")
        .annotate(s=Sum("amount"))
    ):
        posted_d[row["debit_account_id"]] = int(row["s"])
    for row in (
        Transfer.objects.filter(kind__in=[Transfer.SINGLE, Transfer.POST])
        .values("credit_account_id")
        .annotate(s=Sum("amount"))
    ):
        posted_c[row["credit_account_id"]] = int(row["s"])
    pending_d: dict[int, int] = defaultdict(int)
    pending_c: dict[int, int] = defaultdict(int)
    for hold in Hold.objects.filter(state=Hold.PENDING).values(
        "debit_account_id", "credit_account_id", "amount"
    ):
        pending_d[hold["debit_account_id"]] += hold["amount"]
        pending_c[hold["credit_account_id"]] += hold["amount"]
    for a in Account.objects.all():
        assert a.debits_posted == posted_d[a.pk], a
        assert a.credits_posted == posted_c[a.pk], a
        assert a.debits_pending == pending_d[a.pk], a
        assert a.credits_pending == pending_c[a.pk], a
        if a.debits_must_not_exceed_credits:
            assert a.debits_pending + a.debits_posted <= a.credits_posted + a.overdraft_limit, a
        if a.credits_must_not_exceed_debits:
            assert a.credits_pending + a.credits_posted <= a.debits_posted, a
