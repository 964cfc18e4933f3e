"""Check digits of the identifiers a party is named by: the unified social credit code
(统一社会信用代码, GB 32100-2015) of an organisation, with the organisation code inside it
(GB 11714-1997), and the citizen identity number (公民身份号码, GB 11643-1999). Pure."""

from __future__ import annotations

import re

# GB 32100-2015 §4.2: the code's characters are the digits and the capital letters without
# I, O, S, V and Z (easily mistaken for 1, 0, 5, U and 2), valued 0–30 in this order.
CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_VALUES = {c: i for i, c in enumerate(CREDIT_ALPHABET)}
# GB 32100-2015 §5: the weight of position i (1-based) is 3^(i-1) mod 31.
CREDIT_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_CREDIT_SHAPE = re.compile(rf"^[{CREDIT_ALPHABET}]{{2}}\d{{6}}[0-9A-Z]{{9}}[{CREDIT_ALPHABET}]$")

# GB 11714-1997: the organisation code's eight body characters (digits and capitals, A = 10)
# weigh 3, 7, 9, 10, 5, 8, 4, 2; its check is 11 - sum mod 11, written X for 10, 0 for 11.
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

# GB 11643-1999: weights 2^(17-i) mod 11 and the check characters for sum mod 11 = 0 … 10.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECKS = "10X98765432"
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")


def credit_check_char(body: str) -> str:
    """The 18th character of a credit code whose first 17 are `body`."""
    if len(body) != 17 or any(c not in _CREDIT_VALUES for c in body):
        raise ValueError(f"{body!r}: 17 characters of {CREDIT_ALPHABET}")
    total = sum(_CREDIT_VALUES[c] * w for c, w in zip(body, CREDIT_WEIGHTS, strict=True))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def org_check_char(body: str) -> str:
    """The ninth character of an organisation code whose first eight are `body`."""
    if len(body) != 8 or not body.isascii() or not body.isalnum() or body != body.upper():
        raise ValueError(f"{body!r}: eight digits or capital letters")
    total = sum(int(c, 36) * w for c, w in zip(body, ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def credit_code_problem(code: str) -> str | None:
    """Why `code` is not a unified social credit code, or None when it is one: 18
    characters of the code's alphabet, the administrative division in digits, and the
    check character (GB 32100-2015) right."""
    if len(code) != 18:
        return f"{len(code)} characters; a credit code has 18"
    if not _CREDIT_SHAPE.match(code):
        return (
            "characters 1–2 and 18 from 0-9 A-H J-N P-R T U W-Y, 3–8 the administrative "
            "division in digits, 9–17 the organisation code"
        )
    expected = credit_check_char(code[:17])
    if code[17] != expected:
        return f"the check character is {code[17]}, it should be {expected} (GB 32100-2015)"
    return None


def id_number_problem(number: str) -> str | None:
    """Why `number` is not a citizen identity number, or None (18 characters, check right)."""
    if not _ID_SHAPE.match(number):
        return "17 digits and a digit or X"
    total = sum(int(c) * w for c, w in zip(number, ID_WEIGHTS, strict=False))
    expected = ID_CHECKS[total % 11]
    if number[17] != expected:
        return f"the check character is {number[17]}, it should be {expected} (GB 11643-1999)"
    return None
