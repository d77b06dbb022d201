"""Demo step for the assistant 小微: the shipped FAQ set and, if none is saved, a model."""

from __future__ import annotations

from rongshu.assistant import queries as chat_queries
from rongshu.assistant import services as chats
from rongshu.assistant.services import do_load_faq_set, do_train_model, find_model_version


def load_assistant_demo() -> str:
    loaded = do_load_faq_set()
    summary = f"FAQ set {loaded.created} new, {loaded.updated} updated, {loaded.unchanged} same"
    version = find_model_version()
    if version is None:
        result = do_train_model()
        return f"{summary}; trained model {result.version} in {result.seconds:.1f} s"
    return f"{summary}; model {version} already trained"


DEMO_OPENID = "o_demo_rongshu_wechat_0001"


def load_assistant_conversations_demo() -> str:
    """The demo customer's WeChat linked to 小微, a balance question, and a request for a
    person: the conversation waits in the staff console's queue (/console/assistant/chats/)."""
    from rongshu.simulation.identity_demo import demo_customer_principal

    if chat_queries.conversation_exists("wechat", DEMO_OPENID):
        return "WeChat conversation already there"
    who = demo_customer_principal()
    if who is None:
        return "no demo customer: skipped"
    chats.do_bind("wechat", DEMO_OPENID, chats.do_issue_binding_code(who))
    principal = chats.principal_for_channel("wechat", DEMO_OPENID)
    conv = chats.do_open_conversation("wechat", principal=principal, address=DEMO_OPENID)
    for text in ("余额", "我的信用卡账单怎么分期，帮我转人工"):
        chats.do_handle_message(conv, text, principal=principal)
    conv.refresh_from_db()
    return f"WeChat conversation {conv.state} ({chat_queries.turn_count(conv)} turns)"
