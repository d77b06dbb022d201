from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from rongshu.kernel.audit import AuditItem, do_audit, do_audit_many, verify_chain
from rongshu.kernel.models import AuditEntry, AuditHead

pytestmark = pytest.mark.django_db


def _chain(n: int = 5) -> None:
    for i in range(n):
        do_audit(
            "staff:1",
            "customer.viewed",
            object_type="customer",
            object_id=str(i),
            data={"i": i, "名字": "张三"},
        )


def test_chain_verifies() -> None:
    _chain()
    report = verify_chain()
    assert report.ok and report.entries == 5
    assert AuditHead.objects.get().seq == 5


def test_entries_are_append_only() -> None:
    _chain(1)
    entry = AuditEntry.objects.get()
    entry.actor = "someone else"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()


def _raw(sql: str, params: list[object]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ("UPDATE kernel_auditentry SET actor = %s WHERE seq = 3", "content"),
        ("UPDATE kernel_auditentry SET prev_hash = %s WHERE seq = 3", "previous hash"),
        ("DELETE FROM kernel_auditentry WHERE seq = 3 AND actor <> %s", "gap"),
        ("DELETE FROM kernel_auditentry WHERE seq = 5 AND actor <> %s", "removed from the end"),
    ],
)
def test_tampering_is_detected(tamper: str, reason: str) -> None:
    _chain()
    _raw(tamper, ["x" * 64])
    report = verify_chain()
    assert not report.ok and reason in report.reason
    with pytest.raises(CommandError, match="audit chain broken"):
        call_command("audit", "verify")


def test_command_reports_intact_chain(capsys: pytest.CaptureFixture[str]) -> None:
    _chain(2)
    call_command("audit", "verify")
    assert "audit chain intact: 2 entries" in capsys.readouterr().out


def test_many_entries_chain_like_single_appends() -> None:
    _chain(2)
    rows = do_audit_many(
        [AuditItem("staff:2", "customer.viewed", "customer", str(i), {"i": i}) for i in range(3)]
    )
    assert do_audit_many([]) == []
    do_audit("staff:3", "customer.viewed")
    assert [r.seq for r in rows] == [3, 4, 5]
    assert AuditEntry.objects.get(seq=3).prev_hash == AuditEntry.objects.get(seq=2).hash
    assert AuditEntry.objects.get(seq=6).prev_hash == rows[-1].hash
    report = verify_chain()
    assert report.ok and report.entries == 6
    assert AuditHead.objects.get().seq == 6
