"""Land and sea use classes (国土空间调查、规划、用途管制用地用海分类指南, 2023), the older
schemes mapped onto them, and the default matrix of which pairs of classes conflict when two
plans, or a plan and a control line, disagree on the same place (多规合一 差异图斑).

Which classes are urban construction land (城镇建设用地, the `urban` column), the land that
belongs inside the urban development boundary (城镇开发边界), is a judgement the guide leaves
to the plans: it defines 城镇建设用地 by where land lies, not by class. Outside the boundary
the rules (自然资发〔2023〕193号) forbid concentrated urban building, urban housing and
development zones or industrial parks, and allow village building, linear and point
infrastructure, mining, special uses and scattered urban sites with specific siting needs.
So a class is flagged when the guide reserves it for towns or it is a use of concentrated
urban building: 0701 城镇住宅用地 and 0702 城镇社区服务设施用地; 08 公共管理与公共服务用地
except what villages have too (080403 中小学 and 080404 幼儿园, which 0704 leaves out,
080602 基层医疗卫生设施 such as township health centres, 0807 社会福利 such as township old
people's homes); all of 09 商业服务业用地; 1001 工业用地; 1101 物流仓储用地; 1401 公园绿地
and 1403 广场用地; 1502 使领馆用地. Not flagged: 06 农业设施建设用地, 0703 农村宅基地 and 0704
农村社区服务设施用地 (villages); 1002 采矿 and 1003 盐田; 1102 储备库 (strategic reserves); 12
交通运输 and 13 公用设施 (regional and linear infrastructure, allowed outside); 1402 防护绿地
(along roads and lines everywhere); 15 特殊用地 but embassies (military, religious, burial,
detention: expressly allowed outside); 16 留白用地 (towns and villages alike). A parent class
is flagged only when all its subclasses are: a plan that says only 07 does not say whether
it builds town housing or homesteads.

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

from cityops.onemap.conflicts import OVERLAP, RULE_KINDS

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
# Optional: a blank or missing kind is an overlap rule.
KIND_COLUMN: Final = "kind"
URBAN: Final = "urban"


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
    urban: bool = False  # 城镇建设用地: belongs inside the urban development boundary


def load_classes(path: Path = CLASSES_SEED) -> dict[str, LandUseClass]:
    """The classes of a classification file (the seed's by default), by code."""
    classes: dict[str, LandUseClass] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            code = row["code"].strip()
            if code in classes:
                raise ValueError(f"{path.name} line {line}: code {code} appears twice")
            flags = (row["construction"], row.get(URBAN))
            if row["category"] not in CATEGORIES or any(f not in ("0", "1") for f in flags):
                raise ValueError(
                    f"{path.name} line {line}: category must be one of {', '.join(CATEGORIES)}"
                    " and construction and urban 0 or 1"
                )
            if flags == ("0", "1"):
                raise ValueError(f"{path.name} line {line}: urban land must be construction land")
            classes[code] = LandUseClass(
                code=code,
                level=int(row["level"]),
                parent=row["parent"].strip() or None,
                name=row["name"].strip(),
                name_en=row["name_en"].strip(),
                construction=row["construction"] == "1",
                category=row["category"],
                urban=row[URBAN] == "1",
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
    """A pair of class patterns that conflict, how badly, and what that means to the people
    resolving it. An overlap rule: a and b found on the same place (either way round). An
    outside rule: the part of a that lies outside b (urban construction land outside the
    urban development boundary), read in that order only."""

    name: str
    a: str
    b: str
    severity: str  # hard: a binding control is broken; soft: the plans must be reconciled
    description: str
    description_en: str
    kind: str = OVERLAP  # one of RULE_KINDS


class _Kind(Enum):
    CODE = "code"
    CATEGORY = "category"
    CONSTRUCTION = "construction"
    URBAN = "urban"
    LINE = "line"


# How specific a pattern is, so that the most specific rule wins. A code prefix beats any
# category (a category spans at least one first-level class) and a longer prefix beats a
# shorter one; a category beats `urban` (parts of seven first-level classes), which beats
# `construction` (eleven first-level classes and some sea uses). A control line only ever
# matches itself. The weights were doubled to make room for urban's odd one: every
# comparison without `urban` comes out as before.
_CONSTRUCTION_WEIGHT: Final = 2
_URBAN_WEIGHT: Final = 3
_CATEGORY_WEIGHT: Final = 4
_LINE_WEIGHT: Final = 20


@dataclass(frozen=True)
class _Pattern:
    kind: _Kind
    value: str  # the code prefix, the category, or the whole "line:<kind>"
    weight: int


def _pattern(text: str) -> _Pattern:
    if text == CONSTRUCTION:
        return _Pattern(_Kind.CONSTRUCTION, text, _CONSTRUCTION_WEIGHT)
    if text == URBAN:
        return _Pattern(_Kind.URBAN, text, _URBAN_WEIGHT)
    if text.startswith(CATEGORY_PREFIX):
        return _Pattern(_Kind.CATEGORY, text.removeprefix(CATEGORY_PREFIX), _CATEGORY_WEIGHT)
    if text.startswith(LINE_PREFIX):
        return _Pattern(_Kind.LINE, text, _LINE_WEIGHT)
    return _Pattern(_Kind.CODE, text, _CATEGORY_WEIGHT + 2 * len(text))


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
    pairs: dict[tuple[str, str], str] = {}
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
        kind = _kind_of(row)
        if kind not in RULE_KINDS:
            problems.append(
                f"row {number} ({name}): kind {kind!r} is not {' or '.join(RULE_KINDS)}"
            )
        # The same pair twice: the later row never wins (ties go to the first), so it is
        # surely a mistake of the person editing. An overlap rule answers both ways round,
        # an outside rule only its own.
        asked = [(a, b), (b, a)] if kind == OVERLAP else [(a, b)]
        earlier = next((pairs[p] for p in asked if p in pairs), None)
        if earlier is not None:
            problems.append(f"row {number} ({name}): same pair as rule {earlier!r}")
        for p in asked:
            pairs.setdefault(p, name)
    return problems


def _kind_of(row: Mapping[str, str | None]) -> str:
    return (row.get(KIND_COLUMN) or "").strip() or OVERLAP


def _rule(row: Mapping[str, str]) -> Rule:
    name, a, b, severity, description, description_en = (row[c].strip() for c in MATRIX_COLUMNS)
    return Rule(name, a, b, severity, description, description_en, _kind_of(row))


class CompatibilityMatrix:
    """Which pairs of classes (or class and control line) conflict, and how badly.

    A rule's sides are a code prefix (05 matches 0501 and 050101), `category:<category>`,
    `urban` (any class flagged urban), `construction` (any class flagged construction) or
    `line:<kind>` (a control-line layer, passed to `rule_for` as that same string).
    Overlap rules are symmetric; an outside rule matches `rule_for(a, b)` only with `a` on
    its a side (`rule_for("0701", "line:urban_boundary")`, never the reverse). When several
    match, the most specific wins: each side scores (a longer code prefix more than a
    shorter, any prefix more than a category, a category more than `urban`, `urban` more
    than `construction`), the highest total wins, and ties go to the earlier rule."""

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
        """The rule for class (or control line) `a` meeting `b` on the same place, or for
        the part of `a` outside `b`; None when they do not conflict. Codes should be
        normalised (see `normalise`)."""
        key = (a, b)
        if key not in self._cache:
            # Both ways round at once: they share every overlap rule's test.
            self._cache[key], self._cache[(b, a)] = self._best(a, b)
        return self._cache[key]

    def _best(self, a: str, b: str) -> tuple[Rule | None, Rule | None]:
        best: list[Rule | None] = [None, None]
        score = [-1, -1]
        for rule, pa, pb in self._compiled:
            forward = self._matches(pa, a) and self._matches(pb, b)
            backward = self._matches(pa, b) and self._matches(pb, a)
            if rule.kind == OVERLAP:
                forward = backward = forward or backward
            weight = pa.weight + pb.weight
            for k, matched in enumerate((forward, backward)):
                if matched and weight > score[k]:  # strictly: a tie keeps the earlier rule
                    best[k], score[k] = rule, weight
        return best[0], best[1]

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
        if pattern.kind is _Kind.URBAN:
            return found.urban
        return found.construction

    def _class_of(self, code: str) -> LandUseClass | None:
        # A code below the classification's depth (a local seventh digit, say) takes its
        # nearest listed ancestor's category, so local subdivisions still meet the rules.
        for length in (len(code), 6, 4, 2):
            found = self._classes.get(code[:length])
            if found is not None:
                return found
        return None
