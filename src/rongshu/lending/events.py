"""Lending events (past tense), recorded in the outbox in the command's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rongshu.kernel.outbox import DomainEvent


@dataclass(frozen=True)
class LoanDecided(DomainEvent):
    event_type: ClassVar[str] = "lending.LoanDecided"
    application_id: str
    customer_id: str
    state: str
    model_version: str


@dataclass(frozen=True)
class LoanDisbursed(DomainEvent):
    event_type: ClassVar[str] = "lending.LoanDisbursed"
    loan_id: str
    customer_id: str
    amount_minor: int
    currency: str


@dataclass(frozen=True)
class LoanRepaid(DomainEvent):
    event_type: ClassVar[str] = "lending.LoanRepaid"
    loan_id: str
    customer_id: str
    amount_minor: int
    currency: str
    closed: bool


@dataclass(frozen=True)
class LoanWrittenOff(DomainEvent):
    event_type: ClassVar[str] = "lending.LoanWrittenOff"
    loan_id: str
    amount_minor: int
