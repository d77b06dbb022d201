from __future__ import annotations

from typing import Any

import pytest

from tests.assistant.conftest import data_dir, small_engine, trained  # noqa: F401 (fixtures)
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_ask_xiaowei_and_see_the_answer(page: Any, trained: Any) -> None:  # noqa: F811
    page.goto(page.base_url + "/assistant/")
    assert page.evaluate("typeof window.htmx") == "object"
    page.fill("#chat-text", "我的银行卡不见了怎么办")
    page.click("#chat-form button[type=submit]")
    reply = page.locator(".bubble.reply").last
    reply.wait_for()
    assert "临时挂失" in reply.inner_text()
    assert page.locator("#chat-text").input_value() == ""  # the form was reset by htmx
    assert page.url.endswith("/assistant/")  # no full page load
    # An unclear question gets suggestion buttons; clicking one asks it.
    page.fill("#chat-text", "钱")
    page.click("#chat-form button[type=submit]")
    page.locator(".bubble.unsure .chip").first.wait_for()
    before = page.locator(".bubble.reply").count()
    page.locator(".bubble.unsure .chip").first.click()
    page.locator(".bubble.reply").nth(before).wait_for()  # one more answer arrived
    assert page.locator(".bubble.me").last.inner_text() != "钱"
    screenshot(page, "assistant-chat-zh-Hans")


def test_multi_turn_transfer_in_the_web_chat(page: Any, trained: Any, settings: Any) -> None:  # noqa: F811
    """A signed-in customer transfers through 小微: amount and payee over two messages, the
    summary, "确认", the one-time code from the SMS inbox, and the result."""
    from rongshu.identity import services as identity
    from rongshu.ledger import services as ledger
    from tests.assistant.chat_builders import balance_of, make_pair

    settings.RONGSHU_ACCOUNTS = {"verifier_delay_ms": 0}
    ledger.do_create_chart_of_accounts(["CNY"])  # a transactional test elsewhere may flush it
    pair = make_pair()
    page.goto(page.base_url + "/signin/?next=/assistant/")
    page.fill("#signin input[name=phone]", pair.payer.fixture.phone)
    page.fill("#signin input[name=password]", pair.payer.fixture.password)
    with page.expect_navigation():
        page.click("#signin button[type=submit]")
    assert page.url.endswith("/assistant/")

    def say(text: str, expect: str) -> str:
        before = page.locator(".bubble.reply").count()
        page.fill("#chat-text", text)
        page.click("#chat-form button[type=submit]")
        reply = page.locator(".bubble.reply").nth(before)
        reply.wait_for()
        answer = reply.inner_text()
        assert expect in answer, answer
        return answer

    say("我要给李四转账", "多少")
    say("五百块", "请确认")
    say("确认", "验证码")
    code = identity.latest_code(pair.payer.fixture.phone)
    assert code is not None
    say(code, "转账已转出")
    assert balance_of(pair.payee_account) == 500_00
    screenshot(page, "assistant-transfer-zh-Hans")


def test_staff_turn_a_group_of_unanswered_questions_into_a_draft(
    page: Any,
    trained: Any,  # noqa: F811
) -> None:
    """Insights → a group of unanswered questions → draft FAQ entry (pre-filled) in the editor;
    activation is refused until the answers are written; the group is not proposed again."""
    from rongshu.assistant import conversations as chats
    from rongshu.identity.types import ANONYMOUS, Role
    from tests.identity.builders import PASSWORD, make_staff

    for text in ("信用卡年费多少", "信用卡年费怎么收", "信用卡的年费是多少钱"):
        conv = chats.do_open_conversation("web")
        turn = chats.do_handle_message(conv, text, principal=ANONYMOUS).turn
        if turn.answered:
            turn.feedback = "down"
            turn.save(update_fields=["feedback"])
    make_staff(Role.MARKETING_ANALYST, username="browser-kb-analyst")
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(page.base_url + "/console/assistant/insights/")
    page.fill("input[name=username]", "browser-kb-analyst")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/console/assistant/insights/")
    group = page.locator("#clusters > li", has_text="信用卡年费多少")
    group.locator("summary").click()
    group.locator("input[name=key]").fill("credit_card.fee")
    group.locator("input[name=category]").fill("cards")
    screenshot(page, "assistant-insights-draft-360")
    group.locator("button[type=submit]").click()
    page.wait_for_url("**/console/assistant/credit_card.fee/")
    questions = [page.locator("#id_question_zh").input_value()]
    questions += page.locator("#id_paraphrases_zh").input_value().splitlines()
    assert sorted(questions) == sorted(
        ["信用卡年费多少", "信用卡年费怎么收", "信用卡的年费是多少钱"]
    )
    page.click("form[action$='/active/'] button[type=submit]")
    page.wait_for_url("**/console/assistant/credit_card.fee/")
    assert "answer_web_zh is empty" in page.content()
    page.goto(page.base_url + "/console/assistant/insights/")
    assert page.locator("#handled-clusters a", has_text="credit_card.fee").count() == 1
    assert page.locator("#clusters > li", has_text="信用卡年费多少").count() == 0
