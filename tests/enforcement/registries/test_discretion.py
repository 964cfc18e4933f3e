"""The benchmark check of a fine, at the edges of its ranges."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cityops.enforcement.registries.discretion import BenchmarkRange, judge_fine
from cityops.enforcement.registries.models import Grade, Party

# The Fire Protection Law Art. 60: organisations 5,000–50,000; individuals a warning or at
# most 500. The Food Safety Law Art. 122: 50,000–100,000 below a goods value of 10,000,
# 10 to 20 times the goods value from 10,000.
ROWS = [
    BenchmarkRange(1, "lighter", "organisation", "及时改正", fine_min=5000, fine_max=15000),
    BenchmarkRange(2, "ordinary", "organisation", "一般", fine_min=15000, fine_max=35000),
    BenchmarkRange(3, "heavier", "organisation", "拒不改正", fine_min=35000, fine_max=50000),
    BenchmarkRange(4, "lighter", "citizen", "个人", measure="警告"),
    BenchmarkRange(5, "ordinary", "citizen", "个人", fine_min=100, fine_max=300),
]
FOOD = [
    BenchmarkRange(
        11,
        "ordinary",
        "any",
        "不足一万元",
        fine_min=65000,
        fine_max=85000,
        base_name="货值金额",
        base_below=10000,
    ),
    BenchmarkRange(
        12,
        "ordinary",
        "any",
        "一万元以上",
        times_min=13,
        times_max=17,
        base_name="货值金额",
        base_from=10000,
    ),
]


def judge(grade: Grade, fine: int | str, rows: list[BenchmarkRange] = ROWS, **kw: object) -> bool:
    return judge_fine(rows, grade, Decimal(fine), **kw).within  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fine", "within"),
    [(4999, False), (5000, True), (15000, True), ("15000.01", False), (35000, True)],
)
def test_bounds_are_inclusive_and_nothing_beyond_them(fine: int | str, within: bool) -> None:
    # 15000 belongs to both lighter and ordinary; 35000 to ordinary's top and heavier's foot.
    grade = Grade.LIGHTER if fine in (4999, 5000, 15000, "15000.01") else Grade.ORDINARY
    assert judge(grade, fine, party=Party.ORGANISATION) is within


def test_the_reason_names_the_ranges() -> None:
    check = judge_fine(ROWS, Grade.HEAVIER, Decimal(50001), party=Party.ORGANISATION)
    assert not check.within and check.needs_reason
    assert check.reason == "50,001.00 is outside 从重处罚 (35,000–50,000)"
    assert [a.benchmark_id for a in check.allowed] == [3]


def test_rows_for_one_party_do_not_apply_to_the_other() -> None:
    assert judge(Grade.ORDINARY, 300, party=Party.CITIZEN)
    assert not judge(Grade.ORDINARY, 300, party=Party.ORGANISATION)
    assert not judge(Grade.ORDINARY, 15000, party=Party.CITIZEN)
    # A question that names no party is judged against every row of the grade.
    assert judge(Grade.ORDINARY, 300) and judge(Grade.ORDINARY, 15000)


def test_a_warning_only_row_allows_no_fine() -> None:
    assert judge(Grade.LIGHTER, 0, party=Party.CITIZEN)
    assert not judge(Grade.LIGHTER, 1, party=Party.CITIZEN)


def test_no_penalty_allows_no_fine_whatever_the_rows() -> None:
    assert judge(Grade.NONE, 0)
    check = judge_fine(ROWS, Grade.NONE, Decimal(1))
    assert not check.within and "不予处罚" in check.reason


def test_a_grade_without_rows_cannot_be_within() -> None:
    check = judge_fine(ROWS, Grade.MITIGATED, Decimal(1000), party=Party.ORGANISATION)
    assert not check.within
    assert check.reason == "the benchmark has no row for 减轻处罚 for a organisation"


def test_rows_on_the_goods_value_need_it_and_pick_the_row_by_it() -> None:
    missing = judge_fine(FOOD, Grade.ORDINARY, Decimal(70000))
    assert not missing.within and "货值金额" in missing.reason
    assert judge(Grade.ORDINARY, 70000, FOOD, base_amount=Decimal("9999.99"))
    # From 10,000 the fixed range no longer applies: 13–17 times the goods value does.
    assert not judge(Grade.ORDINARY, 70000, FOOD, base_amount=Decimal(10000))
    assert judge(Grade.ORDINARY, 130000, FOOD, base_amount=Decimal(10000))
    assert judge(Grade.ORDINARY, 170000, FOOD, base_amount=Decimal(10000))
    assert not judge(Grade.ORDINARY, 170001, FOOD, base_amount=Decimal(10000))


def test_the_row_of_the_circumstance_can_be_named() -> None:
    assert judge(Grade.ORDINARY, 15000, benchmark_id=2)
    assert not judge(Grade.ORDINARY, 200, benchmark_id=2)


def test_a_negative_fine_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        judge_fine(ROWS, Grade.LIGHTER, Decimal(-1))
