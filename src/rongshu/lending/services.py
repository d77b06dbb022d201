"""The lending domain's public write API.

Apply → decide (policy rules, bureau, score, limit, price) → accept the e-contract with a
one-time-code step-up → disburse to the customer's Type I deposit account through the ledger,
all in one call path of well under a second; referred cases wait in a staff queue. Servicing
(repayment, early repayment, auto-debit, accrual, DPD, write-off) lives in
:mod:`rongshu.lending.servicing` and is re-exported here.

Every command runs in one ``transaction.atomic``: an application is decided and recorded, or
nothing is; a loan is accepted, scheduled and disbursed, or nothing is.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from stdnum.cn import ric

from rongshu.accounts import queries as accounts_queries
from rongshu.accounts.types import AccountSummary
from rongshu.identity import services as identity
from rongshu.identity.types import Action, ConsentPurpose, Principal
from rongshu.kernel import clock
from rongshu.kernel.audit import do_audit
from rongshu.kernel.errors import PermissionDenied
from rongshu.kernel.money import Money, format_minor
from rongshu.kernel.outbox import record_event
from rongshu.ledger import services as ledger
from rongshu.ledger.errors import TransferRefused
from rongshu.ledger.types import TransferIn
from rongshu.lending import bureau, products
from rongshu.lending.errors import (
    AccountUnavailable,
    AmountOutOfBounds,
    ApplicationNotFound,
    ApplicationOpen,
    ConsentRequired,
    InvalidState,
    KycIncomplete,
    MethodNotOffered,
    TermOutOfBounds,
    UnknownProduct,
)
from rongshu.lending.events import LoanDecided, LoanDisbursed
from rongshu.lending.features import age_on, build_profiles, model_features
from rongshu.lending.models import (
    OPEN_APPLICATION_STATES,
    Application,
    Borrower,
    Instalment,
    Loan,
    ModelVersion,
    Offer,
)
from rongshu.lending.registry import (
    do_activate_model,
    do_approve_model,
    do_register_model,
    do_retire_model,
    get_active_model,
)
from rongshu.lending.schedule import build_schedule
from rongshu.lending.servicing import (
    do_approve_write_off,
    do_repay,
    do_request_write_off,
    ledger_code,
    scope_of,
)

STEP_UP_ACTION = "lending.accept"
MIN_AGE, MAX_AGE = products.MIN_AGE, products.MAX_AGE

__all__ = [
    "STEP_UP_ACTION",
    "Application",
    "ModelVersion",
    "access_application",
    "do_accept",
    "do_activate_model",
    "do_apply",
    "do_approve_model",
    "do_approve_write_off",
    "do_book_migrated_loan",
    "do_cancel",
    "do_register_model",
    "do_repay",
    "do_request_write_off",
    "do_retire_model",
    "do_review",
    "do_run_preapproval",
    "do_set_blacklist",
    "do_set_turnover",
    "do_start_acceptance",
    "train_bank_model",
]


def _customer_id(principal: Principal) -> uuid.UUID:
    if not principal.is_customer or principal.customer_id is None:
        raise PermissionDenied("Only customers borrow.", code="customers_only")
    return principal.customer_id


def find_type1(principal: Principal) -> AccountSummary | None:
    """The customer's Type I deposit account (the loan is paid in and debited there)."""
    for account in accounts_queries.get_overview(principal).accounts:
        if account.account_type == 1 and account.currency == "CNY":
            return account
    return None


def check_terms(product_code: str, amount: int, term: int, method: str) -> products.Product:
    product = products.PRODUCTS.get(product_code)
    if product is None:
        raise UnknownProduct()
    if not product.min_amount <= amount <= product.max_amount:
        raise AmountOutOfBounds(
            data={
                "min": format_minor(product.min_amount, "CNY"),
                "max": format_minor(product.max_amount, "CNY"),
            }
        )
    if not product.min_term <= term <= product.max_term:
        raise TermOutOfBounds(data={"min": product.min_term, "max": product.max_term})
    if method not in product.methods:
        raise MethodNotOffered(data={"methods": list(product.methods)})
    return product


def _borrower(customer_id: uuid.UUID, principal: Principal | None) -> Borrower:
    row = Borrower.objects.filter(customer_id=customer_id).first()
    if row is None:
        row = Borrower(customer_id=customer_id, created_at=clock.now())
    if row.birth_on is None and principal is not None:
        profile = identity.access_customer(principal, customer_id)
        try:
            row.birth_on = ric.get_birth_date(profile.resident_id)
        except Exception:
            row.birth_on = None
        row.branch_code, row.region_code = profile.home_branch_code, profile.region_code
        row.save()
    return row


def _decide(
    *,
    customer_id: uuid.UUID,
    product: products.Product,
    amount: int,
    term: int,
    method: str,
    borrower: Borrower,
    today: dt.date,
) -> dict[str, Any]:
    """Policy rules, bureau, score, limit and price → the decision fields."""
    model_row, model = get_active_model()
    profile = build_profiles([customer_id], today, births={customer_id: borrower.birth_on}).get(
        customer_id
    )
    codes: list[str] = []
    age = age_on(borrower.birth_on, today)
    if age is None or not MIN_AGE <= age <= MAX_AGE:
        codes.append("age")
    if borrower.blacklisted:
        codes.append("blacklist")
    report = bureau.query_bureau(customer_id)
    if report.worst_dpd_24m >= 90:
        codes.append("bureau_delinquency")
    income = profile.monthly_inflow if profile else 0
    existing = profile.outstanding if profile else 0
    if existing + amount > product.max_amount:
        codes.append("exposure")
    schedule = build_schedule(
        principal=amount,
        annual_rate=products.lpr_on(today) + products.SPREADS[-1][1],
        term=term,
        method=method,
        start_on=today,
    )
    new_service = max(i.payment for i in schedule[:-1]) if len(schedule) > 1 else 0
    service = (profile.debt_service if profile else 0) + report.monthly_debt_service + new_service
    if not product.business and (income <= 0 or Decimal(service) > products.MAX_DTI * income):
        codes.append("debt_to_income")
    result = model.score(
        model_features(profile, extra_debt_service=report.monthly_debt_service)
        if profile
        else dict.fromkeys(model.features)
    )
    limit = products.limit_for(
        product,
        monthly_income=income,
        turnover=borrower.business_turnover_minor,
        score=result.score,
    )
    if report.status == "thin_file":
        limit //= 2
    rate = products.price(result.score, today)
    if codes:
        state = Application.DECLINED
    elif result.score < products.DECLINE_BELOW:
        state, codes = Application.DECLINED, ["score"]
    elif report.status in ("timeout", "no_record") or rate is None:
        state = Application.REFERRED
        codes = ["bureau_" + report.status] if rate is not None else ["score_band"]
    elif amount > limit:
        state, codes = Application.DECLINED, ["amount_above_limit"]
    else:
        state = Application.APPROVED
    return {
        "state": state,
        "score": result.score,
        "pd": float(result.pd),
        "reasons": [
            {"feature": r.feature, "code": r.code, "points_lost": float(r.points_lost)}
            for r in result.reasons
        ],
        "policy_codes": codes,
        "bureau": report.as_dict(),
        "model_version": model_row,
        "limit_minor": limit,
        "annual_rate": rate,
    }


def do_apply(
    principal: Principal,
    *,
    product_code: str,
    amount: Money,
    term_months: int,
    method: str,
    consent: bool = False,
) -> Application:
    """Apply and be decided at once: ``approved``, ``declined`` or ``referred`` (to staff)."""
    started = time.perf_counter()
    customer_id = _customer_id(principal)
    if amount.currency != "CNY":
        raise AmountOutOfBounds("Loans are in CNY.")
    product = check_terms(product_code, amount.minor, term_months, method)
    if not identity.has_consent(customer_id, ConsentPurpose.CREDIT_BUREAU_QUERY):
        if not consent:
            raise ConsentRequired()
        identity.do_set_consent(customer_id, ConsentPurpose.CREDIT_BUREAU_QUERY, True)
    account = find_type1(principal)
    if account is None:
        raise KycIncomplete()
    if account.status != "open":
        raise AccountUnavailable()
    if Application.objects.filter(
        customer_id=customer_id, product_code=product_code, state__in=OPEN_APPLICATION_STATES
    ).exists():
        raise ApplicationOpen()
    today = clock.get_business_date()
    with transaction.atomic():
        borrower = _borrower(customer_id, principal)
        decision = _decide(
            customer_id=customer_id,
            product=product,
            amount=amount.minor,
            term=term_months,
            method=method,
            borrower=borrower,
            today=today,
        )
        try:
            with transaction.atomic():
                app = Application.objects.create(
                    customer_id=customer_id,
                    product_code=product_code,
                    amount_minor=amount.minor,
                    term_months=term_months,
                    method=method,
                    disbursement_account_id=account.ledger_account_id,
                    created_at=clock.now(),
                    decided_at=clock.now(),
                    decision_ms=(time.perf_counter() - started) * 1000,
                    **decision,
                )
        except IntegrityError as exc:
            raise ApplicationOpen() from exc
        _record_decision(principal.principal_key, app)
    return app


def _record_decision(actor: str, app: Application) -> None:
    record_event(
        LoanDecided(
            application_id=str(app.public_id),
            customer_id=str(app.customer_id),
            state=app.state,
            model_version=f"{app.model_version.name}:{app.model_version.version}"
            if app.model_version
            else "",
        ),
        dedupe_key=f"lending.decided:{app.public_id}:{app.state}",
    )
    do_audit(
        actor,
        "lending.application_decided",
        object_type="loan_application",
        object_id=str(app.public_id),
        data={"state": app.state, "codes": app.policy_codes, "score": app.score},
    )


def access_application(
    principal: Principal, application_id: uuid.UUID, *, lock: bool = False
) -> Application:
    qs = Application.objects.select_related("model_version")
    if lock:
        # model_version is nullable (an outer join): PostgreSQL locks only the application row
        qs = qs.select_for_update(of=("self",))
    app = qs.filter(public_id=application_id).first()
    if app is None:
        raise ApplicationNotFound()
    if principal.is_customer:
        if principal.customer_id != app.customer_id:
            raise ApplicationNotFound()
        return app
    scope = scope_of(app.customer_id)
    identity.check_owner(
        principal,
        app.customer_id,
        branch_code=scope[0],
        region_code=scope[1],
        action=Action.LOAN_DECIDE,
        object_type="loan_application",
        object_id=str(application_id),
    )
    return app


def do_review(
    principal: Principal, application_id: uuid.UUID, *, approve: bool, note: str = ""
) -> Application:
    """A staff decision on a referred application (``loan.decide``)."""
    identity.check_permission(principal, Action.LOAN_DECIDE)
    with transaction.atomic():
        app = access_application(principal, application_id, lock=True)
        if app.state != Application.REFERRED:
            raise InvalidState("Only a referred application can be reviewed.")
        today = clock.get_business_date()
        if approve:
            app.state = Application.APPROVED
            app.annual_rate = products.price(max(app.score or 0, products.SPREADS[-1][0]), today)
            app.limit_minor = max(app.limit_minor, app.amount_minor)
        else:
            app.state = Application.DECLINED
        app.reviewed_by, app.review_note = principal.principal_key, note[:300]
        app.decided_at = clock.now()
        app.save()
        _record_decision(principal.principal_key, app)
    return app


def do_cancel(principal: Principal, application_id: uuid.UUID) -> Application:
    with transaction.atomic():
        app = access_application(principal, application_id, lock=True)
        if app.state not in (Application.APPROVED, Application.REFERRED):
            raise InvalidState()
        app.state = Application.CANCELLED
        app.save(update_fields=["state"])
    return app


def do_start_acceptance(principal: Principal, application_id: uuid.UUID) -> Any:
    """Send the one-time code that signs the e-contract."""
    app = access_application(principal, application_id)
    if app.state != Application.APPROVED:
        raise InvalidState("Only an approved application can be accepted.")
    return identity.do_start_step_up(principal, STEP_UP_ACTION)


def contract_text(app: Application, start_on: dt.date) -> str:
    rate = app.annual_rate or Decimal(0)
    return (
        f"rongshu loan contract / 借款合同\n"
        f"application {app.public_id}\nproduct {app.product_code}\n"
        f"principal CNY {format_minor(app.amount_minor, 'CNY')}\n"
        f"annual rate {rate * 100:.4f}% (LPR + spread), penalty rate "
        f"{rate * products.PENALTY_FACTOR * 100:.4f}% on overdue principal\n"
        f"term {app.term_months} months, method {app.method}, from {start_on.isoformat()}\n"
        f"model {app.model_version.name if app.model_version else ''}"
        f":{app.model_version.version if app.model_version else ''}\n"
    )


def do_accept(principal: Principal, application_id: uuid.UUID) -> Loan:
    """Accept the e-contract (spends a passed step-up) and disburse, in one transaction."""
    with transaction.atomic():
        app = access_application(principal, application_id, lock=True)
        if app.state != Application.APPROVED:
            raise InvalidState("Only an approved application can be accepted.")
        if not principal.is_customer:
            raise PermissionDenied("Only the applicant accepts the contract.")
        account = find_type1(principal)
        if account is None or account.ledger_account_id != app.disbursement_account_id:
            raise KycIncomplete()
        if account.status != "open":
            raise AccountUnavailable()
        identity.require_step_up(principal, STEP_UP_ACTION)
        return _disburse(app, principal.principal_key)


def _disburse(app: Application, actor: str) -> Loan:
    assert app.annual_rate is not None
    assert app.disbursement_account_id is not None
    assert app.model_version is not None
    today = clock.get_business_date()
    rows = build_schedule(
        principal=app.amount_minor,
        annual_rate=app.annual_rate,
        term=app.term_months,
        method=app.method,
        start_on=today,
    )
    transfer_id = uuid.uuid5(uuid.NAMESPACE_URL, f"rongshu:lending:disburse:{app.public_id}")
    try:
        ledger.do_create_transfer(
            TransferIn(
                transfer_id=transfer_id,
                debit_account=ledger_code("loans.receivable.CNY"),
                credit_account=app.disbursement_account_id,
                amount=app.amount_minor,
                currency="CNY",
                code="loan_disbursement",
                reference=f"loan {app.public_id}",
                metadata={"application": str(app.public_id)},
            )
        )
    except TransferRefused as exc:
        raise AccountUnavailable(f"The disbursement was refused ({exc}).") from exc
    loan = Loan.objects.create(
        application=app,
        customer_id=app.customer_id,
        product_code=app.product_code,
        principal_minor=app.amount_minor,
        annual_rate=app.annual_rate,
        penalty_rate=app.annual_rate * products.PENALTY_FACTOR,
        method=app.method,
        term_months=app.term_months,
        start_on=today,
        maturity_on=rows[-1].due_on,
        repayment_account_id=app.disbursement_account_id,
        outstanding_minor=app.amount_minor,
        accrued_on=today - dt.timedelta(days=1),  # accrual starts on the disbursement day
        model_version=app.model_version,
        contract_text=contract_text(app, today),
        accepted_at=clock.now(),
        disbursement_transfer_id=transfer_id,
    )
    Instalment.objects.bulk_create(
        Instalment(
            loan=loan,
            seq=r.seq,
            due_on=r.due_on,
            principal_minor=r.principal,
            interest_minor=r.interest,
        )
        for r in rows
    )
    app.state = Application.DISBURSED
    app.save(update_fields=["state"])
    Offer.objects.filter(customer_id=app.customer_id, product_code=app.product_code).delete()
    record_event(
        LoanDisbursed(
            loan_id=str(loan.public_id),
            customer_id=str(loan.customer_id),
            amount_minor=loan.principal_minor,
            currency="CNY",
        ),
        dedupe_key=f"lending.disbursed:{loan.public_id}",
    )
    do_audit(actor, "lending.loan_disbursed", object_type="loan", object_id=str(loan.public_id))
    return loan


def do_book_migrated_loan(
    principal: Principal,
    customer_id: uuid.UUID,
    *,
    disbursement_account_id: uuid.UUID,
    amount: int,
    term_months: int,
    method: str,
    annual_rate: Decimal,
    product_code: str = "kuaidai",
) -> Loan:
    """Book a loan signed on paper or migrated from a legacy system (``loan.decide``): no
    decision is made, the active model version is recorded, the money moves through the
    ledger as for any other loan."""
    identity.check_permission(principal, Action.LOAN_DECIDE)
    check_terms(product_code, amount, term_months, method)
    model_row, _ = get_active_model()
    with transaction.atomic():
        app = Application.objects.create(
            customer_id=customer_id,
            product_code=product_code,
            amount_minor=amount,
            term_months=term_months,
            method=method,
            state=Application.APPROVED,
            policy_codes=["migrated"],
            model_version=model_row,
            limit_minor=amount,
            annual_rate=annual_rate,
            disbursement_account_id=disbursement_account_id,
            reviewed_by=principal.principal_key,
            created_at=clock.now(),
            decided_at=clock.now(),
        )
        return _disburse(app, principal.principal_key)


def do_run_preapproval(day: dt.date) -> dict[str, Any]:
    """Run the nightly pre-approval now (the EOD job calls the same)."""
    from rongshu.lending.preapproval import run_preapproval

    return run_preapproval(day)


def train_bank_model(*, seed: int = 1, n: int = 20_000, kind: str = "scorecard") -> Any:
    """Train the bank's 快贷 model (``rongshu.lending.scoring``; pandas is imported here)."""
    from rongshu.lending.scoring.bank import train_bank_model as train

    return train(seed=seed, n=n, kind=kind)


def do_set_blacklist(
    principal: Principal, customer_id: uuid.UUID, *, blacklisted: bool, reason: str
) -> Borrower:
    identity.check_permission(principal, Action.LOAN_DECIDE)
    with transaction.atomic():
        row, _ = Borrower.objects.get_or_create(
            customer_id=customer_id, defaults={"created_at": clock.now()}
        )
        row.blacklisted, row.blacklist_reason = blacklisted, reason[:200]
        row.save(update_fields=["blacklisted", "blacklist_reason"])
        do_audit(
            principal.principal_key,
            "lending.blacklist_set",
            object_type="customer",
            object_id=str(customer_id),
            data={"blacklisted": blacklisted},
        )
    return row


def do_set_turnover(customer_id: uuid.UUID, annual_turnover: int) -> Borrower:
    """Record a small business's annual turnover (from its statements; drives 善融e贷)."""
    row, _ = Borrower.objects.get_or_create(
        customer_id=customer_id, defaults={"created_at": clock.now()}
    )
    row.business_turnover_minor = annual_turnover
    row.save(update_fields=["business_turnover_minor"])
    return row
