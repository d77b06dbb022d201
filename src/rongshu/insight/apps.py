"""Insight app configuration."""

from django.apps import AppConfig


class InsightConfig(AppConfig):
    name = "rongshu.insight"
    label = "insight"
    verbose_name = "Insight"

    def ready(self) -> None:
        from rongshu.insight import handlers  # noqa: F401 - registers handlers
