"""Article numbers as laws print them, and the references import files use."""

from __future__ import annotations

import pytest

from cityops.enforcement.registries.citation import (
    ArticleRef,
    chinese_number,
    citation,
    parse_number,
    parse_ref,
    place_label,
    split_list,
)


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (1, "一"),
        (10, "十"),
        (15, "十五"),
        (20, "二十"),
        (42, "四十二"),
        (100, "一百"),
        (101, "一百零一"),
        (110, "一百一十"),
        (122, "一百二十二"),
        (1010, "一千零一十"),
        (1001, "一千零一"),
    ],
)
def test_chinese_numbers_as_laws_number_articles(number: int, text: str) -> None:
    assert chinese_number(number) == text
    assert parse_number(f"第{text}条") == number


def test_every_number_reads_back() -> None:
    assert all(parse_number(chinese_number(n)) == n for n in range(1, 2000))


@pytest.mark.parametrize("text", ["42", "第42条", "四十二", "第四十二条", "（四十二）"])
def test_a_cell_may_write_a_number_several_ways(text: str) -> None:
    assert parse_number(text) == 42


@pytest.mark.parametrize("text", ["", "第条", "abc", "0", "四十二款a"])
def test_what_is_not_a_number(text: str) -> None:
    with pytest.raises(ValueError, match="number"):
        parse_number(text)


def test_places_and_citations() -> None:
    assert place_label(60, 1, 3) == "第六十条第一款第三项"
    assert place_label(60, 0, 3) == "第六十条第三项"
    assert citation("中华人民共和国消防法", 28) == "《中华人民共和国消防法》第二十八条"


def test_references() -> None:
    assert parse_ref("fire-protection-law:60.1.3") == ArticleRef(
        "fire-protection-law", None, 60, 1, 3
    )
    assert parse_ref(" food-safety-law@2021:第一百二十二条 ") == ArticleRef(
        "food-safety-law", "2021", 122
    )
    assert str(parse_ref("a@v:7.2")) == "a@v:7.2"
    for bad in ("fire-protection-law", ":60", "x:60.1.2.3", "x:sixty", "@2021:3", "x@:3"):
        with pytest.raises(ValueError, match=r"x|law|article"):
            parse_ref(bad)


def test_lists_split_on_chinese_and_latin_marks() -> None:
    assert split_list("a; b；c、d,e，f\ng") == list("abcdefg")
    assert split_list(" ;; ") == []
