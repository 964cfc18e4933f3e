"""The merged checklist of a joint inspection, pure: one point per question, labelled with
every agency that needs it."""

from __future__ import annotations

from cityops.enforcement.inspections.checklist import AgencyRows, Row, merge, point_of


def row(id_: int, item: str, code: str, text: str, article: int | None) -> Row:
    return Row(id_, hash(item) % 1000, item, code, text, article, None)


EXIT_1 = row(1, "XF-CF-001", "XF-CF-001-01", "疏散通道、安全出口是否被占用、堵塞、封闭", 28)
HOURS_A = row(2, "WH-CF-003", "WH-CF-003-01", "是否在每日8时至24时以外营业", 22)
HOURS_B = row(3, "WH-JC-001", "WH-JC-001-02", "是否在每日 8时至24时以外营业", 22)
ID_CHECK = row(4, "WH-JC-001", "WH-JC-001-03", "是否核对、登记上网消费者的有效身份证件", 23)
FREE = row(5, "XX-1", "XX-1-01", "是否在每日8时至24时以外营业", None)


def test_the_same_code_or_the_same_article_and_text_is_one_point() -> None:
    points = merge(
        [
            AgencyRows(10, "街道", (HOURS_A, EXIT_1)),
            AgencyRows(20, "消防", (EXIT_1,)),
            AgencyRows(30, "文化", (HOURS_A, HOURS_B, ID_CHECK)),
            AgencyRows(40, "其他", (FREE,)),
        ]
    )
    assert [p.first.code for p in points] == [
        "WH-CF-003-01",
        "XF-CF-001-01",
        "WH-JC-001-03",
        "XX-1-01",
    ]
    hours = points[0]
    assert hours.ids == {2, 3} and hours.agency_names == {10: "街道", 30: "文化"}
    # Each agency answers under its own entry: the culture team under its first one.
    assert hours.agencies[30] is HOURS_A
    assert points[1].agency_names == {10: "街道", 20: "消防"}
    # The same words without an article are not taken for the same question.
    assert points[3].ids == {5}
    assert point_of(points, 3) is hours and point_of(points, 99) is None


def test_nothing_to_merge_keeps_every_entry_in_order() -> None:
    points = merge([AgencyRows(1, "A", (EXIT_1, ID_CHECK)), AgencyRows(2, "B", ())])
    assert [p.id for p in points] == [1, 4]
    assert merge([]) == []
