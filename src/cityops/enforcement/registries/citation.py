"""Article numbers as Chinese law prints them (第一百二十二条第一款第三项) and the references
import files use (`food-safety-law:122.1`, `fire-protection-law@2021:60.1.3`). Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass

_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_NAMES = "零一二三四五六七八九"
# 第四十二条, 第一款, （三）, 42: what a spreadsheet cell may hold for an article, paragraph
# or item number.
_WRAPPED = re.compile(r"^[第（(]?\s*([0-9零〇一二两三四五六七八九十百千]+)\s*[条款项）)]?$")


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 15 → 十五, 110 → 一百一十, 101 → 一百零一, as laws number articles."""
    if not 0 < n < 10000:
        raise ValueError(f"{n} is out of range for an article number")
    parts: list[str] = []
    zero = False
    for unit, name in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // unit % 10
        if digit == 0:
            zero = bool(parts)
            continue
        if zero:
            parts.append("零")
            zero = False
        parts.append(_NAMES[digit] + name)
    text = "".join(parts)
    # 十五, not 一十五, when ten is the highest unit; 一百一十 keeps its 一.
    return text[1:] if text.startswith("一十") else text


def parse_number(text: str) -> int:
    """42, 第四十二条, 四十二, 第1款, （三） → the number; ValueError if it is none."""
    match = _WRAPPED.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a number")
    body = match.group(1)
    if body.isdigit():
        value = int(body)
    else:
        value = section = 0
        for char in body:
            if char in _DIGITS:
                section = _DIGITS[char]
            elif char in _UNITS:
                value += (section or 1) * _UNITS[char]
                section = 0
            else:
                raise ValueError(f"{text!r} is not a number")
        value += section
    if value <= 0:
        raise ValueError(f"{text!r} is not a positive number")
    return value


def article_label(number: int) -> str:
    return f"第{chinese_number(number)}条"


def place_label(number: int, paragraph: int = 0, item: int = 0) -> str:
    """第六十条第一款第三项; the paragraph and item only when given."""
    label = article_label(number)
    if paragraph:
        label += f"第{chinese_number(paragraph)}款"
    if item:
        label += f"第{chinese_number(item)}项"
    return label


def citation(title: str, number: int, paragraph: int = 0, item: int = 0) -> str:
    """《中华人民共和国消防法》第六十条第一款第三项."""
    return f"《{title}》{place_label(number, paragraph, item)}"


@dataclass(frozen=True)
class ArticleRef:
    """A reference to an article in an import file: a law's code, optionally its version,
    and the article with an optional paragraph and item (0 = not given)."""

    law_code: str
    version: str | None
    number: int
    paragraph: int = 0
    item: int = 0

    def __str__(self) -> str:
        law = self.law_code if self.version is None else f"{self.law_code}@{self.version}"
        place = ".".join(str(n) for n in (self.number, self.paragraph, self.item) if n)
        if self.item and not self.paragraph:
            place = f"{self.number}.0.{self.item}"
        return f"{law}:{place}"


def parse_ref(text: str) -> ArticleRef:
    """`law-code[@version]:number[.paragraph[.item]]`, the number also as 第X条."""
    law, sep, place = text.strip().rpartition(":")
    if not sep or not law or not place:
        raise ValueError(f"{text!r}: write law-code:article, e.g. fire-protection-law:60.1.3")
    code, at, version = law.partition("@")
    if not code.strip() or (at and not version.strip()):
        raise ValueError(f"{text!r}: the law code (and a version after @) must not be empty")
    pieces = place.strip().split(".")
    if len(pieces) > 3:
        raise ValueError(f"{text!r}: at most article.paragraph.item")
    try:
        numbers = [parse_number(pieces[0])] + [int(p) for p in pieces[1:]]
    except ValueError:
        raise ValueError(f"{text!r}: the article, paragraph and item must be numbers") from None
    if any(n < 0 for n in numbers):
        raise ValueError(f"{text!r}: numbers must not be negative")
    numbers += [0] * (3 - len(numbers))
    return ArticleRef(code.strip(), version.strip() if at else None, *numbers)


def split_list(text: str) -> list[str]:
    """A cell listing several values: separated by ; ； , ， 、 or new lines."""
    for sep in ("；", "，", "、", ",", "\n"):
        text = text.replace(sep, ";")
    return [part.strip() for part in text.split(";") if part.strip()]
