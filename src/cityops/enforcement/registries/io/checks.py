"""The checks of each table: every bad cell is reported, good rows are parsed for writing,
and the keys they add are known to the tables after them."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.enforcement.registries.citation import (
    ArticleRef,
    article_label,
    parse_number,
    parse_ref,
    split_list,
)
from cityops.enforcement.registries.io.cells import (
    GRADE_ALIASES,
    KIND_ALIASES,
    PARTY_ALIASES,
    PARTY_NAMES,
    parse_amendments,
    parse_choice,
    parse_date,
    parse_flag,
    parse_multiple,
    parse_place,
    parse_whole,
)
from cityops.enforcement.registries.io.tables import Table
from cityops.enforcement.registries.models import (
    AGENCY_KIND_NAMES_ZH,
    GRADE_NAMES_ZH,
    ITEM_KIND_NAMES_ZH,
    LAW_LEVEL_NAMES_ZH,
    Agency,
    AgencyKind,
    AgencyRegion,
    Article,
    BasisRole,
    Grade,
    Item,
    ItemKind,
    Law,
    LawLevel,
    Party,
)
from cityops.errors import ImportProblem
from cityops.org.models import Department, Person, Region

REQUIRED = {
    "laws": ("code", "title", "level"),
    "articles": ("law_code", "number", "text"),
    "items": ("code", "name", "kind"),
    "benchmarks": ("item_code", "grade"),
    "checklist": ("item_code", "code", "text"),
    "agencies": ("code", "name", "kind"),
    "officers": ("certificate_number", "name", "agency_code", "valid_from", "valid_until"),
}
# A code is used in references (`law:42`, lists split on ; and ,): none of those marks.
CODE = re.compile(r"^[^\s:@;,；，、]{1,60}$")
ArticleKey = tuple[str, str, int, int, int]  # law code, version, number, paragraph, item


@dataclass
class Known:
    """Keys that rows may refer to: in the database, or in an earlier table of this import
    (`bad_*`: rows of this import that failed, so that their dependents do not fail too)."""

    laws: dict[str, dict[str, date | None]] = field(default_factory=dict)
    articles: set[ArticleKey] = field(default_factory=set)
    items: set[str] = field(default_factory=set)
    agencies: dict[str, list[str]] = field(default_factory=dict)  # code → its regions
    regions: set[str] = field(default_factory=set)
    departments: dict[str, int] = field(default_factory=dict)
    people: dict[str, int] = field(default_factory=dict)
    bad_laws: set[str] = field(default_factory=set)
    bad_items: set[str] = field(default_factory=set)
    bad_agencies: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, session: Session) -> Known:
        known = cls()
        for code, version, effective in session.execute(
            select(Law.code, Law.version, Law.effective_on)
        ):
            known.laws.setdefault(code, {})[version] = effective
        rows = session.execute(
            select(Law.code, Law.version, Article.number, Article.paragraph, Article.item).join(
                Article.law
            )
        )
        known.articles = {(c, v, n, p, i) for c, v, n, p, i in rows}
        known.items = set(session.scalars(select(Item.code)))
        codes = dict(session.execute(select(Agency.id, Agency.code)).all())
        known.agencies = {code: [] for code in codes.values()}
        for agency_id, region in session.execute(
            select(AgencyRegion.agency_id, AgencyRegion.region_code)
        ):
            known.agencies[codes[agency_id]].append(region)
        known.regions = set(session.scalars(select(Region.code)))
        known.departments = dict(session.execute(select(Department.code, Department.id)).all())
        known.people = dict(session.execute(select(Person.code, Person.id)).all())
        return known

    def version_of(self, code: str, version: str | None) -> str | None:
        """The version a reference means: the one named, or the latest in effect."""
        versions = self.laws.get(code, {})
        if version is not None:
            return version if version in versions else None
        if not versions:
            return None
        return max(versions, key=lambda v: (versions[v] or date.min, v))

    def resolve(self, ref: ArticleRef) -> tuple[ArticleKey, int, int] | str | None:
        """The stored article a reference cites and the paragraph and item it points at
        inside it; a message when there is none; None when its law failed in this import."""
        if ref.law_code in self.bad_laws:
            return None
        version = self.version_of(ref.law_code, ref.version)
        if version is None:
            named = f"{ref.law_code}@{ref.version}" if ref.version is not None else ref.law_code
            return f"no law {named}"
        code, n, p, i = ref.law_code, ref.number, ref.paragraph, ref.item
        for key, pinpoint in (
            ((code, version, n, p, i), (0, 0)),
            ((code, version, n, p, 0), (0, i)),
            ((code, version, n, 0, 0), (p, i)),
        ):
            if key in self.articles:
                return key, *pinpoint
        return f"{code}@{version} has no {article_label(n)} (import its articles first)"


class Report:
    def __init__(self) -> None:
        self.problems: list[ImportProblem] = []

    def add(self, table: Table, row: int, column: str, message: str) -> None:
        self.problems.append(ImportProblem(table.label, row, column, message))

    def parse(
        self, table: Table, row: int, column: str, parser: Callable[..., Any], *args: Any
    ) -> Any:
        """`parser(*args)`, or None after reporting its ValueError."""
        try:
            return parser(*args)
        except ValueError as exc:
            self.add(table, row, column, str(exc))
            return None


def _code(report: Report, t: Table, n: int, column: str, value: str, seen: set[Any]) -> bool:
    if not value:
        report.add(t, n, column, "empty")
    elif not CODE.match(value):
        report.add(t, n, column, "at most 60 characters, without spaces or : @ ; ,")
    elif value in seen:
        report.add(t, n, column, "repeated in the file")
    else:
        seen.add(value)
        return True
    return False


def _refs(report: Report, known: Known, t: Table, n: int, column: str, text: str) -> list[Any]:
    """The articles a cell cites: [(key, paragraph, item)]."""
    found = []
    for part in split_list(text):
        try:
            resolved = known.resolve(parse_ref(part))
        except ValueError as exc:
            report.add(t, n, column, str(exc))
            continue
        if isinstance(resolved, str):
            report.add(t, n, column, f"{part}: {resolved}")
        elif resolved is not None:
            found.append(resolved)
    return found


def _check_laws(t: Table, report: Report, known: Known) -> list[dict[str, Any]]:
    parsed, seen = [], set[tuple[str, str]]()
    for n, row in t.rows:
        bad = len(report.problems)
        code, version = row.get("code", ""), row.get("version", "")
        if not code or not CODE.match(code):
            report.add(t, n, "code", "empty" if not code else "no spaces or : @ ; , in a code")
        if version and (len(version) > 20 or not CODE.match(version)):
            report.add(t, n, "version", "at most 20 characters, without spaces or : @ ; ,")
        if (code, version) in seen:
            report.add(t, n, "version", f"{code} {version or '(no version)'} repeated")
        seen.add((code, version))
        if not row.get("title") or len(row["title"]) > 200:
            report.add(t, n, "title", "empty" if not row.get("title") else "over 200 characters")
        values: dict[str, Any] = {"code": code, "version": version, "title": row.get("title", "")}
        values["level"] = report.parse(
            t, n, "level", parse_choice, row.get("level", ""), LawLevel, LAW_LEVEL_NAMES_ZH, {}
        )
        for column in ("promulgated_on", "effective_on", "repealed_on"):
            values[column] = report.parse(t, n, column, parse_date, row.get(column, ""))
        if (
            values["effective_on"]
            and values["repealed_on"]
            and (values["repealed_on"] <= values["effective_on"])
        ):
            report.add(t, n, "repealed_on", "must be after effective_on")
        values["amendments"] = report.parse(
            t, n, "amendments", parse_amendments, row.get("amendments", "")
        )
        for column, limit in (("issuer", 200), ("document_number", 100), ("source", 500)):
            values[column] = row.get(column, "")
            if len(values[column]) > limit:
                report.add(t, n, column, f"over {limit} characters")
        values["note"] = row.get("note", "")
        if len(report.problems) > bad:
            if code not in known.laws:
                known.bad_laws.add(code)
            continue
        known.laws.setdefault(code, {})[version] = values["effective_on"]
        parsed.append(values)
    return parsed


def _check_articles(t: Table, report: Report, known: Known) -> list[dict[str, Any]]:
    parsed, seen = [], set[ArticleKey]()
    for n, row in t.rows:
        bad = len(report.problems)
        code = row.get("law_code", "")
        raw_version = row.get("law_version", "")
        version = known.version_of(code, raw_version or None)
        if code in known.bad_laws:
            continue
        if version is None:
            report.add(
                t,
                n,
                "law_version" if raw_version else "law_code",
                f"no law {code}{'@' + raw_version if raw_version else ''}",
            )
        number = report.parse(t, n, "number", parse_number, row.get("number", ""))
        paragraph = report.parse(t, n, "paragraph", parse_place, row.get("paragraph", ""))
        item = report.parse(t, n, "item", parse_place, row.get("item", ""))
        if not row.get("text"):
            report.add(t, n, "text", "empty")
        if len(report.problems) > bad or version is None:
            continue
        key = (code, version, number, paragraph, item)
        if key in seen:
            report.add(t, n, "number", f"{article_label(number)} repeated in the file")
            continue
        seen.add(key)
        known.articles.add(key)
        parsed.append({"key": key, "label": article_label(number), "text": row["text"]})
    return parsed


def _check_items(t: Table, report: Report, known: Known) -> list[dict[str, Any]]:
    parsed, seen = [], set[str]()
    for n, row in t.rows:
        bad = len(report.problems)
        code = row.get("code", "")
        _code(report, t, n, "code", code, seen)
        if not row.get("name") or len(row["name"]) > 300:
            report.add(t, n, "name", "empty" if not row.get("name") else "over 300 characters")
        values: dict[str, Any] = {
            "code": code,
            "name": row.get("name", ""),
            "field": row.get("field", "")[:40],
            "note": row.get("note", ""),
        }
        values["kind"] = report.parse(
            t,
            n,
            "kind",
            parse_choice,
            row.get("kind", ""),
            ItemKind,
            ITEM_KIND_NAMES_ZH,
            KIND_ALIASES,
        )
        kinds = []
        for part in split_list(row.get("agency_kinds", "")):
            kinds.append(
                report.parse(
                    t, n, "agency_kinds", parse_choice, part, AgencyKind, AGENCY_KIND_NAMES_ZH, {}
                )
            )
        values["agency_kinds"] = kinds
        values["basis"] = [
            (role, cited)
            for role, column in (
                (BasisRole.DUTY, "duty_articles"),
                (BasisRole.PENALTY, "penalty_articles"),
                (BasisRole.POWER, "power_articles"),
            )
            for cited in _refs(report, known, t, n, column, row.get(column, ""))
        ]
        values["first_violation_exempt"] = report.parse(
            t, n, "first_violation_exempt", parse_flag, row.get("first_violation_exempt", ""), False
        )
        values["exemption_conditions"] = row.get("exemption_conditions", "")
        values["active"] = report.parse(t, n, "active", parse_flag, row.get("active", ""), True)
        for column in ("effective_on", "expires_on"):
            values[column] = report.parse(t, n, column, parse_date, row.get(column, ""))
        if len(report.problems) > bad:
            if code not in known.items:  # not a repeat of a good row
                known.bad_items.add(code)
            continue
        known.items.add(code)
        parsed.append(values)
    return parsed


def _item_ok(report: Report, known: Known, t: Table, n: int, code: str) -> bool:
    if code in known.bad_items:
        return False
    if code not in known.items:
        report.add(t, n, "item_code", f"no item {code!r}" if code else "empty")
        return False
    return True


def _check_benchmarks(t: Table, report: Report, known: Known) -> list[dict[str, Any]]:
    parsed, positions = [], dict[str, set[int]]()
    for n, row in t.rows:
        bad = len(report.problems)
        code = row.get("item_code", "")
        if not _item_ok(report, known, t, n, code):
            continue
        taken = positions.setdefault(code, set())
        seq = report.parse(t, n, "seq", parse_whole, row.get("seq", ""))
        seq = seq if seq is not None else max(taken, default=0) + 1
        if seq in taken:
            report.add(t, n, "seq", f"{seq} repeated for {code}")
        taken.add(seq)
        values: dict[str, Any] = {
            "item_code": code,
            "position": seq,
            "circumstance": row.get("circumstance", ""),
            "measure": row.get("measure", ""),
            "base_name": row.get("base_name", "")[:40],
        }
        values["grade"] = report.parse(
            t, n, "grade", parse_choice, row.get("grade", ""), Grade, GRADE_NAMES_ZH, GRADE_ALIASES
        )
        values["party"] = report.parse(
            t, n, "party", parse_choice, row.get("party", ""), Party, PARTY_NAMES, PARTY_ALIASES
        )
        for column in ("fine_min", "fine_max", "base_from", "base_below"):
            values[column] = report.parse(
                t, n, column, parse_whole, row.get(column, ""), "a whole amount of yuan"
            )
        for column in ("times_min", "times_max"):
            values[column] = report.parse(t, n, column, parse_multiple, row.get(column, ""))
        _check_ranges(report, t, n, values)
        cited = _refs(report, known, t, n, "article", row.get("article", ""))
        values["article"] = cited[0][0] if cited else None
        if len(report.problems) == bad:
            parsed.append(values)
    return parsed


def _check_ranges(report: Report, t: Table, n: int, v: dict[str, Any]) -> None:
    fines = v["fine_min"] is not None or v["fine_max"] is not None
    times = v["times_min"] is not None or v["times_max"] is not None
    span = v["base_from"] is not None or v["base_below"] is not None
    for low, high in (("fine_min", "fine_max"), ("times_min", "times_max")):
        if v[low] is not None and v[high] is not None and v[low] > v[high]:
            report.add(t, n, low, f"greater than {high}")
    if (
        v["base_from"] is not None
        and v["base_below"] is not None
        and (v["base_from"] >= v["base_below"])
    ):
        report.add(t, n, "base_from", "must be below base_below")
    if fines and times:
        report.add(t, n, "times_min", "a row is an amount or a multiple, not both")
    if (times or span) and not v["base_name"]:
        report.add(t, n, "base_name", "say what amount it refers to (e.g. 货值金额)")
    if times and v["times_max"] is None:
        report.add(t, n, "times_max", "a multiple needs its upper bound")
    if v["grade"] == Grade.NONE and (fines or times):
        report.add(t, n, "fine_max", f"{GRADE_NAMES_ZH[Grade.NONE]} allows no fine")


def _check_checklist(t: Table, report: Report, known: Known) -> list[dict[str, Any]]:
    parsed, seen = [], set[tuple[str, str]]()
    for n, row in t.rows:
        bad = len(report.problems)
        item_code, code = row.get("item_code", ""), row.get("code", "")
        if not _item_ok(report, known, t, n, item_code):
            continue
        if _code(report, t, n, "code", code, set()) and (item_code, code) in seen:
            report.add(t, n, "code", f"{code} repeated for {item_code}")
        seen.add((item_code, code))
        if not row.get("text"):
            report.add(t, n, "text", "empty")
        position = report.parse(t, n, "seq", parse_whole, row.get("seq", ""))
        cited = _refs(report, known, t, n, "article", row.get("article", ""))
        if len(report.problems) == bad:
            parsed.append(
                {
                    "item_code": item_code,
                    "code": code,
                    "text": row["text"],
                    "position": position if position is not None else n,
                    "article": cited[0][0] if cited else None,
                }
            )
    return parsed


def _regions(report: Report, known: Known, t: Table, n: int, text: str) -> list[str]:
    codes = split_list(text)
    for code in codes:
        if code not in known.regions:
            report.add(t, n, "regions", f"no region {code}")
    return list(dict.fromkeys(codes))


def _check_agencies(t: Table, report: Report, known: Known) -> list[dict[str, Any]]:
    parsed, seen = [], set[str]()
    for n, row in t.rows:
        bad = len(report.problems)
        code = row.get("code", "")
        _code(report, t, n, "code", code, seen)
        if not row.get("name") or len(row["name"]) > 200:
            report.add(t, n, "name", "empty" if not row.get("name") else "over 200 characters")
        values: dict[str, Any] = {
            "code": code,
            "name": row.get("name", ""),
            "address": row.get("address", "")[:200],
            "phone": row.get("phone", "")[:40],
            "note": row.get("note", ""),
        }
        values["kind"] = report.parse(
            t, n, "kind", parse_choice, row.get("kind", ""), AgencyKind, AGENCY_KIND_NAMES_ZH, {}
        )
        values["regions"] = _regions(report, known, t, n, row.get("regions", ""))
        items = split_list(row.get("items", ""))
        for item in items:
            if item not in known.items and item not in known.bad_items:
                report.add(t, n, "items", f"no item {item!r}")
        values["items"] = list(dict.fromkeys(items))
        department = row.get("department_code", "")
        if department and department not in known.departments:
            report.add(t, n, "department_code", "no such department")
        values["department_id"] = known.departments.get(department)
        values["active"] = report.parse(t, n, "active", parse_flag, row.get("active", ""), True)
        if len(report.problems) > bad:
            if code not in known.agencies:
                known.bad_agencies.add(code)
            continue
        known.agencies[code] = values["regions"]
        parsed.append(values)
    return parsed


def _check_officers(t: Table, report: Report, known: Known) -> list[dict[str, Any]]:
    parsed, seen = [], set[str]()
    for n, row in t.rows:
        bad = len(report.problems)
        number = row.get("certificate_number", "")
        if not number or len(number) > 40:
            report.add(t, n, "certificate_number", "empty" if not number else "over 40 characters")
        elif number in seen:
            report.add(t, n, "certificate_number", "repeated in the file")
        seen.add(number)
        if not row.get("name") or len(row["name"]) > 60:
            report.add(t, n, "name", "empty" if not row.get("name") else "over 60 characters")
        agency = row.get("agency_code", "")
        if agency not in known.agencies and agency not in known.bad_agencies:
            report.add(t, n, "agency_code", f"no agency {agency!r}" if agency else "empty")
        values: dict[str, Any] = {
            "certificate_number": number,
            "name": row.get("name", ""),
            "agency_code": agency,
            "phone": row.get("phone", "")[:40],
            "note": row.get("note", ""),
        }
        for column in ("valid_from", "valid_until"):
            values[column] = report.parse(t, n, column, parse_date, row.get(column, ""))
            if values[column] is None and not any(
                p.field == column and p.row == n for p in report.problems[bad:]
            ):
                report.add(t, n, column, "empty")
        if (
            values["valid_from"]
            and values["valid_until"]
            and (values["valid_until"] < values["valid_from"])
        ):
            report.add(t, n, "valid_until", "before valid_from")
        values["regions"] = _regions(report, known, t, n, row.get("regions", ""))
        jurisdiction = known.agencies.get(agency) or []
        for region in values["regions"]:
            if jurisdiction and not any(region.startswith(j) for j in jurisdiction):
                report.add(t, n, "regions", f"{region} is outside the agency's jurisdiction")
        person = row.get("person_code", "")
        if person and person not in known.people:
            report.add(t, n, "person_code", "no such person")
        values["person_id"] = known.people.get(person)
        values["active"] = report.parse(t, n, "active", parse_flag, row.get("active", ""), True)
        if len(report.problems) == bad:
            parsed.append(values)
    return parsed


CHECKS = {
    "laws": _check_laws,
    "articles": _check_articles,
    "items": _check_items,
    "benchmarks": _check_benchmarks,
    "checklist": _check_checklist,
    "agencies": _check_agencies,
    "officers": _check_officers,
}
