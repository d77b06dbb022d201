"""Source records with lineage, golden customers, the review queue, saved models and quality
runs. The golden record's attributes carry the source record they came from."""

from __future__ import annotations

from django.db import models

from rongshu.kernel.ids import new_id


class SourceBatch(models.Model):
    """One delivery of a source: a file, or a pull from the bank's own customer registry."""

    public_id = models.UUIDField(default=new_id, unique=True, editable=False)
    source = models.CharField(max_length=40)
    kind = models.CharField(max_length=12)  # internal | group | third_party
    file_name = models.CharField(max_length=255, blank=True)
    checksum = models.CharField(max_length=64)
    row_count = models.IntegerField(default=0)
    new_count = models.IntegerField(default=0)
    held_count = models.IntegerField(default=0)
    received_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "checksum"], name="customers_batch_once")
        ]

    def __str__(self) -> str:
        return f"{self.source} batch {self.public_id}"


class SourceRecord(models.Model):
    """One input row as received (``raw``) and standardised (``std``), with its lineage."""

    public_id = models.UUIDField(default=new_id, unique=True, editable=False)
    source = models.CharField(max_length=40)
    kind = models.CharField(max_length=12)
    record_key = models.CharField(max_length=80)
    batch = models.ForeignKey(SourceBatch, models.PROTECT, related_name="records")
    raw = models.JSONField()
    std = models.JSONField()
    content_hash = models.CharField(max_length=64)
    identity_customer_id = models.UUIDField(null=True, blank=True)
    customer = models.ForeignKey(
        "Customer", models.SET_NULL, null=True, blank=True, related_name="records"
    )
    received_at = models.DateTimeField()
    # The model version this record was last scored with ("" = not yet scored, or changed
    # since): incremental runs score only such records against the others.
    scored_version = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "record_key"], name="customers_record_key")
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.record_key}"


class Customer(models.Model):
    """A resolved real customer: the golden record. Its ``public_id`` survives re-runs."""

    ACTIVE = "active"
    MERGED = "merged"
    public_id = models.UUIDField(default=new_id, unique=True, editable=False)
    status = models.CharField(max_length=10, default=ACTIVE)
    merged_into = models.ForeignKey(
        "self", models.SET_NULL, null=True, blank=True, related_name="absorbed"
    )
    identity_customer_id = models.UUIDField(null=True, blank=True, db_index=True)
    golden = models.JSONField(default=dict)
    display_name = models.CharField(max_length=100, blank=True)
    quality_score = models.IntegerField(default=100)
    quality_issues = models.JSONField(default=list)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"customer {self.public_id}"


class ReviewPair(models.Model):
    """A pair the model was unsure about; a human decides merge or split, and the decision
    is reused by every later run."""

    PENDING = "pending"
    MERGE = "merge"
    SPLIT = "split"
    public_id = models.UUIDField(default=new_id, unique=True, editable=False)
    record_a = models.ForeignKey(SourceRecord, models.CASCADE, related_name="+")
    record_b = models.ForeignKey(SourceRecord, models.CASCADE, related_name="+")
    match_probability = models.FloatField()
    model_version = models.CharField(max_length=32)
    state = models.CharField(max_length=10, default=PENDING)
    decided_by = models.CharField(max_length=80, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record_a", "record_b"], name="customers_review_pair")
        ]

    def __str__(self) -> str:
        return f"review {self.public_id}"


class MatchLink(models.Model):
    """A pair the model linked without review (probability at or above the auto-link
    threshold), kept so later runs cluster without re-scoring old records."""

    record_a = models.ForeignKey(SourceRecord, models.CASCADE, related_name="+")
    record_b = models.ForeignKey(SourceRecord, models.CASCADE, related_name="+")
    match_weight = models.FloatField()
    model_version = models.CharField(max_length=32)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record_a", "record_b"], name="customers_match_link")
        ]

    def __str__(self) -> str:
        return f"link {self.record_a_id}-{self.record_b_id}"


class MatchModel(models.Model):
    """A trained Splink model (its JSON), versioned by fingerprint; one is active."""

    version = models.CharField(max_length=32, unique=True)
    model_json = models.TextField()
    engine = models.CharField(max_length=10)
    record_count = models.IntegerField()
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"model {self.version}"


class ResolutionRun(models.Model):
    public_id = models.UUIDField(default=new_id, unique=True, editable=False)
    engine = models.CharField(max_length=10)
    model_version = models.CharField(max_length=32)
    record_count = models.IntegerField()
    customer_count = models.IntegerField()
    created = models.IntegerField(default=0)
    merged = models.IntegerField(default=0)
    split = models.IntegerField(default=0)
    updated = models.IntegerField(default=0)
    review_pending = models.IntegerField(default=0)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"run {self.public_id}"


class QualityRun(models.Model):
    """The nightly data-quality check of one business date."""

    business_date = models.DateField(unique=True)
    metrics = models.JSONField()
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"quality {self.business_date}"
