from django.urls import path

from rongshu.web import accounts_views as views

urlpatterns = [
    path("me/", views.home, name="me_home"),
    path("me/open/", views.open_account, name="me_open"),
    path("me/accounts/<uuid:account_id>/", views.account_detail, name="me_account"),
    path("me/accounts/<uuid:account_id>/statement.csv", views.statement_csv, name="me_csv"),
    path("me/accounts/<uuid:account_id>/statement.pdf", views.statement_pdf, name="me_pdf"),
    path(
        "me/accounts/<uuid:account_id>/e-statements/<str:month>.pdf",
        views.estatement_pdf,
        name="me_estatement_pdf",
    ),
    path(
        "me/accounts/<uuid:account_id>/certificate/",
        views.request_certificate,
        name="me_certificate",
    ),
    path(
        "me/deposit-certificates/<uuid:certificate_id>.pdf",
        views.certificate_pdf,
        name="me_certificate_pdf",
    ),
    path(
        "me/accounts/<uuid:account_id>/e-statements/<str:month>/",
        views.estatement,
        name="me_estatement",
    ),
    path(
        "me/accounts/<uuid:account_id>/<str:action>/",
        views.account_action,
        name="me_account_action",
    ),
    path("me/messages/", views.notifications, name="me_messages"),
    path("me/messages/read/", views.notifications_read, name="me_messages_read"),
    path("me/preferences/", views.preferences, name="me_preferences"),
    path("console/accounts/type1/", views.console_open_type1, name="console_type1"),
    path(
        "console/accounts/certificates/verify/",
        views.console_verify_certificate,
        name="console_certificate_verify",
    ),
]
