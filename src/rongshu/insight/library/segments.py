"""The shipped core segments (百类核心客群), lifecycle stages and small ecosystem circles.

A segment is ``id``, ``zh``, ``en``, ``family`` (one of :data:`FAMILIES`), ``rule`` (the rule
language of :mod:`rongshu.insight.rules`) and ``version``. ``named`` marks the seed's four named
groups, whose precision and recall the bench reports against the generator's life events.
Amounts in rules are minor units (100 = 1 CNY).
"""

from __future__ import annotations

from typing import Any

from rongshu.insight.library.indicators import NEED_EN, NEED_ZH, NEEDS, PRODUCT_ZH, PRODUCTS

Segment = dict[str, Any]

FAMILIES: dict[str, tuple[str, str]] = {
    "life_stage": ("人生阶段", "Life stage"),
    "value_tier": ("价值分层", "Value tier"),
    "product_holding": ("产品持有", "Product holding"),
    "behaviour": ("行为与需求", "Behaviour and needs"),
    "channel": ("渠道偏好", "Channel preference"),
    "risk": ("风险", "Risk"),
}

# The seed's four named groups and the generator life event each is checked against.
NAMED_GROUPS: dict[str, str] = {
    "elderly": "retirement",
    "mortgage_holders": "home_purchase",
    "cross_border": "abroad",
    "car_owners": "car_purchase",
}

CNY = 100  # minor units per yuan


def _seg(id: str, zh: str, en: str, family: str, rule: str, *, named: bool = False) -> Segment:
    return {
        "id": id,
        "zh": zh,
        "en": en,
        "family": family,
        "rule": rule,
        "named": named,
        "version": 1,
    }


def _build() -> list[Segment]:
    out: list[Segment] = []
    add = out.append
    # -- the four named groups
    add(
        _seg(
            "elderly",
            "老年客群",
            "Elderly",
            "life_stage",
            "age >= 60 or pension_months_12m >= 2",
            named=True,
        )
    )
    add(
        _seg(
            "mortgage_holders",
            "房贷客群",
            "Mortgage holders",
            "product_holding",
            "holds_loan_mortgage = 1 or balance_loan_mortgage > 0",
            named=True,
        )
    )
    add(
        _seg(
            "cross_border",
            "跨境客群",
            "Cross-border",
            "behaviour",
            "cross_border_count_12m >= 2 or cross_border_months_12m >= 1 and fx_count_12m >= 1",
            named=True,
        )
    )
    add(
        _seg(
            "car_owners",
            "车主客群",
            "Car owners",
            "behaviour",
            "holds_loan_car = 1 or fuel_count_12m >= 3 or car_spend_12m >= "
            f"{3000 * CNY} and car_count_12m >= 2",
            named=True,
        )
    )
    # -- life stage
    for lo, hi, zh, en in (
        (18, 24, "青年学生", "Young adults 18-24"),
        (25, 34, "青年白领", "Young professionals 25-34"),
        (35, 44, "中年家庭", "Mid-life families 35-44"),
        (45, 59, "壮年稳健", "Established 45-59"),
        (60, 69, "低龄老人", "Young-old 60-69"),
        (70, 150, "高龄老人", "Old-old 70+"),
    ):
        add(_seg(f"age_{lo}_{hi}", zh, en, "life_stage", f"age between {lo} and {hi}"))
    add(
        _seg(
            "payroll_customers",
            "代发客群",
            "Payroll customers",
            "life_stage",
            "salary_months_12m >= 3",
        )
    )
    add(
        _seg(
            "pensioners", "养老金客群", "Pension receivers", "life_stage", "pension_months_12m >= 3"
        )
    )
    add(
        _seg(
            "new_workers",
            "职场新人",
            "New to work",
            "life_stage",
            "age <= 28 and salary_months_12m >= 1 and tenure_months <= 24",
        )
    )
    add(
        _seg(
            "young_parents",
            "新手父母",
            "Young parents",
            "life_stage",
            f"age between 25 and 45 and baby_spend_12m >= {500 * CNY}",
        )
    )
    add(
        _seg(
            "education_families",
            "教育家庭",
            "Families paying for education",
            "life_stage",
            f"education_spend_12m >= {2000 * CNY}",
        )
    )
    add(
        _seg(
            "new_homeowners",
            "新购房客群",
            "New homeowners",
            "life_stage",
            "first_mortgage_months <= 12",
        )
    )
    add(
        _seg(
            "home_improvers",
            "家装客群",
            "Home improvers",
            "life_stage",
            f"home_spend_12m >= {5000 * CNY}",
        )
    )
    add(_seg("females", "女性客群", "Women", "life_stage", "gender = 'F' and is_company = 0"))
    add(_seg("males", "男性客群", "Men", "life_stage", "gender = 'M' and is_company = 0"))
    add(_seg("companies", "对公客群", "Companies", "life_stage", "is_company = 1"))
    add(
        _seg(
            "pre_retirement",
            "临退休客群",
            "Approaching retirement",
            "life_stage",
            "age between 55 and 59",
        )
    )
    # -- value tiers (AUM in CNY)
    for lo, hi, zh, en in (
        (0, 1_000, "长尾客户", "Mass (AUM < 1k)"),
        (1_000, 50_000, "大众客户", "Mass affluent entry (1k-50k)"),
        (50_000, 300_000, "潜力客户", "Emerging affluent (50k-300k)"),
        (300_000, 1_000_000, "富裕客户", "Affluent (300k-1m)"),
        (1_000_000, 6_000_000, "财富客户", "Wealth (1m-6m)"),
        (6_000_000, 10**12, "私行客户", "Private banking (6m+)"),
    ):
        add(
            _seg(
                f"aum_{lo}_{hi}" if hi < 10**12 else f"aum_{lo}_plus",
                zh,
                en,
                "value_tier",
                f"aum >= {lo * CNY} and aum < {hi * CNY}",
            )
        )
    add(
        _seg(
            "aum_growing",
            "资产上升客户",
            "AUM growing 20%+ in 6 months",
            "value_tier",
            "aum_trend_6m >= 0.2",
        )
    )
    add(
        _seg(
            "aum_falling",
            "资产流失客户",
            "AUM down 30%+ in 6 months",
            "value_tier",
            "aum_trend_6m <= -0.3",
        )
    )
    for lo, zh in ((5_000, "月薪五千以上"), (10_000, "月薪一万以上"), (30_000, "月薪三万以上")):
        add(
            _seg(
                f"salary_{lo}_plus",
                zh,
                f"Monthly payroll {lo:,}+ CNY",
                "value_tier",
                f"salary_monthly_avg_6m >= {lo * CNY}",
            )
        )
    add(
        _seg(
            "high_spenders",
            "高消费客户",
            "High spenders (100k+ a year)",
            "value_tier",
            f"spend_total_12m >= {100_000 * CNY}",
        )
    )
    add(
        _seg(
            "net_savers",
            "净储蓄客户",
            "Net savers",
            "value_tier",
            "net_flow_12m > 0 and inflow_12m > 0",
        )
    )
    # -- product holding
    for p in PRODUCTS:
        pid = p.replace(".", "_")
        add(
            _seg(
                f"holders_{pid}",
                f"{PRODUCT_ZH[p]}持有客户",
                f"Holders of {p}",
                "product_holding",
                f"holds_{pid} = 1",
            )
        )
    add(
        _seg(
            "single_product", "单产品客户", "Single product", "product_holding", "products_held = 1"
        )
    )
    add(
        _seg(
            "multi_product",
            "多产品客户",
            "Three or more products",
            "product_holding",
            "products_held >= 3",
        )
    )
    add(
        _seg(
            "deposit_only",
            "纯存款客户",
            "Deposits only",
            "product_holding",
            "products_held >= 1 and holds_wealth_fund = 0 and holds_wealth_insurance = 0 "
            "and holds_card_credit = 0 and holds_loan_mortgage = 0 and holds_loan_car = 0 "
            "and holds_loan_consumer = 0 and holds_loan_business = 0 and holds_pension = 0",
        )
    )
    add(
        _seg(
            "wealth_prospects",
            "理财潜客",
            "Wealth prospects (cash rich, no funds)",
            "product_holding",
            f"balance_deposit_current >= {50_000 * CNY} and holds_wealth_fund = 0",
        )
    )
    add(
        _seg(
            "pension_prospects",
            "个人养老金潜客",
            "Personal pension prospects",
            "product_holding",
            "salary_months_12m >= 6 and holds_pension = 0 and age between 30 and 59",
        )
    )
    add(
        _seg(
            "card_prospects",
            "信用卡潜客",
            "Credit card prospects",
            "product_holding",
            "holds_card_credit = 0 and salary_months_12m >= 6",
        )
    )
    add(
        _seg(
            "borrowers",
            "贷款客户",
            "Any loan",
            "product_holding",
            "holds_loan_mortgage = 1 or holds_loan_car = 1 or holds_loan_consumer = 1 "
            "or holds_loan_business = 1",
        )
    )
    add(
        _seg(
            "new_accounts",
            "近期开户客户",
            "Opened an account in 12 months",
            "product_holding",
            "accounts_opened_12m >= 1",
        )
    )
    # -- behaviour and needs: the seven categories, heavy and frequent
    for need in NEEDS:
        add(
            _seg(
                f"{need}_heavy",
                f"{NEED_ZH[need]}类高消费客群",
                f"Heavy {NEED_EN[need]} spenders",
                "behaviour",
                f"{need}_share_12m >= 0.3 and {need}_spend_12m >= {5_000 * CNY}",
            )
        )
        add(
            _seg(
                f"{need}_regular",
                f"{NEED_ZH[need]}类常客",
                f"Regular {NEED_EN[need]} spenders",
                "behaviour",
                f"{need}_active_months_12m >= 6",
            )
        )
    for key, zh, en, rule in (
        ("foodies", "美食达人", "Foodies", f"food_spend_6m >= {6_000 * CNY}"),
        ("travellers", "旅游达人", "Travellers", f"travel_spend_12m >= {10_000 * CNY}"),
        ("luxury_buyers", "奢品客群", "Luxury buyers", f"luxury_spend_12m >= {20_000 * CNY}"),
        ("health_conscious", "健康关注客群", "Health conscious", "medical_spend_share_12m >= 0.1"),
        ("pharmacy_regulars", "药店常客", "Pharmacy regulars", "pharmacy_count_12m >= 6"),
        ("commuters", "通勤客群", "Commuters", "transport_count_3m >= 20"),
        ("drivers", "自驾客群", "Drivers", "fuel_count_12m >= 6 or parking_count_12m >= 6"),
        ("bill_payers", "缴费客群", "Bill payers", "bill_count_12m >= 6"),
        ("investors", "投资客群", "Active investors", "investment_count_12m >= 3"),
        ("cash_users", "现金偏好客群", "Cash users", "cash_count_12m >= 6"),
        ("fx_users", "外汇客群", "FX users", "fx_count_12m >= 1"),
        ("frequent_abroad", "频繁出境客群", "Frequently abroad", "cross_border_months_12m >= 3"),
        ("multi_country", "多国消费客群", "Several countries", "cross_border_countries_12m >= 2"),
        ("big_ticket", "大额消费客群", "Big-ticket buyers", f"max_outflow_12m >= {50_000 * CNY}"),
        ("active_daily", "高频活跃客群", "Active most days", "active_days_3m >= 45"),
        ("dining_out_young", "年轻餐饮客群", "Young diners", "age <= 35 and food_count_3m >= 15"),
        (
            "leisure_seekers",
            "休闲娱乐客群",
            "Leisure seekers",
            f"leisure_spend_6m >= {3_000 * CNY}",
        ),
        ("fashion", "时尚服饰客群", "Fashion", f"clothing_spend_6m >= {3_000 * CNY}"),
        ("renters", "租房客群", "Renters", "housing_count_12m >= 6 and holds_loan_mortgage = 0"),
        (
            "small_business",
            "小微经营客群",
            "Small business owners",
            "holds_loan_business = 1 or is_company = 1",
        ),
    ):
        add(_seg(key, zh, en, "behaviour", rule))
    # -- channel preference
    for ch, zh in (
        ("mobile", "手机银行"),
        ("web", "网银"),
        ("branch", "网点"),
        ("atm", "ATM"),
        ("qr", "扫码"),
        ("pos", "POS刷卡"),
    ):
        add(
            _seg(
                f"prefers_{ch}",
                f"{zh}偏好客群",
                f"Prefers {ch}",
                "channel",
                f"txn_count_12m >= 5 and channel_{ch}_count_12m * 2 >= txn_count_12m",
            )
        )
    add(
        _seg(
            "digital_first",
            "线上优先客群",
            "Digital first",
            "channel",
            "channel_digital_share_12m >= 0.8",
        )
    )
    add(
        _seg(
            "branch_reliant",
            "依赖网点客群",
            "Branch reliant",
            "channel",
            "channel_branch_share_12m >= 0.5",
        )
    )
    add(_seg("omni_channel", "全渠道客群", "Omni-channel", "channel", "channel_distinct_12m >= 4"))
    add(
        _seg(
            "inactive_3m",
            "近3月不活跃",
            "Inactive for 3 months",
            "channel",
            "txn_count_3m = 0 and txn_count_12m > 0",
        )
    )
    add(_seg("silent_12m", "沉默客户", "Silent for 12 months", "channel", "txn_count_12m = 0"))
    add(
        _seg(
            "low_activity", "低活跃客户", "Low activity", "channel", "txn_count_3m between 1 and 5"
        )
    )
    # -- risk
    add(_seg("high_leverage", "高负债客户", "High leverage", "risk", "debt_to_assets >= 2"))
    add(
        _seg(
            "debt_strained",
            "还款压力客户",
            "Debt strained",
            "risk",
            "debt_service_ratio_12m >= 0.5",
        )
    )
    add(
        _seg(
            "night_owls",
            "夜间交易客户",
            "Night-time transactors",
            "risk",
            "night_txn_count_12m >= 10",
        )
    )
    add(
        _seg(
            "cash_heavy",
            "大额取现客户",
            "Cash heavy",
            "risk",
            "cash_share_12m >= 0.5 and outflow_12m >= 1000000",
        )
    )
    add(_seg("low_kyc", "低等级KYC客户", "Low KYC level", "risk", "kyc_level <= 1"))
    add(
        _seg(
            "closing_accounts",
            "销户倾向客户",
            "Closing accounts",
            "risk",
            "accounts_closed_12m >= 1",
        )
    )
    add(_seg("fee_payers", "高手续费客户", "Fee payers", "risk", "fee_count_12m >= 6"))
    add(
        _seg(
            "many_counterparties",
            "交易对手众多客户",
            "Many counterparties",
            "risk",
            "counterparties_12m >= 50",
        )
    )
    add(
        _seg(
            "outflow_spike",
            "资金快速流出客户",
            "Money leaving fast",
            "risk",
            "outflow_1m * 3 > outflow_12m and outflow_1m >= 5000000",
        )
    )
    add(
        _seg(
            "cross_border_large",
            "大额跨境客户",
            "Large cross-border amounts",
            "risk",
            f"cross_border_amount_12m >= {500_000 * CNY}",
        )
    )
    return out


SEGMENTS: list[Segment] = _build()
SEGMENT_BY_ID: dict[str, Segment] = {s["id"]: s for s in SEGMENTS}
assert len(SEGMENT_BY_ID) == len(SEGMENTS), "duplicate segment ids"

# Lifecycle: the first matching rule wins; ``won_back`` is assigned by the build when a customer
# who was dormant or churned becomes active again.
STAGES: list[tuple[str, str, str, str]] = [
    (
        "prospect",
        "潜在客户",
        "Prospect",
        "accounts_open = 0 and accounts_closed_12m = 0 and txn_count_12m = 0",
    ),
    ("churned", "流失客户", "Churned", "accounts_open = 0 or txn_count_12m = 0 and aum < 10000"),
    ("dormant", "休眠客户", "Dormant", "txn_count_3m = 0"),
    ("new", "新客户", "New", "tenure_months < 6"),
    (
        "declining",
        "衰退客户",
        "Declining",
        "aum_trend_6m <= -0.3 or txn_count_3m * 8 < txn_count_12m",
    ),
    ("growing", "成长客户", "Growing", "tenure_months < 36 and aum_trend_6m >= 0.1"),
    ("mature", "成熟客户", "Mature", "true"),
]
WON_BACK = ("won_back", "挽回客户", "Won back")
ACTIVE_STAGES = {"new", "growing", "mature", "declining"}
STAGE_NAMES: dict[str, tuple[str, str]] = {s[0]: (s[1], s[2]) for s in STAGES}
STAGE_NAMES[WON_BACK[0]] = (WON_BACK[1], WON_BACK[2])

# Small ecosystem circles: a segment bound to bank products (measured through the holds_*
# indicators) and partner services (codes for the catalogue, not measured until it lands).
CIRCLES: list[dict[str, Any]] = [
    {
        "id": "silver_age",
        "zh": "银发生活圈",
        "en": "Silver-age circle",
        "segment": "elderly",
        "bank_products": ["pension", "deposit.time", "wealth.insurance"],
        "partner_services": ["partner.health_checkup", "partner.elderly_care", "partner.pharmacy"],
        "engagement": "medical_count_3m >= 1 or pharmacy_count_12m >= 1",
    },
    {
        "id": "home_life",
        "zh": "安家生活圈",
        "en": "Home-life circle",
        "segment": "mortgage_holders",
        "bank_products": ["loan.mortgage", "wealth.insurance", "card.credit"],
        "partner_services": ["partner.home_improvement", "partner.property_services"],
        "engagement": "housing_count_3m >= 1 or home_spend_12m > 0",
    },
    {
        "id": "global_travel",
        "zh": "跨境出行圈",
        "en": "Cross-border circle",
        "segment": "cross_border",
        "bank_products": ["card.credit", "deposit.current", "wealth.insurance"],
        "partner_services": ["partner.travel_agency", "partner.visa", "partner.fx_cash"],
        "engagement": "cross_border_count_3m >= 1",
    },
    {
        "id": "car_life",
        "zh": "车主生活圈",
        "en": "Car-owner circle",
        "segment": "car_owners",
        "bank_products": ["loan.car", "card.credit", "wealth.insurance"],
        "partner_services": ["partner.car_insurance", "partner.fuel", "partner.car_wash"],
        "engagement": "fuel_count_12m >= 1 or parking_count_12m >= 1",
    },
]
CIRCLE_BY_ID = {c["id"]: c for c in CIRCLES}
