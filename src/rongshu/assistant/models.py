"""The knowledge base: FAQ entries and their immutable versions.

An entry is the stable identity of one question (``key``, public id, category, active flag,
current version number); every edit writes a new :class:`FaqVersion` and moves the entry's
``version`` to it, so earlier wordings and answers stay on record.
"""

from __future__ import annotations

from django.db import models

from rongshu.assistant.types import SMS_MAX_CHARS, FaqRecord
from rongshu.kernel.ids import new_id


class FaqEntry(models.Model):
    public_id = models.UUIDField(unique=True, default=new_id, editable=False)
    key = models.CharField(max_length=80, unique=True)  # "topic.aspect", e.g. "transfer.fee"
    category = models.CharField(max_length=40, db_index=True)
    is_active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)  # the current FaqVersion.version
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category", "key"]
        verbose_name = "FAQ entry"
        verbose_name_plural = "FAQ entries"

    def __str__(self) -> str:
        return f"{self.key} v{self.version}"


class FaqVersion(models.Model):
    SOURCE_SHIPPED = "shipped"
    SOURCE_STAFF = "staff"
    SOURCES = [(SOURCE_SHIPPED, "shipped FAQ set"), (SOURCE_STAFF, "staff edit")]

    entry = models.ForeignKey(FaqEntry, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    question_zh = models.CharField(max_length=300)
    question_en = models.CharField(max_length=300)
    paraphrases_zh = models.JSONField(default=list)
    paraphrases_en = models.JSONField(default=list)
    answer_web_zh = models.TextField()
    answer_web_en = models.TextField()
    answer_sms_zh = models.CharField(max_length=SMS_MAX_CHARS)
    answer_sms_en = models.CharField(max_length=SMS_MAX_CHARS)
    source = models.CharField(max_length=10, choices=SOURCES, default=SOURCE_SHIPPED)
    edited_by = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["entry_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "version"], name="faq_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.entry.key} v{self.version}"

    def to_record(self, key: str, category: str) -> FaqRecord:
        return FaqRecord(
            key=key,
            category=category,
            question_zh=self.question_zh,
            question_en=self.question_en,
            paraphrases_zh=tuple(self.paraphrases_zh),
            paraphrases_en=tuple(self.paraphrases_en),
            answer_web_zh=self.answer_web_zh,
            answer_web_en=self.answer_web_en,
            answer_sms_zh=self.answer_sms_zh,
            answer_sms_en=self.answer_sms_en,
        )
