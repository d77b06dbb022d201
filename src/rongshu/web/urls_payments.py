from django.urls import path

from rongshu.web import merchant_qr_views, partner_qr_views
from rongshu.web import payments_views as views

urlpatterns = [
    path("me/payments/", views.history, name="payments_history"),
    path("me/payments/transfer/", views.transfer, name="payments_transfer"),
    path("me/payments/payees/", views.payees, name="payments_payees"),
    path(
        "me/payments/payees/<uuid:payee_id>/delete/",
        views.payee_delete,
        name="payments_payee_delete",
    ),
    path("me/payments/qr/", views.qr_pay, name="payments_qr"),
    path("me/payments/code/", views.payment_code, name="payments_code"),
    path("me/payments/<uuid:order_id>/", views.order_detail, name="payments_order"),
    path("me/payments/<uuid:order_id>/receipt/", views.receipt, name="payments_receipt"),
    path("me/payments/<uuid:order_id>/receipt.pdf", views.receipt_pdf, name="payments_receipt_pdf"),
    path("console/payments/", views.console_search, name="payments_console"),
    path("console/payments/<uuid:order_id>/", views.console_order, name="payments_console_order"),
    path(
        "console/payments/merchants/",
        merchant_qr_views.console_merchant_lookup,
        name="payments_console_merchant_lookup",
    ),
    path(
        "console/payments/merchants/<str:merchant_code>/qr/",
        merchant_qr_views.console_merchant_qr,
        name="payments_console_merchant_qr",
    ),
    path(
        "console/payments/merchants/<str:merchant_code>/qr/issue/",
        merchant_qr_views.console_merchant_qr_issue,
        name="payments_console_merchant_qr_issue",
    ),
    path("partners/qr/", partner_qr_views.partner_qr, name="payments_partner_qr"),
]
