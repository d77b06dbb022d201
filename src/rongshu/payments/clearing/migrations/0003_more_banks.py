"""Seed the directory's banks added since 0002 (交通银行, 中国邮政储蓄银行: the binding
verifier's bank type codes all route now); the same idempotent seed."""

import importlib

from django.db import migrations

_SEED = importlib.import_module("rongshu.payments.clearing.migrations.0002_seed_directory").seed


class Migration(migrations.Migration):
    dependencies = [("clearing", "0002_seed_directory")]

    operations = [migrations.RunPython(_SEED, migrations.RunPython.noop)]
