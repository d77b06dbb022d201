"""Security headers Django 5.2 does not send by itself: Content-Security-Policy and
Permissions-Policy. (X-Frame-Options, nosniff, Referrer-Policy, COOP and HSTS come from Django's
SecurityMiddleware and settings; HSTS only when not DEBUG and only over HTTPS.)"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

# Scripts and styles only from our origin: no inline script, no eval.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# The interactive API docs (Swagger UI) load their bundle from a CDN with an inline bootstrap.
DOCS_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net",
        "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net",
        "img-src 'self' data: https://cdn.jsdelivr.net https://django-ninja.dev",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ]
)
DOCS_PATHS = ("/api/v1/docs",)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = (
                DOCS_CSP if request.path.startswith(DOCS_PATHS) else CSP
            )
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response
