"""The write side of the conversation store every channel shares: turns, hand-off to people,
feedback, channel bindings and the outbox of channel messages. Channels reach these through
:mod:`rongshu.assistant.services`; the reads (transcripts, the queue, the learning-loop figures)
are in :mod:`rongshu.assistant.queries`.

* :func:`do_handle_message` — one customer message on any channel: stored as a :class:`Turn`,
  answered by :func:`rongshu.assistant.dialogue.respond` while the conversation is with the
  bot, queued for a person otherwise.
* Hand-off: ``人工``/agent, or two unsure answers in a row, put the conversation in the queue
  (``waiting``); staff with ``assistant.chat`` take it (``agent``), reply (the message reaches
  the customer's channel through the outbox) and hand it back (``bot``).
* :func:`rongshu.assistant.queries.channel_stats` and
  :func:`rongshu.assistant.queries.cluster_unanswered` feed the staff dashboard.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from django.db import transaction

from rongshu.assistant.errors import ConversationNotFound, InvalidBinding, InvalidFeedback
from rongshu.assistant.models import (
    BindingCode,
    ChannelBinding,
    Conversation,
    OutboundMessage,
    Turn,
)
from rongshu.assistant.text import detect_language
from rongshu.identity import services as identity
from rongshu.identity.types import ANONYMOUS, Action, Principal, PrincipalKind
from rongshu.kernel import clock
from rongshu.kernel.audit import do_audit
from rongshu.kernel.errors import PermissionDenied

if TYPE_CHECKING:
    from rongshu.assistant import dialogue

logger = logging.getLogger(__name__)

BINDING_TTL = dt.timedelta(minutes=10)
SMS_SEGMENT = 70
SMS_MAX_SEGMENTS = 3


# ------------------------------------------------------------------ conversations
def do_open_conversation(
    channel: str,
    *,
    principal: Principal = ANONYMOUS,
    address: str = "",
    public_id: uuid.UUID | None = None,
) -> Conversation:
    """The open conversation of this channel address (WeChat openid, phone) or a new one
    (with ``public_id`` when the caller names it, as the API's clients do)."""
    if address:
        conv = (
            Conversation.objects.filter(channel=channel, address=address)
            .exclude(state=Conversation.CLOSED)
            .order_by("-updated_at")
            .first()
        )
        if conv is not None:
            _attach(conv, principal)
            return conv
    conv = Conversation(
        channel=channel,
        address=address,
        customer_id=principal.customer_id,
        user_id=principal.user_id if principal.customer_id else None,
    )
    if public_id is not None:
        conv.public_id = public_id
    conv.save(force_insert=True)
    return conv


def _attach(conv: Conversation, principal: Principal) -> None:
    if principal.customer_id is not None and conv.customer_id != principal.customer_id:
        conv.customer_id = principal.customer_id
        conv.user_id = principal.user_id
        conv.save(update_fields=["customer_id", "user_id", "updated_at"])


def _next_seq(conv: Conversation) -> int:
    last = conv.turns.order_by("-seq").values_list("seq", flat=True).first()
    return int(last or 0) + 1


def _language(text: str, current: str) -> str:
    """The message's language; digits and signs alone (a code, an amount) keep the current."""
    if not any(ch.isalpha() for ch in text):
        return current
    return detect_language(text)


@dataclass(frozen=True)
class Handled:
    turn: Turn
    outcome: dialogue.Outcome | None  # None: a person handles the conversation


def do_handle_message(
    conv: Conversation,
    text: str,
    *,
    principal: Principal,
    external_id: str = "",
    language: str | None = None,
) -> Handled:
    """Store the customer's message and answer it (bot) or queue it for a person."""
    # dialogue imports services, which re-exports this module: imported here, not at the top
    from rongshu.assistant import dialogue

    text = text.strip()[:500]
    with transaction.atomic():
        conv = Conversation.objects.select_for_update().get(pk=conv.pk)
        if external_id:
            seen = conv.turns.filter(external_id=external_id).first()
            if seen is not None:  # a channel's retry of a message already handled
                return Handled(seen, None)
        _attach(conv, principal)
        conv.language = language or _language(text, conv.language)
        turn = Turn(
            conversation=conv,
            seq=_next_seq(conv),
            author=Turn.CUSTOMER,
            channel=conv.channel,
            text=text,
            external_id=external_id[:64],
        )
        if conv.state in (Conversation.WAITING, Conversation.AGENT):
            turn.kind = "agent"
            turn.save()
            conv.save(update_fields=["language", "updated_at"])
            return Handled(turn, None)
        caller = dialogue.Caller(principal=principal, channel=conv.channel, language=conv.language)
        context = dict(conv.context or {})
        outcome = dialogue.respond(text, context, caller)
        turn.intent = outcome.intent[:80]
        turn.kind = outcome.kind
        turn.confidence = float(outcome.confidence)
        turn.answered = outcome.answered
        turn.slots = outcome.slots
        turn.answer = outcome.text
        turn.suggestions = [s.question for s in outcome.suggestions]
        turn.answered_by = "bot"
        turn.save()
        conv.context = context
        fields = ["context", "language", "updated_at"]
        if outcome.handoff:
            conv.state = Conversation.WAITING
            conv.handed_off = True
            conv.handoff_reason = outcome.handoff
            conv.queued_at = clock.now()
            conv.context.pop("pending", None)
            fields += ["state", "handed_off", "handoff_reason", "queued_at"]
        conv.save(update_fields=fields)
        return Handled(turn, outcome)


# ------------------------------------------------------------------ feedback
def do_give_feedback(principal: Principal, turn_id: uuid.UUID | str, useful: bool) -> Turn:
    """👍/👎 on one of 小微's answers (the customer's own conversation; anonymous web chats
    are those the browser's conversation holds; the web view checks that)."""
    key = _uuid(turn_id)
    if key is None:
        raise ConversationNotFound()
    with transaction.atomic():
        turn = (
            Turn.objects.select_for_update()
            .select_related("conversation")
            .filter(public_id=key)
            .first()
        )
        if turn is None:
            raise ConversationNotFound()
        conv = turn.conversation
        if conv.customer_id is not None and conv.customer_id != principal.customer_id:
            raise ConversationNotFound()
        if conv.customer_id is None and principal.customer_id is not None:
            raise ConversationNotFound()
        if turn.answered_by != "bot" or not turn.answer:
            raise InvalidFeedback()
        turn.feedback = Turn.UP if useful else Turn.DOWN
        turn.save(update_fields=["feedback"])
        return turn


def _uuid(value: uuid.UUID | str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


# ------------------------------------------------------------------ hand-off
def check_chat_staff(principal: Principal) -> None:
    if principal.kind is not PrincipalKind.STAFF:
        raise PermissionDenied("Only staff handle chats.")
    identity.check_permission(principal, Action.ASSISTANT_CHAT)


def _system_turn(conv: Conversation, text: str, author: str = Turn.SYSTEM, by: str = "") -> Turn:
    return Turn.objects.create(
        conversation=conv,
        seq=_next_seq(conv),
        author=author,
        channel=conv.channel,
        answer=text,
        answered_by=by or author,
    )


def do_take(principal: Principal, public_id: uuid.UUID | str) -> Conversation:
    check_chat_staff(principal)
    with transaction.atomic():
        conv = _locked(public_id)
        if conv.state not in (Conversation.WAITING, Conversation.AGENT):
            raise InvalidBinding(
                "This conversation is not waiting for a person.", code="not_waiting"
            )
        conv.state = Conversation.AGENT
        conv.agent_key = principal.principal_key
        conv.agent_name = principal.display_name[:150]
        conv.save(update_fields=["state", "agent_key", "agent_name", "updated_at"])
        name = principal.display_name or "客服"
        turn = _system_turn(conv, f"人工客服 {name} 为您服务。 {name} is with you now.")
        _deliver(conv, turn.answer)
        do_audit(
            principal.principal_key,
            "assistant.chat_taken",
            object_type="conversation",
            object_id=str(conv.public_id),
        )
        return conv


def do_agent_reply(principal: Principal, public_id: uuid.UUID | str, text: str) -> Turn:
    check_chat_staff(principal)
    text = text.strip()[:1000]
    if not text:
        raise InvalidFeedback("Write a message first.", code="blank_message")
    with transaction.atomic():
        conv = _locked(public_id)
        if conv.state != Conversation.AGENT or conv.agent_key != principal.principal_key:
            raise InvalidBinding("Take the conversation first.", code="not_your_chat")
        turn = _system_turn(conv, text, author=Turn.AGENT, by=principal.principal_key)
        _deliver(conv, text)
        conv.save(update_fields=["updated_at"])
        return turn


def do_hand_back(principal: Principal, public_id: uuid.UUID | str) -> Conversation:
    check_chat_staff(principal)
    with transaction.atomic():
        conv = _locked(public_id)
        if conv.state not in (Conversation.WAITING, Conversation.AGENT):
            raise InvalidBinding("This conversation is not with a person.", code="not_waiting")
        conv.state = Conversation.BOT
        conv.agent_key = ""
        conv.context = {}
        conv.save(update_fields=["state", "agent_key", "context", "updated_at"])
        turn = _system_turn(conv, "已转回智能助手小微。 You are back with 小微.")
        _deliver(conv, turn.answer)
        do_audit(
            principal.principal_key,
            "assistant.chat_handed_back",
            object_type="conversation",
            object_id=str(conv.public_id),
        )
        return conv


def _locked(public_id: uuid.UUID | str) -> Conversation:
    key = _uuid(public_id)
    conv = Conversation.objects.select_for_update().filter(public_id=key).first() if key else None
    if conv is None:
        raise ConversationNotFound()
    return conv


# ------------------------------------------------------------------ outbox to channels
class ChannelSender(Protocol):
    def send(self, address: str, text: str) -> None: ...


@dataclass
class SimulatedChannelApi:
    """A channel's send API as a simulator — WeChat's customer-service message API
    (``message/custom/send``) or an SMS provider's conversational sender — keeping what it
    accepted per address; ``fail_next`` makes the next calls fail (errcode -1)."""

    sent: dict[str, list[str]]
    fail_next: int = 0

    def send(self, address: str, text: str) -> None:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise ConnectionError("errcode -1: system busy")
        parts = sms_segments(text) if self is SMS_API else [text]
        self.sent.setdefault(address, []).extend(parts)


WECHAT_API = SimulatedChannelApi(sent={})
SMS_API = SimulatedChannelApi(sent={})
_SENDERS: dict[str, Callable[[], ChannelSender]] = {
    "wechat": lambda: WECHAT_API,
    "sms": lambda: SMS_API,
}


def register_sender(channel: str, factory: Callable[[], ChannelSender]) -> None:
    """A deployment swaps in the real WeChat API client here."""
    _SENDERS[channel] = factory


def _deliver(conv: Conversation, text: str) -> None:
    """Web chats read the transcript; WeChat and SMS get an outbound message after commit."""
    if conv.channel not in _SENDERS or not conv.address:
        return
    OutboundMessage.objects.create(
        conversation=conv, channel=conv.channel, address=conv.address, text=text
    )
    transaction.on_commit(do_deliver_pending)


def do_enqueue(conv: Conversation, text: str) -> OutboundMessage:
    message = OutboundMessage.objects.create(
        conversation=conv, channel=conv.channel, address=conv.address, text=text
    )
    transaction.on_commit(do_deliver_pending)
    return message


def do_deliver_pending(max_attempts: int = 5) -> int:
    """Send pending outbound messages (at least once; failures stay pending and are retried)."""
    sent = 0
    for message in OutboundMessage.objects.filter(state=OutboundMessage.PENDING).order_by("id")[
        :200
    ]:
        factory = _SENDERS.get(message.channel)
        if factory is None:
            continue
        message.attempts += 1
        try:
            factory().send(message.address, message.text)
        except Exception as exc:
            message.last_error = str(exc)[:200]
            if message.attempts >= max_attempts:
                message.state = OutboundMessage.FAILED
            message.save(update_fields=["attempts", "last_error", "state"])
            continue
        message.state = OutboundMessage.SENT
        message.sent_at = clock.now()
        message.save(update_fields=["attempts", "state", "sent_at"])
        sent += 1
    return sent


def sms_segments(text: str) -> list[str]:
    """≤ 70 characters per segment, at most three segments (the rest is cut with "…")."""
    text = " ".join(text.split())
    parts = [text[i : i + SMS_SEGMENT] for i in range(0, len(text), SMS_SEGMENT)] or [""]
    if len(parts) > SMS_MAX_SEGMENTS:
        parts = parts[:SMS_MAX_SEGMENTS]
        parts[-1] = parts[-1][: SMS_SEGMENT - 1] + "…"
    return parts


# ------------------------------------------------------------------ channel bindings
def _code_digest(code: str) -> str:
    return hashlib.sha256(f"assistant-binding:{code}".encode()).hexdigest()


def do_issue_binding_code(principal: Principal) -> str:
    """A six-digit code the signed-in customer sends to the WeChat account to link it."""
    if principal.customer_id is None or principal.user_id is None:
        raise PermissionDenied("Only customers link a WeChat account.")
    for _ in range(5):
        code = f"{secrets.randbelow(1_000_000):06d}"
        digest = _code_digest(code)
        if not BindingCode.objects.filter(digest=digest, used_at__isnull=True).exists():
            BindingCode.objects.filter(digest=digest).delete()
            BindingCode.objects.create(
                digest=digest,
                user_id=principal.user_id,
                customer_id=principal.customer_id,
                expires_at=clock.now() + BINDING_TTL,
            )
            return code
    raise InvalidBinding("Try again.", code="binding_busy")


def do_bind(channel: str, address: str, code: str) -> ChannelBinding:
    """Link ``address`` (an openid) to the customer who was shown ``code``."""
    with transaction.atomic():
        found = (
            BindingCode.objects.select_for_update()
            .filter(
                digest=_code_digest(code.strip()), used_at__isnull=True, expires_at__gt=clock.now()
            )
            .first()
        )
        if found is None:
            raise InvalidBinding()
        found.used_at = clock.now()
        found.save(update_fields=["used_at"])
        binding = _bind(channel, address, found.user_id, found.customer_id)
        do_audit(
            f"customer:{found.customer_id}",
            "assistant.channel_bound",
            object_type="customer",
            object_id=str(found.customer_id),
            data={"channel": channel},
        )
        return binding


def _bind(channel: str, address: str, user_id: int, customer_id: uuid.UUID) -> ChannelBinding:
    session = identity.do_start_session(
        user_id, kind="app", device_label=f"小微 {channel}", user_agent=f"assistant-{channel}"
    )
    binding, _ = ChannelBinding.objects.update_or_create(
        channel=channel,
        address=address,
        defaults={"user_id": user_id, "customer_id": customer_id, "session_id": session.public_id},
    )
    return binding


def principal_for_channel(channel: str, address: str) -> Principal:
    """The customer bound to a WeChat openid; for SMS the customer whose login is the phone
    number (a channel session is started the first time). Anonymous otherwise."""
    binding = ChannelBinding.objects.filter(channel=channel, address=address).first()
    if binding is None and channel == "sms":
        user_id = identity.find_customer_user_by_phone(address)
        if user_id is not None:
            who = identity.principal_for_user(user_id)
            if who.customer_id is not None:
                binding = _bind(channel, address, user_id, who.customer_id)
    if binding is None:
        return ANONYMOUS
    who = identity.principal_for_user(binding.user_id, session_id=binding.session_id)
    return who if who.customer_id == binding.customer_id else ANONYMOUS
