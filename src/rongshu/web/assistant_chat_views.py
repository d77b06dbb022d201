"""Web pages of the assistant's conversations: the customers' multi-turn chat (htmx, works
without JavaScript), 👍/👎 feedback, the WeChat binding code, and the staff console's hand-off
queue, live chat and learning-loop dashboard."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rongshu.assistant import queries as chat_queries
from rongshu.assistant import services as chats
from rongshu.assistant.errors import AssistantNotReady, ConversationNotFound
from rongshu.assistant.queries import Conversation
from rongshu.assistant.types import ConversationState
from rongshu.identity.types import ANONYMOUS, Action, Principal
from rongshu.kernel.errors import DomainError
from rongshu.web.access import current_customer, staff_required, to_signin

MAX_MESSAGE = 500
SESSION_KEY = "assistant_conversation"


# ------------------------------------------------------------------ customers' chat
def _caller(request: HttpRequest) -> Principal:
    return current_customer(request) or ANONYMOUS


def _conversation(request: HttpRequest, *, create: bool) -> Conversation | None:
    who = _caller(request)
    conv = chat_queries.find_conversation(request.session.get(SESSION_KEY))
    if conv is not None and (
        conv.channel != "web"
        or conv.state == ConversationState.CLOSED
        or (conv.customer_id is not None and conv.customer_id != who.customer_id)
    ):
        conv = None
    if conv is None and create:
        conv = chats.do_open_conversation("web", principal=who)
        request.session[SESSION_KEY] = str(conv.public_id)
    return conv


def _lines(conv: Conversation | None, after: int = 0) -> list[dict[str, Any]]:
    if conv is None:
        return []
    return [x for x in chat_queries.transcript(conv) if x["turn"].seq > after]


def _last_seq(conv: Conversation | None) -> int:
    return chat_queries.last_seq(conv)


def chat(request: HttpRequest) -> HttpResponse:
    conv = _conversation(request, create=False)
    customer = current_customer(request)
    return render(
        request,
        "assistant/chat.html",
        {
            "lines": _lines(conv),
            "conv": conv,
            "last_seq": _last_seq(conv),
            "customer": customer,
            "prefill": (request.GET.get("q") or "")[:MAX_MESSAGE],
            "bindings": chat_queries.list_bindings(customer) if customer else [],
        },
    )


@require_POST
def ask(request: HttpRequest) -> HttpResponse:
    text = request.POST.get("text", "").strip()[:MAX_MESSAGE]
    error = ""
    conv = _conversation(request, create=bool(text))
    before = _last_seq(conv)
    if not text:
        error = _("Please type a question.")
    else:
        assert conv is not None
        try:
            chats.do_handle_message(conv, text, principal=_caller(request))
        except AssistantNotReady:
            error = _("The assistant is not ready yet. Please try again later.")
        except DomainError as exc:
            error = str(exc)
        conv.refresh_from_db()
    if request.headers.get("HX-Request") != "true":
        if error:
            messages.error(request, error)
        return redirect("web:assistant_chat")
    context = {
        "lines": _lines(conv, before),
        "conv": conv,
        "last_seq": _last_seq(conv),
        "error": error,
        "oob": True,
    }
    return render(request, "assistant/_lines.html", context)


def poll(request: HttpRequest) -> HttpResponse:
    """New lines (a person's replies) since ``after``; htmx polls while a person is involved."""
    conv = _conversation(request, create=False)
    try:
        after = int(request.GET.get("after", "0"))
    except ValueError:
        after = 0
    return render(
        request,
        "assistant/_lines.html",
        {"lines": _lines(conv, after), "conv": conv, "last_seq": _last_seq(conv), "poll": True},
    )


@require_POST
def new_conversation(request: HttpRequest) -> HttpResponse:
    request.session.pop(SESSION_KEY, None)
    return redirect("web:assistant_chat")


@require_POST
def feedback(request: HttpRequest, turn_id: str) -> HttpResponse:
    conv = _conversation(request, create=False)
    turn = chat_queries.find_turn(turn_id)
    if conv is None or turn is None or turn.conversation_id != conv.pk:
        raise Http404("No such answer.")
    try:
        chats.do_give_feedback(_caller(request), turn.public_id, request.POST.get("useful") == "1")
    except (ConversationNotFound, DomainError) as exc:
        raise Http404(str(exc)) from exc
    if request.headers.get("HX-Request") == "true":
        return HttpResponse(f'<span class="feedback-done">{_("Thanks for the feedback.")}</span>')
    return redirect("web:assistant_chat")


@require_POST
def wechat_code(request: HttpRequest) -> HttpResponse:
    customer = current_customer(request)
    if customer is None:
        return to_signin(request)
    code = chats.do_issue_binding_code(customer)
    messages.success(
        request,
        _('Send "绑定 %(code)s" to the rongshu WeChat account within 10 minutes.') % {"code": code},
    )
    return redirect("web:assistant_chat")


# ------------------------------------------------------------------ staff: hand-off queue
def _staff(request: HttpRequest) -> Principal:
    return request.principal  # type: ignore[attr-defined, no-any-return]


@staff_required(Action.ASSISTANT_CHAT)
def queue(request: HttpRequest) -> HttpResponse:
    return render(request, "assistant/queue.html", {"rows": chat_queries.list_queue()})


def _conv_or_404(request: HttpRequest, conversation_id: str) -> Conversation:
    try:
        return chat_queries.access_conversation(_staff(request), conversation_id)
    except ConversationNotFound as exc:
        raise Http404(str(exc)) from exc


@staff_required(Action.ASSISTANT_CHAT)
def conversation(request: HttpRequest, conversation_id: str) -> HttpResponse:
    conv = _conv_or_404(request, conversation_id)
    template = (
        "assistant/_transcript.html"
        if request.headers.get("HX-Request") == "true"
        else "assistant/conversation.html"
    )
    return render(
        request,
        template,
        {
            "conv": conv,
            "lines": chat_queries.transcript(conv),
            "mine": conv.agent_key == _staff(request).principal_key,
        },
    )


@staff_required(Action.ASSISTANT_CHAT)
@require_POST
def conversation_action(request: HttpRequest, conversation_id: str, action: str) -> HttpResponse:
    conv = _conv_or_404(request, conversation_id)
    who = _staff(request)
    try:
        if action == "take":
            chats.do_take(who, conv.public_id)
        elif action == "reply":
            chats.do_agent_reply(who, conv.public_id, request.POST.get("text", ""))
        elif action == "back":
            chats.do_hand_back(who, conv.public_id)
            messages.success(request, _("Handed back to Xiaowei."))
            return redirect("web:assistant_queue")
        else:
            raise Http404("Unknown action.")
    except DomainError as exc:
        messages.error(request, str(exc))
    return redirect("web:assistant_conversation", conversation_id=conv.public_id)


# ------------------------------------------------------------------ staff: learning loop
@staff_required(Action.ASSISTANT_MANAGE)
def insights(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "assistant/insights.html",
        {
            "stats": chat_queries.channel_stats(),
            "clusters": chat_queries.cluster_unanswered(),
            "handled": chat_queries.list_handled_clusters(),
            "categories": chats.list_faq_categories(),
        },
    )


@staff_required(Action.ASSISTANT_MANAGE)
@require_POST
def draft_from_cluster(request: HttpRequest, cluster_id: str) -> HttpResponse:
    """Create a draft FAQ entry from a group of unanswered questions, then open it in the
    editor (staff write the answers per channel, then activate and retrain)."""
    key = request.POST.get("key", "")
    try:
        entry = chats.do_draft_faq_from_cluster(
            cluster_id,
            key=key,
            category=request.POST.get("category", ""),
            editor=str(_staff(request).principal_key),
        )
    except DomainError as exc:
        messages.error(request, str(exc.detail or exc.title))
        return redirect("web:assistant_insights")
    messages.success(
        request,
        _(
            "Draft %(key)s created from %(n)s questions. Complete both languages and the "
            "answers, save, activate it and retrain."
        )
        % {"key": entry.key, "n": entry.handled_questions.count()},
    )
    return redirect("web:assistant_faq_edit", key=entry.key)
