"""Seed the simulated counterparty bank directory (idempotent)."""

from django.db import migrations

from rongshu.payments.clearing.directory import ACCOUNTS, BANKS


def seed(apps, schema_editor):
    SimBank = apps.get_model("clearing", "SimBank")
    SimAccount = apps.get_model("clearing", "SimAccount")
    banks = {}
    for code, name in BANKS:
        banks[code], _ = SimBank.objects.get_or_create(code=code, defaults={"name": name})
    for code, number, holder, status in ACCOUNTS:
        SimAccount.objects.get_or_create(
            bank=banks[code], number=number, defaults={"name": holder, "status": status}
        )


class Migration(migrations.Migration):
    dependencies = [("clearing", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
