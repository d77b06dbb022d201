from django.urls import path

from rongshu.web import clearing_views as views

app_name = "clearing_console"

urlpatterns = [
    path("breaks/", views.reconciliation_breaks, name="breaks"),
]
