"""Lending endpoints (快贷 / 善融e贷): my offer, apply (decided at once), accept the contract
with a one-time-code step-up (then disbursed), my loans and schedules, repay; staff review
queue, model registry approvals, write-offs (four-eyes) and the portfolio.

Amounts are decimal strings; rates are decimal strings (fractions, e.g. ``"0.0450"``).
Money-moving writes take an ``Idempotency-Key``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import uuid
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from rongshu.api.auth import principal, principal_auth
from rongshu.api.base import command
from rongshu.identity.services import check_permission
from rongshu.identity.types import Action, Principal, PrincipalKind
from rongshu.kernel.errors import PermissionDenied
from rongshu.kernel.money import Money, format_minor
from rongshu.lending import queries, services
from rongshu.lending.errors import ArtifactInvalid
from rongshu.lending.services import Application, ModelVersion
from rongshu.lending.types import LoanView

router = Router(tags=["lending"], auth=principal_auth)


def _customer(request: HttpRequest) -> Principal:
    who = principal(request)
    if who.kind is not PrincipalKind.CUSTOMER:
        raise PermissionDenied("Only customers borrow.", code="customers_only")
    return who


def _staff(request: HttpRequest, action: Action) -> Principal:
    who = principal(request)
    check_permission(who, action)
    return who


def _amt(minor: int) -> str:
    return format_minor(minor, "CNY")


class OfferOut(Schema):
    product_code: str
    limit: str
    currency: str = "CNY"
    annual_rate: str
    expires_on: dt.date


class ApplicationIn(Schema):
    model_config = ConfigDict(extra="forbid")

    product_code: Literal["kuaidai", "shanrong_edai"] = "kuaidai"
    amount: str = Field(description='Decimal string, e.g. "20000.00" (CNY).')
    term_months: int = Field(ge=1, le=360)
    method: Literal["annuity", "equal_principal", "interest_first"] = "annuity"
    consent_credit_bureau: bool = Field(
        False, description="Consent to the credit bureau query (PIPL separate consent)."
    )


class ApplicationOut(Schema):
    id: uuid.UUID
    product_code: str
    state: str
    amount: str
    term_months: int
    method: str
    score: int | None
    limit: str
    annual_rate: str | None
    policy_codes: list[str]
    reasons: list[dict[str, object]]
    model_version: str
    decision_ms: float
    created_at: dt.datetime


def _app(app: Application) -> ApplicationOut:
    mv = app.model_version
    return ApplicationOut(
        id=app.public_id,
        product_code=app.product_code,
        state=app.state,
        amount=_amt(app.amount_minor),
        term_months=app.term_months,
        method=app.method,
        score=app.score,
        limit=_amt(app.limit_minor),
        annual_rate=None if app.annual_rate is None else str(app.annual_rate),
        policy_codes=list(app.policy_codes),
        reasons=list(app.reasons),
        model_version=f"{mv.name}:{mv.version}" if mv else "",
        decision_ms=app.decision_ms,
        created_at=app.created_at,
    )


class InstalmentOut(Schema):
    seq: int
    due_on: dt.date
    principal: str
    interest: str
    penalty: str
    paid: str
    due: str
    status: str


class LoanOut(Schema):
    id: uuid.UUID
    application_id: uuid.UUID
    product_code: str
    state: str
    principal: str
    outstanding: str
    annual_rate: str
    penalty_rate: str
    method: str
    term_months: int
    start_on: dt.date
    maturity_on: dt.date
    dpd: int
    bucket: str
    due_now: str
    payoff: str
    model_version: str
    schedule: list[InstalmentOut]


def _loan(v: LoanView) -> LoanOut:
    return LoanOut(
        id=v.loan_id,
        application_id=v.application_id,
        product_code=v.product_code,
        state=v.state,
        principal=_amt(v.principal),
        outstanding=_amt(v.outstanding),
        annual_rate=str(v.annual_rate),
        penalty_rate=str(v.penalty_rate),
        method=v.method,
        term_months=v.term_months,
        start_on=v.start_on,
        maturity_on=v.maturity_on,
        dpd=v.dpd,
        bucket=v.bucket,
        due_now=_amt(v.due_now),
        payoff=_amt(v.payoff),
        model_version=v.model_version,
        schedule=[
            InstalmentOut(
                seq=i.seq,
                due_on=i.due_on,
                principal=_amt(i.principal),
                interest=_amt(i.interest),
                penalty=_amt(i.penalty),
                paid=_amt(i.paid),
                due=_amt(i.due),
                status=i.status,
            )
            for i in v.instalments
        ],
    )


class RepayIn(Schema):
    model_config = ConfigDict(extra="forbid")

    amount: str = Field(description="Decimal string (CNY); at most the payoff amount.")


class RepaymentOut(Schema):
    id: uuid.UUID
    amount: str
    penalty: str
    interest: str
    principal: str
    loan: LoanOut


class ReviewIn(Schema):
    model_config = ConfigDict(extra="forbid")

    approve: bool
    note: str = Field("", max_length=300)


class WriteOffIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=4, max_length=300)


class WriteOffOut(Schema):
    id: uuid.UUID
    loan_id: uuid.UUID
    state: str
    requested_by: str
    approved_by: str


class ModelOut(Schema):
    id: uuid.UUID
    name: str
    version: str
    kind: str
    sha256: str
    state: str
    metrics: dict[str, float]
    submitted_by: str
    approved_by: str


def _model(m: ModelVersion) -> ModelOut:
    return ModelOut(
        id=m.public_id,
        name=m.name,
        version=m.version,
        kind=m.kind,
        sha256=m.sha256,
        state=m.state,
        metrics=m.metrics,
        submitted_by=m.submitted_by,
        approved_by=m.approved_by,
    )


class PortfolioRowOut(Schema):
    label: str
    count: int
    amount: str


class PortfolioOut(Schema):
    exposure: list[PortfolioRowOut]
    buckets: list[PortfolioRowOut]
    vintages: list[PortfolioRowOut]


# ------------------------------------------------------------------ customers
@router.get("/offer", response={200: OfferOut, 204: None}, summary="My pre-approved line")
def get_offer(request: HttpRequest, product_code: str = "kuaidai") -> Status[OfferOut | None]:
    who = _customer(request)
    assert who.customer_id is not None
    offer = queries.find_offer(who.customer_id, product_code)
    if offer is None:
        return Status(204, None)
    return Status(
        200,
        OfferOut(
            product_code=offer.product_code,
            limit=_amt(offer.limit_minor),
            annual_rate=str(offer.annual_rate),
            expires_on=offer.expires_on,
        ),
    )


@router.post("/applications", response={201: ApplicationOut}, summary="Apply (decided at once)")
@command(idempotent=True)
def apply(request: HttpRequest, payload: ApplicationIn) -> Status[ApplicationOut]:
    who = _customer(request)
    app = services.do_apply(
        who,
        product_code=payload.product_code,
        amount=Money.parse(payload.amount, "CNY"),
        term_months=payload.term_months,
        method=payload.method,
        consent=payload.consent_credit_bureau,
    )
    return Status(201, _app(app))


@router.get("/applications", response=list[ApplicationOut], summary="My applications")
def list_applications(request: HttpRequest) -> list[ApplicationOut]:
    return [_app(a) for a in queries.list_my_applications(_customer(request))]


@router.get("/applications/{application_id}", response=ApplicationOut, summary="One application")
def get_application(request: HttpRequest, application_id: uuid.UUID) -> ApplicationOut:
    return _app(services.access_application(principal(request), application_id))


@router.post(
    "/applications/{application_id}/accept",
    response={201: LoanOut},
    summary="Accept the e-contract (needs a passed step-up for lending.accept) and disburse",
)
@command(idempotent=True)
def accept(request: HttpRequest, application_id: uuid.UUID) -> Status[LoanOut]:
    who = _customer(request)
    loan = services.do_accept(who, application_id)
    return Status(201, _loan(queries.get_loan(who, loan.public_id)))


@router.get("/loans", response=list[LoanOut], summary="My loans with their schedules")
def list_loans(request: HttpRequest) -> list[LoanOut]:
    return [_loan(v) for v in queries.list_my_loans(_customer(request))]


@router.get("/loans/{loan_id}", response=LoanOut, summary="One loan and its schedule")
def get_loan(request: HttpRequest, loan_id: uuid.UUID) -> LoanOut:
    return _loan(queries.get_loan(principal(request), loan_id))


@router.post("/loans/{loan_id}/repayments", response={201: RepaymentOut}, summary="Repay")
@command(idempotent=True)
def repay(request: HttpRequest, loan_id: uuid.UUID, payload: RepayIn) -> Status[RepaymentOut]:
    who = _customer(request)
    rep = services.do_repay(who, loan_id, Money.parse(payload.amount, "CNY"))
    return Status(
        201,
        RepaymentOut(
            id=rep.public_id,
            amount=_amt(rep.amount_minor),
            penalty=_amt(rep.penalty_minor),
            interest=_amt(rep.interest_minor),
            principal=_amt(rep.principal_minor),
            loan=_loan(queries.get_loan(who, loan_id)),
        ),
    )


# ------------------------------------------------------------------ staff
@router.get("/staff/queue", response=list[ApplicationOut], summary="Staff: referred applications")
def review_queue(request: HttpRequest) -> list[ApplicationOut]:
    _staff(request, Action.LOAN_DECIDE)
    return [_app(a) for a in queries.list_review_queue()]


@router.post(
    "/staff/applications/{application_id}/review",
    response=ApplicationOut,
    summary="Staff: approve or decline a referred application",
)
@command()
def review(request: HttpRequest, application_id: uuid.UUID, payload: ReviewIn) -> ApplicationOut:
    who = _staff(request, Action.LOAN_DECIDE)
    return _app(services.do_review(who, application_id, approve=payload.approve, note=payload.note))


MAX_ARTIFACT_BYTES = 32 * 1024 * 1024


class ModelIn(Schema):
    model_config = ConfigDict(extra="forbid")
    artifact_base64: str = Field(
        max_length=MAX_ARTIFACT_BYTES * 4 // 3 + 4,
        description="``ModelArtifact.to_bytes()``, base64 (standard alphabet, padded)",
    )


@router.post("/staff/models", response={201: ModelOut}, summary="Staff: submit a model (draft)")
@command()
def submit_model(request: HttpRequest, payload: ModelIn) -> Status[ModelOut]:
    """A staff member with ``model.approve`` submits a trained artifact; it is validated by
    ``ModelArtifact.from_bytes``, its sha256 recorded, and waits as a draft for a second
    approver (four-eyes). Resubmitting the same bytes answers the same version."""
    who = _staff(request, Action.MODEL_APPROVE)
    try:
        data = base64.b64decode(payload.artifact_base64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ArtifactInvalid("The artifact is not valid base64.") from exc
    return Status(201, _model(services.do_register_model(who, data)))


@router.get("/staff/models", response=list[ModelOut], summary="Staff: the model registry")
def list_models(request: HttpRequest) -> list[ModelOut]:
    _staff(request, Action.MODEL_APPROVE)
    return [_model(m) for m in queries.list_models()]


@router.post(
    "/staff/models/{model_id}/approve", response=ModelOut, summary="Staff: approve (four-eyes)"
)
@command()
def approve_model(request: HttpRequest, model_id: uuid.UUID) -> ModelOut:
    return _model(services.do_approve_model(_staff(request, Action.MODEL_APPROVE), model_id))


@router.post("/staff/models/{model_id}/activate", response=ModelOut, summary="Staff: activate")
@command()
def activate_model(request: HttpRequest, model_id: uuid.UUID) -> ModelOut:
    return _model(services.do_activate_model(_staff(request, Action.MODEL_APPROVE), model_id))


@router.post(
    "/staff/loans/{loan_id}/write-off",
    response={201: WriteOffOut},
    summary="Staff: request a write-off (a second officer approves)",
)
@command()
def request_write_off(
    request: HttpRequest, loan_id: uuid.UUID, payload: WriteOffIn
) -> Status[WriteOffOut]:
    row = services.do_request_write_off(
        _staff(request, Action.LOAN_WRITE_OFF), loan_id, reason=payload.reason
    )
    return Status(
        201,
        WriteOffOut(
            id=row.public_id,
            loan_id=loan_id,
            state=row.state,
            requested_by=row.requested_by,
            approved_by=row.approved_by,
        ),
    )


@router.post(
    "/staff/write-offs/{write_off_id}/approve",
    response=WriteOffOut,
    summary="Staff: approve a write-off (four-eyes)",
)
@command(idempotent=True)
def approve_write_off(request: HttpRequest, write_off_id: uuid.UUID) -> WriteOffOut:
    row = services.do_approve_write_off(_staff(request, Action.LOAN_WRITE_OFF), write_off_id)
    return WriteOffOut(
        id=row.public_id,
        loan_id=row.loan.public_id,
        state=row.state,
        requested_by=row.requested_by,
        approved_by=row.approved_by,
    )


@router.get("/staff/portfolio", response=PortfolioOut, summary="Staff: the loan portfolio")
def portfolio(request: HttpRequest) -> PortfolioOut:
    _staff(request, Action.LOAN_DECIDE)
    data = queries.get_portfolio()
    return PortfolioOut(
        **{
            key: [
                PortfolioRowOut(
                    label=r.label,
                    count=r.count,
                    # vintages: loans ever late (a count, not money)
                    amount=str(r.amount) if key == "vintages" else _amt(r.amount),
                )
                for r in rows
            ]
            for key, rows in data.items()
        }
    )
