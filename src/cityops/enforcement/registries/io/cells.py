"""Cell parsers of the import: each gives the value or raises ValueError with a message
for the problem report."""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Any

from cityops.enforcement.registries.citation import parse_number


def parse_date(text: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise ValueError("not a date (YYYY-MM-DD)") from None


def parse_whole(text: str, what: str = "a whole number") -> int | None:
    if not text:
        return None
    try:
        value = float(text.replace(",", "").replace("，", ""))
    except ValueError:
        raise ValueError(f"not {what}") from None
    if not value.is_integer() or value < 0:
        raise ValueError(f"not {what}")
    return int(value)


def parse_multiple(text: str) -> float | None:
    if not text:
        return None
    try:
        value = float(text.rstrip("倍"))
    except ValueError:
        raise ValueError("not a number") from None
    if value < 0:
        raise ValueError("must not be negative")
    return value


def parse_place(text: str) -> int:
    return parse_number(text) if text else 0


_TRUE = {"1", "true", "yes", "y", "是", "√", "✓", "x"}
_FALSE = {"0", "false", "no", "n", "否", ""}


def parse_flag(text: str, default: bool) -> bool:
    value = text.strip().lower()
    if not value:
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError("write 是/否 (or 1/0, true/false)")


def parse_choice(
    text: str, kind: type[StrEnum], names: dict[str, str], extra: dict[str, str]
) -> str:
    """A value of `kind` by its code or Chinese name (or a common short name in `extra`)."""
    by_name = {zh: code for code, zh in names.items()} | extra
    value = text.strip()
    if value in {k.value for k in kind}:
        return value
    if value in by_name:
        return by_name[value]
    raise ValueError(f"one of {', '.join(k.value for k in kind)} (or {', '.join(by_name)})")


KIND_ALIASES = {"处罚": "penalty", "强制": "compulsory", "检查": "inspection", "许可": "license"}
GRADE_ALIASES = {
    "不予": "none",
    "减轻": "mitigated",
    "从轻": "lighter",
    "一般": "ordinary",
    "从重": "heavier",
}
PARTY_NAMES = {"any": "不区分", "citizen": "公民", "organisation": "单位"}
PARTY_ALIASES = {
    "": "any",
    "个人": "citizen",
    "自然人": "citizen",
    "法人": "organisation",
    "组织": "organisation",
    "法人或者其他组织": "organisation",
}


def parse_amendments(text: str) -> list[dict[str, Any]]:
    """`1996-03-17 通过; 2021-01-22 修订` (or one per line) → [{"on", "note"}]."""
    found = []
    for part in re.split(r"[;；\n]", text):
        part = part.strip()
        if not part:
            continue
        day, _, note = part.partition(" ")
        parsed = parse_date(day)
        found.append({"on": parsed.isoformat() if parsed else "", "note": note.strip()})
    return found
