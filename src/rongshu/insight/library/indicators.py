"""The shipped profile indicators, as data.

Each indicator is a dict: ``id``, ``zh``, ``en``, ``category`` (one of :data:`CATEGORIES`),
``description``, ``unit``, ``source`` (the lake table it aggregates: ``transactions``,
``balances``, ``accounts``, ``customers``, ``events``, or ``derived`` for an expression over
other indicators), ``window`` (months back from the as-of date; for ``balances`` the month-end
snapshot that many months back), ``sql`` (an aggregate SQL expression in DuckDB dialect over
the source's columns — one row per customer; for ``customers`` a row expression, for
``derived`` an expression over other indicator ids), ``default`` (the value for a customer
without rows in the source, usually 0) and ``version``.

The engine compiles every indicator sharing a (source, window) into one grouped query, so a
new indicator over an existing window costs one more aggregate column, not one more scan.
``{as_of}`` in an expression is replaced by the as-of date literal.
"""

from __future__ import annotations

from typing import Any

Indicator = dict[str, Any]

CATEGORIES: dict[str, tuple[str, str]] = {
    "clothing": ("衣", "Clothing"),
    "food": ("食", "Food"),
    "housing": ("住", "Housing"),
    "transport": ("行", "Transport"),
    "leisure": ("玩", "Leisure"),
    "medical": ("医", "Medical"),
    "finance": ("金融", "Finance"),
    "demographics": ("人口属性", "Demographics"),
    "value": ("价值", "Value"),
    "risk": ("风险", "Risk"),
    "channel": ("渠道", "Channel"),
}
NEEDS = ("clothing", "food", "housing", "transport", "leisure", "medical", "finance")
NEED_ZH = {k: CATEGORIES[k][0] for k in NEEDS}
NEED_EN = {
    "clothing": "clothing",
    "food": "dining and food",
    "housing": "housing",
    "transport": "transport",
    "leisure": "leisure",
    "medical": "medical",
    "finance": "financial services",
}
CHANNELS = ("mobile", "web", "branch", "atm", "pos", "qr", "api", "batch")
CHANNEL_ZH = {
    "mobile": "手机银行",
    "web": "网银",
    "branch": "网点",
    "atm": "ATM",
    "pos": "POS",
    "qr": "扫码",
    "api": "开放接口",
    "batch": "批量代发",
}
KINDS_IN = ("salary", "pension", "transfer_in", "interest", "loan_disbursement")
KINDS_OUT = ("transfer_out", "card", "qr", "bill", "loan_repayment", "fee", "investment", "cash")
KIND_ZH = {
    "salary": "代发工资",
    "pension": "养老金",
    "transfer_in": "转入",
    "interest": "利息",
    "loan_disbursement": "贷款发放",
    "transfer_out": "转出",
    "card": "刷卡",
    "qr": "扫码支付",
    "bill": "生活缴费",
    "loan_repayment": "贷款还款",
    "fee": "手续费",
    "investment": "投资",
    "cash": "取现",
    "fx": "外汇",
}
PRODUCTS = (
    "deposit.current",
    "deposit.time",
    "wealth.fund",
    "wealth.insurance",
    "card.credit",
    "loan.mortgage",
    "loan.car",
    "loan.consumer",
    "loan.business",
    "pension",
)
PRODUCT_ZH = {
    "deposit.current": "活期存款",
    "deposit.time": "定期存款",
    "wealth.fund": "基金理财",
    "wealth.insurance": "保险",
    "card.credit": "信用卡",
    "loan.mortgage": "房贷",
    "loan.car": "车贷",
    "loan.consumer": "消费贷",
    "loan.business": "经营贷",
    "pension": "个人养老金",
}
PRODUCT_CATEGORY = {
    "loan.mortgage": "housing",
    "loan.car": "transport",
    "wealth.insurance": "medical",
}
ASSET_PRODUCTS = ("deposit.current", "deposit.time", "wealth.fund", "wealth.insurance", "pension")
LIABILITY_PRODUCTS = ("card.credit", "loan.mortgage", "loan.car", "loan.consumer", "loan.business")
# Merchant category codes (ISO 18245) for needs the seven categories do not isolate.
MCC_GROUPS: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "car": (
        "transport",
        "汽车相关消费",
        "car-related spend (dealers, fuel, parking, repair)",
        (
            "5511",
            "5521",
            "5531",
            "5532",
            "5533",
            "5541",
            "5542",
            "5172",
            "7512",
            "7523",
            "7531",
            "7534",
            "7535",
            "7538",
            "7542",
            "7549",
        ),
    ),
    "fuel": ("transport", "加油消费", "fuel spend", ("5541", "5542", "5172", "5983")),
    "parking": ("transport", "停车与通行费", "parking and tolls", ("7523", "4784")),
    "education": (
        "leisure",
        "教育消费",
        "education spend",
        ("8211", "8220", "8241", "8244", "8249", "8299"),
    ),
    "travel": (
        "leisure",
        "出行旅游消费",
        "travel (airlines, hotels, agencies)",
        ("3000", "4511", "4722", "7011", "4411"),
    ),
    "baby": ("clothing", "母婴消费", "baby and children's stores", ("5641", "5945")),
    "home": (
        "housing",
        "家装家居消费",
        "home improvement and furniture",
        ("5200", "5211", "5712", "5719", "5722"),
    ),
    "luxury": ("clothing", "奢侈品消费", "jewellery and luxury", ("5944", "5094")),
    "pharmacy": ("medical", "药店消费", "pharmacy spend", ("5912", "5122")),
    "hospital": ("medical", "医院消费", "hospitals and clinics", ("8062", "8011", "8021", "8099")),
}

OUT = "amount_minor < 0"


def _ind(
    id: str,
    zh: str,
    en: str,
    category: str,
    source: str,
    window: int,
    sql: str,
    *,
    unit: str = "CNY",
    default: Any = 0,
    description: str = "",
    version: int = 1,
) -> Indicator:
    return {
        "id": id,
        "zh": zh,
        "en": en,
        "category": category,
        "description": description or en,
        "unit": unit,
        "source": source,
        "window": window,
        "sql": sql,
        "default": default,
        "version": version,
    }


def full_months(column: str) -> str:
    """Whole months from ``column`` to the as-of date, the same on every engine (DuckDB's
    ``date_diff('month')`` counts boundaries, Spark's ``months_between`` is fractional)."""
    return (
        f"((year({{as_of}}) - year({column})) * 12 + month({{as_of}}) - month({column})"
        f" - CASE WHEN day({{as_of}}) < day({column}) THEN 1 ELSE 0 END)"
    )


def ratio4(num: str, den: str) -> str:
    """num / den truncated to 4 decimals, identically on every engine: ``ROUND`` of a double
    differs at exact halves (DuckDB rounds the binary value, Spark the decimal one), while the
    correctly rounded IEEE quotient of exact integers floors the same everywhere."""
    return f"FLOOR(CAST({num} AS DOUBLE) * 10000 / ({den})) / 10000"


def _share(num: str, den: str) -> str:
    return f"CASE WHEN {den} > 0 THEN {ratio4(num, den)} END"


def _build() -> list[Indicator]:
    out: list[Indicator] = []
    add = out.append
    t = "transactions"
    # -- the seven need categories: spend and count per window, share, active months
    for need in NEEDS:
        for w in (1, 3, 6, 12):
            cond = f"need_category = '{need}' AND {OUT}"
            add(
                _ind(
                    f"{need}_spend_{w}m",
                    f"近{w}个月{NEED_ZH[need]}类消费金额",
                    f"{NEED_EN[need].capitalize()} spend, last {w} months",
                    need,
                    t,
                    w,
                    f"SUM(CASE WHEN {cond} THEN -amount_minor ELSE 0 END)",
                    description=f"Money out to {NEED_EN[need]} merchants (by MCC) in the window.",
                )
            )
            add(
                _ind(
                    f"{need}_count_{w}m",
                    f"近{w}个月{NEED_ZH[need]}类消费笔数",
                    f"{NEED_EN[need].capitalize()} transactions, last {w} months",
                    need,
                    t,
                    w,
                    f"SUM(CASE WHEN {cond} THEN 1 ELSE 0 END)",
                    unit="count",
                )
            )
        for w in (6, 12):
            add(
                _ind(
                    f"{need}_share_{w}m",
                    f"近{w}个月{NEED_ZH[need]}类消费占比",
                    f"{NEED_EN[need].capitalize()} share of spend, last {w} months",
                    need,
                    "derived",
                    w,
                    _share(f"{need}_spend_{w}m", f"spend_total_{w}m"),
                    unit="ratio",
                    default=None,
                )
            )
        add(
            _ind(
                f"{need}_active_months_12m",
                f"近12个月{NEED_ZH[need]}类有消费月数",
                f"Months with {NEED_EN[need]} spend, last 12 months",
                need,
                t,
                12,
                "COUNT(DISTINCT CASE WHEN need_category = "
                f"'{need}' AND {OUT} THEN date_trunc('month', \"date\") END)",
                unit="months",
            )
        )
    # -- merchant groups by MCC
    for key, (cat, zh, en, mccs) in MCC_GROUPS.items():
        codes = ", ".join(f"'{m}'" for m in mccs)
        for w in (6, 12):
            add(
                _ind(
                    f"{key}_spend_{w}m",
                    f"近{w}个月{zh}",
                    f"{en.capitalize()}, last {w} months",
                    cat,
                    t,
                    w,
                    f"SUM(CASE WHEN mcc IN ({codes}) AND {OUT} THEN -amount_minor ELSE 0 END)",
                )
            )
        add(
            _ind(
                f"{key}_count_12m",
                f"近12个月{zh}笔数",
                f"{en.capitalize()} transactions, last 12 months",
                cat,
                t,
                12,
                f"SUM(CASE WHEN mcc IN ({codes}) AND {OUT} THEN 1 ELSE 0 END)",
                unit="count",
            )
        )
    add(
        _ind(
            "medical_spend_share_12m",
            "近12个月医疗消费占比(含药店医院)",
            "Medical spend share incl. pharmacies and hospitals, last 12 months",
            "medical",
            "derived",
            12,
            _share(
                "medical_spend_12m + pharmacy_spend_12m + hospital_spend_12m", "spend_total_12m"
            ),
            unit="ratio",
            default=None,
        )
    )
    # -- channels
    for ch in CHANNELS:
        for w in (3, 12):
            add(
                _ind(
                    f"channel_{ch}_count_{w}m",
                    f"近{w}个月{CHANNEL_ZH[ch]}交易笔数",
                    f"{ch} channel transactions, last {w} months",
                    "channel",
                    t,
                    w,
                    f"SUM(CASE WHEN channel = '{ch}' THEN 1 ELSE 0 END)",
                    unit="count",
                )
            )
    add(
        _ind(
            "channel_distinct_12m",
            "近12个月使用渠道数",
            "Distinct channels used, last 12 months",
            "channel",
            t,
            12,
            "COUNT(DISTINCT channel)",
            unit="count",
        )
    )
    add(
        _ind(
            "channel_digital_share_12m",
            "近12个月线上渠道占比",
            "Digital (mobile, web, QR) share of transactions, last 12 months",
            "channel",
            "derived",
            12,
            _share(
                "channel_mobile_count_12m + channel_web_count_12m + channel_qr_count_12m",
                "txn_count_12m",
            ),
            unit="ratio",
            default=None,
        )
    )
    add(
        _ind(
            "channel_branch_share_12m",
            "近12个月网点渠道占比",
            "Branch and ATM share of transactions, last 12 months",
            "channel",
            "derived",
            12,
            _share("channel_branch_count_12m + channel_atm_count_12m", "txn_count_12m"),
            unit="ratio",
            default=None,
        )
    )
    # -- transaction kinds
    for kind in (*KINDS_IN, *KINDS_OUT, "fx"):
        sign = "amount_minor" if kind in KINDS_IN else "ABS(amount_minor)"
        cat = "finance"
        if kind in ("salary", "pension", "interest"):
            cat = "value"
        add(
            _ind(
                f"{kind}_amount_12m",
                f"近12个月{KIND_ZH[kind]}金额",
                f"{kind.replace('_', ' ').capitalize()} amount, last 12 months",
                cat,
                t,
                12,
                f"SUM(CASE WHEN kind = '{kind}' THEN {sign} ELSE 0 END)",
            )
        )
        add(
            _ind(
                f"{kind}_count_12m",
                f"近12个月{KIND_ZH[kind]}笔数",
                f"{kind.replace('_', ' ').capitalize()} transactions, last 12 months",
                cat,
                t,
                12,
                f"SUM(CASE WHEN kind = '{kind}' THEN 1 ELSE 0 END)",
                unit="count",
            )
        )
    for kind, w in (("salary", 6), ("salary", 12), ("pension", 6), ("loan_repayment", 6)):
        sign = "ABS(amount_minor)" if kind == "loan_repayment" else "amount_minor"
        add(
            _ind(
                f"{kind}_monthly_avg_{w}m",
                f"近{w}个月月均{KIND_ZH[kind]}",
                f"Average monthly {kind.replace('_', ' ')}, last {w} months",
                "value" if kind != "loan_repayment" else "finance",
                t,
                w,
                f"CAST(ROUND(SUM(CASE WHEN kind = '{kind}' THEN {sign} ELSE 0 END) / {w}.0)"
                " AS BIGINT)",
            )
        )
    for kind in ("salary", "pension", "loan_repayment"):
        add(
            _ind(
                f"{kind}_months_12m",
                f"近12个月有{KIND_ZH[kind]}月数",
                f"Months with {kind.replace('_', ' ')}, last 12 months",
                "value" if kind != "loan_repayment" else "finance",
                t,
                12,
                f"COUNT(DISTINCT CASE WHEN kind = '{kind}' THEN date_trunc('month', \"date\") END)",
                unit="months",
            )
        )
    # -- cross-border
    for w in (3, 12):
        add(
            _ind(
                f"cross_border_count_{w}m",
                f"近{w}个月跨境交易笔数",
                f"Cross-border transactions, last {w} months",
                "finance",
                t,
                w,
                "SUM(CASE WHEN cross_border THEN 1 ELSE 0 END)",
                unit="count",
            )
        )
    add(
        _ind(
            "cross_border_amount_12m",
            "近12个月跨境交易金额",
            "Cross-border amount, last 12 months",
            "finance",
            t,
            12,
            "SUM(CASE WHEN cross_border THEN ABS(amount_minor) ELSE 0 END)",
        )
    )
    add(
        _ind(
            "cross_border_countries_12m",
            "近12个月跨境交易国家数",
            "Distinct foreign countries, last 12 months",
            "finance",
            t,
            12,
            "COUNT(DISTINCT CASE WHEN cross_border THEN country END)",
            unit="count",
        )
    )
    add(
        _ind(
            "cross_border_months_12m",
            "近12个月有跨境交易月数",
            "Months with cross-border activity, last 12 months",
            "finance",
            t,
            12,
            "COUNT(DISTINCT CASE WHEN cross_border THEN date_trunc('month', \"date\") END)",
            unit="months",
        )
    )
    # -- flows and activity
    for w in (1, 3, 6, 12):
        add(
            _ind(
                f"inflow_{w}m",
                f"近{w}个月资金流入",
                f"Money in, last {w} months",
                "value",
                t,
                w,
                "SUM(CASE WHEN amount_minor > 0 THEN amount_minor ELSE 0 END)",
            )
        )
        add(
            _ind(
                f"outflow_{w}m",
                f"近{w}个月资金流出",
                f"Money out, last {w} months",
                "value",
                t,
                w,
                f"SUM(CASE WHEN {OUT} THEN -amount_minor ELSE 0 END)",
            )
        )
        add(
            _ind(
                f"txn_count_{w}m",
                f"近{w}个月交易笔数",
                f"Transactions, last {w} months",
                "channel",
                t,
                w,
                "COUNT(*)",
                unit="count",
            )
        )
    for w in (6, 12):
        add(
            _ind(
                f"spend_total_{w}m",
                f"近{w}个月消费总额",
                f"Merchant spend (any need category), last {w} months",
                "value",
                t,
                w,
                f"SUM(CASE WHEN need_category IS NOT NULL AND {OUT} THEN -amount_minor ELSE 0 END)",
            )
        )
    for w in (3, 12):
        add(
            _ind(
                f"net_flow_{w}m",
                f"近{w}个月资金净流入",
                f"Net flow, last {w} months",
                "value",
                t,
                w,
                "SUM(amount_minor)",
            )
        )
        add(
            _ind(
                f"active_days_{w}m",
                f"近{w}个月活跃天数",
                f"Days with a transaction, last {w} months",
                "channel",
                t,
                w,
                'COUNT(DISTINCT "date")',
                unit="days",
            )
        )
    add(
        _ind(
            "active_months_12m",
            "近12个月活跃月数",
            "Months with a transaction, last 12 months",
            "channel",
            t,
            12,
            "COUNT(DISTINCT date_trunc('month', \"date\"))",
            unit="months",
        )
    )
    add(
        _ind(
            "days_since_last_txn",
            "距最近一笔交易天数",
            "Days since the last transaction (within 12 months)",
            "channel",
            t,
            12,
            "DATE_DIFF('day', MAX(\"date\"), {as_of})",
            unit="days",
            default=None,
        )
    )
    add(
        _ind(
            "max_outflow_12m",
            "近12个月最大单笔支出",
            "Largest single payment, last 12 months",
            "risk",
            t,
            12,
            f"MAX(CASE WHEN {OUT} THEN -amount_minor ELSE 0 END)",
        )
    )
    add(
        _ind(
            "night_txn_count_12m",
            "近12个月夜间交易笔数",
            "Transactions between 00:00 and 05:00 UTC, last 12 months",
            "risk",
            t,
            12,
            "SUM(CASE WHEN hour(booked_at) < 5 THEN 1 ELSE 0 END)",
            unit="count",
        )
    )
    add(
        _ind(
            "counterparties_12m",
            "近12个月交易对手数",
            "Distinct counterparties, last 12 months",
            "channel",
            t,
            12,
            "COUNT(DISTINCT counterparty_id)",
            unit="count",
        )
    )
    # -- balances (month-end snapshots)
    assets = ", ".join(f"'{p}'" for p in ASSET_PRODUCTS)
    debts = ", ".join(f"'{p}'" for p in LIABILITY_PRODUCTS)
    for lag in (0, 3, 6):
        add(
            _ind(
                "aum" if lag == 0 else f"aum_{lag}m_ago",
                "资产管理规模(AUM)" if lag == 0 else f"{lag}个月前AUM",
                "Assets under management" if lag == 0 else f"AUM {lag} months ago",
                "value",
                "balances",
                lag,
                f"SUM(CASE WHEN product_code IN ({assets}) THEN balance_minor ELSE 0 END)",
                description="Deposits, wealth, insurance and pension at the month-end snapshot.",
            )
        )
    for p in PRODUCTS:
        sign = "ABS(balance_minor)" if p in LIABILITY_PRODUCTS else "balance_minor"
        add(
            _ind(
                f"balance_{p.replace('.', '_')}",
                f"{PRODUCT_ZH[p]}余额",
                f"Balance: {p}",
                PRODUCT_CATEGORY.get(p, "finance"),
                "balances",
                0,
                f"SUM(CASE WHEN product_code = '{p}' THEN {sign} ELSE 0 END)",
            )
        )
    add(
        _ind(
            "liabilities",
            "负债余额",
            "Outstanding liabilities (cards and loans)",
            "risk",
            "balances",
            0,
            f"SUM(CASE WHEN product_code IN ({debts}) THEN ABS(balance_minor) ELSE 0 END)",
        )
    )
    add(
        _ind(
            "aum_trend_3m",
            "AUM近3个月变化率",
            "AUM change over 3 months",
            "value",
            "derived",
            3,
            f"CASE WHEN aum_3m_ago > 0 THEN {ratio4('aum - aum_3m_ago', 'aum_3m_ago')} END",
            unit="ratio",
            default=None,
        )
    )
    add(
        _ind(
            "aum_trend_6m",
            "AUM近6个月变化率",
            "AUM change over 6 months",
            "value",
            "derived",
            6,
            f"CASE WHEN aum_6m_ago > 0 THEN {ratio4('aum - aum_6m_ago', 'aum_6m_ago')} END",
            unit="ratio",
            default=None,
        )
    )
    add(
        _ind(
            "debt_to_assets",
            "负债资产比",
            "Liabilities over AUM",
            "risk",
            "derived",
            0,
            _share("liabilities", "aum"),
            unit="ratio",
            default=None,
        )
    )
    add(
        _ind(
            "debt_service_ratio_12m",
            "近12个月还款收入比",
            "Loan repayments over money in, last 12 months",
            "risk",
            "derived",
            12,
            _share("loan_repayment_amount_12m", "inflow_12m"),
            unit="ratio",
            default=None,
        )
    )
    add(
        _ind(
            "cash_share_12m",
            "近12个月取现占比",
            "Cash withdrawals over money out, last 12 months",
            "risk",
            "derived",
            12,
            _share("cash_amount_12m", "outflow_12m"),
            unit="ratio",
            default=None,
        )
    )
    # -- accounts and products held
    open_now = "opened_on <= {as_of} AND (closed_on IS NULL OR closed_on > {as_of})"
    add(
        _ind(
            "products_held",
            "持有产品种类数",
            "Products held (distinct product codes with an open account)",
            "finance",
            "accounts",
            0,
            f"COUNT(DISTINCT CASE WHEN {open_now} THEN product_code END)",
            unit="count",
        )
    )
    add(
        _ind(
            "accounts_open",
            "开立中账户数",
            "Open accounts",
            "finance",
            "accounts",
            0,
            f"SUM(CASE WHEN {open_now} THEN 1 ELSE 0 END)",
            unit="count",
        )
    )
    for p in PRODUCTS:
        add(
            _ind(
                f"holds_{p.replace('.', '_')}",
                f"是否持有{PRODUCT_ZH[p]}",
                f"Holds {p}",
                PRODUCT_CATEGORY.get(p, "finance"),
                "accounts",
                0,
                f"MAX(CASE WHEN product_code = '{p}' AND {open_now} THEN 1 ELSE 0 END)",
                unit="flag",
            )
        )
    add(
        _ind(
            "accounts_opened_12m",
            "近12个月新开账户数",
            "Accounts opened in the last 12 months",
            "finance",
            "accounts",
            0,
            "SUM(CASE WHEN opened_on > {as_of} - INTERVAL 12 MONTH AND opened_on <= {as_of} "
            "THEN 1 ELSE 0 END)",
            unit="count",
        )
    )
    add(
        _ind(
            "accounts_closed_12m",
            "近12个月销户数",
            "Accounts closed in the last 12 months",
            "risk",
            "accounts",
            0,
            "SUM(CASE WHEN closed_on > {as_of} - INTERVAL 12 MONTH AND closed_on <= {as_of} "
            "THEN 1 ELSE 0 END)",
            unit="count",
        )
    )
    add(
        _ind(
            "first_mortgage_months",
            "首笔房贷账龄(月)",
            "Months since the first mortgage was opened",
            "housing",
            "accounts",
            0,
            "MAX(CASE WHEN product_code = 'loan.mortgage' AND opened_on <= {as_of} "
            f"THEN {full_months('opened_on')} END)",
            unit="months",
            default=None,
        )
    )
    add(
        _ind(
            "first_car_loan_months",
            "首笔车贷账龄(月)",
            "Months since the first car loan was opened",
            "transport",
            "accounts",
            0,
            "MAX(CASE WHEN product_code = 'loan.car' AND opened_on <= {as_of} "
            f"THEN {full_months('opened_on')} END)",
            unit="months",
            default=None,
        )
    )
    # -- demographics (row expressions over customers)
    c = "customers"
    add(
        _ind(
            "age",
            "年龄",
            "Age in whole years",
            "demographics",
            c,
            0,
            f"CAST(FLOOR(({full_months('birth_on')}) / 12) AS BIGINT)",
            unit="years",
            default=None,
        )
    )
    add(
        _ind(
            "gender",
            "性别",
            "Gender (M/F)",
            "demographics",
            c,
            0,
            "gender",
            unit="code",
            default=None,
        )
    )
    add(
        _ind(
            "is_company",
            "是否对公客户",
            "Company customer",
            "demographics",
            c,
            0,
            "CASE WHEN kind = 'company' THEN 1 ELSE 0 END",
            unit="flag",
        )
    )
    add(
        _ind(
            "kyc_level",
            "KYC等级",
            "KYC level",
            "risk",
            c,
            0,
            "kyc_level",
            unit="level",
            default=None,
        )
    )
    add(
        _ind(
            "tenure_months",
            "客户关系月数",
            "Months since onboarding",
            "demographics",
            c,
            0,
            full_months("onboarded_on"),
            unit="months",
            default=None,
        )
    )
    add(
        _ind(
            "province_code",
            "省份",
            "Province (GB/T 2260)",
            "demographics",
            c,
            0,
            "province_code",
            unit="code",
            default=None,
        )
    )
    add(
        _ind(
            "city_code",
            "城市",
            "City (GB/T 2260)",
            "demographics",
            c,
            0,
            "city_code",
            unit="code",
            default=None,
        )
    )
    add(
        _ind(
            "has_employer",
            "是否有代发单位",
            "Has a payroll employer",
            "demographics",
            c,
            0,
            "CASE WHEN employer_id IS NOT NULL THEN 1 ELSE 0 END",
            unit="flag",
        )
    )
    # -- events
    add(
        _ind(
            "events_12m",
            "近12个月业务事件数",
            "Business events recorded, last 12 months",
            "channel",
            "events",
            12,
            "COUNT(*)",
            unit="count",
        )
    )
    return out


INDICATORS: list[Indicator] = _build()
BY_ID: dict[str, Indicator] = {i["id"]: i for i in INDICATORS}
assert len(BY_ID) == len(INDICATORS), "duplicate indicator ids"
