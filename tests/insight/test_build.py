"""The build loads serving tables: profiles, memberships with history, lifecycle transitions
with events, sizes, circles, quality; consent withdrawal deletes a customer's rows."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rongshu.insight import queries, services
from rongshu.insight.errors import UnknownIndicator
from rongshu.insight.models import (
    CircleStat,
    CustomerProfile,
    IndicatorQuality,
    SegmentMembership,
    SegmentSize,
    StageTransition,
)
from rongshu.kernel.models import OutboxEvent
from tests.insight.lake_fixture import AS_OF

pytestmark = pytest.mark.django_db


def test_build_serves_profiles_and_segments(lake: Path) -> None:
    summary = services.do_build(as_of=AS_OF, lake=lake)
    assert summary.customers == CustomerProfile.objects.count() > 0
    assert queries.indicator("c-elder", "age") == 76
    assert queries.indicator("c-diner", "food_spend_6m") == 60_000
    assert queries.indicator("nobody", "age") is None
    with pytest.raises(UnknownIndicator):
        queries.indicator("c-elder", "no_such_indicator")
    assert "elderly" in {s.id for s in queries.segments_of("c-elder")}
    assert "mortgage_holders" in {s.id for s in queries.segments_of("c-mortgage")}
    assert queries.segments_of("c-optout") == []
    assert SegmentSize.objects.filter(as_of=AS_OF, segment_id="elderly").get().size >= 1
    assert CircleStat.objects.filter(as_of=AS_OF).count() == 4
    quality = {q.indicator_id: q for q in IndicatorQuality.objects.filter(as_of=AS_OF)}
    assert quality["age"].null_rate == 0.0
    assert quality["days_since_last_txn"].null_rate > 0
    fresh = quality["food_spend_12m"].fresh_on
    assert fresh is not None and AS_OF - dt.timedelta(days=7) <= fresh <= AS_OF
    profile = queries.profile_of("c-elder")
    assert profile is not None and profile["stage"] == "mature"


def test_membership_history_and_stage_events(lake: Path, tmp_path: Path) -> None:
    services.do_build(as_of=AS_OF, lake=lake)
    first = SegmentMembership.objects.get(customer_id="c-abroad", segment_id="cross_border")
    assert first.entered_on == AS_OF and first.left_on is None
    # three months later nothing new happened: the abroad customer leaves the 3-month windows
    later = dt.date(2026, 9, 30)
    summary = services.do_build(as_of=later, lake=lake)
    assert summary.transitions > 0
    moved = StageTransition.objects.filter(on=later)
    assert moved.exists()
    events = OutboxEvent.objects.filter(event_type="insight.LifecycleStageChanged")
    assert events.count() == moved.exclude(from_stage="").count()
    assert SegmentSize.objects.filter(segment_id="elderly").count() == 2
    left = SegmentMembership.objects.filter(left_on=later)
    assert left.exists()
    for m in left:
        assert m.entered_on == AS_OF


def test_withdrawn_profiling_consent_event_forgets(lake: Path) -> None:
    from rongshu.insight.handlers import forget_profile

    services.do_build(as_of=AS_OF, lake=lake)
    event = OutboxEvent(
        event_type="identity.ConsentWithdrawn",
        payload={"customer_id": "c-car", "purpose": "marketing"},
    )
    forget_profile(event)
    assert queries.profile_of("c-car") is not None
    event.payload = {"customer_id": "c-car", "purpose": "profiling"}
    forget_profile(event)
    assert queries.profile_of("c-car") is None


def test_consent_withdrawal_deletes_rows(lake: Path, tmp_path: Path) -> None:
    services.do_build(as_of=AS_OF, lake=lake)
    assert services.do_forget_customer("c-elder") > 0
    assert queries.profile_of("c-elder") is None
    assert queries.segments_of("c-elder") == []
    # the next build from a lake where the customer withdrew keeps them out
    copy = tmp_path / "lake"
    shutil.copytree(lake, copy)
    table = pq.read_table(copy / "customers" / "part-0.parquet")
    consent = pa.array([cid != "c-elder" for cid in table.column("customer_id").to_pylist()])
    table = table.set_column(
        table.schema.get_field_index("profiling_consent"), "profiling_consent", consent
    )
    pq.write_table(table, copy / "customers" / "part-0.parquet")
    services.do_build(as_of=AS_OF, lake=copy)
    assert queries.indicator("c-elder", "age") is None


def test_cli_build(lake: Path) -> None:
    from io import StringIO

    from django.core.management import call_command

    out, err = StringIO(), StringIO()
    call_command(
        "insight",
        "build",
        "--as-of",
        AS_OF.isoformat(),
        "--lake",
        str(lake),
        stdout=out,
        stderr=err,
    )
    assert "customers, 234 indicators, 108 segments" in out.getvalue()
    assert "insight build" in err.getvalue()  # the progress bar
    assert CustomerProfile.objects.filter(customer_id="c-diner").exists()
