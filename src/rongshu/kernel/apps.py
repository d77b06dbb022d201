from django.apps import AppConfig


class KernelConfig(AppConfig):
    name = "rongshu.kernel"
    label = "kernel"
    verbose_name = "Kernel"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Register the kernel's own end-of-day jobs.
        from rongshu.kernel import eod  # noqa: F401
