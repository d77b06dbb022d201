from django.urls import path

from rongshu.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("console/", views.console_home, name="console_home"),
    path("partners/", views.partners_home, name="partners_home"),
]
