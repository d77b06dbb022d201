"""Bulk opening of Type I accounts for imported customers (identified at a branch before the
migration): one ledger account each through the ledger's public API, holders and accounts in
bulk, one audit entry per call, no notifications (nobody to notify during a migration)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from rongshu.accounts.limits import get_limits
from rongshu.accounts.models import AccountHolder, CustomerAccount, NumberSequence
from rongshu.accounts.numbers import make_account_number
from rongshu.accounts.types import PRODUCTS
from rongshu.kernel import clock
from rongshu.kernel.audit import do_audit
from rongshu.ledger import services as ledger


@dataclass(frozen=True)
class Type1Import:
    customer_id: uuid.UUID
    real_name: str
    phone: str = ""
    ledger_account_id: uuid.UUID | None = None  # an existing ledger account to bind, or a new one
    verification_note: str = "批量迁移：网点已核验身份 (imported, verified at a branch)"


def do_import_type1_accounts(
    rows: Sequence[Type1Import], *, actor: str = "system:import", only_existing: bool = False
) -> dict[uuid.UUID, uuid.UUID]:
    """Open a Type I demand-deposit account for each customer that has none; returns customer
    id → ledger account id for every row (existing accounts included). With ``only_existing``
    nothing is opened: the answer holds the customers that already have one."""
    ids = [r.customer_id for r in rows]
    existing = dict(
        CustomerAccount.objects.filter(customer_id__in=ids, account_type=1).values_list(
            "customer_id", "ledger_account_id"
        )
    )
    if only_existing:
        return existing
    fresh = [r for r in rows if r.customer_id not in existing]
    if fresh:
        now = clock.now()
        limits = get_limits()
        holders = {
            h.customer_id: h
            for h in AccountHolder.objects.filter(customer_id__in=[r.customer_id for r in fresh])
        }
        missing = [r for r in fresh if r.customer_id not in holders]
        AccountHolder.objects.bulk_create(
            [
                AccountHolder(customer_id=r.customer_id, phone=r.phone, created_at=now)
                for r in missing
            ]
        )
        holders = {
            h.customer_id: h
            for h in AccountHolder.objects.filter(customer_id__in=[r.customer_id for r in fresh])
        }
        seq, _ = NumberSequence.objects.get_or_create(branch_code=limits.branch_code)
        seq = NumberSequence.objects.select_for_update().get(pk=seq.pk)
        first = seq.next_serial
        NumberSequence.objects.filter(pk=seq.pk).update(next_serial=first + len(fresh))
        product = "demand_deposit"
        accounts = []
        for k, r in enumerate(fresh):
            ledger_account_id = (
                r.ledger_account_id
                or ledger.do_create_customer_account(
                    owner_id=str(r.customer_id),
                    name=f"{r.real_name} {PRODUCTS[product]}",
                    product_code=product,
                ).public_id
            )
            accounts.append(
                CustomerAccount(
                    holder=holders[r.customer_id],
                    customer_id=r.customer_id,
                    ledger_account_id=ledger_account_id,
                    account_number=make_account_number(
                        limits.bin, limits.branch_code, 1, first + k
                    ),
                    account_type=1,
                    product_code=product,
                    holder_name=r.real_name,
                    verified_in_person_by=actor,
                    verification_note=r.verification_note[:300],
                    opened_at=now,
                )
            )
            existing[r.customer_id] = ledger_account_id
        CustomerAccount.objects.bulk_create(accounts, batch_size=500)
        do_audit(actor, "accounts.type1_imported", data={"count": len(fresh)})
    return {r.customer_id: existing[r.customer_id] for r in rows}
