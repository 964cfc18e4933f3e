"""The 2023 land and sea use classes, the older schemes mapped onto them and the default
conflict matrix: reference data a planning bureau checks, and the pure functions over it."""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import pytest

from cityops.onemap.landuse import (
    COMPATIBILITY_SEED,
    SCHEMES,
    CompatibilityMatrix,
    LandUseClass,
    Rule,
    load_classes,
    load_mapping,
    normalise,
    validate_matrix,
)

CLASSES = load_classes()
MATRIX = CompatibilityMatrix.from_csv(classes=CLASSES)
RED_LINE = "line:ecological_red_line"
FARMLAND = "line:permanent_farmland"
BOUNDARY = "line:urban_boundary"


def matrix_rows() -> list[dict[str, str]]:
    with COMPATIBILITY_SEED.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def name_in(matrix: CompatibilityMatrix, a: str, b: str) -> str | None:
    rule = matrix.rule_for(a, b)
    return None if rule is None else rule.name


def name_of(a: str, b: str) -> str | None:
    return name_in(MATRIX, a, b)


# --- the classification -------------------------------------------------------------------


def test_all_24_first_level_classes_are_there_in_order() -> None:
    first = [c.code for c in CLASSES.values() if c.level == 1]
    assert first == [f"{i:02d}" for i in range(1, 25)]
    assert CLASSES["05"].name == "湿地"
    assert CLASSES["16"].name == "留白用地"
    assert CLASSES["24"].name == "其他海域"


def test_the_tree_is_consistent() -> None:
    for c in CLASSES.values():
        assert len(c.code) == 2 * c.level and c.code.isdigit(), c
        if c.level == 1:
            assert c.parent is None, c
        else:
            assert c.parent == c.code[:-2] and c.parent in CLASSES, c
            assert CLASSES[c.parent].level == c.level - 1
            assert CLASSES[c.parent].category == c.category, c
        assert c.name and c.name_en


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("0101", "水田"),
        ("0102", "水浇地"),
        ("0103", "旱地"),
        ("0204", "油料园地"),
        ("0507", "红树林地"),
        ("060202", "畜禽养殖设施建设用地"),
        ("070101", "一类城镇住宅用地"),
        ("0703", "农村宅基地"),
        ("080403", "中小学用地"),
        ("100103", "三类工业用地"),
        ("1003", "盐田"),
        ("1102", "储备库用地"),
        ("120803", "社会停车场用地"),
        ("1311", "水工设施用地"),
        ("1706", "冰川及常年积雪"),
        ("2203", "海洋保护修复及海岸防护工程用海"),
        ("2302", "后备耕地"),
    ],
)
def test_known_codes_have_the_guide_s_names(code: str, name: str) -> None:
    assert CLASSES[code].name == name


def test_construction_land_is_06_to_16_and_built_sea_uses() -> None:
    land = {c.code[:2] for c in CLASSES.values() if c.construction and int(c.code[:2]) <= 17}
    assert land == {f"{i:02d}" for i in range(6, 17)}
    assert CLASSES["2001"].construction  # port
    assert not CLASSES["1803"].construction  # fishing grounds
    assert not CLASSES["01"].construction and not CLASSES["05"].construction
    assert {c.category for c in CLASSES.values() if c.code[:2] in ("03", "04", "05")} == {
        "ecological"
    }


def test_urban_land_is_construction_land_and_parents_follow_their_subclasses() -> None:
    for c in CLASSES.values():
        assert c.construction or not c.urban, c
        subclasses = [s for s in CLASSES.values() if s.parent == c.code]
        if subclasses:
            assert c.urban == all(s.urban for s in subclasses), c


@pytest.mark.parametrize(
    ("code", "urban"),
    [
        ("0701", True),  # 城镇住宅用地
        ("070102", True),
        ("0702", True),  # 城镇社区服务设施用地
        ("07", False),  # homesteads too
        ("0703", False),  # 农村宅基地
        ("0704", False),  # 农村社区服务设施用地
        ("060201", False),  # farm facilities
        ("0801", True),
        ("080403", False),  # village schools
        ("080602", False),  # township health centres
        ("0807", False),  # township old people's homes
        ("08", False),
        ("09", True),
        ("090104", True),
        ("1001", True),  # industry: no development zones or industrial parks outside
        ("1002", False),  # mining
        ("1003", False),  # salt pans
        ("1101", True),
        ("1102", False),  # strategic reserves
        ("1201", False),  # railways and the other regional transport
        ("1207", False),
        ("1301", False),  # utilities
        ("1401", True),
        ("1402", False),  # green belts along roads and lines
        ("1502", True),  # embassies
        ("1501", False),  # military
        ("1506", False),  # burial
        ("16", False),
        ("1901", False),
    ],
)
def test_which_classes_belong_inside_the_urban_boundary(code: str, urban: bool) -> None:
    assert CLASSES[code].urban is urban


def test_a_classification_file_needs_consistent_flags(tmp_path: Path) -> None:
    header = "code,level,parent,name,name_en,construction,category,urban\n"
    path = tmp_path / "classes.csv"
    path.write_text(header + "01,1,,耕地,Cultivated land,0,agricultural,1\n", "utf-8")
    with pytest.raises(ValueError, match="line 2: urban land must be construction land"):
        load_classes(path)
    path.write_text(header.replace(",urban", "") + "01,1,,耕地,Cultivated,0,agricultural\n")
    with pytest.raises(ValueError, match="construction and urban 0 or 1"):
        load_classes(path)


def test_level_counts() -> None:
    counts = [sum(1 for c in CLASSES.values() if c.level == n) for n in (1, 2, 3)]
    assert counts == [24, 111, 40]


# --- the older schemes ----------------------------------------------------------------------


@pytest.mark.parametrize("scheme", list(SCHEMES))
def test_every_mapping_target_is_a_2023_class(scheme: str) -> None:
    mapping = load_mapping(scheme)
    assert len(mapping) > 80
    assert [s for s, t in mapping.items() if t not in CLASSES] == []


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("0101", "0101"),  # 水田
        ("0201", "0201"),  # 果园
        ("0301", "0301"),  # 乔木林地
        ("0305", "0303"),  # 灌木林地 renumbered
        ("0303", "0507"),  # 红树林地 is wetland in 2023
        ("05H1", "09"),
        ("0601", "1001"),
        ("0701", "0701"),
        ("0702", "0703"),  # 农村宅基地
        ("08H1", "0801"),
        ("0810A", "1403"),
        ("1001", "1201"),  # 铁路用地
        ("1006", "0601"),  # 农村道路 is agricultural facility land in 2023
        ("1101", "1701"),  # 河流水面
        ("1109", "1311"),
        ("1202", "0602"),  # 设施农用地
    ],
)
def test_known_survey_codes_map_onto_2023(source: str, target: str) -> None:
    assert load_mapping("gbt21010_2017")[source] == target


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("R2", "070102"),
        ("R1", "070101"),
        ("R", "07"),
        ("A33", "080403"),
        ("A7", "1504"),
        ("B4", "090105"),
        ("M1", "100101"),
        ("M", "1001"),
        ("W", "11"),
        ("S1", "1207"),
        ("U21", "1302"),
        ("G1", "1401"),
        ("H5", "1002"),
        ("E12", "1703"),
    ],
)
def test_known_urban_codes_map_onto_2023(source: str, target: str) -> None:
    assert load_mapping("gb50137_2011")[source] == target


def test_an_unknown_scheme_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"unknown land-use scheme 'tdlyxz_1984'.*gbt21010_2017"):
        load_mapping("tdlyxz_1984")


def test_a_scheme_not_shipped_can_be_read_from_its_own_file(tmp_path: Path) -> None:
    path = tmp_path / "provincial.csv"
    path.write_text("source_code,source_name,target_code,note\nX1,某地类,0101,\n", "utf-8")
    assert load_mapping("provincial", path) == {"X1": "0101"}


# --- the conflict matrix --------------------------------------------------------------------


def test_the_seed_matrix_is_valid() -> None:
    assert validate_matrix(matrix_rows(), CLASSES) == []


def test_wetland_against_industry_is_found_both_ways() -> None:
    for a, b in [("0501", "1001"), ("1001", "0501"), ("0507", "100103"), ("05", "10")]:
        rule = MATRIX.rule_for(a, b)
        assert rule is not None and rule.name == "wetland-vs-industrial", (a, b)
        assert rule.severity == "hard"


def test_the_most_specific_rule_wins() -> None:
    # 05 vs 10 beats 05 vs any construction
    assert name_of("0506", "1002") == "wetland-vs-industrial"
    assert name_of("0506", "0701") == "wetland-vs-construction"
    # 01 vs construction beats agricultural vs construction; garden land only has the latter
    assert name_of("0101", "0701") == "cultivated-vs-construction"
    assert name_of("0201", "0701") == "agricultural-vs-construction"
    # 06 (a prefix) vs agricultural beats 01 vs construction (flag): facility farming on
    # ordinary farmland is allowed under rules
    assert name_of("0102", "060201") == "agri-facility-vs-agricultural"
    # on permanent farmland a six-digit prefix beats four, which beats `construction`
    assert name_of(FARMLAND, "060202") == "livestock-facility-on-permanent-farmland"
    assert name_of(FARMLAND, "060201") == "agri-facility-on-permanent-farmland"
    assert name_of(FARMLAND, "120801") == "construction-on-permanent-farmland"


def test_a_tie_goes_to_the_earlier_rule() -> None:
    rows = [
        {"rule": "first", "a": "01", "b": "category:construction", "severity": "hard",
         "description": "一", "description_en": "one"},
        {"rule": "second", "a": "category:agricultural", "b": "07", "severity": "soft",
         "description": "二", "description_en": "two"},
    ]  # fmt: skip
    matrix = CompatibilityMatrix.from_rows(rows, CLASSES)
    assert matrix.rule_for("0101", "0701") == Rule("first", "01", "category:construction",
                                                   "hard", "一", "one")  # fmt: skip
    matrix = CompatibilityMatrix.from_rows(rows[::-1], CLASSES)
    assert name_in(matrix, "0701", "0101") == "second"


def test_the_control_line_rules() -> None:
    assert name_of(RED_LINE, "0701") == "construction-in-red-line"
    assert name_of("1901", RED_LINE) == "construction-in-red-line"  # sea construction too
    assert name_of(RED_LINE, "0103") == "farmland-in-red-line"
    assert name_of(RED_LINE, "0301") is None  # forest belongs inside the red line
    assert name_of(FARMLAND, "1001") == "construction-on-permanent-farmland"
    assert name_of(FARMLAND, "0301") == "ecological-on-permanent-farmland"
    assert name_of(FARMLAND, "1704") == "pond-on-permanent-farmland"
    assert name_of(FARMLAND, "0101") is None


def test_urban_land_outside_the_boundary_is_an_outside_rule_read_one_way() -> None:
    housing = MATRIX.rule_for("070101", BOUNDARY)
    assert housing is not None and housing.kind == "outside" and housing.severity == "hard"
    assert housing.name == "urban-housing-outside-boundary"
    shops = MATRIX.rule_for("0901", BOUNDARY)
    assert shops is not None and shops.name == "urban-construction-outside-boundary"
    assert shops.kind == "outside" and shops.severity == "soft"
    # "the part of a boundary outside housing" means nothing
    assert name_of(BOUNDARY, "0701") is None
    # what may lie outside the boundary
    for code in ("0703", "0704", "060202", "1002", "1201", "1311", "1501", "16", "0301"):
        assert name_of(code, BOUNDARY) is None, code
    # overlap rules still read both ways
    rule = MATRIX.rule_for("0501", "1001")
    assert rule is not None and rule.kind == "overlap"


def test_an_outside_rule_is_as_specific_as_its_patterns() -> None:
    rows = [
        {"rule": "built-outside", "a": "construction", "b": BOUNDARY, "severity": "soft",
         "description": "建", "description_en": "built", "kind": "outside"},
        {"rule": "urban-outside", "a": "urban", "b": BOUNDARY, "severity": "soft",
         "description": "城", "description_en": "urban", "kind": "outside"},
        {"rule": "over", "a": "category:construction", "b": BOUNDARY, "severity": "soft",
         "description": "叠", "description_en": "over"},
    ]  # fmt: skip
    matrix = CompatibilityMatrix.from_rows(rows, CLASSES)
    assert name_in(matrix, "0701", BOUNDARY) == "over"  # a category beats urban
    assert name_in(matrix, BOUNDARY, "0701") == "over"  # both ways: an overlap rule
    matrix = CompatibilityMatrix.from_rows(rows[:2], CLASSES)
    assert name_in(matrix, "0701", BOUNDARY) == "urban-outside"  # urban beats construction
    # One way round each, two outside rules on the same classes do not compete.
    reverse = {**rows[1], "rule": "boundary-outside-urban", "a": BOUNDARY, "b": "urban"}
    assert validate_matrix([rows[1], reverse], CLASSES) == []
    assert validate_matrix([rows[1], {**rows[2], "a": "urban"}], CLASSES) == [
        "row 3 (over): same pair as rule 'urban-outside'"
    ]
    assert name_in(matrix, "0703", BOUNDARY) == "built-outside"
    assert name_in(matrix, BOUNDARY, "0703") is None


def test_the_three_lines_must_not_overlap() -> None:
    for a, b in [(RED_LINE, FARMLAND), (FARMLAND, BOUNDARY), (BOUNDARY, RED_LINE)]:
        for x, y in [(a, b), (b, a)]:
            rule = MATRIX.rule_for(x, y)
            assert rule is not None and rule.severity == "hard", (x, y)
    assert MATRIX.rule_for(RED_LINE, RED_LINE) is None


def test_two_farmland_classes_do_not_conflict() -> None:
    assert MATRIX.rule_for("0101", "0102") is None
    assert MATRIX.rule_for("0103", "0103") is None
    assert MATRIX.rule_for("070101", "0702") is None


def test_a_line_never_matches_a_class_pattern() -> None:
    # a control line has no class: were it taken for construction land, the red line over
    # permanent farmland would read as construction inside the red line
    assert name_of(FARMLAND, RED_LINE) == "red-line-vs-permanent-farmland"
    assert name_of(RED_LINE, "0205") is None


def test_answers_are_cached_per_pair() -> None:
    matrix = CompatibilityMatrix.from_rows(matrix_rows(), CLASSES)
    first = matrix.rule_for("0501", "1001")
    matrix._compiled.clear()  # a second answer can only come from the cache
    assert matrix.rule_for("0501", "1001") is first
    assert matrix.rule_for("1001", "0501") is first


def test_validation_lists_every_problem() -> None:
    rows = [
        *matrix_rows()[:2],
        {"rule": "typo", "a": "0599", "b": "category:urban", "severity": "fatal",
         "description": "错", "description_en": "wrong"},
        {"rule": "typo", "a": "line:river", "b": "10", "severity": "soft",
         "description": "", "description_en": "x"},
        {"rule": "again", "a": "10", "b": "05", "severity": "soft",
         "description": "重复", "description_en": "again"},
        {"rule": "within", "a": "07", "b": "line:urban_boundary", "severity": "soft",
         "description": "内", "description_en": "within", "kind": "inside"},
    ]  # fmt: skip
    problems = validate_matrix(rows, CLASSES)
    assert problems == [
        "row 4 (typo): unknown class code '0599'",
        "row 4 (typo): unknown category 'urban' (one of agricultural, ecological, construction,"
        " water, sea, other)",
        "row 4 (typo): severity 'fatal' is not hard or soft",
        "row 5: description missing",
        "row 6 (again): same pair as rule 'wetland-vs-industrial'",
        "row 7 (within): kind 'inside' is not overlap or outside",
    ]
    with pytest.raises(ValueError, match="unknown class code '0599'"):
        CompatibilityMatrix.from_rows(rows, CLASSES)


def test_a_bad_control_line_is_named() -> None:
    rows = [{"rule": "x", "a": "line:river", "b": "10", "severity": "soft",
             "description": "河", "description_en": "river"}]  # fmt: skip
    assert validate_matrix(rows, CLASSES) == [
        "row 2 (x): unknown control line 'line:river' (one of line:ecological_red_line, "
        "line:permanent_farmland, line:urban_boundary)"
    ]


# --- normalising codes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ("0101", "0101"),
        ("101", "0101"),
        (101, "0101"),
        (101.0, "0101"),
        ("101.0", "0101"),
        (" 0101 ", "0101"),
        (1, "01"),
        ("5", "05"),
        (1001, "1001"),
        (70101, "070101"),
        ("0070101", "070101"),
        (24.0, "24"),
    ],
)
def test_codes_from_spreadsheets_are_normalised(given: str | float, code: str) -> None:
    assert normalise(given, CLASSES) == code


@pytest.mark.parametrize(
    "given", ["", "abc", "0101a", "9999", "25", "0", 101.5, math.nan, -101, True, "1.5", "0000"]
)
def test_what_is_not_a_code_is_refused_by_name(given: str | float) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(given))):
        normalise(given, CLASSES)


def test_an_ambiguous_code_is_refused() -> None:
    one = LandUseClass("01", 1, None, "甲", "A", False, "other")
    classes = {"01": one, "0001": LandUseClass("0001", 2, "00", "乙", "B", False, "other")}
    with pytest.raises(ValueError, match="ambiguous: it may be 01 or 0001"):
        normalise("1", classes)
