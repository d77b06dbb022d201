from django.apps import AppConfig


class ClearingConfig(AppConfig):
    name = "rongshu.payments.clearing"
    label = "clearing"
    verbose_name = "Interbank clearing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Register the end-of-day reconciliation job.
        from rongshu.payments.clearing import reconciliation  # noqa: F401
