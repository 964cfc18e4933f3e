"""Money in capital figures (大写金额), dates and document numbers as documents write them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityops.enforcement.documents.formats import (
    amount_in_words,
    chinese_date,
    chinese_time,
    days,
    document_number,
    money,
    percent,
)

DIGITS = {c: n for n, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
PLACES = {"拾": 10, "佰": 100, "仟": 1000}


def parse_section(text: str) -> int:
    """壹仟零伍 → 1005 (a number below 一万, as read aloud)."""
    total, digit = 0, 0
    for char in text:
        if char in DIGITS:
            digit = DIGITS[char]
        else:
            total += digit * PLACES[char]
            digit = 0
    return total + digit


def parse_words(text: str) -> Decimal:
    """The small reader of capital figures the tests check `amount_in_words` against."""
    yuan_text, _, rest = text.partition("元") if "元" in text else ("", "", text)
    yuan = 0
    remaining = yuan_text
    for unit, value in (("亿", 10**8), ("万", 10**4)):
        if unit in remaining:
            high, _, remaining = remaining.partition(unit)
            yuan += parse_section_large(high) * value
    yuan += parse_section(remaining) if remaining and remaining != "零" else 0
    cents = 0
    rest = rest.removesuffix("整").removeprefix("零")
    if "角" in rest:
        jiao, _, rest = rest.partition("角")
        cents += DIGITS[jiao] * 10
    if "分" in rest:
        cents += DIGITS[rest.removesuffix("分").removeprefix("零")]
    return Decimal(yuan) + Decimal(cents) / 100


def parse_section_large(text: str) -> int:
    """The part before 亿 or 万, itself possibly holding 万 (壹万亿)."""
    if "万" in text:
        high, _, low = text.partition("万")
        return parse_section(high) * 10**4 + (parse_section(low) if low else 0)
    return parse_section(text)


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        (0, "零元整"),
        (1, "壹元整"),
        (10, "壹拾元整"),
        (15, "壹拾伍元整"),
        (200, "贰佰元整"),
        (1500, "壹仟伍佰元整"),
        (1005, "壹仟零伍元整"),
        (15000, "壹万伍仟元整"),
        (100005, "壹拾万零伍元整"),
        (101000, "壹拾万壹仟元整"),
        (1000100, "壹佰万零壹佰元整"),
        (30000000, "叁仟万元整"),
        (100000000, "壹亿元整"),
        (100000001, "壹亿零壹元整"),
        (100010000, "壹亿零壹万元整"),
        (250000000000, "贰仟伍佰亿元整"),
        (Decimal("1.05"), "壹元零伍分"),
        (Decimal("0.50"), "伍角"),
        (Decimal("1680.32"), "壹仟陆佰捌拾元叁角贰分"),
    ],
)
def test_known_amounts(amount: int | Decimal, words: str) -> None:
    assert amount_in_words(amount) == words


def test_negative_or_huge_amounts_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        amount_in_words(-1)
    with pytest.raises(ValueError, match="out of range"):
        amount_in_words(10**16)


@given(st.integers(min_value=0, max_value=10**12 - 1))
def test_whole_yuan_read_back(amount: int) -> None:
    words = amount_in_words(amount)
    assert words.endswith("元整")
    assert "零零" not in words
    assert amount == 0 or not words.startswith("零")
    assert parse_words(words) == amount


@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False))
def test_yuan_jiao_and_fen_read_back(amount: Decimal) -> None:
    assert parse_words(amount_in_words(amount)) == amount


def test_money_as_documents_write_it() -> None:
    assert money(1500) == "1,500元（大写：壹仟伍佰元整）"
    assert money(Decimal("1234.5")) == "1,234.50元（大写：壹仟贰佰叁拾肆元伍角）"


def test_dates_numbers_and_counts() -> None:
    assert chinese_date(date(2026, 11, 5)) == "2026年11月5日"
    shanghai = ZoneInfo("Asia/Shanghai")
    assert (
        chinese_time(datetime(2026, 11, 24, 16, 5, tzinfo=UTC), shanghai) == "2026年11月25日0时05分"
    )
    assert document_number("渝中消罚决字", 2026, 12) == "渝中消罚决字〔2026〕第12号"
    assert days(15) == "十五日" and days(60) == "六十日"
    assert percent(0.03) == "百分之三" and percent(0.005) == "0.5%"
