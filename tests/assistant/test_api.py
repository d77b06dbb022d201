from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from rongshu.assistant.engine import KbEngine
from rongshu.assistant.services import do_set_faq_active

URL = "/api/v1/assistant/messages"


def post(client: Client, body: object) -> tuple[int, dict[str, object], str]:
    response = client.post(URL, body, content_type="application/json")
    return response.status_code, response.json(), response["Content-Type"]


def test_answers_a_chinese_question_for_the_web(api_client: Client, trained: KbEngine) -> None:
    status, body, ctype = post(api_client, {"text": "我的银行卡不见了怎么办"})
    assert status == 200 and ctype.startswith("application/json")
    assert body["answered"] is True and body["faq_key"] == "card_loss.report"
    assert body["intent"] == "card_loss.report" and body["language"] == "zh-hans"
    assert "临时挂失" in str(body["text"]) and body["faq_version"] == 1
    assert body["model_version"] == trained.version and body["suggestions"] == []
    assert 0 < float(str(body["confidence"])) <= 1


def test_sms_answers_are_short(api_client: Client, trained: KbEngine) -> None:
    status, body, _ = post(
        api_client, {"text": "can I cancel a transfer I sent", "channel": "sms", "language": "en"}
    )
    assert status == 200 and body["faq_key"] == "transfer.revoke"
    assert len(str(body["text"])) <= 70 and body["channel"] == "sms"


def test_unsure_answers_ask_back_with_suggestions(api_client: Client, trained: KbEngine) -> None:
    status, body, _ = post(api_client, {"text": "钱", "channel": "wechat"})
    assert status == 200 and body["answered"] is False and body["faq_key"] is None
    suggestions = body["suggestions"]
    assert isinstance(suggestions, list) and 1 <= len(suggestions) <= 3
    assert str(body["text"]).startswith("抱歉")
    assert suggestions[0]["question"] in str(body["text"])


def test_out_of_scope(api_client: Client, trained: KbEngine) -> None:
    status, body, _ = post(api_client, {"text": "帮我写一篇关于春天的作文"})
    assert status == 200 and body["answered"] is False and body["intent"] == "_out_of_scope"


def test_deactivated_entries_are_not_answered(api_client: Client, trained: KbEngine) -> None:
    do_set_faq_active("card_loss.report", False, editor="test")
    _, body, _ = post(api_client, {"text": "我的银行卡不见了怎么办"})
    assert body["faq_key"] != "card_loss.report"
    assert all(s["faq_key"] != "card_loss.report" for s in body["suggestions"])  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": "hi", "extra": 1}, "extra"),
        ({"text": "   "}, "text"),
        ({"text": ""}, "text"),
        ({"text": "hi", "channel": "fax"}, "channel"),
        ({"text": "hi", "language": "fr"}, "language"),
        ({"text": "x" * 501}, "text"),
        ({}, "text"),
    ],
)
def test_bad_input_is_problem_json(
    api_client: Client, trained: KbEngine, body: dict[str, object], field: str
) -> None:
    status, problem, ctype = post(api_client, body)
    assert status == 422 and ctype == "application/problem+json"
    assert problem["code"] == "validation_failed"
    assert field in [e["field"] for e in problem["errors"]]  # type: ignore[attr-defined]


def test_malformed_json(api_client: Client, trained: KbEngine) -> None:
    response = api_client.post(URL, "{not json", content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "malformed_json"


@pytest.mark.django_db
def test_no_model_yet_is_503(api_client: Client, data_dir: Path) -> None:
    status, problem, ctype = post(api_client, {"text": "hello"})
    assert status == 503 and ctype == "application/problem+json"
    assert problem["code"] == "assistant_not_trained"


@pytest.mark.django_db
def test_multi_turn_conversation_over_the_api(client: Client, trained: Any, settings: Any) -> None:
    """Anonymous callers get answers in a conversation; actions ask them to sign in; a
    customer's conversation is not readable by another caller."""
    import uuid as _uuid

    conv_id = str(_uuid.uuid4())
    first = client.post(
        "/api/v1/assistant/messages",
        {"text": "查余额", "conversation_id": conv_id},
        content_type="application/json",
    )
    body = first.json()
    assert first.status_code == 200 and body["conversation_id"] == conv_id
    assert body["kind"] in ("refused", "faq") and "/signin/" in body["text"]
    assert body["intent"] != "balance" or body["kind"] == "refused"  # nothing personal shown
    second = client.post(
        "/api/v1/assistant/messages",
        {"text": "转人工", "conversation_id": conv_id},
        content_type="application/json",
    ).json()
    assert second["kind"] == "handoff" and second["state"] == "waiting"
    third = client.post(
        "/api/v1/assistant/messages",
        {"text": "有人吗", "conversation_id": conv_id},
        content_type="application/json",
    ).json()
    assert third["kind"] == "queued" and third["text"] == ""
    assert client.get(f"/api/v1/assistant/conversations/{conv_id}").status_code == 401
