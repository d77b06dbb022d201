"""Bulk import of customers already identified at a branch (KYC done elsewhere): a migration
of an existing customer base or the synthetic bank. Imported customers have no password, so
they cannot sign in until they set one through password reset."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from rongshu.identity._common import normalize_phone
from rongshu.identity.accounts import check_real_name, check_resident_id
from rongshu.identity.models import CustomerCredential
from rongshu.kernel import clock
from rongshu.kernel.audit import do_audit
from rongshu.kernel.pii import blind_index

_UNUSABLE = make_password(None)  # one unusable hash for all imported logins


@dataclass(frozen=True)
class CustomerImport:
    customer_id: uuid.UUID
    phone: str
    real_name: str
    resident_id: str
    home_branch_code: str = "0001"


def do_import_customers(
    rows: Sequence[CustomerImport], *, actor: str = "system:import"
) -> list[uuid.UUID]:
    """Create the customers that do not exist yet (same id, phone or resident ID: skipped);
    returns the ids created. Validates every name and resident ID; one audit entry per call."""
    if not rows:
        return []
    ids = [r.customer_id for r in rows]
    phones = [normalize_phone(r.phone) for r in rows]
    indexes = [blind_index(check_resident_id(r.resident_id), purpose="resident_id") for r in rows]
    taken_ids = set(
        CustomerCredential.objects.filter(public_id__in=ids).values_list("public_id", flat=True)
    )
    taken_phones = set(
        CustomerCredential.objects.filter(phone__in=phones).values_list("phone", flat=True)
    )
    taken_rids = set(
        CustomerCredential.objects.filter(resident_id_index__in=indexes).values_list(
            "resident_id_index", flat=True
        )
    )
    now = clock.now()
    fresh: list[tuple[CustomerImport, str, str]] = []
    for row, phone, rid_index in zip(rows, phones, indexes, strict=True):
        if row.customer_id in taken_ids or phone in taken_phones or rid_index in taken_rids:
            continue
        taken_phones.add(phone)
        taken_rids.add(rid_index)
        taken_ids.add(row.customer_id)
        fresh.append((row, phone, rid_index))
    if not fresh:
        return []
    user_model = get_user_model()
    users = user_model.objects.bulk_create(
        [user_model(username=f"c-{row.customer_id}", password=_UNUSABLE) for row, _, _ in fresh]
    )
    if any(u.pk is None for u in users):  # a backend without RETURNING
        by_name = dict(
            user_model.objects.filter(
                username__in=[f"c-{row.customer_id}" for row, _, _ in fresh]
            ).values_list("username", "pk")
        )
        for u in users:
            u.pk = by_name[u.get_username()]
    CustomerCredential.objects.bulk_create(
        [
            CustomerCredential(
                public_id=row.customer_id,
                user_id=user.pk,
                phone=phone,
                real_name=check_real_name(row.real_name),
                resident_id=check_resident_id(row.resident_id),
                resident_id_index=rid_index,
                home_branch_code=row.home_branch_code,
                region_code=row.resident_id[:2] + "0000",
                created_at=now,
            )
            for (row, phone, rid_index), user in zip(fresh, users, strict=True)
        ],
        batch_size=500,
    )
    do_audit(actor, "identity.customers_imported", data={"count": len(fresh)})
    return [row.customer_id for row, _, _ in fresh]
