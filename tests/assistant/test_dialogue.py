"""小微's dialogue: task intents, slots, confirmation, step-up before a transfer, refusal for
anonymous callers, hand-off after two unsure answers — through the conversation store."""

from __future__ import annotations

from typing import Any

import pytest

from rongshu.accounts.models import CustomerAccount
from rongshu.assistant import conversations as store
from rongshu.assistant import queries
from rongshu.assistant.dialogue import annuity_payment, classify_task
from rongshu.assistant.models import Conversation, Turn
from rongshu.identity import services as identity
from rongshu.identity.types import ANONYMOUS, Principal
from tests.assistant.chat_builders import Pair, balance_of, make_pair

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_verifier(settings: Any) -> None:
    settings.RONGSHU_ACCOUNTS = {"verifier_delay_ms": 0}


def say(conv: Conversation, text: str, who: Principal) -> store.Handled:
    return store.do_handle_message(conv, text, principal=who)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("给李四转500块", "transfer"),
        ("send 300 yuan to alice", "transfer"),
        ("查余额", "balance"),
        ("what is my balance", "balance"),
        ("我的卡丢了", "freeze"),
        ("交电费", "pay_bill"),
        ("最近的交易记录", "transactions"),
        ("我能贷多少钱", "loan"),
        ("预约下周五去网点", "branch"),
        ("转人工", "agent"),
        ("转账限额是多少", "_none"),
        ("手续费怎么收", "_none"),
    ],
)
def test_task_intents(text: str, intent: str) -> None:
    assert classify_task(text)[0] == intent


def test_multi_turn_transfer_needs_confirmation_and_a_code(trained: Any) -> None:
    pair: Pair = make_pair()
    who = pair.principal
    conv = store.do_open_conversation("api", principal=who)

    first = say(conv, "我要转账", who)
    assert first.outcome is not None and "李四" in first.outcome.text  # asks whom, lists payees
    second = say(conv, "给李四", who)
    assert second.outcome is not None and "多少" in second.outcome.text
    third = say(conv, "五百元", who)
    assert third.outcome is not None
    assert "请确认" in third.outcome.text and "¥500.00" in third.outcome.text
    assert third.turn.slots["amount"] == 500_00 and third.turn.slots["payee_name"] == "李四"
    assert balance_of(pair.payee_account) == 0  # nothing moved before the confirmation

    asked = say(conv, "确认", who)
    assert asked.outcome is not None and "验证码" in asked.outcome.text
    wrong = say(conv, "000000", who)
    assert wrong.outcome is not None and "不正确" in wrong.outcome.text
    assert balance_of(pair.payee_account) == 0

    code = identity.latest_code(pair.payer.fixture.phone)
    assert code is not None
    done = say(conv, code, who)
    assert done.outcome is not None and done.outcome.done == "transfer"
    assert balance_of(pair.payee_account) == 500_00
    assert balance_of(pair.payer_account) == 10_000_00 - 500_00
    assert not identity.has_step_up(who, "payment.transfer")  # the grant was spent
    conv.refresh_from_db()
    assert "pending" not in conv.context
    assert [t.intent for t in conv.turns.order_by("seq")] == ["transfer"] * 6


def test_cancel_and_one_message_transfer(trained: Any) -> None:
    pair = make_pair()
    who = pair.principal
    conv = store.do_open_conversation("api", principal=who)
    out = say(conv, "给李四转1.2万", who).outcome
    assert out is not None and "¥12,000.00" in out.text
    cancelled = say(conv, "取消", who).outcome
    assert cancelled is not None and "取消" in cancelled.text
    assert balance_of(pair.payee_account) == 0
    conv.refresh_from_db()
    assert "pending" not in conv.context


def test_anonymous_is_refused_actions_but_gets_answers(trained: Any) -> None:
    conv = store.do_open_conversation("web")
    refused = say(conv, "给李四转500块", ANONYMOUS).outcome
    assert refused is not None and refused.kind == "refused" and "/signin/" in refused.text
    balance = say(conv, "查余额", ANONYMOUS).outcome
    assert balance is not None and balance.kind in ("refused", "faq") and "/signin/" in balance.text
    lost = say(conv, "我的银行卡不见了怎么办", ANONYMOUS).outcome
    assert lost is not None and "/signin/" in lost.text and not lost.done
    faq = say(conv, "营业时间", ANONYMOUS).outcome
    assert faq is not None and faq.kind in ("faq", "unsure")
    assert not conv.context.get("pending")


def test_balance_freeze_and_transactions(trained: Any) -> None:
    pair = make_pair(funds=2_345_00)
    who = pair.principal
    conv = store.do_open_conversation("sms", principal=who, address=pair.payer.fixture.phone)
    bal = say(conv, "余额", who).outcome
    assert bal is not None and "¥2,345.00" in bal.text and len(bal.text) <= 70
    tx = say(conv, "最近的交易记录", who).outcome
    assert tx is not None and "+¥2,345.00" in tx.text
    ask = say(conv, "我的卡丢了", who).outcome
    assert ask is not None and "冻结" in ask.text
    done = say(conv, "确认", who).outcome
    assert done is not None and done.done == "freeze"
    pair.payer_account.refresh_from_db()
    assert pair.payer_account.self_frozen is True
    assert pair.payer_account.status == CustomerAccount.OPEN


def test_two_unsure_answers_hand_off(trained: Any) -> None:
    conv = store.do_open_conversation("web")
    first = say(conv, "量子纠缠的哲学意义", ANONYMOUS)
    assert first.outcome is not None and first.outcome.kind == "unsure"
    second = say(conv, "宇宙尽头是什么颜色", ANONYMOUS)
    assert second.outcome is not None and second.outcome.handoff == "unsure"
    conv.refresh_from_db()
    assert conv.state == Conversation.WAITING and conv.handed_off
    queued = say(conv, "还在吗", ANONYMOUS)
    assert queued.outcome is None and queued.turn.answer == ""
    assert queries.queue_position(conv) == 1
    assert Turn.objects.filter(conversation=conv).count() == 3


def test_annuity_payment() -> None:
    from decimal import Decimal

    assert annuity_payment(12_000_00, Decimal("0"), 12) == 1_000_00
    assert annuity_payment(10_000_00, Decimal("0.12"), 12) == 888_49  # 1% a month
