"""The demo biller catalogue, generated deterministically: every prefecture-level city of
GB/T 2260 (``data/gb2260/201904.tsv``; municipalities count once) × every payment item below.
Account-number formats and their validation live here too (one rule per format)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext_lazy as _
from stdnum.cn import ric

from rongshu.kernel import clock

GB2260 = Path(__file__).resolve().parents[3] / "data" / "gb2260" / "201904.tsv"


@dataclass(frozen=True)
class Item:
    code: str
    category: str
    name_zh: str
    name_en: str
    account_format: str
    mode: str = "bill"
    partial: bool = False


# category, items (≥ 40 per city)
ITEMS: tuple[Item, ...] = (
    Item("water", "utilities", "水费", "Water", "digits8"),
    Item("water_ic", "utilities", "水卡充值", "Water card top-up", "digits12", "prepaid", True),
    Item("electricity", "utilities", "电费", "Electricity", "luhn10"),
    Item(
        "electricity_prepaid",
        "utilities",
        "预付费电费",
        "Prepaid electricity",
        "luhn10",
        "prepaid",
        True,
    ),
    Item("gas", "utilities", "燃气费", "Gas", "digits12"),
    Item("gas_ic", "utilities", "燃气卡充值", "Gas card top-up", "digits12", "prepaid", True),
    Item("heating", "utilities", "供暖费", "Heating", "digits10"),
    Item("sewage", "utilities", "污水处理费", "Sewage treatment", "digits8"),
    Item("garbage", "utilities", "垃圾处理费", "Waste collection", "digits8"),
    Item("landline", "telecom", "固定电话费", "Landline phone", "landline"),
    Item("broadband_cm", "telecom", "移动宽带", "China Mobile broadband", "broadband"),
    Item("broadband_cu", "telecom", "联通宽带", "China Unicom broadband", "broadband"),
    Item("broadband_ct", "telecom", "电信宽带", "China Telecom broadband", "broadband"),
    Item(
        "mobile_cm", "telecom", "中国移动话费充值", "China Mobile top-up", "mobile", "prepaid", True
    ),
    Item(
        "mobile_cu", "telecom", "中国联通话费充值", "China Unicom top-up", "mobile", "prepaid", True
    ),
    Item(
        "mobile_ct",
        "telecom",
        "中国电信话费充值",
        "China Telecom top-up",
        "mobile",
        "prepaid",
        True,
    ),
    Item("mobile_bill", "telecom", "手机账单缴费", "Postpaid mobile bill", "mobile", partial=True),
    Item("cable_tv", "telecom", "有线电视费", "Cable TV", "digits10"),
    Item("iptv", "telecom", "IPTV 套餐费", "IPTV subscription", "digits10"),
    Item("property", "housing", "物业费", "Property management fee", "house", partial=True),
    Item("parking", "housing", "停车费", "Parking fee", "plate"),
    Item("elevator", "housing", "电梯运行费", "Elevator operation fee", "house"),
    Item("maintenance_fund", "housing", "住宅专项维修资金", "Housing maintenance fund", "house"),
    Item("rent_public", "housing", "公租房租金", "Public rental housing rent", "house"),
    Item("traffic_fine", "transport", "交通罚款", "Traffic fines", "fine15"),
    Item("etc", "transport", "ETC 充值", "ETC toll top-up", "digits16", "prepaid", True),
    Item(
        "transit_card",
        "transport",
        "公交卡充值",
        "Transit card top-up",
        "digits10",
        "prepaid",
        True,
    ),
    Item("vehicle_tax", "transport", "车船税", "Vehicle and vessel tax", "plate"),
    Item("tuition_kg", "education", "幼儿园保教费", "Kindergarten fees", "student"),
    Item("tuition_school", "education", "中小学学杂费", "School fees", "student"),
    Item("tuition_univ", "education", "高校学费", "University tuition", "student", partial=True),
    Item("exam_fee", "education", "考试报名费", "Exam registration fee", "resident_id"),
    Item("school_meal", "education", "学生餐费", "School meals", "student", "prepaid", True),
    Item(
        "pension_resident",
        "social",
        "城乡居民养老保险",
        "Resident pension insurance",
        "resident_id",
    ),
    Item(
        "medical_resident",
        "social",
        "城乡居民医疗保险",
        "Resident medical insurance",
        "resident_id",
    ),
    Item(
        "social_flexible",
        "social",
        "灵活就业社保",
        "Social insurance (self-employed)",
        "resident_id",
    ),
    Item(
        "provident_fund",
        "social",
        "住房公积金缴存",
        "Housing provident fund",
        "resident_id",
        partial=True,
    ),
    Item("hospital", "health", "医院门诊缴费", "Hospital outpatient fees", "digits10"),
    Item(
        "hospital_deposit", "health", "住院预交金", "Inpatient deposit", "digits10", "prepaid", True
    ),
    Item("court_fee", "government", "诉讼费", "Court fees", "fine15"),
    Item("non_tax", "government", "非税收入缴款", "Non-tax government revenue", "fine15"),
    Item("vehicle_inspection", "government", "机动车检验费", "Vehicle inspection fee", "plate"),
    Item("passport_fee", "government", "出入境证件费", "Passport and permit fees", "resident_id"),
    Item(
        "club_membership", "community", "社区服务费", "Community service fee", "house", partial=True
    ),
    Item("charity", "community", "慈善捐款", "Charity donation", "digits8", "prepaid", True),
)

CATEGORIES = (
    "utilities",
    "telecom",
    "housing",
    "transport",
    "education",
    "social",
    "health",
    "government",
    "community",
)

CATEGORY_LABELS = {
    "utilities": _("Utilities"),
    "telecom": _("Phone and internet"),
    "housing": _("Housing"),
    "transport": _("Transport"),
    "education": _("Education"),
    "social": _("Social insurance"),
    "health": _("Health"),
    "government": _("Government fees"),
    "community": _("Community"),
}

_PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PATTERNS = {
    "digits8": re.compile(r"^\d{8}$"),
    "digits10": re.compile(r"^\d{10}$"),
    "digits12": re.compile(r"^\d{12}$"),
    "digits16": re.compile(r"^\d{16}$"),
    "luhn10": re.compile(r"^\d{10}$"),
    "fine15": re.compile(r"^\d{15}$"),
    "student": re.compile(r"^\d{10,12}$"),
    "mobile": re.compile(r"^1[3-9]\d{9}$"),
    "landline": re.compile(r"^0\d{2,3}-?\d{7,8}$"),
    "broadband": re.compile(r"^[A-Z]{2}\d{8}$"),
    "house": re.compile(r"^[A-Z0-9]{1,4}-\d{1,2}-\d{3,4}$"),
    "plate": re.compile(rf"^[{_PLATE_PROVINCES}][A-Z][A-HJ-NP-Z0-9]{{5,6}}$"),
}
FORMAT_HINTS = {
    "digits8": "8 digits",
    "digits10": "10 digits",
    "digits12": "12 digits",
    "digits16": "16 digits",
    "luhn10": "10 digits",
    "fine15": "15 digits",
    "student": "10-12 digits",
    "mobile": "11-digit mobile number",
    "landline": "0755-12345678",
    "broadband": "AB12345678",
    "house": "A3-2-1201",
    "plate": "粤B12345",
    "resident_id": "18-character resident ID",
}


def _luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        n = int(char)
        if index % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _luhn_digit(body: str) -> str:
    for check in "0123456789":
        if _luhn_ok(body + check):
            return check
    raise AssertionError("unreachable")


def normalize_account(text: str) -> str:
    return "".join(text.split()).upper()


def is_valid_account(account_format: str, number: str) -> bool:
    if account_format == "resident_id":
        return bool(ric.is_valid(number))
    pattern = _PATTERNS.get(account_format)
    if pattern is None or not pattern.match(number):
        return False
    return account_format != "luhn10" or _luhn_ok(number)


def _digits(seed: str, count: int) -> str:
    out = ""
    block = 0
    while len(out) < count:
        out += str(int(hashlib.sha256(f"{seed}:{block}".encode()).hexdigest(), 16))
        block += 1
    return out[:count]


def sample_account(account_format: str, index: int) -> str:
    """A valid account number of ``account_format`` (deterministic; demos, tests, bench)."""
    seed = f"{account_format}:{index}"
    d = _digits(seed, 20)
    match account_format:
        case "digits8":
            return d[:8]
        case "digits10" | "fine15" | "digits12" | "digits16":
            size = {"digits10": 10, "fine15": 15, "digits12": 12, "digits16": 16}[account_format]
            return "1" + d[: size - 1]
        case "luhn10":
            return "3" + d[:8] + _luhn_digit("3" + d[:8])
        case "student":
            return "20" + d[:9]
        case "mobile":
            return "138" + d[:8]
        case "landline":
            return "0755-" + d[:8]
        case "broadband":
            return "GD" + d[:8]
        case "house":
            return f"A{int(d[0]) + 1}-{int(d[1]) + 1}-{int(d[2:4]) % 30 + 1:02d}0{int(d[4])}"
        case "plate":
            return "粤B" + d[:5]
        case "resident_id":
            body = f"110105198{int(d[0])}0{int(d[1]) % 9 + 1}1{int(d[2]) % 9}{d[3:6]}"
            return body + ric.calc_check_digit(body + "0")
    raise ValueError(account_format)


# ------------------------------------------------------------------ cities
@dataclass(frozen=True)
class CityRow:
    code: str
    province_code: str
    name_zh: str
    name_en: str


_SUFFIXES = ("特别行政区", "自治州", "地区", "市", "盟")


def english_name(name_zh: str) -> str:
    from pypinyin import lazy_pinyin

    core = name_zh
    for suffix in _SUFFIXES:
        if core.endswith(suffix) and len(core) > len(suffix) + 1:
            core = core[: -len(suffix)]
            break
    return "".join(lazy_pinyin(core)).capitalize()


def read_cities(path: Path = GB2260) -> list[CityRow]:
    """Prefecture-level cities (codes ``xxxx00``); a municipality's grouping rows (市辖区, 县)
    become one city named after it."""
    names: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        parts = line.split("\t")
        if len(parts) >= 4 and parts[2].isdigit():
            names[parts[2]] = parts[3].strip()
    rows: dict[str, CityRow] = {}
    for code in ("110000", "120000", "310000", "500000"):  # municipalities: one city each
        if code in names:
            city = code[:2] + "0100"
            rows[city] = CityRow(city, code, names[code], english_name(names[code]))
    for code in sorted(names):
        if not code.endswith("00") or code.endswith("0000"):
            continue
        province = code[:2] + "0000"
        name = names[code]
        if name in ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"):
            if name in ("市辖区", "县") and province in names:
                name = names[province]
                code = code[:2] + "0100"
            else:
                continue
        if code in rows:
            continue
        rows[code] = CityRow(code, province, name, english_name(name))
    return list(rows.values())


def biller_code(city_code: str, item_code: str) -> str:
    return f"{city_code}-{item_code}"


def biller_terms(city_code: str, item: Item) -> dict[str, object]:
    """Cut-off, maintenance window, fees and limits of one demo biller (deterministic)."""
    h = int(hashlib.sha256(f"{city_code}:{item.code}".encode()).hexdigest()[:8], 16)
    cutoff = dt.time(22, 0) if h % 3 else dt.time(23, 0)
    fee = 100 if item.code in ("court_fee", "passport_fee") else 0
    return {
        "cutoff": cutoff,
        "maintenance_start": dt.time(0, 30),
        "maintenance_end": dt.time(0, 45),
        "fee_minor": fee,
        "commission_bp": 10 + h % 20,
        "min_minor": 1_00 if item.mode == "prepaid" else 1,
        "max_minor": 50_000_00 if item.category in ("education", "social") else 5_000_00 * 10,
    }


def current_period(day: dt.date | None = None) -> str:
    day = day or clock.get_business_date()
    return f"{day.year:04d}{day.month:02d}"
