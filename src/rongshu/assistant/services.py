"""The assistant's public API: the knowledge base (load, edit, activate), training, replies,
and the conversations' write side (messages, hand-off, feedback, channel bindings, the outbox),
implemented in :mod:`rongshu.assistant.conversations` and re-exported here.

Channels (API, web, webhooks) call these; nothing here knows HTTP. Reads are in
:mod:`rongshu.assistant.queries`.
"""

from __future__ import annotations

import csv
import json
import time
import uuid
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from rongshu.assistant import queries, store
from rongshu.assistant.conversations import (
    BINDING_TTL,
    ChannelSender,
    Handled,
    check_chat_staff,
    do_agent_reply,
    do_bind,
    do_deliver_pending,
    do_enqueue,
    do_give_feedback,
    do_hand_back,
    do_handle_message,
    do_issue_binding_code,
    do_open_conversation,
    do_take,
    principal_for_channel,
    register_sender,
    sms_segments,
)
from rongshu.assistant.engine import OOS_LABEL, KbEngine, Samples, train_kb_engine
from rongshu.assistant.errors import AssistantNotReady, ClusterNotFound, FaqNotFound, InvalidFaq
from rongshu.assistant.models import FaqEntry, FaqVersion, HandledQuestion
from rongshu.assistant.text import detect_language, has_chinese
from rongshu.assistant.types import (
    CHANNELS,
    LANGUAGES,
    SMS_MAX_CHARS,
    FaqRecord,
    LoadResult,
    Reply,
    Suggestion,
    TrainResult,
)
from rongshu.kernel.audit import do_audit

FAQ_SET = Path(__file__).resolve().parent / "data" / "faq.json"
# Hand-written English questions (never trained on) that tune the English mixing weight and
# threshold: English held-out paraphrases are template wording, answered too confidently.
TUNING_SETS = (Path(__file__).resolve().parent / "data" / "tuning.en.csv",)
FAQ_NAMESPACE = uuid.UUID("6f1d3c2e-7a44-4f7e-9a55-1f0e5b9d2c11")  # public ids of shipped keys
MIN_PARAPHRASES = 2
SUGGESTIONS = 3

# the public API; the conversations' names are re-exported from rongshu.assistant.conversations
__all__ = [
    "BINDING_TTL",
    "FAQ_NAMESPACE",
    "FAQ_SET",
    "MIN_PARAPHRASES",
    "SUGGESTIONS",
    "TUNING_SETS",
    "ChannelSender",
    "Handled",
    "active_records",
    "check_chat_staff",
    "check_faq_record",
    "do_agent_reply",
    "do_bind",
    "do_deliver_pending",
    "do_draft_faq_from_cluster",
    "do_edit_faq",
    "do_enqueue",
    "do_give_feedback",
    "do_hand_back",
    "do_handle_message",
    "do_issue_binding_code",
    "do_load_faq_set",
    "do_open_conversation",
    "do_set_faq_active",
    "do_take",
    "do_train_model",
    "faq_public_id",
    "find_model_version",
    "get_current_version",
    "get_faq_entry",
    "get_record",
    "get_reply",
    "list_faq_categories",
    "list_faq_entries",
    "principal_for_channel",
    "read_faq_set",
    "read_tuning_set",
    "register_sender",
    "reply_with",
    "sms_segments",
]

_CLARIFY = {
    "zh-hans": "抱歉，我不太确定您的意思。您是想问：",
    "en": "Sorry, I'm not sure what you mean. Did you mean:",
}
_CLARIFY_NONE = {
    "zh-hans": "抱歉，这个问题我还不会回答。您可以换个说法，或回复「人工」转人工客服。",
    "en": 'Sorry, I can\'t answer that yet. Try other words, or reply "agent" for a person.',
}
_CLARIFY_SMS = {
    "zh-hans": "抱歉没太明白，请换个说法，或回复「人工」转人工客服。",
    "en": 'Sorry, I did not understand. Try other words or reply "agent".',
}


# ------------------------------------------------------------------ the FAQ set file
def check_faq_record(record: FaqRecord) -> None:
    """Raise :class:`InvalidFaq` unless the entry is complete and its SMS answers fit."""
    problems: list[str] = []
    topic, _, aspect = record.key.partition(".")
    if not topic or not aspect or len(record.key) > 80:
        problems.append("key must look like 'topic.aspect' (at most 80 characters)")
    for language in LANGUAGES:
        if not record.question(language).strip():
            problems.append(f"question ({language}) is empty")
        paraphrases = [p for p in record.paraphrases(language) if p.strip()]
        if len(paraphrases) < MIN_PARAPHRASES:
            problems.append(f"needs at least {MIN_PARAPHRASES} paraphrases ({language})")
    for name in ("answer_web_zh", "answer_web_en", "answer_sms_zh", "answer_sms_en"):
        if not str(getattr(record, name)).strip():
            problems.append(f"{name} is empty")
    for name in ("answer_sms_zh", "answer_sms_en"):
        if len(getattr(record, name)) > SMS_MAX_CHARS:
            problems.append(f"{name} is longer than {SMS_MAX_CHARS} characters")
    if not record.category.strip():
        problems.append("category is empty")
    if problems:
        raise InvalidFaq("; ".join(problems), data={"key": record.key, "problems": problems})


def read_faq_set(path: Path | None = None) -> tuple[list[FaqRecord], dict[str, list[str]]]:
    """The entries and out-of-scope examples of a FAQ set file (validated)."""
    data: dict[str, Any] = json.loads((path or FAQ_SET).read_text(encoding="utf-8"))
    records: list[FaqRecord] = []
    for item in data["entries"]:
        record = FaqRecord(
            key=item["key"],
            category=item["category"],
            question_zh=item["question"]["zh-hans"],
            question_en=item["question"]["en"],
            paraphrases_zh=tuple(item["paraphrases"]["zh-hans"]),
            paraphrases_en=tuple(item["paraphrases"]["en"]),
            answer_web_zh=item["answer"]["web"]["zh-hans"],
            answer_web_en=item["answer"]["web"]["en"],
            answer_sms_zh=item["answer"]["sms"]["zh-hans"],
            answer_sms_en=item["answer"]["sms"]["en"],
        )
        check_faq_record(record)
        records.append(record)
    keys = [r.key for r in records]
    if len(set(keys)) != len(keys):
        raise InvalidFaq("The FAQ set has duplicate keys.", code="duplicate_faq_key")
    oos = {lang: list(data.get("out_of_scope", {}).get(lang, [])) for lang in LANGUAGES}
    return records, oos


def faq_public_id(key: str) -> uuid.UUID:
    return uuid.uuid5(FAQ_NAMESPACE, key)


def _content(record: FaqRecord) -> dict[str, Any]:
    return {
        "question_zh": record.question_zh,
        "question_en": record.question_en,
        "paraphrases_zh": list(record.paraphrases_zh),
        "paraphrases_en": list(record.paraphrases_en),
        "answer_web_zh": record.answer_web_zh,
        "answer_web_en": record.answer_web_en,
        "answer_sms_zh": record.answer_sms_zh,
        "answer_sms_en": record.answer_sms_en,
    }


def do_load_faq_set(path: Path | None = None) -> LoadResult:
    """Load the shipped FAQ set (idempotent).

    A new key creates an entry at version 1; a shipped entry whose content changed in the file
    gets a new version; an entry whose current version is a staff edit is left alone.
    """
    records, _ = read_faq_set(path)
    created = updated = unchanged = kept = 0
    with transaction.atomic():
        existing = {e.key: e for e in FaqEntry.objects.select_for_update()}
        for record in records:
            content = _content(record)
            entry = existing.get(record.key)
            if entry is None:
                entry = FaqEntry.objects.create(
                    public_id=faq_public_id(record.key),
                    key=record.key,
                    category=record.category,
                    version=1,
                )
                FaqVersion.objects.create(entry=entry, version=1, **content)
                created += 1
                continue
            current = entry.versions.get(version=entry.version)
            if current.source == FaqVersion.SOURCE_STAFF:
                kept += 1
            elif all(getattr(current, k) == v for k, v in content.items()):
                unchanged += 1
            else:
                _new_version(entry, content, FaqVersion.SOURCE_SHIPPED, "faq-set")
                updated += 1
        if created or updated:
            do_audit(
                "system",
                "assistant.faq_set_loaded",
                data={"created": created, "updated": updated, "kept_staff_edits": kept},
            )
    return LoadResult(created=created, updated=updated, unchanged=unchanged, kept_staff_edits=kept)


def _new_version(entry: FaqEntry, content: dict[str, Any], source: str, editor: str) -> FaqVersion:
    version = FaqVersion.objects.create(
        entry=entry, version=entry.version + 1, source=source, edited_by=editor, **content
    )
    entry.version = version.version
    entry.save(update_fields=["version", "updated_at"])
    return version


# ------------------------------------------------------------------ reading and editing
def list_faq_entries(
    *, category: str | None = None, query: str | None = None
) -> QuerySet[FaqEntry]:
    entries = FaqEntry.objects.all()
    if category:
        entries = entries.filter(category=category)
    if query:
        matching = FaqVersion.objects.filter(
            Q(question_zh__icontains=query) | Q(question_en__icontains=query)
        ).values("entry_id")
        entries = entries.filter(Q(key__icontains=query) | Q(id__in=matching))
    return entries


def list_faq_categories() -> list[str]:
    return list(FaqEntry.objects.order_by("category").values_list("category", flat=True).distinct())


def get_faq_entry(key: str) -> FaqEntry:
    try:
        return FaqEntry.objects.get(key=key)
    except FaqEntry.DoesNotExist:
        raise FaqNotFound(f"No FAQ entry {key!r}.") from None


def get_current_version(entry: FaqEntry) -> FaqVersion:
    return entry.versions.get(version=entry.version)


def get_record(entry: FaqEntry) -> FaqRecord:
    return get_current_version(entry).to_record(entry.key, entry.category)


def do_edit_faq(key: str, record: FaqRecord, *, editor: str) -> FaqVersion:
    """Save a staff edit of entry ``key`` as a new version (the old ones are kept)."""
    if record.key != key:
        raise InvalidFaq("The key of an entry cannot change.", code="faq_key_changed")
    check_faq_record(record)
    with transaction.atomic():
        entry = FaqEntry.objects.select_for_update().filter(key=key).first()
        if entry is None:
            raise FaqNotFound(f"No FAQ entry {key!r}.")
        content = _content(record)
        current = get_current_version(entry)
        if all(getattr(current, k) == v for k, v in content.items()) and (
            entry.category == record.category
        ):
            return current
        if entry.category != record.category:
            entry.category = record.category
            entry.save(update_fields=["category", "updated_at"])
        version = _new_version(entry, content, FaqVersion.SOURCE_STAFF, editor)
        do_audit(
            editor,
            "assistant.faq_edited",
            object_type="faq_entry",
            object_id=str(entry.public_id),
            data={"key": key, "version": version.version},
        )
        return version


def do_set_faq_active(key: str, active: bool, *, editor: str) -> FaqEntry:
    """Activate or deactivate an entry. Only a complete entry can be activated (a draft made
    from unanswered questions needs its other language and its answers first)."""
    with transaction.atomic():
        entry = get_faq_entry(key)
        if active and not entry.is_active:
            check_faq_record(get_record(entry))
        if entry.is_active != active:
            entry.is_active = active
            entry.save(update_fields=["is_active", "updated_at"])
            do_audit(
                editor,
                "assistant.faq_activated" if active else "assistant.faq_deactivated",
                object_type="faq_entry",
                object_id=str(entry.public_id),
                data={"key": key},
            )
        return entry


# ------------------------------------------------------------------ drafts from the learning loop
QUESTION_MAX = 300  # FaqVersion.question_* length


def _split_by_language(questions: tuple[str, ...]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {lang: [] for lang in LANGUAGES}
    for question in questions:
        out["zh-hans" if has_chinese(question) else "en"].append(question)
    return out


def do_draft_faq_from_cluster(cluster_id: str, *, key: str, category: str, editor: str) -> FaqEntry:
    """Turn a group of unanswered questions (``queries.cluster_unanswered``, by its ``id``)
    into a **draft** FAQ entry and mark the group's questions as handled.

    The group's most central question becomes the standard question of its language, the
    others its paraphrases (the first question in the other language, if any, that
    language's standard question). Answers are left empty: the draft is inactive, unused by
    the engine, and cannot be activated until staff complete it in the editor (a new
    version); the next training after activation learns its wordings. Raises
    :class:`ClusterNotFound` when no current group has that id (it changed or was handled)
    and :class:`InvalidFaq` for a malformed or taken key or an empty category.
    """
    key = key.strip()
    category = category.strip()
    topic, _, aspect = key.partition(".")
    if not topic or not aspect or len(key) > 80 or any(c.isspace() or c == "/" for c in key):
        raise InvalidFaq(
            "key must look like 'topic.aspect' (at most 80 characters, no spaces)",
            code="invalid_faq_key",
            data={"key": key},
        )
    if not category or len(category) > 40:
        raise InvalidFaq("category is empty or too long", data={"category": category})
    cluster = next(
        (c for c in queries.cluster_unanswered(max_clusters=None) if c.id == cluster_id), None
    )
    if cluster is None:
        raise ClusterNotFound(data={"cluster_id": cluster_id})
    by_language = _split_by_language(cluster.questions)
    first = "zh-hans" if has_chinese(cluster.representative) else "en"
    content: dict[str, Any] = {}
    for language, short in (("zh-hans", "zh"), ("en", "en")):
        texts = by_language[language]
        if language == first:  # the representative question leads its language
            texts = [cluster.representative] + [t for t in texts if t != cluster.representative]
        content[f"question_{short}"] = texts[0][:QUESTION_MAX] if texts else ""
        content[f"paraphrases_{short}"] = texts[1:]
    for name in ("answer_web_zh", "answer_web_en", "answer_sms_zh", "answer_sms_en"):
        content[name] = ""
    try:
        with transaction.atomic():
            if FaqEntry.objects.filter(key=key).exists():
                raise InvalidFaq(f"The key {key!r} is taken.", code="faq_key_taken")
            entry = FaqEntry.objects.create(key=key, category=category, is_active=False, version=1)
            FaqVersion.objects.create(
                entry=entry,
                version=1,
                source=FaqVersion.SOURCE_STAFF,
                edited_by=editor,
                **content,
            )
            HandledQuestion.objects.bulk_create(
                [
                    HandledQuestion(
                        digest=queries.question_digest(q),
                        text=q.strip(),
                        cluster_id=cluster.id,
                        entry=entry,
                        handled_by=editor,
                    )
                    for q in cluster.questions
                ]
            )
            do_audit(
                editor,
                "assistant.faq_drafted",
                object_type="faq_entry",
                object_id=str(entry.public_id),
                data={"key": key, "cluster_id": cluster.id, "questions": len(cluster.questions)},
            )
    except IntegrityError:  # another member of staff handled the group (or took the key) first
        raise ClusterNotFound(data={"cluster_id": cluster_id}) from None
    return entry


# ------------------------------------------------------------------ training
def active_records() -> list[FaqRecord]:
    entries = FaqEntry.objects.filter(is_active=True).order_by("key")
    versions = {
        (v.entry_id, v.version): v
        for v in FaqVersion.objects.filter(entry__is_active=True).select_related(None)
    }
    return [versions[(e.pk, e.version)].to_record(e.key, e.category) for e in entries]


def read_tuning_set(paths: tuple[Path, ...] = TUNING_SETS) -> Samples:
    """Hand-written questions labelled with their entry (CSV ``text,key``) for tuning the
    per-language mixing weight and answer threshold (:func:`engine.train_kb_engine`)."""
    out = Samples([], [])
    for path in paths:
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                out.texts.append(row["text"])
                out.labels.append(row["key"])
    return out


def do_train_model(
    *, records: list[FaqRecord] | None = None, out_of_scope: list[str] | None = None
) -> TrainResult:
    """Train an engine on the active entries (or ``records``) and make it current."""
    started = time.perf_counter()
    records = active_records() if records is None else records
    if len(records) < 2:
        raise InvalidFaq("At least two active FAQ entries are needed to train.", code="faq_too_few")
    if out_of_scope is None:
        _, oos = read_faq_set()
        out_of_scope = [text for lang in LANGUAGES for text in oos[lang]]
    engine, _ = train_kb_engine(
        records, out_of_scope, cache_dir=store.embedding_cache_dir(), tuning=read_tuning_set()
    )
    path = store.save_engine(engine)
    do_audit(
        "system",
        "assistant.model_trained",
        data={"version": engine.version, "entries": len(records)},
    )
    return TrainResult(
        version=engine.version,
        path=str(path),
        entries=len(records),
        samples=engine.trained_samples,
        seconds=time.perf_counter() - started,
        thresholds={lang: engine.threshold_for(lang) for lang in LANGUAGES},
        alphas={lang: engine.alpha_for(lang) for lang in LANGUAGES},
    )


def find_model_version() -> str | None:
    engine = store.find_current_engine()
    return engine.version if engine else None


# ------------------------------------------------------------------ replies
def _answer_text(record: FaqRecord, channel: str, language: str) -> str:
    zh = language == "zh-hans"
    if channel == "sms":
        return record.answer_sms_zh if zh else record.answer_sms_en
    return record.answer_web_zh if zh else record.answer_web_en


def get_reply(text: str, *, channel: str = "web", language: str | None = None) -> Reply:
    """Understand one message and answer it for ``channel`` (web, sms or wechat).

    Confident: the matched entry's answer for the channel. Unsure or out of scope: a clarifying
    question with up to three suggestions (questions of the most likely entries).
    """
    if channel not in CHANNELS:
        raise InvalidFaq(f"Unknown channel {channel!r}.", code="unknown_channel")
    language = language or detect_language(text)
    if language not in LANGUAGES:
        raise InvalidFaq(f"Unknown language {language!r}.", code="unknown_language")
    engine = store.find_current_engine()
    if engine is None:
        raise AssistantNotReady(
            "No trained model yet: run `rongshu assistant train` (or `rongshu demo`)."
        )
    return reply_with(engine, text, channel=channel, language=language)


def reply_with(engine: KbEngine, text: str, *, channel: str, language: str) -> Reply:
    ranked = engine.rank(text, k=SUGGESTIONS + 1)
    live = _live_records([r.key for r in ranked if r.key != OOS_LABEL])
    candidates = [r for r in ranked if r.key in live]
    top = ranked[0]
    confident = top.key in live and engine.is_confident(text, top)
    if confident:
        entry, record = live[top.key]
        return Reply(
            text=_answer_text(record, channel, language),
            channel=channel,
            language=language,
            answered=True,
            confidence=round(top.probability, 4),
            intent=top.key,
            faq_id=entry.public_id,
            faq_key=top.key,
            faq_version=entry.version,
            model_version=engine.version,
        )
    suggestions = tuple(
        Suggestion(
            faq_id=live[r.key][0].public_id,
            faq_key=r.key,
            question=live[r.key][1].question(language),
            score=round(r.probability, 4),
        )
        for r in candidates[:SUGGESTIONS]
        if r.probability >= 0.01
    )
    if channel == "sms":
        message = _CLARIFY_SMS[language]
    elif suggestions:
        lines = [f"{i}. {s.question}" for i, s in enumerate(suggestions, start=1)]
        message = "\n".join([_CLARIFY[language], *lines])
    else:
        message = _CLARIFY_NONE[language]
    return Reply(
        text=message,
        channel=channel,
        language=language,
        answered=False,
        confidence=round(top.probability if top.key != OOS_LABEL else 0.0, 4),
        intent=OOS_LABEL if top.key == OOS_LABEL else None,
        model_version=engine.version,
        suggestions=suggestions,
    )


def _live_records(keys: list[str]) -> dict[str, tuple[FaqEntry, FaqRecord]]:
    """Current content of the active entries among ``keys`` (staff edits show at once)."""
    out: dict[str, tuple[FaqEntry, FaqRecord]] = {}
    entries = FaqEntry.objects.filter(key__in=keys, is_active=True)
    by_pk = {e.pk: e for e in entries}
    versions = FaqVersion.objects.filter(entry_id__in=list(by_pk))
    for version in versions:
        entry = by_pk[version.entry_id]
        if version.version == entry.version:
            out[entry.key] = (entry, version.to_record(entry.key, entry.category))
    return out
