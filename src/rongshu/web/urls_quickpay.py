from django.urls import path

from rongshu.web import quickpay_views as views

urlpatterns = [
    path("console/payments/quickpay/", views.console_bindings, name="quickpay_console"),
    path(
        "console/payments/quickpay/merchants/",
        views.console_merchants,
        name="quickpay_console_merchants",
    ),
    path(
        "console/payments/quickpay/merchants/<str:merchant_code>/",
        views.console_merchant,
        name="quickpay_console_merchant",
    ),
    path(
        "console/payments/quickpay/merchants/<str:merchant_code>/notify-url/",
        views.console_merchant_url,
        name="quickpay_console_notify_url",
    ),
    path(
        "console/payments/quickpay/merchants/<str:merchant_code>/notifications/"
        "<uuid:event_id>/resend/",
        views.console_resend,
        name="quickpay_console_resend",
    ),
    path("me/payments/quickpay/", views.bindings, name="quickpay_bindings"),
    path("me/payments/quickpay/<uuid:binding_id>/", views.binding_detail, name="quickpay_binding"),
    path(
        "me/payments/quickpay/<uuid:binding_id>/confirm/",
        views.binding_confirm,
        name="quickpay_confirm",
    ),
    path(
        "me/payments/quickpay/<uuid:binding_id>/limits/",
        views.binding_limits,
        name="quickpay_limits",
    ),
    path(
        "me/payments/quickpay/<uuid:binding_id>/unbind/",
        views.binding_unbind,
        name="quickpay_unbind",
    ),
]
