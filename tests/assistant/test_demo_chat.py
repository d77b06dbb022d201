"""The demo leaves a WeChat conversation waiting for an agent (and running it again adds
nothing)."""

from __future__ import annotations

import pytest

from rongshu.assistant.models import Conversation
from rongshu.simulation.assistant_demo import DEMO_OPENID, load_assistant_conversations_demo
from rongshu.simulation.identity_demo import load_identity_demo

pytestmark = pytest.mark.django_db


def test_demo_conversation_waits_in_the_queue() -> None:
    load_identity_demo()
    assert "waiting" in load_assistant_conversations_demo()
    conv = Conversation.objects.get(channel="wechat", address=DEMO_OPENID)
    assert conv.state == Conversation.WAITING and conv.customer_id is not None
    assert [t.intent for t in conv.turns.order_by("seq")] == ["balance", "agent"]
    assert "already" in load_assistant_conversations_demo()
    assert Conversation.objects.count() == 1
