from __future__ import annotations

import uuid

import pytest
from django.utils import translation

from rongshu.kernel import errors
from rongshu.kernel.ids import new_id, parse_id


def test_problem_shape() -> None:
    error = errors.RuleViolation("Balance too low.", code="insufficient_funds", data={"need": "5"})
    with translation.override("en"):
        problem = error.to_problem("/x")
    assert problem == {
        "type": "https://rongshu.dev/problems/insufficient_funds",
        "title": "The request breaks a business rule.",
        "status": 422,
        "code": "insufficient_funds",
        "detail": "Balance too low.",
        "instance": "/x",
        "need": "5",
    }
    with translation.override("zh-hans"):
        assert errors.NotFound().to_problem()["detail"] == "未找到。"


@pytest.mark.parametrize(
    ("cls", "status"),
    [
        (errors.InvalidInput, 400),
        (errors.Unauthenticated, 401),
        (errors.PermissionDenied, 403),
        (errors.NotFound, 404),
        (errors.Conflict, 409),
        (errors.PayloadTooLarge, 413),
        (errors.RuleViolation, 422),
        (errors.PartnerUnavailable, 503),
    ],
)
def test_statuses(cls: type[errors.DomainError], status: int) -> None:
    assert cls().status == status


def test_rate_limited_carries_retry_after() -> None:
    error = errors.RateLimited(retry_after=7)
    assert error.retry_after == 7
    assert error.to_problem()["retry_after"] == 7


def test_ids_are_time_ordered_uuid7() -> None:
    ids = [new_id() for _ in range(50)]
    assert all(i.version == 7 for i in ids)
    assert ids == sorted(ids)
    assert parse_id(str(ids[0])) == ids[0]
    assert isinstance(ids[0], uuid.UUID)
    with pytest.raises(errors.InvalidInput) as info:
        parse_id("not-an-id")
    assert info.value.code == "invalid_id"
