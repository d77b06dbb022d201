"""The assistant 小微 over HTTP: one message in, one answer out (FAQ questions for now)."""

from __future__ import annotations

import uuid
from typing import Literal

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import ConfigDict, Field, field_validator

from rongshu.api.base import command
from rongshu.assistant.services import get_reply

router = Router(tags=["assistant"])


class MessageIn(Schema):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=500, description="the customer's message")
    channel: Literal["web", "sms", "wechat"] = "web"
    language: Literal["zh-hans", "en"] | None = Field(
        default=None, description="reply language; detected from the text when absent"
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


@router.post(
    "/messages",
    response=MessageOut,
    summary="Ask the assistant 小微 a question (web, SMS or WeChat answer)",
)
@command()
def post_message(request: HttpRequest, payload: MessageIn) -> MessageOut:
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
