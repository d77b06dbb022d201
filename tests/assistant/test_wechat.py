"""The WeChat webhook with signed XML fixtures: the server check, a bad signature, binding by
a portal code, a multi-turn transfer with a one-time code, retries of one MsgId, and the
5-second rule (a late answer follows as a customer-service message)."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from rongshu.assistant import conversations as store
from rongshu.assistant import services
from rongshu.assistant.models import Conversation, OutboundMessage
from rongshu.identity import services as identity
from rongshu.webhooks import wechat
from tests.assistant.chat_builders import balance_of, make_pair

TOKEN = "test-wechat-token"
OPENID = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"
ACCOUNT = "gh_rongshu"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def wechat_settings(settings: Any) -> None:
    settings.RONGSHU_WECHAT_TOKEN = TOKEN
    settings.RONGSHU_WECHAT_DEADLINE_S = 0  # answer inline (the thread test sets its own)
    settings.RONGSHU_ACCOUNTS = {"verifier_delay_ms": 0}
    store.WECHAT_API.sent.clear()


def signed_query(nonce: str = "n0nce", *, token: str = TOKEN, **extra: str) -> str:
    timestamp = str(int(time.time()))
    sig = wechat.signature(token, timestamp, nonce)
    return urlencode({"signature": sig, "timestamp": timestamp, "nonce": nonce, **extra})


_msg_ids = iter(range(10_000_000, 20_000_000))


def text_xml(content: str, *, openid: str = OPENID, msg_id: int | None = None) -> bytes:
    msg = next(_msg_ids) if msg_id is None else msg_id
    return (
        "<xml><ToUserName><![CDATA[gh_rongshu]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg}</MsgId></xml>"
    ).encode()


def post(client: Client, body: bytes, query: str | None = None) -> Any:
    return client.post(
        f"/webhooks/wechat/?{query or signed_query()}", body, content_type="text/xml"
    )


def reply_text(response: Any) -> str:
    parsed = wechat.parse(response.content)
    assert parsed["ToUserName"] == OPENID and parsed["MsgType"] == "text"
    return parsed["Content"]


def test_server_check_echoes_and_bad_signatures_are_refused(client: Client) -> None:
    ok = client.get(f"/webhooks/wechat/?{signed_query(echostr='hello123')}")
    assert ok.status_code == 200 and ok.content == b"hello123"
    bad = client.get(f"/webhooks/wechat/?{signed_query(token='wrong', echostr='x')}")
    assert bad.status_code == 403
    forged = post(client, text_xml("余额"), signed_query(token="wrong"))
    assert forged.status_code == 403
    stale = urlencode(
        {"signature": wechat.signature(TOKEN, "1000", "n"), "timestamp": "1000", "nonce": "n"}
    )
    assert post(client, text_xml("余额"), stale).status_code == 403
    assert not Conversation.objects.exists()


def test_xml_entities_are_not_resolved(client: Client) -> None:
    evil = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b"<xml><FromUserName>o1</FromUserName><MsgType>text</MsgType><Content>&e;</Content></xml>"
    )
    response = post(client, evil)
    assert response.status_code in (200, 400)
    assert b"root:" not in response.content


def test_bind_then_transfer_with_a_code(client: Client, trained: Any) -> None:
    pair = make_pair()
    unbound = reply_text(post(client, text_xml("查余额")))
    assert "绑定" in unbound  # anonymous: asked to link the account first

    code = store.do_issue_binding_code(pair.principal)
    assert "绑定成功" in reply_text(post(client, text_xml(f"绑定 {code}")))
    again = reply_text(post(client, text_xml(f"绑定 {code}")))
    assert "不正确" in again  # a code binds once

    assert "¥10,000.00" in reply_text(post(client, text_xml("余额")))
    assert "请确认" in reply_text(post(client, text_xml("给李四转500块")))
    assert "验证码" in reply_text(post(client, text_xml("确认")))
    code_sms = identity.latest_code(pair.payer.fixture.phone)
    assert code_sms is not None
    retry_id = 77_000_001
    done = reply_text(post(client, text_xml(code_sms, msg_id=retry_id)))
    assert "转账已转出" in done
    # WeChat retries the same MsgId: the same answer, no second transfer.
    assert reply_text(post(client, text_xml(code_sms, msg_id=retry_id))) == done
    assert balance_of(pair.payee_account) == 500_00
    conv = Conversation.objects.get(channel="wechat", address=OPENID)
    assert conv.customer_id == pair.payer.principal.customer_id
    assert conv.turns.filter(intent="transfer").count() == 3


def test_subscribe_event_and_other_messages(client: Client) -> None:
    event = (
        f"<xml><ToUserName>{ACCOUNT}</ToUserName><FromUserName>{OPENID}</FromUserName>"
        "<CreateTime>1</CreateTime><MsgType>event</MsgType><Event>subscribe</Event></xml>"
    ).encode()
    assert "小微" in reply_text(post(client, event))
    image = (
        f"<xml><ToUserName>{ACCOUNT}</ToUserName><FromUserName>{OPENID}</FromUserName>"
        "<CreateTime>1</CreateTime><MsgType>image</MsgType><MsgId>5</MsgId></xml>"
    ).encode()
    assert "文字" in reply_text(post(client, image))


@pytest.mark.django_db(transaction=True)
def test_slow_answer_goes_out_as_a_customer_service_message(
    client: Client, trained: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.RONGSHU_WECHAT_DEADLINE_S = 0.3
    real = store.do_handle_message

    def slow(*args: Any, **kwargs: Any) -> store.Handled:
        time.sleep(1.0)
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "do_handle_message", slow)  # what the webhook calls
    started = time.perf_counter()
    response = post(client, text_xml("营业时间"))
    assert time.perf_counter() - started < 0.9
    assert response.content == b"success"
    for _ in range(50):
        if store.WECHAT_API.sent.get(OPENID):
            break
        time.sleep(0.1)
    assert store.WECHAT_API.sent[OPENID], "the late answer should follow"
    message = OutboundMessage.objects.get(address=OPENID)
    assert (
        message.state == OutboundMessage.SENT and message.text == store.WECHAT_API.sent[OPENID][0]
    )
