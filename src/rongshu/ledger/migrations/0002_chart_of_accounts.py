"""Create the bank's CNY chart of accounts (idempotent; other currencies via the service)."""

from django.db import migrations
from django.utils import timezone

from rongshu.kernel.ids import new_id
from rongshu.ledger.chart import CHART


def create_chart(apps, schema_editor):
    Account = apps.get_model("ledger", "Account")
    for entry in CHART:
        code = entry.code.format(cur="CNY")
        Account.objects.get_or_create(
            code=code,
            defaults={
                "public_id": new_id(),
                "name": entry.name,
                "owner_type": "bank",
                "owner_id": "bank",
                "currency": "CNY",
                "kind": entry.kind,
                "debits_must_not_exceed_credits": entry.debits_must_not_exceed_credits,
                "credits_must_not_exceed_debits": entry.credits_must_not_exceed_debits,
                "created_at": timezone.now(),
            },
        )


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]
    operations = [migrations.RunPython(create_chart, migrations.RunPython.noop)]
