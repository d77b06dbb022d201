"""Insight serving tables: what the build loads back for the console, the API and the 360° view.

Customer ids are the lake's text ids (UUIDs as text for the bank's own customers)."""

from __future__ import annotations

from django.db import models


class BuildRun(models.Model):
    as_of = models.DateField()
    engine = models.CharField(max_length=10)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    customers = models.IntegerField(default=0)
    indicators = models.IntegerField(default=0)
    segments = models.IntegerField(default=0)
    timings = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"build {self.as_of} ({self.engine})"


class CustomerProfile(models.Model):
    """The latest indicator values of one customer (a JSON object keyed by indicator id)."""

    customer_id = models.CharField(max_length=64, unique=True)
    as_of = models.DateField()
    values = models.JSONField(default=dict)
    stage = models.CharField(max_length=12, blank=True)
    stage_since = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return self.customer_id


class SegmentMembership(models.Model):
    """One stay of a customer in a segment: open while ``left_on`` is null."""

    segment_id = models.CharField(max_length=64)
    customer_id = models.CharField(max_length=64)
    entered_on = models.DateField()
    left_on = models.DateField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["customer_id", "left_on"]),
            models.Index(fields=["segment_id", "left_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} in {self.segment_id}"


class SegmentSize(models.Model):
    segment_id = models.CharField(max_length=64)
    as_of = models.DateField()
    size = models.IntegerField()
    composition = models.JSONField(default=dict)  # stage -> count

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["segment_id", "as_of"], name="insight_size_once")
        ]

    def __str__(self) -> str:
        return f"{self.segment_id} {self.as_of}: {self.size}"


class StageTransition(models.Model):
    customer_id = models.CharField(max_length=64, db_index=True)
    from_stage = models.CharField(max_length=12, blank=True)
    to_stage = models.CharField(max_length=12)
    on = models.DateField()

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.from_stage} -> {self.to_stage}"


class IndicatorQuality(models.Model):
    indicator_id = models.CharField(max_length=64)
    as_of = models.DateField()
    null_rate = models.FloatField()
    min_value = models.FloatField(null=True)
    max_value = models.FloatField(null=True)
    mean_value = models.FloatField(null=True)
    fresh_on = models.DateField(null=True)  # latest lake date the indicator saw

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["indicator_id", "as_of"], name="insight_quality_once")
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id} {self.as_of}"


class CircleStat(models.Model):
    circle_id = models.CharField(max_length=64)
    as_of = models.DateField()
    members = models.IntegerField()
    holding = models.IntegerField()
    engaged = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["circle_id", "as_of"], name="insight_circle_once")
        ]

    def __str__(self) -> str:
        return f"{self.circle_id} {self.as_of}"


class SavedSegment(models.Model):
    """A custom segment saved from the console's builder (family ``custom``). The next build
    evaluates every active one like a shipped segment, with membership history under ``code``;
    ``version`` grows by one on each edit."""

    code = models.CharField(max_length=48, unique=True)
    zh = models.CharField(max_length=100)
    en = models.CharField(max_length=100)
    family = models.CharField(max_length=20, default="custom")
    rule = models.TextField()
    version = models.PositiveIntegerField(default=1)
    created_by = models.CharField(max_length=100)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"
