from django.urls import include, path

from rongshu.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("console/", views.console_home, name="console_home"),
    path("console/ledger/", include("rongshu.web.urls_ledger")),
    path("console/clearing/", include("rongshu.web.urls_clearing")),
    path("console/customers/", include("rongshu.web.urls_customers")),
    path("partners/", views.partners_home, name="partners_home"),
    path("", include("rongshu.web.urls_identity")),
    path("", include("rongshu.web.urls_assistant")),
    path("", include("rongshu.web.urls_accounts")),
    path("", include("rongshu.web.urls_payments")),
    path("", include("rongshu.web.urls_quickpay")),
    path("", include("rongshu.web.urls_insight")),
    path("", include("rongshu.web.urls_lifepay")),
    path("", include("rongshu.web.urls_lending")),
]
