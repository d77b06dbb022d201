from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from rongshu.kernel.observability import metrics_view

urlpatterns = [
    path("api/v1/", include("rongshu.api.urls")),
    path("webhooks/", include("rongshu.webhooks.urls")),
    path("metrics", metrics_view, name="metrics"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("", include("rongshu.web.urls")),
]

handler400 = "rongshu.web.views.bad_request"
handler403 = "rongshu.web.views.permission_denied"
handler404 = "rongshu.web.views.page_not_found"
handler500 = "rongshu.web.views.server_error"
