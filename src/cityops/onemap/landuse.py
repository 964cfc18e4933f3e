"""Land and sea use classes (国土空间调查、规划、用途管制用地用海分类指南, 2023), the older
schemes mapped onto them, and the default matrix of which pairs of classes conflict when two
plans, or a plan and a control line, disagree on the same place (多规合一 差异图斑).

Everything here is pure: the seed CSVs (or an administrator's edited copies) in, plain
objects out. The conflict finder calls `CompatibilityMatrix.rule_for` once per pair of
overlapping patches, millions of times for a city, so a pair's answer is computed once.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from types import MappingProxyType
from typing import Final

SEED_DIR: Final = Path(__file__).parent / "seed"
CLASSES_SEED: Final = SEED_DIR / "landuse_classes.csv"
MAPPINGS_DIR: Final = SEED_DIR / "mappings"
COMPATIBILITY_SEED: Final = SEED_DIR / "compatibility.csv"

CATEGORIES: Final = ("agricultural", "ecological", "construction", "water", "sea", "other")
LINE_KINDS: Final = ("ecological_red_line", "permanent_farmland", "urban_boundary")
SEVERITIES: Final = ("hard", "soft")
LINE_PREFIX: Final = "line:"
CATEGORY_PREFIX: Final = "category:"
CONSTRUCTION: Final = "construction"

# The older schemes shipped in seed/mappings/<scheme>.csv, each mapped onto the 2023 codes.
SCHEMES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "gbt21010_2017": "GB/T 21010-2017 土地利用现状分类, with the third national land "
        "survey's working classes (第三次全国国土调查工作分类: 00 湿地, 05H1, 08H1, 08H2 …)",
        "gb50137_2011": "GB 50137-2011 城市用地分类与规划建设用地标准 (R, A, B, M, W, S, U, G, "
        "H, E)",
    }
)

MATRIX_COLUMNS: Final = ("rule", "a", "b", "severity", "description", "description_en")


@dataclass(frozen=True)
class LandUseClass:
    """One class of the 2023 guide: first level (two digits), second (four) or third (six)."""

    code: str
    level: int
    parent: str | None
    name: str
    name_en: str
    construction: bool  # 建设用地 (06–16) or a sea use that builds structures
    category: str  # one of CATEGORIES, for the default conflict rules


def load_classes(path: Path = CLASSES_SEED) -> dict[str, LandUseClass]:
    """The classes of a classification file (the seed's by default), by code."""
    classes: dict[str, LandUseClass] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            code = row["code"].strip()
            if code in classes:
                raise ValueError(f"{path.name} line {line}: code {code} appears twice")
            if row["category"] not in CATEGORIES or row["construction"] not in ("0", "1"):
                raise ValueError(
                    f"{path.name} line {line}: category must be one of {', '.join(CATEGORIES)}"
                    " and construction 0 or 1"
                )
            classes[code] = LandUseClass(
                code=code,
                level=int(row["level"]),
                parent=row["parent"].strip() or None,
                name=row["name"].strip(),
                name_en=row["name_en"].strip(),
                construction=row["construction"] == "1",
                category=row["category"],
            )
    return classes


def load_mapping(scheme: str, path: Path | None = None) -> dict[str, str]:
    """An older scheme's codes mapped onto 2023 codes (source code → 2023 code).

    `path` reads another file for the scheme (an edited copy, or a scheme not shipped, such
    as a province's own); without it the scheme must be one of SCHEMES."""
    if path is None:
        if scheme not in SCHEMES:
            raise ValueError(
                f"unknown land-use scheme {scheme!r}: the shipped ones are {', '.join(SCHEMES)}"
            )
        path = MAPPINGS_DIR / f"{scheme}.csv"
    mapping: dict[str, str] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            source, target = row["source_code"].strip(), row["target_code"].strip()
            if not source or not target:
                raise ValueError(f"{path.name} line {line}: source_code and target_code needed")
            if source in mapping:
                raise ValueError(f"{path.name} line {line}: {source} is mapped twice")
            mapping[source] = target
    return mapping


_INTEGRAL = re.compile(r"(\d+)(?:\.0*)?")


def normalise(code: str | int | float, classes: Mapping[str, LandUseClass]) -> str:
    """The 2023 code meant by `code` as it comes from a spreadsheet or an old layer.

    Spreadsheets drop leading zeros ("101", 101, 101.0 for 0101 水田; 70101 for 070101), so
    a code that is not a class is zero-padded to each code length (2, 4, 6 digits); exactly
    one of them must be a class. Raises ValueError naming the code otherwise."""
    if isinstance(code, bool):  # bool is an int: True would become 01 耕地
        raise ValueError(f"{code!r} is not a land-use code")
    if isinstance(code, float):
        if not code.is_integer():  # also NaN (an empty spreadsheet cell) and infinities
            raise ValueError(f"{code!r} is not a land-use code")
        text = str(int(code))
    else:
        text = str(code).strip()
    if text in classes:
        return text
    match = _INTEGRAL.fullmatch(text)
    if match is None:
        raise ValueError(f"{code!r} is not a land-use code of the 2023 classification")
    digits = match.group(1).lstrip("0")
    candidates = [
        digits.zfill(length)
        for length in (2, 4, 6)
        if digits and len(digits) <= length and digits.zfill(length) in classes
    ]
    if not candidates:
        raise ValueError(f"{code!r} is not a land-use code of the 2023 classification")
    if len(candidates) > 1:
        raise ValueError(f"{code!r} is ambiguous: it may be {' or '.join(candidates)}")
    return candidates[0]


@dataclass(frozen=True)
class Rule:
    """A pair of class patterns that conflict when found on the same place (either way
    round), how badly, and what that means to the people resolving it."""

    name: str
    a: str
    b: str
    severity: str  # hard: a binding control is broken; soft: the plans must be reconciled
    description: str
    description_en: str


class _Kind(Enum):
    CODE = "code"
    CATEGORY = "category"
    CONSTRUCTION = "construction"
    LINE = "line"


# How specific a pattern is, so that the most specific rule wins. A code prefix beats any
# category (a category spans at least one first-level class) and a longer prefix beats a
# shorter one; a category beats `construction` (which spans eleven first-level classes and
# some sea uses). A control line only ever matches itself.
_CONSTRUCTION_WEIGHT: Final = 1
_CATEGORY_WEIGHT: Final = 2
_LINE_WEIGHT: Final = 10


@dataclass(frozen=True)
class _Pattern:
    kind: _Kind
    value: str  # the code prefix, the category, or the whole "line:<kind>"
    weight: int


def _pattern(text: str) -> _Pattern:
    if text == CONSTRUCTION:
        return _Pattern(_Kind.CONSTRUCTION, text, _CONSTRUCTION_WEIGHT)
    if text.startswith(CATEGORY_PREFIX):
        return _Pattern(_Kind.CATEGORY, text.removeprefix(CATEGORY_PREFIX), _CATEGORY_WEIGHT)
    if text.startswith(LINE_PREFIX):
        return _Pattern(_Kind.LINE, text, _LINE_WEIGHT)
    return _Pattern(_Kind.CODE, text, _CATEGORY_WEIGHT + len(text))


def _pattern_problem(text: str, classes: Mapping[str, LandUseClass]) -> str | None:
    pattern = _pattern(text)
    if pattern.kind is _Kind.CATEGORY and pattern.value not in CATEGORIES:
        return f"unknown category {pattern.value!r} (one of {', '.join(CATEGORIES)})"
    if pattern.kind is _Kind.LINE and text.removeprefix(LINE_PREFIX) not in LINE_KINDS:
        kinds = ", ".join(LINE_PREFIX + k for k in LINE_KINDS)
        return f"unknown control line {text!r} (one of {kinds})"
    if pattern.kind is _Kind.CODE and text not in classes:
        return f"unknown class code {text!r}"
    return None


def validate_matrix(
    rows: Iterable[Mapping[str, str]], classes: Mapping[str, LandUseClass]
) -> list[str]:
    """The problems of a conflict matrix (an administrator's import), one sentence each; an
    empty list when it can be used. Rows are numbered as in a spreadsheet, the header being
    row 1."""
    problems: list[str] = []
    names: dict[str, int] = {}
    pairs: dict[frozenset[str], str] = {}
    for number, row in enumerate(rows, start=2):
        missing = [c for c in MATRIX_COLUMNS if not (row.get(c) or "").strip()]
        if missing:
            problems.append(f"row {number}: {', '.join(missing)} missing")
            continue
        name, a, b = row["rule"].strip(), row["a"].strip(), row["b"].strip()
        if name in names:
            problems.append(f"row {number}: rule {name!r} already on row {names[name]}")
        names.setdefault(name, number)
        for side in (a, b):
            problem = _pattern_problem(side, classes)
            if problem:
                problems.append(f"row {number} ({name}): {problem}")
        severity = row["severity"].strip()
        if severity not in SEVERITIES:
            problems.append(f"row {number} ({name}): severity {severity!r} is not hard or soft")
        # The same pair twice: the later row never wins (ties go to the first), so it is
        # surely a mistake of the person editing.
        pair = frozenset((a, b))
        if pair in pairs:
            problems.append(f"row {number} ({name}): same pair as rule {pairs[pair]!r}")
        pairs.setdefault(pair, name)
    return problems


def _rule(row: Mapping[str, str]) -> Rule:
    return Rule(*(row[c].strip() for c in MATRIX_COLUMNS))


class CompatibilityMatrix:
    """Which pairs of classes (or class and control line) conflict, and how badly.

    A rule's sides are a code prefix (05 matches 0501 and 050101), `category:<category>`,
    `construction` (any class flagged construction) or `line:<kind>` (a control-line
    layer, passed to `rule_for` as that same string). Rules are symmetric. When several
    match, the most specific wins: each side scores (a longer code prefix more than a
    shorter, any prefix more than a category, a category more than `construction`), the
    highest total wins, and ties go to the earlier rule."""

    def __init__(self, rules: Iterable[Rule], classes: Mapping[str, LandUseClass]) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)
        self._classes = classes
        self._compiled = [(r, _pattern(r.a), _pattern(r.b)) for r in self.rules]
        self._cache: dict[tuple[str, str], Rule | None] = {}

    @classmethod
    def from_rows(
        cls, rows: Iterable[Mapping[str, str]], classes: Mapping[str, LandUseClass]
    ) -> CompatibilityMatrix:
        """A matrix from CSV-like rows (an administrator's edited copy); ValueError listing
        every problem if any."""
        rows = list(rows)
        problems = validate_matrix(rows, classes)
        if problems:
            raise ValueError("invalid conflict matrix:\n" + "\n".join(problems))
        return cls((_rule(r) for r in rows), classes)

    @classmethod
    def from_csv(
        cls,
        path: Path = COMPATIBILITY_SEED,
        classes: Mapping[str, LandUseClass] | None = None,
    ) -> CompatibilityMatrix:
        """A matrix from a CSV file (the seed's default matrix unless told)."""
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        return cls.from_rows(rows, load_classes() if classes is None else classes)

    def rule_for(self, a: str, b: str) -> Rule | None:
        """The rule for class (or control line) `a` meeting `b` on the same place, or None
        when they do not conflict. Codes should be normalised (see `normalise`)."""
        key = (a, b)
        if key in self._cache:
            return self._cache[key]
        best: Rule | None = None
        best_score = -1
        for rule, pa, pb in self._compiled:
            if (self._matches(pa, a) and self._matches(pb, b)) or (
                self._matches(pa, b) and self._matches(pb, a)
            ):
                score = pa.weight + pb.weight
                if score > best_score:  # strictly: a tie keeps the earlier rule
                    best, best_score = rule, score
        self._cache[key] = self._cache[(b, a)] = best
        return best

    def _matches(self, pattern: _Pattern, token: str) -> bool:
        if pattern.kind is _Kind.LINE:
            return token == pattern.value
        if token.startswith(LINE_PREFIX):
            return False
        if pattern.kind is _Kind.CODE:
            return token.startswith(pattern.value)
        found = self._class_of(token)
        if found is None:
            return False
        if pattern.kind is _Kind.CATEGORY:
            return found.category == pattern.value
        return found.construction

    def _class_of(self, code: str) -> LandUseClass | None:
        # A code below the classification's depth (a local seventh digit, say) takes its
        # nearest listed ancestor's category, so local subdivisions still meet the rules.
        for length in (len(code), 6, 4, 2):
            found = self._classes.get(code[:length])
            if found is not None:
                return found
        return None
