"""Staff console for insight (``segment.view``): indicator catalogue with quality, segments and
their dashboards (size over time and composition as server-rendered SVG), the segment builder
with a live size estimate (htmx) and, for ``segment.manage``, saving the rule as a custom
segment, circles, and a customer's profile fragment."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rongshu.identity import services as identity
from rongshu.identity.types import Action
from rongshu.insight import queries, services
from rongshu.insight.errors import UnknownSegment
from rongshu.kernel.errors import DomainError
from rongshu.web.access import staff_required

BAR_WIDTH = 600


def _bars(points: list[tuple[str, int]], width: int = BAR_WIDTH) -> list[dict[str, Any]]:
    top = max((v for _k, v in points), default=0) or 1
    return [
        {"label": k, "value": v, "width": max(1, round(v * width / top)) if v else 0, "y": n * 22}
        for n, (k, v) in enumerate(points)
    ]


@staff_required(Action.SEGMENT_VIEW)
def catalogue(request: HttpRequest) -> HttpResponse:
    category = request.GET.get("category", "")
    quality = {q.indicator_id: q for q in queries.quality()}
    rows = [{"i": i, "q": quality.get(i["id"])} for i in queries.catalogue(category)]
    return render(
        request,
        "insight/catalogue.html",
        {
            "rows": rows,
            "categories": queries.categories(),
            "category": category,
            "build": queries.latest_build(),
        },
    )


@staff_required(Action.SEGMENT_VIEW)
def segments(request: HttpRequest) -> HttpResponse:
    family = request.GET.get("family", "")
    return render(
        request,
        "insight/segments.html",
        {
            "segments": queries.list_segments(family),
            "families": queries.families(),
            "family": family,
            "build": queries.latest_build(),
        },
    )


@staff_required(Action.SEGMENT_VIEW)
def segment(request: HttpRequest, segment_id: str) -> HttpResponse:
    try:
        seg = queries.segment(segment_id)
    except UnknownSegment as exc:
        raise Http404(str(exc)) from exc
    history = _bars([(h.as_of.isoformat(), h.size) for h in seg["history"]])
    latest = seg["latest"]
    composition = []
    if latest is not None:
        composition = _bars(
            [
                (
                    str(
                        queries.STAGE_LABELS.get(k, (k, k))[
                            0 if request.LANGUAGE_CODE.startswith("zh") else 1
                        ]
                    ),
                    v,
                )
                for k, v in sorted(latest.composition.items(), key=lambda kv: -kv[1])
            ]
        )
    return render(
        request,
        "insight/segment.html",
        {
            "s": seg,
            "history": history,
            "history_height": len(history) * 22 + 4,
            "composition": composition,
            "composition_height": len(composition) * 22 + 4,
            "members": queries.segment_members(segment_id, limit=50),
        },
    )


def _builder_page(
    request: HttpRequest, form: dict[str, str], *, error: str = "", status: int = 200
) -> HttpResponse:
    rule = form.get("rule", "")
    return render(
        request,
        "insight/builder.html",
        {
            "rule": rule,
            "form": form,
            "error": error,
            "result": queries.estimate(rule) if rule else None,
            "can_manage": identity.has_permission(
                request.principal,  # type: ignore[attr-defined]
                Action.SEGMENT_MANAGE,
            ),
            "saved": queries.saved_segments(),
        },
        status=status,
    )


@staff_required(Action.SEGMENT_VIEW)
def builder(request: HttpRequest) -> HttpResponse:
    return _builder_page(request, {"rule": request.GET.get("rule", "")})


@staff_required(Action.SEGMENT_MANAGE)
@require_POST
def save_segment(request: HttpRequest) -> HttpResponse:
    form = {k: request.POST.get(k, "") for k in ("code", "zh", "en", "rule")}
    try:
        saved = services.do_save_segment(
            actor=request.principal.principal_key,  # type: ignore[attr-defined]
            **form,
        )
    except DomainError as exc:
        return _builder_page(request, form, error=str(exc.detail), status=exc.status)
    messages.success(
        request,
        _("Saved segment %(code)s, version %(version)s; the next build computes its members.")
        % {"code": saved.code, "version": saved.version},
    )
    return redirect("web:insight_builder")


@staff_required(Action.SEGMENT_MANAGE)
@require_POST
def deactivate_segment(request: HttpRequest, segment_id: str) -> HttpResponse:
    try:
        services.do_deactivate_segment(
            actor=request.principal.principal_key,  # type: ignore[attr-defined]
            code=segment_id,
        )
    except UnknownSegment as exc:
        raise Http404(str(exc)) from exc
    messages.success(request, _("Deactivated segment %(code)s.") % {"code": segment_id})
    return redirect("web:insight_builder")


@staff_required(Action.SEGMENT_VIEW)
def estimate(request: HttpRequest) -> HttpResponse:
    rule = request.GET.get("rule", "")
    return render(request, "insight/_estimate.html", {"result": queries.estimate(rule)})


@staff_required(Action.SEGMENT_VIEW)
def circles(request: HttpRequest) -> HttpResponse:
    return render(request, "insight/circles.html", {"circles": queries.circles()})


@staff_required(Action.SEGMENT_VIEW)
def profile(request: HttpRequest, customer_id: str) -> HttpResponse:
    return render(
        request,
        "insight/profile.html",
        {"profile": queries.profile_of(customer_id), "customer_id": customer_id},
    )
