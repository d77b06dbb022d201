"""The WeChat webhook driven by the XML fixtures in ``tests/fixtures/wechat`` (signed here the
way WeChat signs them): the server check, bad and stale signatures, binding by a portal code,
a multi-turn transfer with a changed amount and a one-time code that moves the money through
the ledger exactly once, a replayed MsgId, and the 5-second rule (a late answer follows as a
customer-service message)."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from rongshu.assistant import conversations as store
from rongshu.assistant import services
from rongshu.assistant.models import Conversation, OutboundMessage
from rongshu.identity import services as identity
from rongshu.ledger import queries as ledger_queries
from rongshu.webhooks import wechat
from tests.assistant.chat_builders import balance_of, make_pair

TOKEN = "test-wechat-token"
OPENID = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"  # the FromUserName of the fixtures
ACCOUNT = "gh_3f2a9c1d7e04"  # their ToUserName
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "wechat"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def wechat_settings(settings: Any) -> None:
    settings.RONGSHU_WECHAT_TOKEN = TOKEN
    settings.RONGSHU_WECHAT_DEADLINE_S = 0  # answer inline (the thread test sets its own)
    settings.RONGSHU_ACCOUNTS = {"verifier_delay_ms": 0}
    store.WECHAT_API.sent.clear()


def wechat_signature(token: str, timestamp: str, nonce: str) -> str:
    """What WeChat sends: SHA-1 of the token, timestamp and nonce sorted and concatenated
    (written out here, not the webhook's own function)."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()  # noqa: S324


def signed_query(nonce: str = "1405726169", *, token: str = TOKEN, **extra: str) -> str:
    timestamp = str(int(time.time()))
    sig = wechat_signature(token, timestamp, nonce)
    return urlencode({"signature": sig, "timestamp": timestamp, "nonce": nonce, **extra})


def fixture(name: str, **values: str) -> bytes:
    """A fixture's XML body, with ``${code}`` and the like filled in."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return Template(text).substitute(values).encode() if values else text.encode()


def msg_id(body: bytes) -> str:
    return wechat.parse(body)["MsgId"]


def text_xml(content: str, *, msg_id: int = 24371529810479999) -> bytes:
    """A text message of the fixtures' shape with other content (for the slow-answer test)."""
    body = fixture("text_opening_hours.xml").decode()
    body = body.replace("营业时间", content).replace("24371529810470300", str(msg_id))
    return body.encode()


def post(client: Client, body: bytes, query: str | None = None) -> Any:
    return client.post(
        f"/webhooks/wechat/?{signed_query() if query is None else query}",
        body,
        content_type="text/xml",
    )


def reply_text(response: Any) -> str:
    parsed = wechat.parse(response.content)
    assert parsed["ToUserName"] == OPENID and parsed["FromUserName"] == ACCOUNT
    assert parsed["MsgType"] == "text"
    return parsed["Content"]


def test_server_check_echoes_and_bad_signatures_are_refused(client: Client) -> None:
    ok = client.get(f"/webhooks/wechat/?{signed_query(echostr='hello123')}")
    assert ok.status_code == 200 and ok.content == b"hello123"
    bad = client.get(f"/webhooks/wechat/?{signed_query(token='wrong', echostr='x')}")
    assert bad.status_code == 403
    body = fixture("text_03_balance.xml")
    forged = post(client, body, signed_query(token="wrong"))
    assert forged.status_code == 403
    tampered = signed_query().replace("nonce=1405726169", "nonce=1405726170")
    assert post(client, body, tampered).status_code == 403
    stale = urlencode(
        {"signature": wechat_signature(TOKEN, "1000", "n"), "timestamp": "1000", "nonce": "n"}
    )
    assert post(client, body, stale).status_code == 403
    assert post(client, body, "").status_code == 403
    assert not Conversation.objects.exists()  # nothing refused was processed


def test_xml_entities_are_not_resolved(client: Client) -> None:
    response = post(client, fixture("xxe.xml"))
    assert response.status_code in (200, 400)
    assert b"root:" not in response.content


def test_multi_turn_transfer_from_fixtures_moves_the_money_once(
    client: Client, trained: Any
) -> None:
    pair = make_pair()
    payer_before = balance_of(pair.payer_account)
    unbound = reply_text(post(client, fixture("text_01_balance_unbound.xml")))
    assert "绑定" in unbound  # anonymous: asked to link the account first

    code = store.do_issue_binding_code(pair.principal)
    assert "绑定成功" in reply_text(post(client, fixture("text_02_bind.xml", code=code)))
    again = reply_text(post(client, fixture("text_02_bind.xml", code=code)))
    assert "不正确" in again  # a code binds once

    assert "¥10,000.00" in reply_text(post(client, fixture("text_03_balance.xml")))
    summary = reply_text(post(client, fixture("text_04_transfer.xml")))
    assert "请确认" in summary and "500.00" in summary
    changed = reply_text(post(client, fixture("text_05_change_amount.xml")))
    assert "请确认" in changed and "600.00" in changed
    assert "验证码" in reply_text(post(client, fixture("text_06_confirm.xml")))
    sms = identity.latest_code(pair.payer.fixture.phone)
    assert sms is not None
    assert balance_of(pair.payee_account) == 0  # nothing moves before the code

    code_message = fixture("text_07_code.xml", code=sms)
    done = reply_text(post(client, code_message))
    assert "转账已转出" in done
    # WeChat retries the same MsgId (and a replayer may too): the first answer, no new turn,
    # no second transfer.
    turns = Conversation.objects.get(channel="wechat", address=OPENID).turns.count()
    assert reply_text(post(client, code_message)) == done
    assert reply_text(post(client, code_message, signed_query(nonce="998877"))) == done
    conv = Conversation.objects.get(channel="wechat", address=OPENID)
    assert conv.turns.count() == turns
    assert conv.turns.filter(external_id=msg_id(code_message)).count() == 1

    # The money moved exactly once, through the ledger: one credit to the payee, one debit
    # from the payer, balances to match.
    credits = list(ledger_queries.iter_statement(pair.payee_account.ledger_account_id))
    assert [(line.credit, line.debit) for line in credits] == [(600_00, 0)]
    payer_lines = list(ledger_queries.iter_statement(pair.payer_account.ledger_account_id))
    debits = [line for line in payer_lines if line.debit]
    assert [line.debit for line in debits] == [600_00]
    assert debits[0].transfer_id == credits[0].transfer_id
    assert balance_of(pair.payee_account) == 600_00
    assert balance_of(pair.payer_account) == payer_before - 600_00
    assert conv.customer_id == pair.payer.principal.customer_id
    assert conv.turns.filter(intent="transfer").count() >= 3


def test_subscribe_event_and_other_messages(client: Client) -> None:
    assert "小微" in reply_text(post(client, fixture("event_subscribe.xml")))
    assert "文字" in reply_text(post(client, fixture("image.xml")))


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
