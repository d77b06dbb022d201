from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "rongshu.ledger"
    label = "ledger"
    verbose_name = "Ledger"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Register the ledger's end-of-day jobs (hold expiry, snapshots, interest) and its
        # outbox handlers (an approved four-eyes unfreeze).
        from rongshu.ledger import handlers, jobs  # noqa: F401
