from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from rongshu.assistant.engine import KbEngine
from rongshu.assistant.services import get_faq_entry, get_record
from tests.identity.builders import make_staff, staff_client


def test_chat_page_in_both_languages(client: Client, trained: KbEngine) -> None:
    page = client.get("/assistant/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="chat-text"' in page and 'hx-post="/assistant/ask/"' in page
    assert "Ask Xiaowei" in page and '<html lang="en">' in page
    assert '<html lang="zh-Hans">' in client.get("/assistant/").content.decode()


def test_htmx_ask_returns_the_exchange_and_a_fresh_input(client: Client, trained: KbEngine) -> None:
    response = client.post("/assistant/ask/", {"text": "二类户限额"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<li class="bubble me" data-seq="1">二类户限额</li>' in html
    assert "每日1万元" in html and "<html" not in html
    assert 'hx-swap-oob="true"' in html


def test_unsure_answers_offer_suggestion_buttons(client: Client, trained: KbEngine) -> None:
    html = client.post("/assistant/ask/", {"text": "钱"}, HTTP_HX_REQUEST="true").content.decode()
    assert "unsure" in html and html.count('class="chip"') >= 1


def test_ask_without_javascript_renders_the_page(client: Client, trained: KbEngine) -> None:
    response = client.post("/assistant/ask/", {"text": "how long is an OTP valid"}, follow=True)
    html = response.content.decode()
    assert "<html" in html and "5 minutes" in html


@pytest.mark.django_db
def test_console_is_for_staff_with_the_permission(client: Client) -> None:
    response = client.get("/console/assistant/")
    assert response.status_code == 302
    assert response["Location"].startswith("/console/signin/?next=/console/assistant/")
    user = get_user_model().objects.create_user("bob", password="pw-123456789")
    client.force_login(user)
    assert client.get("/console/assistant/").status_code == 302  # not staff
    teller = staff_client(make_staff("teller").user_id)
    assert teller.get("/console/assistant/").status_code == 403  # no assistant.manage


@pytest.fixture
def staff(client: Client, trained: KbEngine) -> Any:
    analyst = make_staff("marketing_analyst")
    signed_in = staff_client(analyst.user_id)
    client.cookies = signed_in.cookies
    return analyst


def test_staff_list_and_edit(client: Client, staff: Any) -> None:
    page = client.get("/console/assistant/?category=cards").content.decode()
    assert "card_loss.report" in page and "transfer.fee" not in page
    form = client.get("/console/assistant/transfer.fee/")
    assert form.status_code == 200
    record = get_record(get_faq_entry("transfer.fee"))
    data = {
        "category": record.category,
        "question_zh": record.question_zh,
        "question_en": record.question_en,
        "paraphrases_zh": "\n".join(record.paraphrases_zh),
        "paraphrases_en": "\n".join(record.paraphrases_en),
        "answer_web_zh": record.answer_web_zh,
        "answer_web_en": record.answer_web_en,
        "answer_sms_zh": "手机银行转账免费。",
        "answer_sms_en": record.answer_sms_en,
    }
    response = client.post("/console/assistant/transfer.fee/", data)
    assert response.status_code == 302
    entry = get_faq_entry("transfer.fee")
    assert entry.version == 2 and get_record(entry).answer_sms_zh == "手机银行转账免费。"
    assert entry.versions.get(version=2).edited_by == staff.principal_key
    # A too-long SMS answer is refused by the form and nothing is saved.
    data["answer_sms_zh"] = "长" * 71
    assert client.post("/console/assistant/transfer.fee/", data).status_code == 200
    assert get_faq_entry("transfer.fee").version == 2


def test_staff_can_deactivate(client: Client, staff: Any) -> None:
    client.post("/console/assistant/transfer.fee/active/", {"active": "0"})
    assert get_faq_entry("transfer.fee").is_active is False
    assert client.get("/console/assistant/no.such/").status_code == 404
