"""How enforcement documents write numbers, money, dates and document numbers. Pure.

Dates in Arabic numerals (GB/T 9704-2012: 2026年11月25日); money as `1,500元（大写：
壹仟伍佰元整）` with the capital figures of financial writing (《支付结算办法》附一:
整 after 元, 零 for skipped places, 万/亿 sections); document numbers as
`渝中消罚决字〔2026〕第12号` with the hexagonal brackets 〔〕 the standard prescribes.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from cityops.enforcement.registries.citation import chinese_number

_UPPER = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ("", "拾", "佰", "仟")
_SECTIONS = ("", "万", "亿", "万亿")
LIMIT = 10**16  # the largest sum written is below 一亿亿 (ten thousand 万亿)


def _section_words(n: int) -> str:
    """1 ≤ n ≤ 9999 in capitals, a skipped place written once as 零 (壹仟零伍)."""
    parts: list[str] = []
    zero = False
    for place in (3, 2, 1, 0):
        digit = n // 10**place % 10
        if digit == 0:
            zero = bool(parts)
            continue
        if zero:
            parts.append("零")
            zero = False
        parts.append(_UPPER[digit] + _PLACES[place])
    return "".join(parts)


def integer_words(n: int) -> str:
    """A whole number in capitals by sections of four places: 100005 → 壹拾万零伍."""
    if not 0 <= n < LIMIT:
        raise ValueError(f"{n} is out of range (0 to {LIMIT - 1})")
    if n == 0:
        return "零"
    sections: list[int] = []
    while n:
        n, section = divmod(n, 10000)
        sections.append(section)
    out = ""
    gap = False
    for position in range(len(sections) - 1, -1, -1):
        section = sections[position]
        if section == 0:
            gap = bool(out)
            continue
        # A section after a higher one starts with 零 when places were skipped between
        # them: an empty section, or fewer than four places in this one (壹亿零伍佰万).
        if out and (gap or section < 1000):
            out += "零"
        out += _section_words(section) + _SECTIONS[position]
        gap = False
    return out


def _cents(amount: int | Decimal) -> int:
    value = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if value < 0:
        raise ValueError(f"an amount of money cannot be negative: {amount}")
    return int(value * 100)


def amount_in_words(amount: int | Decimal) -> str:
    """CNY in capital figures (大写金额): 0 → 零元整, 1500 → 壹仟伍佰元整,
    100005 → 壹拾万零伍元整, 30000000 → 叁仟万元整, Decimal("1.05") → 壹元零伍分."""
    cents = _cents(amount)
    yuan, rest = divmod(cents, 100)
    jiao, fen = divmod(rest, 10)
    words = integer_words(yuan) + "元" if yuan or not rest else ""
    if not rest:
        return words + "整"
    if jiao:
        words += _UPPER[jiao] + "角"
    elif yuan:
        words += "零"  # 壹元零伍分: the empty 角 place is read
    if fen:
        words += _UPPER[fen] + "分"
    return words


def money(amount: int | Decimal) -> str:
    """`1,500元（大写：壹仟伍佰元整）`; fen shown only when there are any."""
    cents = _cents(amount)
    figures = f"{cents // 100:,}" if cents % 100 == 0 else f"{Decimal(cents) / 100:,.2f}"
    return f"{figures}元（大写：{amount_in_words(amount)}）"


def chinese_date(day: date) -> str:
    """2026年11月25日 (Arabic numerals, no leading zeros)."""
    return f"{day.year}年{day.month}月{day.day}日"


def local(moment: datetime, zone: ZoneInfo) -> datetime:
    """`moment` in local time (a naive one is taken as already local)."""
    return moment.astimezone(zone) if moment.tzinfo is not None else moment


def chinese_time(moment: datetime, zone: ZoneInfo) -> str:
    """2026年11月25日10时05分, in local time."""
    at = local(moment, zone)
    return f"{chinese_date(at.date())}{at.hour}时{at.minute:02d}分"


def days(n: int) -> str:
    """A count of days as documents write it: 十五日, 六十日."""
    return f"{chinese_number(n)}日" if 0 < n < 10000 else f"{n}日"


def percent(rate: float) -> str:
    """0.03 → 百分之三; 0.005 → 0.5%."""
    value = round(rate * 100, 6)
    if value == int(value) and 0 < value < 10000:
        return "百分之" + chinese_number(int(value))
    return f"{value:g}%"


def document_number(prefix: str, year: int, sequence: int) -> str:
    """文书编号: 渝中消罚决字〔2026〕第12号."""
    return f"{prefix}〔{year}〕第{sequence}号"
