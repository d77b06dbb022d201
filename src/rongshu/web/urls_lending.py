from django.urls import path

from rongshu.web import lending_views as views

urlpatterns = [
    path("me/loans/", views.home, name="lending_home"),
    path("me/loans/apply/", views.apply, name="lending_apply"),
    path(
        "me/loans/applications/<uuid:application_id>/",
        views.application,
        name="lending_application",
    ),
    path(
        "me/loans/applications/<uuid:application_id>/accept/",
        views.accept,
        name="lending_accept",
    ),
    path("me/loans/<uuid:loan_id>/", views.loan, name="lending_loan"),
    path("me/loans/<uuid:loan_id>/repay/", views.repay, name="lending_repay"),
    path("console/lending/", views.console_queue, name="lending_console"),
    path(
        "console/lending/applications/<uuid:application_id>/review/",
        views.console_review,
        name="lending_console_review",
    ),
    path("console/lending/models/", views.console_models, name="lending_console_models"),
    path(
        "console/lending/models/<uuid:model_id>/<str:action>/",
        views.console_model_action,
        name="lending_console_model_action",
    ),
    path("console/lending/portfolio/", views.console_portfolio, name="lending_portfolio"),
]
