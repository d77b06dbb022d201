"""Life-service payments (悦生活)."""

from django.apps import AppConfig


class LifepayConfig(AppConfig):
    name = "rongshu.lifepay"
    label = "lifepay"
    verbose_name = "Life-service payments"

    def ready(self) -> None:
        from rongshu.lifepay import handlers, jobs  # noqa: F401  (EOD jobs, outbox handlers)
