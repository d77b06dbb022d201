"""The assistant 小微 over HTTP: messages in a conversation (FAQ answers for everyone, actions
for signed-in customers), feedback, WeChat binding codes, and the staff hand-off queue."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field, field_validator

from rongshu.api.auth import principal, principal_auth
from rongshu.api.base import command
from rongshu.assistant import queries as chat_queries
from rongshu.assistant import services as chats
from rongshu.assistant.errors import ConversationNotFound
from rongshu.assistant.queries import Conversation
from rongshu.assistant.services import get_reply
from rongshu.identity import services as identity
from rongshu.identity.types import ANONYMOUS, Action, Principal, PrincipalKind
from rongshu.kernel.errors import PermissionDenied

router = Router(tags=["assistant"])


class MessageIn(Schema):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=500, description="the customer's message")
    channel: Literal["web", "sms", "wechat"] = "web"
    language: Literal["zh-hans", "en"] | None = Field(
        default=None, description="reply language; detected from the text when absent"
    )
    conversation_id: uuid.UUID | None = Field(
        default=None,
        description="continue this conversation (multi-turn: slots, confirmation, codes); "
        "absent: answer this one message on its own",
    )

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


class SuggestionOut(Schema):
    faq_id: uuid.UUID
    faq_key: str
    question: str
    score: float


class MessageOut(Schema):
    text: str = Field(description="the answer, shaped for the channel (SMS ≤ 70 characters)")
    channel: str
    language: str
    answered: bool = Field(description="false: unsure or out of scope; text asks to clarify")
    confidence: float
    intent: str | None
    faq_id: uuid.UUID | None
    faq_key: str | None
    faq_version: int | None
    model_version: str
    suggestions: list[SuggestionOut]
    conversation_id: uuid.UUID | None = Field(
        default=None, description="the conversation (when the request named one or started one)"
    )
    turn_id: uuid.UUID | None = Field(default=None, description="rate this answer with it")
    kind: str = Field(default="faq", description="faq, unsure, task, refused, handoff, queued")
    state: str = Field(default="bot", description="bot, waiting (for a person), agent")


def _optional_principal(request: HttpRequest) -> Principal:
    """The signed-in caller, or anonymous (FAQ answers need no sign-in)."""
    found = principal_auth(request)
    request.auth = found  # type: ignore[attr-defined]
    return found if isinstance(found, Principal) else ANONYMOUS


@router.post(
    "/messages",
    response=MessageOut,
    summary="Ask the assistant 小微 (FAQ answers; with conversation_id, multi-turn tasks)",
)
@command()
def post_message(request: HttpRequest, payload: MessageIn) -> MessageOut:
    who = _optional_principal(request)
    if payload.conversation_id is None:
        return _faq_only(payload)
    conv = chat_queries.find_conversation(payload.conversation_id)
    if conv is None:
        conv = chats.do_open_conversation("api", principal=who, public_id=payload.conversation_id)
    elif conv.channel != "api" or (
        conv.customer_id is not None and conv.customer_id != who.customer_id
    ):
        raise ConversationNotFound()
    handled = chats.do_handle_message(conv, payload.text, principal=who, language=payload.language)
    conv.refresh_from_db()
    out = handled.outcome
    return MessageOut(
        text=out.text if out else handled.turn.answer,
        channel="web",
        language=conv.language,
        answered=bool(out and out.answered),
        confidence=out.confidence if out else 0.0,
        intent=(out.intent or None) if out else None,
        faq_id=None,
        faq_key=out.intent if out and out.kind == "faq" else None,
        faq_version=None,
        model_version="",
        suggestions=[
            SuggestionOut(faq_id=s.faq_id, faq_key=s.faq_key, question=s.question, score=s.score)
            for s in (out.suggestions if out else ())
        ],
        conversation_id=conv.public_id,
        turn_id=handled.turn.public_id,
        kind=out.kind if out else "queued",
        state=conv.state,
    )


def _faq_only(payload: MessageIn) -> MessageOut:
    reply = get_reply(payload.text, channel=payload.channel, language=payload.language)
    return MessageOut(
        text=reply.text,
        channel=reply.channel,
        language=reply.language,
        answered=reply.answered,
        confidence=reply.confidence,
        intent=reply.intent,
        faq_id=reply.faq_id,
        faq_key=reply.faq_key,
        faq_version=reply.faq_version,
        model_version=reply.model_version,
        suggestions=[
            SuggestionOut(faq_id=s.faq_id, faq_key=s.faq_key, question=s.question, score=s.score)
            for s in reply.suggestions
        ],
    )


# ------------------------------------------------------------------ feedback
class FeedbackIn(Schema):
    model_config = ConfigDict(extra="forbid")
    useful: bool = Field(description="👍 true, 👎 false")


class FeedbackOut(Schema):
    turn_id: uuid.UUID
    feedback: str


@router.post(
    "/turns/{turn_id}/feedback",
    response=FeedbackOut,
    summary="Rate one of 小微's answers (👍/👎) — customers and anonymous web visitors",
)
@command()
def post_feedback(request: HttpRequest, turn_id: uuid.UUID, payload: FeedbackIn) -> FeedbackOut:
    who = _optional_principal(request)
    if who.kind not in (PrincipalKind.ANONYMOUS, PrincipalKind.CUSTOMER):
        raise PermissionDenied("Only customers rate answers.")
    turn = chats.do_give_feedback(who, turn_id, payload.useful)
    return FeedbackOut(turn_id=turn.public_id, feedback=turn.feedback)


# ------------------------------------------------------------------ WeChat binding
class BindingCodeOut(Schema):
    code: str = Field(description='send "绑定 CODE" to the WeChat account within 10 minutes')
    expires_in: int


@router.post(
    "/binding-codes",
    response={201: BindingCodeOut},
    auth=principal_auth,
    summary="A one-time code that links a WeChat openid to the signed-in customer",
)
@command()
def post_binding_code(request: HttpRequest) -> Status[BindingCodeOut]:
    who = principal(request)
    if who.kind is not PrincipalKind.CUSTOMER:
        raise PermissionDenied("Only customers link a WeChat account.")
    code = chats.do_issue_binding_code(who)
    return Status(201, BindingCodeOut(code=code, expires_in=int(chats.BINDING_TTL.total_seconds())))


# ------------------------------------------------------------------ transcripts, hand-off
class LineOut(Schema):
    who: str = Field(description="customer, bot, agent or system")
    text: str
    at: dt.datetime


class ConversationOut(Schema):
    conversation_id: uuid.UUID
    channel: str
    state: str
    handoff_reason: str
    agent: str
    lines: list[LineOut]


def _conversation_out(conv: Conversation) -> ConversationOut:
    return ConversationOut(
        conversation_id=conv.public_id,
        channel=conv.channel,
        state=conv.state,
        handoff_reason=conv.handoff_reason,
        agent=conv.agent_name,
        lines=[
            LineOut(who=x["who"], text=x["text"], at=x["at"]) for x in chat_queries.transcript(conv)
        ],
    )


def _customer_or_chat_staff(who: Principal) -> None:
    if who.kind is PrincipalKind.CUSTOMER:
        return
    if who.kind is PrincipalKind.STAFF:
        identity.check_permission(who, Action.ASSISTANT_CHAT)
        return
    raise PermissionDenied("Only the customer and chat staff read a conversation.")


@router.get(
    "/conversations/{conversation_id}",
    response=ConversationOut,
    auth=principal_auth,
    summary="A conversation's transcript (its customer, or staff who handle chats)",
)
def get_conversation(request: HttpRequest, conversation_id: uuid.UUID) -> ConversationOut:
    who = principal(request)
    _customer_or_chat_staff(who)
    return _conversation_out(chat_queries.access_conversation(who, conversation_id))


class QueueItemOut(Schema):
    conversation_id: uuid.UUID
    channel: str
    state: str
    handoff_reason: str
    queued_at: dt.datetime | None
    agent: str


@router.get(
    "/queue",
    response=list[QueueItemOut],
    auth=principal_auth,
    summary="Conversations waiting for a person, then those being handled (chat staff)",
)
def get_queue(request: HttpRequest) -> list[QueueItemOut]:
    chats.check_chat_staff(principal(request))
    return [
        QueueItemOut(
            conversation_id=c.public_id,
            channel=c.channel,
            state=c.state,
            handoff_reason=c.handoff_reason,
            queued_at=c.queued_at,
            agent=c.agent_name,
        )
        for c in chat_queries.list_queue()
    ]


@router.post(
    "/conversations/{conversation_id}/take",
    response=ConversationOut,
    auth=principal_auth,
    summary="Take a waiting conversation (chat staff)",
)
@command()
def post_take(request: HttpRequest, conversation_id: uuid.UUID) -> ConversationOut:
    return _conversation_out(chats.do_take(principal(request), conversation_id))


class ReplyIn(Schema):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=1000)


@router.post(
    "/conversations/{conversation_id}/replies",
    response={201: ConversationOut},
    auth=principal_auth,
    summary="A person's reply; it reaches the customer's channel (web, WeChat, SMS)",
)
@command()
def post_reply(
    request: HttpRequest, conversation_id: uuid.UUID, payload: ReplyIn
) -> Status[ConversationOut]:
    turn = chats.do_agent_reply(principal(request), conversation_id, payload.text)
    return Status(201, _conversation_out(turn.conversation))


@router.post(
    "/conversations/{conversation_id}/hand-back",
    response=ConversationOut,
    auth=principal_auth,
    summary="Hand the conversation back to 小微 (chat staff)",
)
@command()
def post_hand_back(request: HttpRequest, conversation_id: uuid.UUID) -> ConversationOut:
    return _conversation_out(chats.do_hand_back(principal(request), conversation_id))
