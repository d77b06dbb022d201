"""小微's dialogue: task intents with slots, confirmation and step-up, over FAQ answers.

One call of :func:`respond` takes the customer's message, the conversation's ``context`` (a
JSON dict kept in :class:`~rongshu.assistant.models.Conversation`) and the caller, and returns
an :class:`Outcome` (the answer and what was understood); it updates ``context`` in place.

Task intents — ``balance``, ``transactions``, ``transfer``, ``pay_bill``, ``freeze``,
``loan``, ``branch``, ``product`` and ``agent`` (hand-off) — are recognised by a few precise
rules and, failing those, by a linear classifier trained on
``data/task_intents.{zh,en}.csv`` against the FAQ set's wordings (label ``_none``: a question
for the knowledge base). Slots come from :mod:`rongshu.assistant.slots`. Actions that move
money or change an account are summarised and wait for "确认"/"yes"; a transfer then needs a
one-time code (identity's step-up for ``payment.transfer``) before payments is called. Nothing
personal is read or done for an anonymous caller: they get FAQ answers and a sign-in hint.

Actions call only the public APIs of accounts, payments, lifepay, lending and identity.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from django.db import transaction

from rongshu.accounts import queries as accounts_queries
from rongshu.accounts import services as accounts
from rongshu.accounts.types import AccountSummary, StatementFilter
from rongshu.assistant import services as kb
from rongshu.assistant.engine import IntentClassifier
from rongshu.assistant.slots import (
    extract_account_tail,
    extract_amount,
    extract_code,
    extract_date,
    is_no,
    is_yes,
    match_name,
)
from rongshu.assistant.text import normalise
from rongshu.assistant.types import Suggestion
from rongshu.identity import services as identity
from rongshu.identity.types import Principal, PrincipalKind
from rongshu.kernel import clock
from rongshu.kernel.errors import DomainError
from rongshu.kernel.money import Money
from rongshu.lending import queries as lending_queries
from rongshu.lifepay import queries as lifepay_queries
from rongshu.lifepay import services as lifepay
from rongshu.lifepay.types import PayBillRequest, SavedAccountView
from rongshu.payments import queries as payments_queries
from rongshu.payments import services as payments
from rongshu.payments.types import PayeeView, PaymentRequest

logger = logging.getLogger(__name__)

DATA = Path(__file__).resolve().parent / "data"
NONE = "_none"
TASK_INTENTS = (
    "balance",
    "transactions",
    "transfer",
    "pay_bill",
    "freeze",
    "loan",
    "branch",
    "product",
    "agent",
)
PERSONAL = {"balance", "transactions", "transfer", "pay_bill", "freeze", "loan"}
CONFIRMED = {"transfer", "pay_bill", "freeze"}
TRANSFER_STEP_UP = "payment.transfer"  # payments' step-up action: one code serves both
CLASSIFIER_THRESHOLD = 0.6
UNSURE_BEFORE_HANDOFF = 2
CNY = "CNY"


# ------------------------------------------------------------------ values
@dataclass(frozen=True)
class Caller:
    """Who writes, on which channel, in which language."""

    principal: Principal
    channel: str  # web, wechat, sms, api
    language: str = "zh-hans"

    @property
    def signed_in(self) -> bool:
        return (
            self.principal.kind is PrincipalKind.CUSTOMER and self.principal.customer_id is not None
        )

    @property
    def short(self) -> bool:
        return self.channel == "sms"


@dataclass
class Outcome:
    """What 小微 answers to one message, and what it understood."""

    text: str
    kind: str  # task, faq, unsure, handoff, refused
    intent: str = ""
    confidence: float = 0.0
    answered: bool = True
    slots: dict[str, Any] = field(default_factory=dict)
    handoff: str = ""  # the reason when the conversation should go to a person
    suggestions: tuple[Suggestion, ...] = ()
    done: str = ""  # the action carried out (transfer, pay_bill, freeze), if any
    reference: str = ""  # its id (payment order, bill payment, account)


def _t(caller: Caller, zh: str, en: str) -> str:
    return zh if caller.language == "zh-hans" else en


def _yuan(minor: int) -> str:
    """ "¥12,000.00" (fen to yuan exactly: Decimal, grouped thousands)."""
    return f"¥{Decimal(minor).scaleb(-2):,.2f}"


# ------------------------------------------------------------------ intent recognition
_HOW = re.compile(
    r"怎么|如何|怎样|为什么|为啥|多久|多长时间|限额|手续费|收费|费用|规定|流程|能不能|可以吗|吗[?？]?$"
    r"|\bhow\b|\bwhy\b|\blimits?\b|\bfees?\b|\bcan i\b(?! borrow)|\bwhat is the\b",
    re.IGNORECASE,
)
_RULES: tuple[tuple[str, re.Pattern[str], bool], ...] = (
    # (intent, pattern, also when the message is a how/why question)
    (
        "agent",
        re.compile(r"转人工|人工客服|找人工|^人工$|真人|\bagent\b|\bhuman\b|real person"),
        True,
    ),
    (
        "freeze",
        re.compile(
            r"(卡|钱包|手机|存折).{0,3}(丢|掉了|被偷|被盗|不见)|挂失|(?<!解)冻结|lost my|stolen"
            r"|(?<!un)freeze|block my (card|account)",
            re.IGNORECASE,
        ),
        True,
    ),
    (
        "transfer",
        re.compile(
            r"转账|转钱|汇款|转.{0,8}(块|元|万|钱)|给.{1,8}转|打.{0,6}钱给|\btransfer\b|\bsend\b.*\bto\b"
            r"|\bwire\b",
            re.IGNORECASE,
        ),
        False,
    ),
    (
        "pay_bill",
        re.compile(
            r"(交|缴|付|充).{0,4}(电费|水费|燃气|煤气|话费|宽带|物业|暖气|费)|pay .*\bbill|top.?up",
            re.IGNORECASE,
        ),
        False,
    ),
    (
        "balance",
        re.compile(r"余额(?!宝)|还剩多少|还有多少钱|\bbalance\b|^ye$", re.IGNORECASE),
        False,
    ),
    (
        "transactions",
        re.compile(r"交易(记录|明细)|流水|收支|明细|transactions?|statement|\bspent\b", re.I),
        False,
    ),
    (
        "loan",
        re.compile(
            r"(能|可以)?(贷|借).{0,4}多少|预授信|借钱|\bborrow\b|loan (quote|limit)|pre-?approved",
            re.I,
        ),
        False,
    ),
    (
        "branch",
        re.compile(r"预约.{0,6}网点|网点.{0,4}预约|branch (visit|appointment)|book .*branch", re.I),
        True,
    ),
    (
        "product",
        re.compile(
            r"(推荐|有什么|有哪些|找).{0,6}(产品|理财)|recommend .*product|find .*product"
            r"|products? do you",
            re.I,
        ),
        False,
    ),
)

_classifier_lock = threading.Lock()
_classifier: list[IntentClassifier] = []


def task_phrases() -> list[tuple[str, str]]:
    """The training phrases of the task intents (text, intent), Chinese and English."""
    rows: list[tuple[str, str]] = []
    for name in ("task_intents.zh.csv", "task_intents.en.csv"):
        with (DATA / name).open(encoding="utf-8", newline="") as handle:
            rows.extend((r["text"], r["intent"]) for r in csv.DictReader(handle))
    return rows


def train_task_classifier() -> IntentClassifier:
    """Task intents against the FAQ set's questions and paraphrases (label ``_none``)."""
    texts: list[str] = []
    labels: list[str] = []
    for text, intent in task_phrases():
        texts.append(text)
        labels.append(intent)
    records, oos = kb.read_faq_set()
    for record in records:
        for language in ("zh-hans", "en"):
            for text in (record.question(language), *record.paraphrases(language)[:2]):
                texts.append(text)
                labels.append(NONE)
    for language in ("zh-hans", "en"):
        for text in oos[language]:
            texts.append(text)
            labels.append(NONE)
    return IntentClassifier(c=0.5, temperature=6.0).fit(texts, labels)


def task_classifier() -> IntentClassifier:
    with _classifier_lock:
        if not _classifier:
            _classifier.append(train_task_classifier())
        return _classifier[0]


def classify_task(text: str) -> tuple[str, float]:
    """(task intent or ``_none``, confidence): precise rules first, then the classifier."""
    clean = normalise(text)
    how = bool(_HOW.search(clean))
    for intent, pattern, even_how in _RULES:
        if pattern.search(clean) and (even_how or not how):
            return intent, 1.0
    model = task_classifier()
    proba = model.predict_proba([text])[0]
    best = int(proba.argmax())
    label, confidence = model.classes[best], float(proba[best])
    if label != NONE and confidence >= CLASSIFIER_THRESHOLD and not how:
        return label, confidence
    return NONE, confidence if label == NONE else 1.0 - confidence


# ------------------------------------------------------------------ the customer's things
def _accounts(principal: Principal) -> list[AccountSummary]:
    return [a for a in accounts_queries.get_overview(principal).accounts if a.status != "closed"]


def _payees(principal: Principal) -> list[PayeeView]:
    return payments_queries.list_payees(principal)


def _bills(principal: Principal) -> list[SavedAccountView]:
    return lifepay_queries.list_saved(principal)


def _tail(number: str) -> str:
    return number[-4:]


def _payee_names(p: PayeeView) -> tuple[str, ...]:
    return tuple(n for n in (p.nickname, p.name) if n)


def _bill_names(s: SavedAccountView) -> tuple[str, ...]:
    b = s.biller
    short = b.item_zh.replace("缴费", "").replace("费", "")
    names = (s.nickname, b.item_zh, b.item_en, b.name_zh, b.name_en, short + "费" if short else "")
    return tuple(n for n in names if n and len(n) >= 2)


def _pick_account(caller: Caller, slots: dict[str, Any], text: str) -> AccountSummary | None:
    accts = [a for a in _accounts(caller.principal) if a.status == "open"]
    tail = extract_account_tail(text) or slots.get("account")
    if tail:
        found = [a for a in accts if a.account_number.endswith(str(tail))]
        if len(found) == 1:
            slots["account"] = _tail(found[0].account_number)
            return found[0]
    if len(accts) == 1:
        slots["account"] = _tail(accts[0].account_number)
        return accts[0]
    return None


# ------------------------------------------------------------------ entry point
def respond(text: str, context: dict[str, Any], caller: Caller) -> Outcome:
    """Answer one message; ``context`` (the conversation's) is updated in place."""
    pending = context.get("pending")
    if pending:
        outcome = _continue(text, context, pending, caller)
        if outcome is not None:
            return outcome
    intent, confidence = classify_task(text)
    if intent == "agent":
        context.pop("pending", None)
        context["unsure"] = 0
        return Outcome(
            _t(
                caller,
                "好的，正在为您转接人工客服，请稍候。",
                "Sure — connecting you to a person, please wait.",
            ),
            kind="handoff",
            intent="agent",
            confidence=confidence,
            handoff="asked",
        )
    if intent != NONE:
        context["unsure"] = 0
        return _start_task(intent, confidence, text, context, caller)
    return _faq(text, context, caller)


def _faq(text: str, context: dict[str, Any], caller: Caller) -> Outcome:
    channel = {"api": "web"}.get(caller.channel, caller.channel)
    reply = kb.get_reply(text, channel=channel, language=caller.language)
    if reply.answered:
        context["unsure"] = 0
        return Outcome(
            reply.text,
            kind="faq",
            intent=reply.faq_key or "",
            confidence=reply.confidence,
            answered=True,
        )
    unsure = int(context.get("unsure", 0)) + 1
    context["unsure"] = unsure
    if unsure >= UNSURE_BEFORE_HANDOFF:
        context["unsure"] = 0
        return Outcome(
            _t(
                caller,
                "抱歉，我没能帮上忙，已为您转接人工客服，请稍候。",
                "Sorry I couldn't help; I'm connecting you to a person, please wait.",
            ),
            kind="handoff",
            intent=reply.intent or "",
            confidence=reply.confidence,
            answered=False,
            handoff="unsure",
        )
    return Outcome(
        reply.text,
        kind="unsure",
        intent=reply.intent or "",
        confidence=reply.confidence,
        answered=False,
        suggestions=reply.suggestions,
    )


def _signin(caller: Caller) -> str:
    if caller.channel == "wechat":
        return _t(
            caller,
            "请先绑定账户：登录榕树银行网站，在「小微」页面获取绑定码，"
            "然后在这里发送「绑定 绑定码」。",
            "Please link your account first: sign in on the rongshu website, get a code on the "
            '小微 page, then send "bind CODE" here.',
        )
    if caller.channel == "sms":
        return _t(caller, "本手机号未开通榕树银行，无法办理。", "This number has no rongshu login.")
    return _t(
        caller,
        "这项业务需要先登录：/signin/?next=/assistant/",
        "Please sign in first for this: /signin/?next=/assistant/",
    )


def _start_task(
    intent: str, confidence: float, text: str, context: dict[str, Any], caller: Caller
) -> Outcome:
    if intent in PERSONAL and not caller.signed_in:
        context.pop("pending", None)
        faq = _faq(text, {}, caller)  # "卡丢了怎么办" still deserves the FAQ's answer
        if faq.answered and not caller.short:
            faq.text = f"{faq.text}\n{_signin(caller)}"
            return faq
        return Outcome(_signin(caller), kind="refused", intent=intent, confidence=confidence)
    pending: dict[str, Any] = {"intent": intent, "slots": {}, "op": uuid.uuid4().hex}
    context["pending"] = pending
    _fill(intent, text, pending["slots"], caller)
    outcome = _advance(pending, context, caller, text)
    outcome.confidence = confidence
    return outcome


def _fill(intent: str, text: str, slots: dict[str, Any], caller: Caller) -> None:
    """Take every slot the text names (later messages overwrite earlier values)."""
    amount = extract_amount(text)
    if amount is not None and intent in {"transfer", "pay_bill", "loan"}:
        slots["amount"] = amount
    day = extract_date(text, clock.local_today())
    if day is not None:
        slots["date"] = day.isoformat()
    tail = extract_account_tail(text)
    if tail:
        slots["account"] = tail
    if not caller.signed_in:
        return
    if intent == "transfer":
        payee = match_name(text, ((p, _payee_names(p)) for p in _payees(caller.principal)))
        if payee is not None:
            slots["payee"] = str(payee.payee_id)
            slots["payee_name"] = payee.nickname or payee.name
    elif intent == "pay_bill":
        bill = match_name(text, ((s, _bill_names(s)) for s in _bills(caller.principal)))
        if bill is not None:
            slots["biller"] = str(bill.saved_id)
            slots["biller_name"] = bill.nickname or bill.biller.item_zh
    elif intent == "freeze" and re.search(r"全部|所有|\ball\b", normalise(text)):
        slots["account"] = "all"


def _continue(
    text: str, context: dict[str, Any], pending: dict[str, Any], caller: Caller
) -> Outcome | None:
    """Carry on a pending task; None when the message starts something else."""
    intent = str(pending["intent"])
    awaiting = pending.get("awaiting", "")
    slots: dict[str, Any] = pending["slots"]
    if is_no(text):
        context.pop("pending", None)
        return Outcome(
            _t(caller, "好的，已取消。", "OK, cancelled."), kind="task", intent=intent, slots=slots
        )
    if awaiting == "otp":
        code = extract_code(text)
        if code is None:
            if classify_task(text)[0] != NONE:
                return None
            return Outcome(
                _t(
                    caller,
                    "请回复短信中的6位验证码，或回复「取消」。",
                    'Reply with the 6-digit code, or "cancel".',
                ),
                kind="task",
                intent=intent,
                slots=slots,
            )
        try:
            identity.do_verify_step_up(caller.principal, str(pending["challenge"]), code)
        except DomainError as exc:
            if getattr(exc, "code", "") == "invalid_otp":
                return Outcome(
                    _t(
                        caller,
                        "验证码不正确或已过期，请重新输入，或回复「取消」。",
                        'The code is wrong or expired. Try again, or reply "cancel".',
                    ),
                    kind="task",
                    intent=intent,
                    slots=slots,
                )
            context.pop("pending", None)
            return _failed(exc, intent, slots, caller)
        return _execute(pending, context, caller)
    if awaiting == "confirm":
        if is_yes(text):
            if intent == "transfer":
                return _ask_code(pending, context, caller)
            return _execute(pending, context, caller)
        before = dict(slots)
        _fill(intent, text, slots, caller)
        if slots != before:
            return _advance(pending, context, caller, text)
        if classify_task(text)[0] != NONE:
            return None
        return Outcome(
            _t(
                caller,
                "请回复「确认」继续，或「取消」放弃。",
                'Reply "yes" to go ahead or "cancel" to stop.',
            ),
            kind="task",
            intent=intent,
            slots=slots,
        )
    if awaiting:
        new_intent = classify_task(text)[0]
        if new_intent not in (NONE, intent) and not _has_slot_value(intent, text, caller):
            return None
        _fill(intent, text, slots, caller)
        if awaiting == "account" and "account" not in slots:
            _pick_account(caller, slots, text)
        return _advance(pending, context, caller, text)
    return None


def _has_slot_value(intent: str, text: str, caller: Caller) -> bool:
    probe: dict[str, Any] = {}
    _fill(intent, text, probe, caller)
    return bool(probe)


def _failed(exc: DomainError, intent: str, slots: dict[str, Any], caller: Caller) -> Outcome:
    detail = str(getattr(exc, "detail", "") or exc)
    return Outcome(
        _t(caller, f"没有办成：{detail}", f"That did not go through: {detail}"),
        kind="task",
        intent=intent,
        slots=slots,
        answered=True,
    )


# ------------------------------------------------------------------ per-intent steps
def _ask(pending: dict[str, Any], slot: str, text: str, intent: str) -> Outcome:
    pending["awaiting"] = slot
    return Outcome(text, kind="task", intent=intent, slots=dict(pending["slots"]))


def _advance(
    pending: dict[str, Any], context: dict[str, Any], caller: Caller, text: str
) -> Outcome:
    intent = str(pending["intent"])
    step = _STEPS[intent]
    return step(pending, context, caller, text)


def _step_balance(
    pending: dict[str, Any], context: dict[str, Any], caller: Caller, text: str
) -> Outcome:
    context.pop("pending", None)
    accts = _accounts(caller.principal)
    if not accts:
        msg = _t(
            caller, "您还没有账户。开户：/me/open/", "You have no account yet. Open one: /me/open/"
        )
        return Outcome(msg, kind="task", intent="balance")
    tail = pending["slots"].get("account")
    chosen = [a for a in accts if tail and a.account_number.endswith(str(tail))] or accts
    lines = []
    for a in chosen:
        if caller.short:
            lines.append(
                _t(
                    caller,
                    f"尾号{_tail(a.account_number)}余额{_yuan(a.balance)}",
                    f"*{_tail(a.account_number)} bal {_yuan(a.balance)}",
                )
            )
        else:
            lines.append(
                _t(
                    caller,
                    f"尾号{_tail(a.account_number)}（{a.product_name}）余额 {_yuan(a.balance)}，"
                    f"可用 {_yuan(a.available)}",
                    f"Account ending {_tail(a.account_number)} ({a.product_name}): balance "
                    f"{_yuan(a.balance)}, available {_yuan(a.available)}",
                )
            )
    sep = (
        "；" if caller.short and caller.language == "zh-hans" else ("; " if caller.short else "\n")
    )
    return Outcome(sep.join(lines), kind="task", intent="balance", slots=dict(pending["slots"]))


def _step_transactions(
    pending: dict[str, Any], context: dict[str, Any], caller: Caller, text: str
) -> Outcome:
    context.pop("pending", None)
    slots = pending["slots"]
    accts = _accounts(caller.principal)
    if not accts:
        return Outcome(
            _t(caller, "您还没有账户。", "You have no account yet."),
            kind="task",
            intent="transactions",
        )
    tail = slots.get("account")
    account = next((a for a in accts if tail and a.account_number.endswith(str(tail))), accts[0])
    flt = StatementFilter()
    if slots.get("date"):
        day = dt.date.fromisoformat(str(slots["date"]))
        flt = StatementFilter(date_from=day, date_to=day)
    _, lines, _ = accounts_queries.get_statement_page(
        caller.principal, account.account_id, flt=flt, limit=50
    )
    recent = list(reversed(lines))[: 3 if caller.short else 5]
    head = _t(
        caller,
        f"尾号{_tail(account.account_number)}最近交易：",
        f"Recent on *{_tail(account.account_number)}:",
    )
    if not recent:
        return Outcome(
            head + _t(caller, "没有交易。", " none."),
            kind="task",
            intent="transactions",
            slots=dict(slots),
        )
    rows = []
    for line in recent:
        local = line.created_at.astimezone(clock.bank_zone())
        sign = "+" if line.credit else "-"
        amount = line.credit or line.debit
        rows.append(
            f"{local:%m-%d} {sign}{_yuan(amount)}"
            + ("" if caller.short else f" {line.reference}".rstrip())
        )
    sep = "，" if caller.short else "\n"
    return Outcome(
        head + ("" if caller.short else "\n") + sep.join(rows),
        kind="task",
        intent="transactions",
        slots=dict(slots),
    )


def _step_transfer(
    pending: dict[str, Any], context: dict[str, Any], caller: Caller, text: str
) -> Outcome:
    slots = pending["slots"]
    payees = _payees(caller.principal)
    if "payee" not in slots:
        if not payees:
            context.pop("pending", None)
            return Outcome(
                _t(
                    caller,
                    "您还没有常用收款人，请先在「转账」页面添加：/me/payments/transfer/",
                    "You have no saved payees yet; add one on the transfer page: "
                    "/me/payments/transfer/",
                ),
                kind="task",
                intent="transfer",
            )
        names = "、".join(p.nickname or p.name for p in payees[:5])
        return _ask(
            pending,
            "payee",
            _t(caller, f"转给谁？您的常用收款人：{names}", f"To whom? Your saved payees: {names}"),
            "transfer",
        )
    if "amount" not in slots:
        return _ask(
            pending,
            "amount",
            _t(caller, f"转给{slots['payee_name']}多少钱？", f"How much to {slots['payee_name']}?"),
            "transfer",
        )
    account = _pick_account(caller, slots, text)
    if account is None:
        tails = "、".join(
            _tail(a.account_number) for a in _accounts(caller.principal) if a.status == "open"
        )
        if not tails:
            context.pop("pending", None)
            return Outcome(
                _t(caller, "您没有可用于付款的账户。", "You have no open account to pay from."),
                kind="task",
                intent="transfer",
            )
        return _ask(
            pending,
            "account",
            _t(caller, f"从哪个账户转出？尾号：{tails}", f"From which account? Ending: {tails}"),
            "transfer",
        )
    pending["awaiting"] = "confirm"
    when = ""
    if slots.get("date") and slots["date"] != clock.local_today().isoformat():
        when = _t(
            caller,
            "（小微只办理实时转账，将立即转出）",
            " (小微 only makes immediate transfers: it goes now)",
        )
    msg = _t(
        caller,
        f"请确认：从尾号{slots['account']}向{slots['payee_name']}转账{_yuan(int(slots['amount']))}{when}。"
        "回复「确认」继续，「取消」放弃。",
        f"Please confirm: transfer {_yuan(int(slots['amount']))} to {slots['payee_name']} "
        "from account "
        f'ending {slots["account"]}{when}. Reply "yes" or "cancel".',
    )
    return Outcome(msg, kind="task", intent="transfer", slots=dict(slots))


def _step_pay_bill(
    pending: dict[str, Any], context: dict[str, Any], caller: Caller, text: str
) -> Outcome:
    slots = pending["slots"]
    saved = _bills(caller.principal)
    if "biller" not in slots:
        if len(saved) == 1:
            slots["biller"] = str(saved[0].saved_id)
            slots["biller_name"] = saved[0].nickname or saved[0].biller.item_zh
        elif not saved:
            context.pop("pending", None)
            return Outcome(
                _t(
                    caller,
                    "您还没有保存缴费户号，请先在悦生活添加：/me/lifepay/",
                    "You have no saved bill accounts; add one in 悦生活: /me/lifepay/",
                ),
                kind="task",
                intent="pay_bill",
            )
        else:
            names = "、".join(s.nickname or s.biller.item_zh for s in saved[:5])
            return _ask(
                pending,
                "biller",
                _t(caller, f"交哪一项？{names}", f"Which bill? {names}"),
                "pay_bill",
            )
    bill = next((s for s in saved if str(s.saved_id) == slots["biller"]), None)
    if bill is None:
        context.pop("pending", None)
        return Outcome(
            _t(caller, "找不到这个缴费户号。", "That bill account is gone."),
            kind="task",
            intent="pay_bill",
        )
    if "amount" not in slots:
        try:
            inquiry = lifepay.do_inquire(caller.principal, bill.biller.code, bill.account_no)
        except DomainError as exc:
            context.pop("pending", None)
            return _failed(exc, "pay_bill", slots, caller)
        if inquiry.bills:
            first = inquiry.bills[0]
            slots["amount"] = first.amount.minor
            slots["bill_ref"] = first.bill_ref
        else:
            return _ask(
                pending,
                "amount",
                _t(
                    caller,
                    f"{slots['biller_name']}没有待缴账单，要充值多少？",
                    f"No bill due for {slots['biller_name']}; how much to top up?",
                ),
                "pay_bill",
            )
    account = _pick_account(caller, slots, text)
    if account is None:
        tails = "、".join(
            _tail(a.account_number) for a in _accounts(caller.principal) if a.status == "open"
        )
        return _ask(
            pending,
            "account",
            _t(
                caller, f"从哪个账户付款？尾号：{tails}", f"Pay from which account? Ending: {tails}"
            ),
            "pay_bill",
        )
    pending["awaiting"] = "confirm"
    msg = _t(
        caller,
        f"请确认：从尾号{slots['account']}缴纳{slots['biller_name']}（户号{bill.account_no}）"
        f"{_yuan(int(slots['amount']))}。回复「确认」或「取消」。",
        f"Please confirm: pay {_yuan(int(slots['amount']))} for {slots['biller_name']} "
        f"(account {bill.account_no}) from account ending {slots['account']}. "
        'Reply "yes" or "cancel".',
    )
    return Outcome(msg, kind="task", intent="pay_bill", slots=dict(slots))


def _step_freeze(
    pending: dict[str, Any], context: dict[str, Any], caller: Caller, text: str
) -> Outcome:
    slots = pending["slots"]
    accts = [a for a in _accounts(caller.principal) if a.status == "open"]
    if not accts:
        context.pop("pending", None)
        return Outcome(
            _t(
                caller,
                "您没有可冻结的账户（可能已冻结）。",
                "No open account to freeze (already frozen?).",
            ),
            kind="task",
            intent="freeze",
        )
    if slots.get("account") != "all":
        account = _pick_account(caller, slots, text)
        if account is None:
            tails = "、".join(_tail(a.account_number) for a in accts)
            return _ask(
                pending,
                "account",
                _t(
                    caller,
                    f"冻结哪个账户？尾号：{tails}，或回复「全部」",
                    f'Freeze which account? Ending: {tails}, or "all"',
                ),
                "freeze",
            )
    which = (
        _t(caller, "全部账户", "all your accounts")
        if slots.get("account") == "all"
        else _t(caller, f"尾号{slots['account']}账户", f"account ending {slots['account']}")
    )
    pending["awaiting"] = "confirm"
    msg = _t(
        caller,
        f"请确认：冻结{which}（冻结后不能转出，解冻需验证码）。回复「确认」或「取消」。",
        f"Please confirm: freeze {which} (no payments out until you unfreeze it with a code). "
        'Reply "yes" or "cancel".',
    )
    return Outcome(msg, kind="task", intent="freeze", slots=dict(slots))


def _step_loan(
    pending: dict[str, Any], context: dict[str, Any], caller: Caller, text: str
) -> Outcome:
    context.pop("pending", None)
    slots = pending["slots"]
    customer_id = caller.principal.customer_id
    assert customer_id is not None
    offer = lending_queries.find_offer(customer_id)
    if offer is None:
        return Outcome(
            _t(
                caller,
                "您暂时没有快贷预授信额度。可以在这里申请并查看结果：/me/loans/apply/",
                "You have no pre-approved 快贷 line right now. "
                "You can apply here: /me/loans/apply/",
            ),
            kind="task",
            intent="loan",
            slots=dict(slots),
        )
    rate = (offer.annual_rate * 100).quantize(Decimal("0.01"))
    msg = _t(
        caller,
        f"您有快贷预授信额度{_yuan(offer.limit_minor)}，年化利率{rate}%，有效至{offer.expires_on:%Y-%m-%d}。",
        f"You have a pre-approved 快贷 line of {_yuan(offer.limit_minor)} at {rate}% a year, "
        f"valid until {offer.expires_on:%Y-%m-%d}.",
    )
    amount = slots.get("amount")
    if amount:
        principal_minor = min(int(amount), offer.limit_minor)
        monthly = annuity_payment(principal_minor, offer.annual_rate, 12)
        msg += _t(
            caller,
            f"借{_yuan(principal_minor)}分12期，每月约还{_yuan(monthly)}（等额本息，估算）。",
            f" Borrowing {_yuan(principal_minor)} over 12 months costs about "
            f"{_yuan(monthly)} a month "
            "(equal instalments, estimate).",
        )
    msg += _t(caller, "申请：/me/loans/apply/", " Apply: /me/loans/apply/")
    return Outcome(msg, kind="task", intent="loan", slots=dict(slots))


def annuity_payment(principal_minor: int, annual_rate: Decimal, months: int) -> int:
    """Equal monthly instalment (fen, rounded half-up) of a loan at ``annual_rate``."""
    if principal_minor <= 0 or months <= 0:
        return 0
    r = Decimal(annual_rate) / 12
    if r == 0:
        value = Decimal(principal_minor) / months
    else:
        factor = (1 + r) ** months
        value = Decimal(principal_minor) * r * factor / (factor - 1)
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _step_branch(
    pending: dict[str, Any], context: dict[str, Any], caller: Caller, text: str
) -> Outcome:
    context.pop("pending", None)
    slots = pending["slots"]
    when = ""
    if slots.get("date"):
        when = _t(
            caller,
            f"（您想去的日期：{slots['date']}）",
            f" (the day you asked for: {slots['date']})",
        )
    msg = _t(
        caller,
        f"抱歉，榕树银行还没有网上预约网点的服务{when}。网点的办理须知见：/assistant/?q=网点预约 ，"
        "到网点后可扫码取号。",
        f"Sorry, rongshu cannot book branch visits online yet{when}. "
        "What to bring and how the queue "
        "works: /assistant/?q=branch+appointment — at the branch, scan the code to take a ticket.",
    )
    if caller.short:
        msg = _t(
            caller,
            "暂不支持网上预约网点，请到网点扫码取号。",
            "Branch booking is not online yet; take a ticket at the branch.",
        )
    return Outcome(msg, kind="task", intent="branch", slots=dict(slots))


_PRODUCTS = (
    (r"贷|借|loan|borrow", "快贷（线上信用贷款）", "快贷 (online credit loan)", "/me/loans/"),
    (
        r"缴费|账单|生活|bill|utility",
        "悦生活（生活缴费）",
        "悦生活 (bills and top-ups)",
        "/me/lifepay/",
    ),
    (r"账户|开户|二类|三类|account", "二类/三类电子账户", "Type II / III e-accounts", "/me/open/"),
    (r"转账|汇款|transfer", "转账汇款", "Transfers", "/me/payments/transfer/"),
)


def _step_product(
    pending: dict[str, Any], context: dict[str, Any], caller: Caller, text: str
) -> Outcome:
    context.pop("pending", None)
    clean = normalise(text)
    hits = [p for p in _PRODUCTS if re.search(p[0], clean)] or list(_PRODUCTS)
    lines = [_t(caller, f"{zh}：{url}", f"{en}: {url}") for _, zh, en, url in hits]
    head = _t(caller, "可以看看这些：", "You could look at:")
    if re.search(r"理财|基金|wealth|fund|存款|deposit|saving", clean):
        head = _t(
            caller,
            "理财和存款产品暂未在线上架，可到网点咨询。其他产品：",
            "Wealth and deposit products are not online yet; ask at a branch. Other products:",
        )
    return Outcome(head + "\n" + "\n".join(lines), kind="task", intent="product")


_STEPS: dict[str, Callable[[dict[str, Any], dict[str, Any], Caller, str], Outcome]] = {
    "balance": _step_balance,
    "transactions": _step_transactions,
    "transfer": _step_transfer,
    "pay_bill": _step_pay_bill,
    "freeze": _step_freeze,
    "loan": _step_loan,
    "branch": _step_branch,
    "product": _step_product,
}


# ------------------------------------------------------------------ confirmation, step-up, acts
def _ask_code(pending: dict[str, Any], context: dict[str, Any], caller: Caller) -> Outcome:
    try:
        challenge = identity.do_start_step_up(caller.principal, TRANSFER_STEP_UP)
    except DomainError as exc:
        context.pop("pending", None)
        return _failed(exc, "transfer", pending["slots"], caller)
    pending["awaiting"] = "otp"
    pending["challenge"] = str(challenge.challenge_id)
    return Outcome(
        _t(
            caller,
            f"验证码已发送至{challenge.masked_phone}，请回复6位验证码完成转账。",
            f"We sent a code to {challenge.masked_phone}; reply with the 6 digits to finish.",
        ),
        kind="task",
        intent="transfer",
        slots=dict(pending["slots"]),
    )


def _execute(pending: dict[str, Any], context: dict[str, Any], caller: Caller) -> Outcome:
    intent = str(pending["intent"])
    slots: dict[str, Any] = pending["slots"]
    context.pop("pending", None)
    try:
        with transaction.atomic():
            return _ACTS[intent](pending, caller)
    except DomainError as exc:
        return _failed(exc, intent, slots, caller)


def _act_transfer(pending: dict[str, Any], caller: Caller) -> Outcome:
    slots = pending["slots"]
    principal = caller.principal
    payee = next((p for p in _payees(principal) if str(p.payee_id) == slots["payee"]), None)
    account = next(
        (a for a in _accounts(principal) if a.account_number.endswith(str(slots["account"]))), None
    )
    if payee is None or account is None:
        return Outcome(
            _t(caller, "收款人或账户已不存在。", "The payee or account is gone."),
            kind="task",
            intent="transfer",
        )
    request = PaymentRequest(
        debit_account_id=account.ledger_account_id,
        amount=Money(int(slots["amount"]), CNY),
        payee_account_number=payee.account_number,
        payee_ledger_account_id=payee.ledger_account_id,
        payee_name=payee.name,
        payee_bank_code=payee.bank_code,
        remittance_info="小微",
    )
    order = payments.do_create_payment(
        principal,
        request,
        channel="web" if caller.channel == "web" else "api",
        idempotency_key=f"assistant-{pending['op']}",
    )
    if identity.has_step_up(principal, TRANSFER_STEP_UP):  # below payments' threshold: spend ours
        identity.require_step_up(principal, TRANSFER_STEP_UP)
    if order.state == "funds_held":
        order_id = order.order_id

        def submit() -> None:
            try:
                payments.do_submit_order(order_id)
            except DomainError:
                logger.exception("submitting payment order %s failed; the sweep retries", order_id)

        transaction.on_commit(submit)
    state = order.state
    done = _t(
        caller,
        "已转出" if state == "settled" else "已提交",
        "sent" if state == "settled" else "submitted",
    )
    return Outcome(
        _t(
            caller,
            f"转账{done}：{_yuan(order.amount.minor)} 给 {payee.nickname or payee.name}。"
            f"订单号 {str(order.order_id)[:8]}",
            f"Transfer {done}: {_yuan(order.amount.minor)} to {payee.nickname or payee.name}. "
            f"Order {str(order.order_id)[:8]}",
        ),
        kind="task",
        intent="transfer",
        slots=dict(slots),
        done="transfer",
        reference=str(order.order_id),
    )


def _act_pay_bill(pending: dict[str, Any], caller: Caller) -> Outcome:
    slots = pending["slots"]
    principal = caller.principal
    bill = next((s for s in _bills(principal) if str(s.saved_id) == slots["biller"]), None)
    account = next(
        (a for a in _accounts(principal) if a.account_number.endswith(str(slots["account"]))), None
    )
    if bill is None or account is None:
        return Outcome(
            _t(caller, "缴费户号或账户已不存在。", "The bill or account is gone."),
            kind="task",
            intent="pay_bill",
        )
    payment = lifepay.do_pay_bill(
        principal,
        PayBillRequest(
            biller_code=bill.biller.code,
            account_no=bill.account_no,
            debit_account_id=account.ledger_account_id,
            amount=Money(int(slots["amount"]), CNY),
            bill_ref=str(slots.get("bill_ref", "")),
        ),
        idempotency_key=f"assistant-{pending['op']}",
        channel="api",
    )
    state = payment.state
    status = {"paid": ("缴费成功", "paid"), "failed": ("缴费失败", "failed")}.get(
        state, ("处理中", "in progress")
    )
    return Outcome(
        _t(
            caller,
            f"{slots['biller_name']}{status[0]}：{_yuan(int(slots['amount']))}",
            f"{slots['biller_name']}: {status[1]}, {_yuan(int(slots['amount']))}",
        ),
        kind="task",
        intent="pay_bill",
        slots=dict(slots),
        done="pay_bill",
        reference=str(payment.payment_id),
    )


def _act_freeze(pending: dict[str, Any], caller: Caller) -> Outcome:
    slots = pending["slots"]
    targets = [a for a in _accounts(caller.principal) if a.status == "open"]
    if slots.get("account") != "all":
        targets = [a for a in targets if a.account_number.endswith(str(slots["account"]))]
    for account in targets:
        accounts.do_freeze_my_account(caller.principal, account.account_id)
    tails = "、".join(_tail(a.account_number) for a in targets)
    return Outcome(
        _t(
            caller,
            f"已冻结尾号{tails}的账户。解冻：/me/ ；如卡被盗刷请致电客服。",
            f"Frozen: account(s) ending {tails}. Unfreeze at /me/ ; "
            "report fraud to customer service.",
        ),
        kind="task",
        intent="freeze",
        slots=dict(slots),
        done="freeze",
        reference=",".join(str(a.account_id) for a in targets),
    )


_ACTS: dict[str, Callable[[dict[str, Any], Caller], Outcome]] = {
    "transfer": _act_transfer,
    "pay_bill": _act_pay_bill,
    "freeze": _act_freeze,
}
