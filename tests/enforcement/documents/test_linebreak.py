"""Chinese line breaking (禁则): no line starts with closing punctuation or ends with an
opening one, Latin words and numbers stay whole, and no line is wider than its measure."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cityops.enforcement.documents.linebreak import CANNOT_END, CANNOT_START, is_wide, wrap


def em(char: str) -> float:
    """Han and full-width marks one em, Latin half an em."""
    return 1.0 if is_wide(char) else 0.5


def test_a_full_stop_that_would_start_a_line_takes_a_character_with_it() -> None:
    # Five characters fit; the sixth is 。, so 五 moves down with it (推出).
    lines = wrap("一二三四五。六七八九", em, 5)
    assert lines == ["一二三四", "五。六七八", "九"]


def test_every_closing_mark_of_the_rules_is_kept_off_the_line_start() -> None:
    for mark in "。，、；：？！）》」』”’…":
        lines = wrap(f"一二三四五{mark}六七", em, 5)
        assert not any(line[0] == mark for line in lines), (mark, lines)
        assert lines[0] == "一二三四", (mark, lines)


def test_an_opening_mark_does_not_end_a_line() -> None:
    for mark in "（《「『“‘〔":
        lines = wrap(f"一二三四{mark}五六七", em, 5)
        assert lines == ["一二三四", f"{mark}五六七"], (mark, lines)


def test_brackets_of_a_document_number_stay_with_the_year() -> None:
    lines = wrap("渝中消罚决字〔2026〕第12号", em, 7)
    assert lines[0] == "渝中消罚决字"
    assert lines[1].startswith("〔2026〕")


def test_latin_words_and_numbers_are_not_broken_and_lines_never_overflow() -> None:
    text = "执法证号500103-XF-0001，账号3100021209024937650，网址www.cq.gov.cn"
    lines = wrap(text, em, 12)
    assert "".join(lines) == text
    assert all(sum(em(c) for c in line) <= 12 for line in lines)
    assert any("500103-XF-0001" in line for line in lines)
    assert any("3100021209024937650" in line for line in lines)


def test_a_word_longer_than_the_line_is_cut_where_it_overflows() -> None:
    lines = wrap("A" * 30, em, 5)
    assert lines == ["A" * 10, "A" * 10, "A" * 10]


def test_spaces_between_words_break_and_vanish_at_the_line_end() -> None:
    assert wrap("GB/T 9704 and GB/T 15834", em, 4.5) == ["GB/T 9704", "and GB/T", "15834"]


def test_ellipsis_and_dash_pairs_stay_whole() -> None:
    assert not any(line.startswith("…") for line in wrap("一二三四……五六", em, 5))
    lines = wrap("一二三四——五六", em, 5)
    assert lines == ["一二三四", "——五六"]


def test_a_first_line_indent_narrows_only_the_first_line() -> None:
    assert wrap("一二三四五六七八九十", em, 5, first_width=3) == ["一二三", "四五六七八", "九十"]


HAN = st.sampled_from("中华人民共和国消防法安全出口疏散通道网咖检查整改")
CLOSE = st.sampled_from("。，、；：？！）》」』”’")
OPEN = st.sampled_from("（《「『“‘〔")
LATIN = st.from_regex(r"[0-9A-Cx-z][0-9A-Cx-z.\-]{0,5}", fullmatch=True)


@st.composite
def sentences(draw: st.DrawFn) -> str:
    """Text as written: words of Han and Latin, an opening mark before a word and at most
    two closing marks after one."""
    parts: list[str] = []
    for _ in range(draw(st.integers(1, 40))):
        word = draw(st.one_of(st.text(HAN, min_size=1, max_size=5), LATIN))
        if draw(st.booleans()):
            word = draw(OPEN) + word
        word += "".join(draw(st.lists(CLOSE, max_size=2)))
        parts.append(word)
    return "".join(parts)


@given(sentences(), st.integers(min_value=6, max_value=28))
def test_any_text_keeps_the_rules(text: str, width: int) -> None:
    lines = wrap(text, em, width)
    assert "".join(lines) == text
    for k, line in enumerate(lines):
        assert line, lines
        assert sum(em(c) for c in line) <= width, line
        if k > 0:
            assert line[0] not in CANNOT_START, (k, lines)
        if k < len(lines) - 1:
            assert line[-1] not in CANNOT_END, (k, lines)
