from django.urls import path

from rongshu.web import lifepay_views as views

urlpatterns = [
    path("me/lifepay/", views.home, name="lifepay_home"),
    path("me/lifepay/manage/", views.manage, name="lifepay_manage"),
    path("me/lifepay/pay/<str:code>/", views.pay, name="lifepay_pay"),
    path("me/lifepay/payments/<uuid:payment_id>/", views.receipt, name="lifepay_receipt"),
    path("console/lifepay/", views.console, name="lifepay_console"),
    path(
        "console/lifepay/billers/<str:code>/review/",
        views.console_review,
        name="lifepay_review_biller",
    ),
    path("partners/lifepay/", views.partner_billers, name="lifepay_partner"),
    path(
        "console/lifepay/breaks/<uuid:break_id>/resolve/",
        views.console_resolve,
        name="lifepay_resolve",
    ),
]
