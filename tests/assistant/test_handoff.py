"""Hand-off to people: a customer asks for 人工 on SMS and on the web; a teller takes the chat,
sees the transcript, replies (the reply reaches the customer's channel) and hands it back;
staff without ``assistant.chat`` are refused; feedback and the learning-loop figures."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
from django.test import Client

from rongshu.assistant import conversations as store
from rongshu.assistant import queries
from rongshu.assistant.models import Conversation, OutboundMessage, Turn
from rongshu.identity.types import ANONYMOUS, Role
from rongshu.kernel.errors import PermissionDenied
from tests.assistant.chat_builders import make_pair
from tests.identity.builders import make_staff, staff_client

pytestmark = pytest.mark.django_db

SECRET = "test-sms-secret"


@pytest.fixture(autouse=True)
def channel_settings(settings: Any) -> None:
    settings.RONGSHU_SMS_WEBHOOK_SECRET = SECRET
    settings.RONGSHU_ACCOUNTS = {"verifier_delay_ms": 0}
    store.SMS_API.sent.clear()


def sms_post(client: Client, phone: str, text: str, *, key: str = SECRET) -> Any:
    body = json.dumps({"from": phone, "text": text}, ensure_ascii=False).encode()
    sig = hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
    return client.post(
        "/webhooks/sms/", body, content_type="application/json", HTTP_X_RONGSHU_SIGNATURE=sig
    )


def test_sms_keywords_balance_help_and_signature(client: Client, trained: Any) -> None:
    pair = make_pair(funds=1_234_50)
    phone = pair.payer.fixture.phone
    assert sms_post(client, phone, "余额", key="wrong").status_code == 403
    ye = sms_post(client, phone, "YE").json()
    assert ye["to"] == phone and "¥1,234.50" in ye["segments"][0]
    assert all(len(s) <= 70 for s in ye["segments"])
    helped = sms_post(client, phone, "帮助").json()["segments"][0]
    assert "余额" in helped and len(helped) <= 70
    stranger = sms_post(client, "13700000000", "余额").json()["segments"][0]
    assert "未开通" in stranger


def test_sms_transfer_with_an_sms_code(client: Client, trained: Any) -> None:
    from rongshu.identity import services as identity
    from tests.assistant.chat_builders import balance_of

    pair = make_pair()
    phone = pair.payer.fixture.phone
    assert "请确认" in sms_post(client, phone, "给李四转200元").json()["segments"][0]
    assert "验证码" in sms_post(client, phone, "确认").json()["segments"][0]
    code = identity.latest_code(phone)
    assert code is not None
    assert "转账已转出" in "".join(sms_post(client, phone, code).json()["segments"])
    assert balance_of(pair.payee_account) == 200_00


def test_handoff_take_reply_and_hand_back_over_sms(
    client: Client, trained: Any, django_capture_on_commit_callbacks: Any
) -> None:
    pair = make_pair()
    phone = pair.payer.fixture.phone
    queued = sms_post(client, phone, "人工").json()["segments"][0]
    assert "人工" in queued
    conv = Conversation.objects.get(channel="sms", address=phone)
    assert conv.state == Conversation.WAITING and conv.handoff_reason == "asked"
    assert sms_post(client, phone, "我的卡被吞了").json()["segments"] == [
        "已转人工客服，请稍候，客服将短信回复您。"
    ]

    marketer = make_staff(Role.MARKETING_ANALYST)
    with pytest.raises(PermissionDenied):
        store.do_take(marketer, conv.public_id)

    teller = make_staff(Role.TELLER)
    assert teller.user_id is not None
    web = staff_client(teller.user_id)
    page = web.get("/console/assistant/chats/").content.decode()
    assert str(conv.public_id) in page
    with django_capture_on_commit_callbacks(execute=True):
        web.post(f"/console/assistant/chats/{conv.public_id}/take/")
    conv.refresh_from_db()
    assert conv.state == Conversation.AGENT and conv.agent_key == teller.principal_key
    transcript = web.get(f"/console/assistant/chats/{conv.public_id}/").content.decode()
    assert "我的卡被吞了" in transcript and "人工" in transcript

    with django_capture_on_commit_callbacks(execute=True):
        web.post(
            f"/console/assistant/chats/{conv.public_id}/reply/",
            {"text": "您好，请问卡号尾号是多少？"},
        )
    assert "您好，请问卡号尾号是多少？" in store.SMS_API.sent[phone]
    assert OutboundMessage.objects.filter(address=phone, state=OutboundMessage.SENT).count() == 2

    web.post(f"/console/assistant/chats/{conv.public_id}/back/")
    conv.refresh_from_db()
    assert conv.state == Conversation.BOT
    again = sms_post(client, phone, "余额").json()["segments"][0]
    assert "¥10,000.00" in again  # 小微 answers again


def test_marketing_staff_cannot_open_the_queue(trained: Any) -> None:
    marketer = make_staff(Role.MARKETING_ANALYST)
    assert marketer.user_id is not None
    assert staff_client(marketer.user_id).get("/console/assistant/chats/").status_code == 403


def test_web_handoff_agent_reply_reaches_the_chat_page(client: Client, trained: Any) -> None:
    client.post("/assistant/ask/", {"text": "转人工"}, HTTP_HX_REQUEST="true")
    conv = Conversation.objects.get(channel="web")
    assert conv.state == Conversation.WAITING
    teller = make_staff(Role.TELLER)
    store.do_take(teller, conv.public_id)
    store.do_agent_reply(teller, conv.public_id, "我是客服小李")
    polled = client.get("/assistant/poll/?after=1").content.decode()
    assert "我是客服小李" in polled and "bubble agent" in polled


def test_feedback_stats_and_clusters(client: Client, trained: Any) -> None:
    for text in ("营业时间", "二类户限额", "量子力学是什么"):
        client.post("/assistant/ask/", {"text": text}, HTTP_HX_REQUEST="true")
    turns = list(Turn.objects.filter(author=Turn.CUSTOMER).order_by("seq"))
    up = client.post(
        f"/api/v1/assistant/turns/{turns[0].public_id}/feedback",
        {"useful": True},
        content_type="application/json",
    )
    assert up.status_code == 200 and up.json()["feedback"] == "up"
    down = client.post(
        f"/api/v1/assistant/turns/{turns[1].public_id}/feedback",
        {"useful": False},
        content_type="application/json",
    )
    assert down.json()["feedback"] == "down"
    other = Client()  # another visitor cannot rate a signed-in customer's turn
    pair = make_pair()
    conv = store.do_open_conversation("web", principal=pair.principal)
    theirs = store.do_handle_message(conv, "营业时间", principal=pair.principal).turn
    assert (
        other.post(
            f"/api/v1/assistant/turns/{theirs.public_id}/feedback",
            {"useful": True},
            content_type="application/json",
        ).status_code
        == 404
    )
    stats = {s.channel: s for s in queries.channel_stats()}
    web = stats["web"]
    assert web.feedback_up == 1 and web.feedback_down == 1 and web.accuracy == 0.5
    assert web.bot_answers == 4 and web.conversations == 2 and web.containment == 1.0

    clusters = queries.cluster_unanswered(
        [
            "信用卡年费多少",
            "信用卡年费怎么收",
            "信用卡的年费是多少钱",
            "外汇牌价在哪看",
            "今天外汇牌价",
        ]
    )
    assert clusters[0].size == 3 and all("信用卡" in q for q in clusters[0].examples)
    assert {q for c in clusters for q in c.examples} >= {"外汇牌价在哪看", "今天外汇牌价"}
    assert queries.unanswered_questions()  # the out-of-scope question and the 👎 answer
    assert ANONYMOUS.customer_id is None


def test_insights_page_shows_rates_and_groups(client: Client, trained: Any) -> None:
    for text in ("信用卡年费多少", "信用卡的年费怎么收"):
        client.post("/assistant/ask/", {"text": text}, HTTP_HX_REQUEST="true")
    analyst = make_staff(Role.MARKETING_ANALYST)
    assert analyst.user_id is not None
    html = staff_client(analyst.user_id).get("/console/assistant/insights/").content.decode()
    assert 'data-channel="web"' in html and 'id="clusters"' in html
    assert "信用卡年费多少" in html  # unanswered, grouped for a new FAQ entry
    teller = make_staff(Role.TELLER)
    assert teller.user_id is not None
    assert staff_client(teller.user_id).get("/console/assistant/insights/").status_code == 403
