"""Types that cross the customers boundary: sources, golden records, review pairs, runs."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class SourceKind(StrEnum):
    INTERNAL = "internal"  # the bank's own systems
    GROUP = "group"  # group subsidiaries (insurance, securities, leasing)
    THIRD_PARTY = "third_party"  # telco, utility, e-commerce: only with the customer's consent


@dataclass(frozen=True)
class SourceSpec:
    """A declared source: its kind, priority in survivorship (lower wins) and column mapping
    (our field → the file's column)."""

    name: str
    kind: SourceKind
    priority: int
    mapping: dict[str, str] = field(default_factory=dict)


FIELDS = (
    "record_id",
    "name",
    "gender",
    "birth_on",
    "resident_id",
    "phone",
    "email",
    "address",
    "province_code",
    "city_code",
    "uscc",
)

# The declared sources. The synthetic bank's files use our field names, so their mapping is
# the identity; a real delivery declares its own columns here.
SOURCES: dict[str, SourceSpec] = {
    s.name: s
    for s in (
        SourceSpec("identity", SourceKind.INTERNAL, 0),
        SourceSpec("core", SourceKind.INTERNAL, 1),
        SourceSpec("insurance", SourceKind.GROUP, 2),
        SourceSpec("securities", SourceKind.GROUP, 2),
        SourceSpec("leasing", SourceKind.GROUP, 3),
        SourceSpec("telco", SourceKind.THIRD_PARTY, 4),
        SourceSpec("utility", SourceKind.THIRD_PARTY, 5),
        SourceSpec("ecommerce", SourceKind.THIRD_PARTY, 5),
    )
}


@dataclass(frozen=True)
class IngestResult:
    batch_id: uuid.UUID | None
    source: str
    rows: int
    new: int
    changed: int
    held: int  # third-party rows kept but not used (no consent)
    duplicate_batch: bool


@dataclass(frozen=True)
class ResolveResult:
    run_id: uuid.UUID
    engine: str
    model_version: str
    records: int
    customers: int
    created: int
    merged: int
    split: int
    updated: int
    review_pending: int
    seconds: float


@dataclass(frozen=True)
class Attribute:
    """One golden attribute and where it came from."""

    name: str
    value: str
    source: str
    record_id: str
    batch_id: str
    received_at: str


@dataclass(frozen=True)
class SourceRecordView:
    record_id: uuid.UUID
    source: str
    record_key: str
    batch_id: uuid.UUID
    received_at: dt.datetime
    name: str
    phone: str
    resident_id: str
    birth_on: str
    address: str


@dataclass(frozen=True)
class CustomerView:
    customer_id: uuid.UUID
    status: str
    merged_into: uuid.UUID | None
    identity_customer_id: uuid.UUID | None
    display_name: str
    attributes: list[Attribute]
    records: list[SourceRecordView]
    quality_score: int
    quality_issues: list[str]
    updated_at: dt.datetime


@dataclass(frozen=True)
class CustomerSummary:
    customer_id: uuid.UUID
    display_name: str
    sources: list[str]
    quality_score: int


@dataclass(frozen=True)
class ReviewPairView:
    pair_id: uuid.UUID
    match_probability: float
    model_version: str
    state: str
    a: SourceRecordView
    b: SourceRecordView
    customer_a: uuid.UUID | None
    customer_b: uuid.UUID | None
    decided_by: str
    decided_at: dt.datetime | None


@dataclass(frozen=True)
class QualityPoint:
    business_date: dt.date
    metrics: dict[str, Any]


@dataclass(frozen=True)
class Relationship:
    """Another customer related to this one: ``kind`` ``household`` (a shared family phone,
    or the same home address and surname); ``evidence`` says which."""

    kind: str
    customer_id: uuid.UUID
    display_name: str
    evidence: list[str]
