"""Identity reads for other domains (read-only)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Iterator

from rongshu.identity.models import ConsentRecord, CustomerCredential
from rongshu.identity.types import ConsentPurpose


def _born_and_gender(resident_id: str) -> tuple[dt.date | None, str | None]:
    """Birth date and gender (``F``/``M``, the parity of the 17th digit) from a resident ID;
    (None, None) when it does not parse."""
    from stdnum.cn import ric

    try:
        born = ric.get_birth_date(resident_id)
        digit = int(ric.compact(resident_id)[16])
    except Exception:  # a malformed ID: both unknown
        return None, None
    return born, ("M" if digit % 2 else "F")


def export_customers() -> Iterator[dict[str, object]]:
    """Read-only, for the insight lake export: every customer with region, onboarding date,
    birth date and gender (derived from the resident ID, which never leaves) and whether the
    profiling consent is in force (the latest record per customer wins)."""
    consent: dict[int, bool] = {}
    for customer_id, granted in (
        ConsentRecord.objects.filter(purpose=ConsentPurpose.PROFILING.value)
        .order_by("at", "pk")
        .values_list("customer_id", "granted")
    ):
        consent[customer_id] = granted
    rows = CustomerCredential.objects.order_by("pk").values(
        "pk", "public_id", "region_code", "created_at", "resident_id"
    )
    for row in rows.iterator(chunk_size=5000):
        born, gender = _born_and_gender(row["resident_id"] or "")
        yield {
            "customer_id": str(row["public_id"]),
            "birth_on": born,
            "gender": gender,
            "province_code": row["region_code"],
            "onboarded_on": row["created_at"].date(),
            "profiling_consent": consent.get(row["pk"], False),
        }


def birth_dates_of(
    customer_ids: Iterable[uuid.UUID] | None = None,
) -> dict[uuid.UUID, dt.date | None]:
    """Read-only, for lending's pre-approval policy (age): each customer's birth date from the
    resident ID (None when it does not parse); ``None`` asks for every customer. One query
    (all rows, filtered here, for more than 5,000 ids); the resident IDs never leave."""
    from stdnum.cn import ric

    wanted = None if customer_ids is None else set(customer_ids)
    rows = CustomerCredential.objects.order_by("pk")
    if wanted is not None and len(wanted) <= 5000:
        rows = rows.filter(public_id__in=wanted)
    out: dict[uuid.UUID, dt.date | None] = {}
    for public_id, resident_id in rows.values_list("public_id", "resident_id").iterator(
        chunk_size=5000
    ):
        if wanted is not None and public_id not in wanted:
            continue
        try:
            out[public_id] = ric.get_birth_date(resident_id)
        except Exception:  # a malformed ID: the age is unknown
            out[public_id] = None
    return out


def find_customer_user_by_phone(phone: str) -> int | None:
    """The Django user id of the customer whose login is ``phone`` (the SMS channel's
    identification), or None."""
    digits = "".join(ch for ch in phone if ch.isdigit())[-11:]
    return CustomerCredential.objects.filter(phone=digits).values_list("user_id", flat=True).first()
