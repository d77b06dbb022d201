"""Assistant rows: anyone may ask 小微 (answers act only for a signed-in customer, see
tests/assistant/test_dialogue.py); feedback comes from customers and anonymous web visitors;
WeChat binding codes are for customers; transcripts for their customer and chat staff (an
unknown or another's conversation answers 404); the hand-off queue is for staff with
``assistant.chat`` (tellers and branch managers)."""

from __future__ import annotations

from rongshu.identity.types import Role
from tests.authz import CUSTOMERS, EVERYONE, Rule, staff

V1 = "/api/v1/assistant"
CHAT = staff(Role.TELLER, Role.BRANCH_MANAGER)
CONVERSATION = {"conversation_id": "unknown_uuid"}

RULES = {
    ("POST", f"{V1}/messages"): Rule(EVERYONE, body={"text": "营业时间"}),
    ("POST", f"{V1}/turns/{{turn_id}}/feedback"): Rule(
        CUSTOMERS | {"anonymous"}, params={"turn_id": "unknown_uuid"}, body={"useful": True}
    ),
    ("POST", f"{V1}/binding-codes"): Rule(CUSTOMERS),
    ("GET", f"{V1}/conversations/{{conversation_id}}"): Rule(CUSTOMERS | CHAT, params=CONVERSATION),
    ("GET", f"{V1}/queue"): Rule(CHAT),
    ("POST", f"{V1}/conversations/{{conversation_id}}/take"): Rule(CHAT, params=CONVERSATION),
    ("POST", f"{V1}/conversations/{{conversation_id}}/replies"): Rule(
        CHAT, params=CONVERSATION, body={"text": "您好"}
    ),
    ("POST", f"{V1}/conversations/{{conversation_id}}/hand-back"): Rule(CHAT, params=CONVERSATION),
}
