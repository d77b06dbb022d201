from __future__ import annotations

import dataclasses
import re

import pytest

from rongshu.assistant.errors import InvalidFaq
from rongshu.assistant.models import FaqEntry, FaqVersion
from rongshu.assistant.services import (
    check_faq_record,
    do_edit_faq,
    do_load_faq_set,
    do_set_faq_active,
    get_faq_entry,
    get_record,
    list_faq_entries,
    read_faq_set,
)

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_shipped_set_has_at_least_300_valid_bilingual_entries() -> None:
    records, oos = read_faq_set()
    assert len(records) >= 300
    assert len({r.key for r in records}) == len(records)
    categories = {r.category for r in records}
    for needed in (
        "accounts",
        "transfers",
        "payments",
        "lifepay",
        "lending",
        "wealth",
        "commerce",
        "branch",
        "cards",
        "security",
        "privacy",
        "fees",
    ):
        assert needed in categories
    for r in records:
        assert len(r.answer_sms_zh) <= 70 and len(r.answer_sms_en) <= 70, r.key
        assert len(r.paraphrases_zh) >= 2 and len(r.paraphrases_en) >= 2, r.key
        assert CJK.search(r.question_zh) and CJK.search(r.answer_web_zh), r.key
        assert not CJK.search(r.question_en + r.answer_web_en + r.answer_sms_en), r.key
        assert len(set(r.paraphrases_zh) | {r.question_zh}) == len(r.paraphrases_zh) + 1, r.key
    assert len(oos["zh-hans"]) >= 20 and len(oos["en"]) >= 20


def test_check_rejects_long_sms_and_too_few_paraphrases() -> None:
    record = read_faq_set()[0][0]
    with pytest.raises(InvalidFaq, match="answer_sms_zh is longer than 70"):
        check_faq_record(dataclasses.replace(record, answer_sms_zh="长" * 71))
    with pytest.raises(InvalidFaq, match="at least 2 paraphrases"):
        check_faq_record(dataclasses.replace(record, paraphrases_en=("only one",)))
    with pytest.raises(InvalidFaq, match=r"topic\.aspect"):
        check_faq_record(dataclasses.replace(record, key="nodot"))


@pytest.mark.django_db
def test_loading_is_idempotent() -> None:
    first = do_load_faq_set()
    total = FaqEntry.objects.count()
    assert first.created == total >= 300 and first.updated == 0
    second = do_load_faq_set()
    assert (second.created, second.updated, second.unchanged) == (0, 0, total)
    assert FaqVersion.objects.count() == total
    entry = get_faq_entry("transfer.fee")
    assert entry.version == 1 and entry.is_active and entry.category == "transfers"


@pytest.mark.django_db
def test_an_edit_is_a_new_version_and_survives_reloading() -> None:
    do_load_faq_set()
    entry = get_faq_entry("transfer.fee")
    old = get_record(entry)
    new = dataclasses.replace(old, answer_sms_en="App transfers are free.")
    version = do_edit_faq("transfer.fee", new, editor="staff:alice")
    assert version.version == 2 and version.source == FaqVersion.SOURCE_STAFF
    entry.refresh_from_db()
    assert entry.version == 2
    assert get_record(entry).answer_sms_en == "App transfers are free."
    assert entry.versions.get(version=1).answer_sms_en == old.answer_sms_en  # kept
    # Saving the same content again does not create a version.
    assert do_edit_faq("transfer.fee", new, editor="staff:alice").version == 2
    # Reloading the shipped set keeps the staff edit.
    assert do_load_faq_set().kept_staff_edits == 1
    assert get_record(get_faq_entry("transfer.fee")).answer_sms_en == "App transfers are free."


@pytest.mark.django_db
def test_invalid_edits_and_unknown_keys_are_refused() -> None:
    do_load_faq_set()
    record = get_record(get_faq_entry("transfer.fee"))
    with pytest.raises(InvalidFaq):
        do_edit_faq("transfer.fee", dataclasses.replace(record, answer_sms_zh="x" * 80), editor="s")
    with pytest.raises(InvalidFaq, match="cannot change"):
        do_edit_faq("transfer.fee", dataclasses.replace(record, key="transfer.other"), editor="s")
    assert get_faq_entry("transfer.fee").version == 1


@pytest.mark.django_db
def test_deactivate_and_filter() -> None:
    do_load_faq_set()
    do_set_faq_active("transfer.fee", False, editor="staff:alice")
    assert not get_faq_entry("transfer.fee").is_active
    keys = {e.key for e in list_faq_entries(category="transfers")}
    assert "transfer.fee" in keys and all(
        k.split(".")[0] in {"transfer", "scheduled_transfer", "payee"} for k in keys
    )
    assert [e.key for e in list_faq_entries(query="ATM吞")] == ["debit_card.swallowed"]
