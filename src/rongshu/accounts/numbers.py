"""Account numbers: 19 digits, card-style, with a Luhn check digit (ISO/IEC 7812).

    6217 88 BBBB T SSSSSSS C
    └─ BIN ─┘ │   │    │     └ Luhn check digit over the first 18 digits
              │   │    └ serial per branch (7 digits)
              │   └ account class: 1, 2 or 3 (Type I/II/III)
              └ branch code (4 digits)

The BIN ``621788`` lies in UnionPay's 62 range and is this project's own; a deployment sets
``RONGSHU_ACCOUNTS["bin"]`` to its bank's BIN (6 digits).
"""

from __future__ import annotations

from stdnum import luhn
from stdnum.exceptions import ValidationError as StdnumError

LENGTH = 19


def make_account_number(bin_: str, branch_code: str, account_type: int, serial: int) -> str:
    if len(bin_) != 6 or not bin_.isdigit():
        raise ValueError("the BIN has 6 digits")
    branch = branch_code.zfill(4)[-4:]
    if not branch.isdigit():
        raise ValueError("the branch code has digits only")
    if account_type not in (1, 2, 3) or not 0 < serial < 10**7:
        raise ValueError("account type 1-3 and a serial of at most 7 digits")
    body = f"{bin_}{branch}{account_type}{serial:07d}"
    return body + luhn.calc_check_digit(body)


def is_valid_account_number(number: str) -> bool:
    if len(number) != LENGTH or not number.isdigit():
        return False
    try:
        luhn.validate(number)
    except StdnumError:
        return False
    return True


def account_type_of(number: str) -> int:
    return int(number[10])


def mask_account_number(number: str) -> str:
    """``6217 **** **** ***1 234`` style: first 4 and last 4 digits."""
    if len(number) < 8:
        return number
    return f"{number[:4]} **** {number[-4:]}"
