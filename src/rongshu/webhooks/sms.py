"""The SMS webhook of 小微 (mobile-originated messages from the SMS provider).

``POST`` JSON ``{"from": "13800000001", "text": "余额"}`` with the header
``X-Rongshu-Signature: hex(HMAC-SHA256(secret, body))``; a bad or missing signature is 403.
The phone number identifies the customer (their login); the answer comes back in the
response as ≤ 70-character segments (at most three), which the provider sends as the reply:
``{"to": …, "segments": […]}``. Keywords: 余额/YE (balance), 帮助/HELP, 人工/AGENT (a person),
others go to 小微's understanding; a transfer's one-time code arrives by SMS (step-up).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from rongshu.assistant import services as store
from rongshu.assistant.errors import AssistantNotReady
from rongshu.assistant.types import ConversationState
from rongshu.kernel.errors import DomainError

MAX_BODY = 8 * 1024
_PHONE = re.compile(r"^1\d{10}$")
HELP_ZH = "小微：发余额查余额，发转账给某人转账，发人工转人工客服，其他问题直接发。"
HELP_EN = "小微: YE balance, AGENT a person, or just ask a question."
KEYWORDS = {"余额": "余额", "ye": "余额", "yue": "余额", "人工": "人工", "agent": "人工"}


def secret() -> str:
    return str(
        getattr(settings, "RONGSHU_SMS_WEBHOOK_SECRET", "")
        or os.environ.get("RONGSHU_SMS_WEBHOOK_SECRET", "rongshu-sms-dev-secret")
    )


def sign(body: bytes, key: str | None = None) -> str:
    return hmac.new((key or secret()).encode(), body, hashlib.sha256).hexdigest()


@csrf_exempt
@require_POST
def endpoint(request: HttpRequest) -> HttpResponse:
    if len(request.body) > MAX_BODY:
        return HttpResponse(status=413)
    given = request.headers.get("X-Rongshu-Signature", "")
    if not given or not hmac.compare_digest(sign(request.body), given):
        return JsonResponse({"error": "bad signature"}, status=403)
    try:
        data = json.loads(request.body)
        phone = "".join(ch for ch in str(data["from"]) if ch.isdigit())[-11:]
        text = str(data["text"]).strip()[:500]
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": "bad message"}, status=400)
    if not _PHONE.match(phone) or not text:
        return JsonResponse({"error": "bad message"}, status=400)
    reply = answer(phone, text)
    return JsonResponse({"to": phone, "segments": store.sms_segments(reply) if reply else []})


def answer(phone: str, text: str) -> str:
    word = text.strip().lower()
    if word in ("帮助", "help", "?", "？"):
        return HELP_EN if word == "help" else HELP_ZH
    text = KEYWORDS.get(word, text)
    principal = store.principal_for_channel("sms", phone)
    with transaction.atomic():
        conv = store.do_open_conversation("sms", principal=principal, address=phone)
    try:
        handled = store.do_handle_message(conv, text, principal=principal)
    except AssistantNotReady:
        return "小微升级中，请稍后再试。"
    except DomainError as exc:
        return str(exc)[:70]
    if handled.outcome is not None:
        return handled.outcome.text
    conv.refresh_from_db()
    if conv.state == ConversationState.WAITING:
        return "已转人工客服，请稍候，客服将短信回复您。"
    return ""
