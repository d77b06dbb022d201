from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection, models
from django.test import override_settings
from django.test.utils import isolate_apps

from rongshu.kernel import pii
from rongshu.kernel.pii import PiiKind


@pytest.mark.parametrize(
    ("kind", "value", "masked"),
    [
        (PiiKind.RESIDENT_ID, "11010519491231002X", "1101**********002X"),
        (PiiKind.PHONE, "13812345678", "138****5678"),
        (PiiKind.PHONE, "+8613812345678", "+86138****5678"),
        (PiiKind.NAME, "张三", "张*"),
        (PiiKind.NAME, "欧阳娜娜", "欧阳**"),
        (PiiKind.NAME, "欧阳", "欧*"),
        (PiiKind.NAME, "Li Wei", "L* W**"),
        (PiiKind.NAME, "", ""),
        (PiiKind.CARD, "6222 0212 3456 7890", "622202******7890"),
        (PiiKind.ACCOUNT, "123", "***"),
        (PiiKind.EMAIL, "wei.li@example.com", "w***@example.com"),
        (PiiKind.EMAIL, "nobody", "n*****"),
    ],
)
def test_masks(kind: PiiKind, value: str, masked: str) -> None:
    assert pii.mask(kind, value) == masked


def test_reveal_by_role() -> None:
    rid = "11010519491231002X"
    assert pii.reveal_for("teller", PiiKind.RESIDENT_ID, rid) == rid
    assert pii.reveal_for("marketing_analyst", PiiKind.RESIDENT_ID, rid) == "1101**********002X"
    assert pii.reveal_for("owner", PiiKind.CARD, "6222021234567890") == "6222021234567890"
    assert pii.reveal_for("teller", PiiKind.CARD, "6222021234567890") == "622202******7890"
    assert pii.reveal_for("teller", PiiKind.NAME, None) is None
    assert pii.mask(PiiKind.NAME, None) is None


def test_encrypt_decrypt_and_blind_index() -> None:
    token = pii.encrypt("11010519491231002X")
    assert "1101" not in token
    assert pii.decrypt(token) == "11010519491231002X"
    assert pii.blind_index("x", purpose="rid") == pii.blind_index("x", purpose="rid")
    assert pii.blind_index("x", purpose="rid") != pii.blind_index("x", purpose="phone")
    with pytest.raises(pii.DecryptionError):
        pii.decrypt(token[:-4] + "AAAA")


def test_key_rotation_keeps_old_values_readable() -> None:
    old_key = Fernet.generate_key().decode()
    new_key = Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEYS=[old_key]):
        token = pii.encrypt("secret")
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key, old_key]):
        assert pii.decrypt(token) == "secret"
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key]), pytest.raises(pii.DecryptionError):
        pii.decrypt(token)


@pytest.mark.django_db(transaction=True)
@isolate_apps("rongshu.kernel")
def test_encrypted_field_and_rotate_all() -> None:
    class Secretive(models.Model):
        rid = pii.EncryptedTextField(null=True)

        class Meta:
            app_label = "kernel"

    old_key = Fernet.generate_key().decode()
    new_key = Fernet.generate_key().decode()
    with connection.schema_editor() as editor:
        editor.create_model(Secretive)
    try:
        with override_settings(FIELD_ENCRYPTION_KEYS=[old_key]):
            row = Secretive.objects.create(rid="11010519491231002X")
            Secretive.objects.create(rid=None)
            assert Secretive.objects.get(pk=row.pk).rid == "11010519491231002X"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT rid FROM {Secretive._meta.db_table} WHERE id = %s", [row.pk])
            stored = cursor.fetchone()[0]
        assert "1101" not in stored
        with override_settings(FIELD_ENCRYPTION_KEYS=[new_key, old_key]):
            from unittest import mock

            with mock.patch.object(pii, "encrypted_fields", return_value=[(Secretive, "rid")]):
                call_command("pii", "rotate")
        with override_settings(FIELD_ENCRYPTION_KEYS=[new_key]):
            assert Secretive.objects.get(pk=row.pk).rid == "11010519491231002X"
    finally:
        with connection.schema_editor() as editor:
            editor.delete_model(Secretive)


def test_encrypted_fields_discovery() -> None:
    found = {(model._meta.label, name) for model, name in pii.encrypted_fields()}
    assert ("identity.CustomerCredential", "resident_id") in found
