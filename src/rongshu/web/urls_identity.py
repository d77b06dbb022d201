from django.urls import path

from rongshu.web import identity_views as views

urlpatterns = [
    path("register/", views.register, name="register"),
    path("signin/", views.signin, name="signin"),
    path("signout/", views.signout, name="signout"),
    path("account/step-up/", views.step_up, name="step_up"),
    path("account/security/", views.security, name="security"),
    path("account/sessions/<uuid:session_id>/revoke/", views.session_revoke, name="session_revoke"),
    path("account/devices/<uuid:device_id>/remove/", views.device_remove, name="device_remove"),
    path("account/consents/", views.consents, name="consents"),
    path("sms-simulator/", views.sms_inbox, name="sms_inbox"),
    path("console/signin/", views.staff_signin, name="staff_signin"),
    path("console/staff/", views.staff_list, name="staff_list"),
    path("partners/credentials/", views.partner_credentials, name="partner_credentials"),
]
