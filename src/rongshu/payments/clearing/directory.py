"""The simulated counterparty banks and their accounts (seeded by migration 0002).

CNAPS bank codes (行号) of real head offices are used for realism; account numbers and holders
are invented. Statuses: ``open``, ``closed`` (AC04), ``blocked`` (AC06).
"""

from __future__ import annotations

BANKS: tuple[tuple[str, str], ...] = (
    ("102100099996", "中国工商银行"),
    ("103100000026", "中国农业银行"),
    ("104100000004", "中国银行"),
    ("105100000017", "中国建设银行"),
    ("308584000013", "招商银行"),
    ("301290000007", "交通银行"),
    ("403100000004", "中国邮政储蓄银行"),
)

# (bank code, account number, holder name, status)
ACCOUNTS: tuple[tuple[str, str, str, str], ...] = (
    ("102100099996", "6222020200001234567", "张伟", "open"),
    ("102100099996", "6222020200007654321", "王芳", "open"),
    ("102100099996", "6222020200005550001", "李娜", "closed"),
    ("103100000026", "6228480010000000018", "刘洋", "open"),
    ("103100000026", "6228480010000000026", "陈静", "blocked"),
    ("104100000004", "6216610100000000011", "杨磊", "open"),
    ("104100000004", "6216610100000000029", "上海榕果贸易有限公司", "open"),
    ("105100000017", "6217000010000000015", "赵敏", "open"),
    ("105100000017", "6217000010000000023", "黄勇", "closed"),
    ("308584000013", "6225880100000000019", "周杰", "open"),
    ("308584000013", "6225880100000000027", "深圳市榕树科技有限公司", "open"),
)


def head_office(bank_code: str) -> str | None:
    """The CNAPS code of a bank's head office in the directory from its 3-digit bank type
    code (行别, the first three digits of every one of its CNAPS codes); a 12-digit code is
    answered as it is when the directory has it. None when the directory does not know it."""
    code = bank_code.strip()
    for known, _name in BANKS:
        if code == known or (len(code) == 3 and known.startswith(code)):
            return known
    return None
