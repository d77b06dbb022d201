"""The read side of the unified customer view: golden records (masked by role, audited),
the review queue and data-quality trends."""

from __future__ import annotations

import uuid

from django.db.models import Q

from rongshu.customers.errors import CustomerNotFound, ReviewPairNotFound
from rongshu.customers.models import Customer, QualityRun, ReviewPair, SourceRecord
from rongshu.customers.types import (
    Attribute,
    CustomerSummary,
    CustomerView,
    QualityPoint,
    Relationship,
    ReviewPairView,
    SourceRecordView,
)
from rongshu.identity.services import check_permission, has_permission
from rongshu.identity.types import Action, Principal, PrincipalKind
from rongshu.kernel.audit import do_audit
from rongshu.kernel.errors import PermissionDenied
from rongshu.kernel.pii import PiiKind, reveal_for

_KINDS = {
    "name": PiiKind.NAME,
    "resident_id": PiiKind.RESIDENT_ID,
    "phone": PiiKind.PHONE,
    "email": PiiKind.EMAIL,
}


def _role(principal: Principal) -> str:
    """The masking role: the staff's role; identity numbers only with ``customer.view_pii``."""
    return next(iter(sorted(principal.roles)), "")


def _mask(role: str, principal: Principal, field: str, value: str) -> str:
    kind = _KINDS.get(field)
    if kind is None or not value:
        return value
    if kind is PiiKind.RESIDENT_ID and not has_permission(principal, Action.CUSTOMER_VIEW_PII):
        role = "masked"
    return reveal_for(role, kind, value) or ""


def _check_staff(principal: Principal, action: str) -> None:
    if principal.kind is not PrincipalKind.STAFF:
        raise PermissionDenied()
    check_permission(principal, action)


def _record_view(record: SourceRecord, role: str, principal: Principal) -> SourceRecordView:
    std = record.std
    address = " ".join(
        str(x)
        for x in (std.get("city_code"), std.get("district_code"), std.get("address_detail"))
        if x
    )
    return SourceRecordView(
        record_id=record.public_id,
        source=record.source,
        record_key=record.record_key,
        batch_id=record.batch.public_id,
        received_at=record.received_at,
        name=_mask(role, principal, "name", std.get("name") or ""),
        phone=_mask(role, principal, "phone", std.get("phone") or ""),
        resident_id=_mask(role, principal, "resident_id", std.get("resident_id") or ""),
        birth_on=std.get("birth_on") or "",
        address=address,
    )


def _find(customer_id: uuid.UUID | str) -> Customer:
    try:
        customer = Customer.objects.filter(public_id=customer_id).first()
    except Exception as exc:  # a malformed id
        raise CustomerNotFound() from exc
    seen = 0
    while customer is not None and customer.merged_into_id is not None and seen < 20:
        customer = customer.merged_into
        seen += 1
    if customer is None:
        raise CustomerNotFound()
    return customer


def access_unified_customer(principal: Principal, customer_id: uuid.UUID | str) -> CustomerView:
    """The golden record with lineage and its source records; merged ids redirect to the
    survivor. Staff with ``customer.view`` only; every view is audited; PII masked by role."""
    _check_staff(principal, Action.CUSTOMER_VIEW)
    customer = _find(customer_id)
    role = _role(principal)
    do_audit(
        principal.principal_key,
        "customers.viewed",
        object_type="unified_customer",
        object_id=str(customer.public_id),
        data={"role": role, "requested": str(customer_id)},
    )
    attributes = [
        Attribute(
            name=name,
            value=_mask(role, principal, name, str(item["value"])),
            source=item["source"],
            record_id=item["record_id"],
            batch_id=item["batch_id"],
            received_at=item["received_at"],
        )
        for name, item in customer.golden.items()
    ]
    records = [
        _record_view(r, role, principal)
        for r in customer.records.select_related("batch").order_by("source", "record_key")
    ]
    return CustomerView(
        customer_id=customer.public_id,
        status=customer.status,
        merged_into=customer.merged_into.public_id if customer.merged_into else None,
        identity_customer_id=customer.identity_customer_id,
        display_name=_mask(role, principal, "name", customer.display_name),
        attributes=attributes,
        records=records,
        quality_score=customer.quality_score,
        quality_issues=list(customer.quality_issues),
        updated_at=customer.updated_at,
    )


def find_customer_id(customer_id: uuid.UUID | str) -> uuid.UUID | None:
    """The surviving customer id of ``customer_id`` (after merges), or None."""
    try:
        return _find(customer_id).public_id
    except CustomerNotFound:
        return None


def list_customers(
    principal: Principal, *, search: str = "", limit: int = 50
) -> list[CustomerSummary]:
    _check_staff(principal, Action.CUSTOMER_VIEW)
    role = _role(principal)
    rows = Customer.objects.filter(status=Customer.ACTIVE)
    if search:
        rows = rows.filter(Q(display_name__icontains=search) | Q(public_id__startswith=search))
    out = []
    for c in rows.order_by("-updated_at", "pk")[:limit]:
        sources = sorted({r.source for r in c.records.only("source")})
        out.append(
            CustomerSummary(
                c.public_id,
                _mask(role, principal, "name", c.display_name),
                sources,
                c.quality_score,
            )
        )
    return out


def _pair_view(pair: ReviewPair, role: str, principal: Principal) -> ReviewPairView:
    return ReviewPairView(
        pair_id=pair.public_id,
        match_probability=pair.match_probability,
        model_version=pair.model_version,
        state=pair.state,
        a=_record_view(pair.record_a, role, principal),
        b=_record_view(pair.record_b, role, principal),
        customer_a=pair.record_a.customer.public_id if pair.record_a.customer else None,
        customer_b=pair.record_b.customer.public_id if pair.record_b.customer else None,
        decided_by=pair.decided_by,
        decided_at=pair.decided_at,
    )


def list_review_pairs(
    principal: Principal, *, state: str = ReviewPair.PENDING, limit: int = 100
) -> list[ReviewPairView]:
    _check_staff(principal, Action.CUSTOMER_RESOLVE)
    role = _role(principal)
    rows = ReviewPair.objects.select_related(
        "record_a__batch", "record_b__batch", "record_a__customer", "record_b__customer"
    ).filter(state=state)
    return [
        _pair_view(p, role, principal) for p in rows.order_by("-match_probability", "pk")[:limit]
    ]


def access_review_pair(principal: Principal, pair_id: uuid.UUID | str) -> ReviewPairView:
    _check_staff(principal, Action.CUSTOMER_RESOLVE)
    try:
        pair = ReviewPair.objects.select_related(
            "record_a__batch", "record_b__batch", "record_a__customer", "record_b__customer"
        ).get(public_id=pair_id)
    except (ReviewPair.DoesNotExist, ValueError) as exc:
        raise ReviewPairNotFound() from exc
    return _pair_view(pair, _role(principal), principal)


def list_quality(principal: Principal, *, days: int = 30) -> list[QualityPoint]:
    _check_staff(principal, Action.CUSTOMER_RESOLVE)
    rows = QualityRun.objects.order_by("-business_date")[:days]
    return [QualityPoint(r.business_date, dict(r.metrics)) for r in reversed(list(rows))]


def count_pending_reviews() -> int:
    """How many pairs wait in the review queue (for jobs, the demo and dashboards)."""
    return ReviewPair.objects.filter(state=ReviewPair.PENDING).count()


def list_relationships(principal: Principal, customer_id: uuid.UUID | str) -> list[Relationship]:
    """Households: other active customers who share a phone number with this one (a family
    phone), or the same home (city and address detail) and surname. Names masked by role;
    the 360° view that shows them is audited by :func:`access_unified_customer`."""
    _check_staff(principal, Action.CUSTOMER_VIEW)
    customer = _find(customer_id)
    role = _role(principal)
    stds = list(customer.records.values_list("std", flat=True))
    phones = {s["phone"] for s in stds if s.get("phone")}
    homes = {
        (s["city_code"], s["address_detail"])
        for s in stds
        if s.get("city_code") and s.get("address_detail")
    }
    surnames = {s["surname_pinyin"] for s in stds if s.get("surname_pinyin")}
    query = Q(std__phone__in=sorted(phones)) if phones else Q(pk__in=[])
    for city, detail in sorted(homes):
        query |= Q(std__city_code=city, std__address_detail=detail)
    found: dict[uuid.UUID, tuple[str, set[str]]] = {}
    candidates = (
        SourceRecord.objects.filter(query, customer__status=Customer.ACTIVE)
        .exclude(customer=customer)
        .values_list("customer__public_id", "customer__display_name", "std")
    )
    for other, name, std in candidates:
        evidence: set[str] = set()
        if std.get("phone") in phones:
            evidence.add("shared_phone")
        if (std.get("city_code"), std.get("address_detail")) in homes and std.get(
            "surname_pinyin"
        ) in surnames:
            evidence.add("shared_address_and_surname")
        if evidence:
            found.setdefault(other, (name, set()))[1].update(evidence)
    return [
        Relationship(
            kind="household",
            customer_id=other,
            display_name=_mask(role, principal, "name", name),
            evidence=sorted(evidence),
        )
        for other, (name, evidence) in sorted(found.items(), key=lambda kv: str(kv[0]))
    ]
