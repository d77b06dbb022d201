from django.urls import path

from rongshu.web import console_ledger as views

app_name = "ledger_console"

urlpatterns = [
    path("", views.ledger_home, name="home"),
    path("accounts/<uuid:account_id>/", views.account, name="account"),
    path("trial-balance/", views.trial_balance, name="trial_balance"),
]
