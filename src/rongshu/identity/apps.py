from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "rongshu.identity"
    label = "identity"
    verbose_name = "Identity and access"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Register identity's end-of-day jobs (expired token purge).
        from rongshu.identity import jobs  # noqa: F401
