"""The learning loop closed: unanswered questions are grouped, staff turn a group into a
draft FAQ entry (inactive, unused until completed and activated), the group is marked as
handled and no longer proposed, and training after activation learns its wordings."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from django.test import Client

from rongshu.assistant import conversations as store
from rongshu.assistant import queries, services
from rongshu.assistant.engine import train_kb_engine
from rongshu.assistant.errors import ClusterNotFound, InvalidFaq
from rongshu.assistant.models import FaqEntry, HandledQuestion
from rongshu.identity.types import ANONYMOUS, Role
from rongshu.kernel.models import AuditEntry
from tests.assistant.conftest import subset
from tests.identity.builders import make_staff, staff_client

pytestmark = pytest.mark.django_db

CARD_FEE = ("信用卡年费多少", "信用卡年费怎么收", "信用卡的年费是多少钱")
CARD_FEE_EN = ("credit card annual fee", "annual fee of my credit card")
FX = ("外汇牌价在哪看", "今天外汇牌价")


def ask_unanswered(texts: tuple[str, ...]) -> None:
    """Customers' messages 小微 could not answer (stored as the dialogue stores them)."""
    for text in texts:
        conv = store.do_open_conversation("web")
        turn = store.do_handle_message(conv, text, principal=ANONYMOUS).turn
        if turn.answered:  # the small test engine happened to answer: the customer said 👎
            turn.feedback = "down"
            turn.save(update_fields=["feedback"])


def card_fee_cluster() -> queries.Cluster:
    clusters = queries.cluster_unanswered(max_clusters=None)
    return next(c for c in clusters if any("信用卡" in q for q in c.questions))


def test_clusters_carry_all_questions_and_a_stable_id() -> None:
    texts = ["信用卡年费多少", "信用卡年费怎么收", "信用卡的年费是多少钱", *FX]
    first = queries.cluster_unanswered(texts)
    again = queries.cluster_unanswered(list(reversed(texts)))
    assert {c.id for c in first} == {c.id for c in again}
    card = next(c for c in first if "信用卡年费多少" in c.questions)
    assert set(card.questions) == set(texts[:3]) and card.representative == card.questions[0]
    assert card.id == queries.cluster_fingerprint(list(reversed(card.questions)))
    assert card.id != queries.cluster_fingerprint([*card.questions, "外汇牌价在哪看"])


def test_draft_from_a_cluster_marks_it_handled(trained: Any) -> None:
    ask_unanswered(CARD_FEE + FX + CARD_FEE_EN)
    cluster = card_fee_cluster()
    assert cluster.representative in CARD_FEE
    entry = services.do_draft_faq_from_cluster(
        cluster.id, key="credit_card.fee", category="cards", editor="staff:analyst"
    )
    assert not entry.is_active and entry.version == 1
    draft = services.get_current_version(entry)
    assert draft.source == "staff" and draft.edited_by == "staff:analyst"
    zh = [q for q in cluster.questions if "信用卡" in q]
    en = [q for q in cluster.questions if "信用卡" not in q]
    leading = cluster.representative
    if leading in zh:
        assert draft.question_zh == leading
    assert sorted([draft.question_zh, *draft.paraphrases_zh]) == sorted(zh)
    assert [q for q in (draft.question_en, *draft.paraphrases_en) if q] == sorted(en)
    assert draft.answer_web_zh == draft.answer_sms_en == ""  # staff write the answers
    handled = HandledQuestion.objects.filter(entry=entry)
    assert {h.text for h in handled} == set(cluster.questions)
    assert {h.cluster_id for h in handled} == {cluster.id}
    assert AuditEntry.objects.filter(action="assistant.faq_drafted").count() == 1

    # not proposed again; the other group still is
    remaining = queries.cluster_unanswered(max_clusters=None)
    assert all(not set(c.questions) & set(cluster.questions) for c in remaining)
    assert any("外汇牌价在哪看" in c.questions for c in remaining)
    assert not set(queries.unanswered_questions()) & set(cluster.questions)
    with pytest.raises(ClusterNotFound):  # the same group cannot be drafted twice
        services.do_draft_faq_from_cluster(
            cluster.id, key="credit_card.fee2", category="cards", editor="staff:analyst"
        )
    # the same question asked again later is still handled (linked to the draft)
    ask_unanswered(("信用卡年费多少",))
    assert "信用卡年费多少" not in queries.unanswered_questions()
    [shown] = queries.list_handled_clusters()
    assert (shown.entry_key, shown.entry_active, shown.questions) == (
        "credit_card.fee",
        False,
        len(cluster.questions),
    )
    # an English group fills the English question and leaves the Chinese one to staff
    english = next(
        c for c in queries.cluster_unanswered(max_clusters=None) if "annual" in c.representative
    )
    assert set(english.questions) == set(CARD_FEE_EN)
    services.do_draft_faq_from_cluster(
        english.id, key="credit_card.fee_en", category="cards", editor="staff:analyst"
    )
    en_draft = services.get_record(services.get_faq_entry("credit_card.fee_en"))
    assert en_draft.question_en == english.representative and en_draft.question_zh == ""
    assert set(en_draft.paraphrases_en) == set(CARD_FEE_EN) - {english.representative}
    assert [h.entry_key for h in queries.list_handled_clusters()] == [
        "credit_card.fee_en",
        "credit_card.fee",
    ]


def test_draft_refuses_bad_keys_and_unknown_clusters(trained: Any) -> None:
    ask_unanswered(CARD_FEE)
    cluster = card_fee_cluster()
    for key in ("nodot", "has space.fee", "a/b.c", ".fee", "x" * 81 + ".y"):
        with pytest.raises(InvalidFaq):
            services.do_draft_faq_from_cluster(cluster.id, key=key, category="c", editor="s")
    with pytest.raises(InvalidFaq) as taken:
        services.do_draft_faq_from_cluster(cluster.id, key="transfer.fee", category="c", editor="s")
    assert taken.value.code == "faq_key_taken"
    with pytest.raises(InvalidFaq):
        services.do_draft_faq_from_cluster(cluster.id, key="a.b", category=" ", editor="s")
    with pytest.raises(ClusterNotFound):
        services.do_draft_faq_from_cluster("0" * 16, key="a.b", category="c", editor="s")
    assert not HandledQuestion.objects.exists()
    assert not FaqEntry.objects.filter(key="a.b").exists()


def test_draft_is_unused_until_completed_and_activated_then_trained(trained: Any) -> None:
    ask_unanswered(CARD_FEE)
    cluster = card_fee_cluster()
    services.do_draft_faq_from_cluster(
        cluster.id, key="credit_card.fee", category="cards", editor="staff:analyst"
    )
    assert "credit_card.fee" not in {r.key for r in services.active_records()}
    with pytest.raises(InvalidFaq):  # incomplete: no answers yet
        services.do_set_faq_active("credit_card.fee", True, editor="staff:analyst")
    assert not services.get_faq_entry("credit_card.fee").is_active

    record = services.get_record(services.get_faq_entry("credit_card.fee"))
    complete = dataclasses.replace(
        record,
        question_en=record.question_en or "What is the credit card annual fee?",
        paraphrases_en=record.paraphrases_en
        or ("credit card yearly fee", "annual fee of the card"),
        paraphrases_zh=(*record.paraphrases_zh, "信用卡每年收费吗")[:6],
        answer_web_zh="信用卡首年免年费，刷卡满 6 次免次年年费。",
        answer_web_en="The first year is free; 6 purchases a year waive the next year's fee.",
        answer_sms_zh="信用卡首年免年费，年刷6次免次年年费。",
        answer_sms_en="First year free; 6 purchases waive next year's fee.",
    )
    version = services.do_edit_faq("credit_card.fee", complete, editor="staff:analyst")
    assert version.version == 2
    services.do_set_faq_active("credit_card.fee", True, editor="staff:analyst")
    active = {r.key: r for r in services.active_records()}
    learnt = active["credit_card.fee"]
    assert set(cluster.questions) <= {
        learnt.question_zh,
        learnt.question_en,
        *learnt.paraphrases_zh,
        *learnt.paraphrases_en,
    }
    # the next training learns the group's wordings
    records, oos = subset()
    engine, _ = train_kb_engine([*records, learnt], oos, embeddings=None)
    assert engine.rank("信用卡年费是多少", k=1)[0].key == "credit_card.fee"


def test_insights_page_drafts_a_cluster(client: Client, trained: Any) -> None:
    for text in ("信用卡年费多少", "信用卡的年费怎么收"):
        client.post("/assistant/ask/", {"text": text}, HTTP_HX_REQUEST="true")
    analyst = make_staff(Role.MARKETING_ANALYST)
    assert analyst.user_id is not None
    staff = staff_client(analyst.user_id)
    cluster = card_fee_cluster()
    html = staff.get("/console/assistant/insights/").content.decode()
    url = f"/console/assistant/insights/clusters/{cluster.id}/draft/"
    assert f'data-cluster="{cluster.id}"' in html and url in html
    bad = staff.post(url, {"key": "no key", "category": "cards"}, follow=True)
    assert "topic.aspect" in bad.content.decode() and not HandledQuestion.objects.exists()
    done = staff.post(url, {"key": "credit_card.fee", "category": "cards"})
    assert done.status_code == 302 and done["Location"] == "/console/assistant/credit_card.fee/"
    editor = staff.get(done["Location"]).content.decode()
    assert "信用卡年费多少" in editor and 'name="active" value="1"' in editor  # a draft
    refused = staff.post("/console/assistant/credit_card.fee/active/", {"active": "1"}, follow=True)
    assert "answer_web_zh is empty" in refused.content.decode()
    assert not services.get_faq_entry("credit_card.fee").is_active
    after = staff.get("/console/assistant/insights/").content.decode()
    assert 'id="handled-clusters"' in after and "credit_card.fee" in after
    assert f'<li data-cluster="{cluster.id}"><strong>' not in after  # not proposed again
    again = staff.post(url, {"key": "credit_card.fee2", "category": "cards"}, follow=True)
    assert "请刷新页面" in again.content.decode()  # the staff console speaks zh-Hans here
    teller = make_staff(Role.TELLER)
    assert teller.user_id is not None
    assert (
        staff_client(teller.user_id).post(url, {"key": "a.b", "category": "c"}).status_code == 403
    )
