"""Web pages of the assistant 小微: the staff FAQ editor (the chat is in assistant_chat_views)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from rongshu.assistant import services
from rongshu.assistant.errors import FaqNotFound, InvalidFaq
from rongshu.assistant.models import FaqEntry
from rongshu.assistant.types import SMS_MAX_CHARS, FaqRecord
from rongshu.identity.types import Action
from rongshu.web.access import staff_required

MAX_MESSAGE = 500


def _entry_or_404(key: str) -> FaqEntry:
    try:
        return services.get_faq_entry(key)
    except FaqNotFound as exc:
        raise Http404(str(exc)) from exc


def _editor(request: HttpRequest) -> str:
    return str(request.principal.principal_key)  # type: ignore[attr-defined]


# ------------------------------------------------------------------ staff FAQ editor
def _lines(value: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in value.splitlines() if line.strip())


class FaqForm(forms.Form):
    category = forms.CharField(label=gettext_lazy("Category"), max_length=40)
    question_zh = forms.CharField(label=gettext_lazy("Question (Chinese)"), max_length=300)
    question_en = forms.CharField(label=gettext_lazy("Question (English)"), max_length=300)
    paraphrases_zh = forms.CharField(
        label=gettext_lazy("Paraphrases (Chinese, one per line)"), widget=forms.Textarea
    )
    paraphrases_en = forms.CharField(
        label=gettext_lazy("Paraphrases (English, one per line)"), widget=forms.Textarea
    )
    answer_web_zh = forms.CharField(
        label=gettext_lazy("Web answer (Chinese)"), widget=forms.Textarea
    )
    answer_web_en = forms.CharField(
        label=gettext_lazy("Web answer (English)"), widget=forms.Textarea
    )
    answer_sms_zh = forms.CharField(
        label=gettext_lazy("SMS answer (Chinese)"), max_length=SMS_MAX_CHARS
    )
    answer_sms_en = forms.CharField(
        label=gettext_lazy("SMS answer (English)"), max_length=SMS_MAX_CHARS
    )

    @classmethod
    def initial_from(cls, record: FaqRecord) -> dict[str, str]:
        return {
            "category": record.category,
            "question_zh": record.question_zh,
            "question_en": record.question_en,
            "paraphrases_zh": "\n".join(record.paraphrases_zh),
            "paraphrases_en": "\n".join(record.paraphrases_en),
            "answer_web_zh": record.answer_web_zh,
            "answer_web_en": record.answer_web_en,
            "answer_sms_zh": record.answer_sms_zh,
            "answer_sms_en": record.answer_sms_en,
        }

    def to_record(self, key: str) -> FaqRecord:
        data = self.cleaned_data
        return FaqRecord(
            key=key,
            category=data["category"].strip(),
            question_zh=data["question_zh"].strip(),
            question_en=data["question_en"].strip(),
            paraphrases_zh=_lines(data["paraphrases_zh"]),
            paraphrases_en=_lines(data["paraphrases_en"]),
            answer_web_zh=data["answer_web_zh"].strip(),
            answer_web_en=data["answer_web_en"].strip(),
            answer_sms_zh=data["answer_sms_zh"].strip(),
            answer_sms_en=data["answer_sms_en"].strip(),
        )


@staff_required(Action.ASSISTANT_MANAGE)
def faq_list(request: HttpRequest) -> HttpResponse:
    category = request.GET.get("category") or None
    query = (request.GET.get("q") or "").strip() or None
    entries = list(services.list_faq_entries(category=category, query=query)[:500])
    rows = [(entry, services.get_record(entry)) for entry in entries]
    return render(
        request,
        "assistant/faq_list.html",
        {
            "rows": rows,
            "categories": services.list_faq_categories(),
            "category": category or "",
            "q": query or "",
            "model_version": services.find_model_version(),
        },
    )


@staff_required(Action.ASSISTANT_MANAGE)
@require_http_methods(["GET", "POST"])
def faq_edit(request: HttpRequest, key: str) -> HttpResponse:
    entry = _entry_or_404(key)
    if request.method == "POST":
        form = FaqForm(request.POST)
        if form.is_valid():
            try:
                version = services.do_edit_faq(key, form.to_record(key), editor=_editor(request))
            except InvalidFaq as exc:
                form.add_error(None, str(exc.detail))
            else:
                messages.success(
                    request,
                    _("Saved as version %(version)s. Retrain the model to learn new wordings.")
                    % {"version": version.version},
                )
                return redirect("web:assistant_faq_edit", key=key)
    else:
        form = FaqForm(initial=FaqForm.initial_from(services.get_record(entry)))
    return render(
        request,
        "assistant/faq_edit.html",
        {"entry": entry, "form": form, "versions": entry.versions.order_by("-version")},
    )


@staff_required(Action.ASSISTANT_MANAGE)
@require_POST
def faq_active(request: HttpRequest, key: str) -> HttpResponse:
    active = request.POST.get("active") == "1"
    _entry_or_404(key)
    try:
        services.do_set_faq_active(key, active, editor=_editor(request))
    except InvalidFaq as exc:  # a draft needs both languages and its answers first
        messages.error(
            request,
            _("Complete the entry before activating it: %(problems)s") % {"problems": exc.detail},
        )
    else:
        messages.success(request, _("Activated.") if active else _("Deactivated."))
    return redirect("web:assistant_faq_edit", key=key)


@staff_required(Action.ASSISTANT_MANAGE)
@require_POST
def faq_train(request: HttpRequest) -> HttpResponse:
    try:
        result = services.do_train_model()
    except InvalidFaq as exc:
        messages.error(request, str(exc.detail))
    else:
        messages.success(
            request,
            _("Trained model %(version)s on %(entries)s entries.")
            % {"version": result.version, "entries": result.entries},
        )
    return redirect("web:assistant_faq_list")
