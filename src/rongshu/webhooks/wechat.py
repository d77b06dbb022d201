"""The WeChat Official-Account webhook of 小微.

* ``GET ?signature&timestamp&nonce&echostr`` — the server check: ``signature`` must be the
  SHA-1 of the sorted ``token``, ``timestamp`` and ``nonce`` concatenated; we echo
  ``echostr``. Anything else is 403.
* ``POST`` (same query signature) — an XML message. Text is answered with a passive XML text
  reply. WeChat waits 5 seconds and retries the same ``MsgId`` three times: when the answer
  is not ready within :func:`deadline` (default 4.5 s) we answer ``success`` at once and send
  the answer later as a customer-service message through the outbox
  (:mod:`rongshu.assistant.services`); a retried ``MsgId`` is never answered twice.
  "绑定 123456" / "bind 123456" links the openid to the customer shown that code in the portal.
  Other message types get a short hint; events other than ``subscribe`` get ``success``.

The XML parser resolves no entities and reads no DTD or network (no XXE). Timestamps older
than five minutes are refused (replay).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from lxml import etree

from rongshu.assistant import queries as chat_queries
from rongshu.assistant import services as store
from rongshu.assistant.errors import AssistantNotReady, InvalidBinding
from rongshu.assistant.queries import Conversation
from rongshu.assistant.types import ConversationState
from rongshu.kernel import clock
from rongshu.kernel.errors import DomainError

logger = logging.getLogger(__name__)

MAX_SKEW_S = 300
MAX_BODY = 64 * 1024
_BIND = re.compile(r"^\s*(?:绑定|bind)\s*(\d{6})\s*$", re.IGNORECASE)
_EXECUTOR = ThreadPoolExecutor(max_workers=4, thread_name_prefix="wechat-answer")
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
)


def token() -> str:
    return str(
        getattr(settings, "RONGSHU_WECHAT_TOKEN", "")
        or os.environ.get("RONGSHU_WECHAT_TOKEN", "rongshu-wechat-dev-token")
    )


def deadline() -> float:
    """Seconds we wait for an answer before replying ``success`` (0: answer inline)."""
    return float(getattr(settings, "RONGSHU_WECHAT_DEADLINE_S", 4.5))


def signature(token_value: str, timestamp: str, nonce: str) -> str:
    joined = "".join(sorted([token_value, timestamp, nonce]))
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()  # noqa: S324 - WeChat's protocol


def check_signature(request: HttpRequest) -> bool:
    sig = request.GET.get("signature", "")
    timestamp = request.GET.get("timestamp", "")
    nonce = request.GET.get("nonce", "")
    if not (sig and timestamp.isdigit() and nonce):
        return False
    if abs(int(clock.now().timestamp()) - int(timestamp)) > MAX_SKEW_S:
        return False
    return hmac.compare_digest(signature(token(), timestamp, nonce), sig)


def parse(body: bytes) -> dict[str, str]:
    root = etree.fromstring(body, parser=_PARSER)
    if root is None or root.tag != "xml":
        raise ValueError("not a WeChat message")
    return {child.tag: (child.text or "") for child in root if isinstance(child.tag, str)}


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply(to_user: str, from_user: str, content: str) -> str:
    return (
        "<xml>"
        f"<ToUserName>{_cdata(to_user)}</ToUserName>"
        f"<FromUserName>{_cdata(from_user)}</FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{_cdata(content)}</Content>"
        "</xml>"
    )


@csrf_exempt
def endpoint(request: HttpRequest) -> HttpResponse:
    if not check_signature(request):
        return HttpResponseForbidden("bad signature")
    if request.method == "GET":
        return HttpResponse(request.GET.get("echostr", ""), content_type="text/plain")
    if request.method != "POST":
        return HttpResponse(status=405)
    if len(request.body) > MAX_BODY:
        return HttpResponse(status=413)
    try:
        message = parse(request.body)
    except (etree.XMLSyntaxError, ValueError):
        return HttpResponse("bad xml", status=400, content_type="text/plain")
    openid = message.get("FromUserName", "")[:128]
    account = message.get("ToUserName", "")
    kind = message.get("MsgType", "")
    if not openid:
        return HttpResponse("bad xml", status=400, content_type="text/plain")
    if kind == "event":
        if message.get("Event", "").lower() == "subscribe":
            return _xml(openid, account, WELCOME)
        return HttpResponse("success", content_type="text/plain")
    if kind != "text":
        return _xml(openid, account, "小微目前只看得懂文字消息。 小微 reads text messages only.")
    content = message.get("Content", "").strip()[:500]
    if not content:
        return HttpResponse("success", content_type="text/plain")
    bind = _BIND.match(content)
    if bind:
        return _xml(openid, account, _bind(openid, bind.group(1)))
    answer = answer_within(openid, content, message.get("MsgId", ""), deadline())
    if answer is None:
        return HttpResponse("success", content_type="text/plain")
    return _xml(openid, account, answer)


WELCOME = (
    "您好，我是榕树银行智能助手小微，可以问我问题，也可以查余额、转账、缴费。回复「人工」转人工客服。"
    "\nHi, I'm 小微: ask me anything, check your balance, transfer, pay bills. "
    'Reply "agent" for a person.'
)


def _xml(openid: str, account: str, content: str) -> HttpResponse:
    return HttpResponse(text_reply(openid, account, content), content_type="application/xml")


def _bind(openid: str, code: str) -> str:
    try:
        with transaction.atomic():
            store.do_bind("wechat", openid, code)
    except InvalidBinding:
        return "绑定码不正确或已过期，请在网站「小微」页面重新获取。 The code is wrong or expired."
    return (
        "绑定成功，现在可以在这里查余额、转账了。 "
        "Linked: you can now check balances and transfer here."
    )


def answer_text(handled: store.Handled, conv: Conversation) -> str | None:
    """The passive reply for a handled message (None: nothing to say now)."""
    if handled.outcome is not None:
        return handled.outcome.text
    if handled.turn.answer:  # a retried MsgId: the answer we gave before
        return handled.turn.answer
    if conv.state == ConversationState.WAITING:
        position = chat_queries.queue_position(conv)
        return f"已转人工，您前面还有{max(position - 1, 0)}位，请稍候。 You are in the queue."
    return None  # a person is answering: their messages come as customer-service messages


def _answer(openid: str, content: str, msg_id: str) -> tuple[Conversation, str | None]:
    principal = store.principal_for_channel("wechat", openid)
    with transaction.atomic():
        conv = store.do_open_conversation("wechat", principal=principal, address=openid)
    try:
        handled = store.do_handle_message(conv, content, principal=principal, external_id=msg_id)
    except AssistantNotReady:
        return conv, "小微正在升级，请稍后再试。 小微 is being updated; please try again later."
    except DomainError as exc:
        return conv, str(exc)
    conv.refresh_from_db()
    return conv, answer_text(handled, conv)


@dataclass
class _Race:
    lock: threading.Lock = field(default_factory=threading.Lock)
    late: bool = False  # the request gave up waiting: the worker sends the answer itself
    passive: bool = False  # the worker handed its answer to the waiting request


def answer_within(openid: str, content: str, msg_id: str, seconds: float) -> str | None:
    """The answer if ready within ``seconds``; otherwise None, and the answer follows as a
    customer-service message once it is ready."""
    if seconds <= 0:
        return _answer(openid, content, msg_id)[1]
    race = _Race()

    def work() -> str | None:
        close_old_connections()
        try:
            conv, text = _answer(openid, content, msg_id)
            with race.lock:
                late = race.late
                race.passive = not late
            if late and text:
                with transaction.atomic():
                    store.do_enqueue(conv, text)
            return text
        except Exception:
            logger.exception("answering WeChat message %s failed", msg_id)
            raise
        finally:
            connection.close()

    future = _EXECUTOR.submit(work)
    try:
        return future.result(timeout=seconds)
    except FutureTimeout:
        with race.lock:
            race.late = not race.passive
        if not race.late:
            return future.result()
        return None
