"""Portal home pages and the error pages (the same errors as the API, as friendly pages)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from rongshu.kernel.problem import API_PREFIX, problem_body, render_problem


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html")


def console_home(request: HttpRequest) -> HttpResponse:
    return render(request, "console/home.html")


def partners_home(request: HttpRequest) -> HttpResponse:
    return render(request, "partners/home.html")


def _error_page(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return render_problem(problem_body(status, message), request)
    return render(
        request,
        "web/error.html",
        {"status": status, "title": title, "message": message},
        status=status,
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(
        request, 400, _("Bad request"), _("The request could not be understood. Please check it.")
    )


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(
        request, 403, _("Access denied"), _("You do not have permission to view this page.")
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(
        request, 404, _("Page not found"), _("The page you are looking for does not exist.")
    )


def server_error(request: HttpRequest) -> HttpResponse:
    return _error_page(
        request,
        500,
        _("Something went wrong"),
        _("An unexpected error occurred. It has been recorded; please try again later."),
    )
