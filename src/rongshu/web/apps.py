from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "rongshu.web"
    label = "web"
    verbose_name = "Web portals"
