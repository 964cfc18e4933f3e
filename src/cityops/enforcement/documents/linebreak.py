"""Line breaking of Chinese text with the rules of 禁则 (GB/T 15834 and common typesetting
practice). Pure: widths come from the caller.

- No line starts with closing punctuation (。，、；：？！）》」』”’… and the like) and none
  ends with an opening one (（《「『“‘〔…); a break that would do so moves back to the
  previous allowed point (推出), and justification spreads the gap over the line.
- A run of Latin letters and digits (`GB/T`, `1,500`, `500103-XF-0001`) is not broken,
  unless it is wider than a whole line; spaces between words are break points and vanish
  at a line's end.
- Han characters may break anywhere else; `——` and `……` stay whole.

Lines never exceed the width they are given (reportlab's own CJK wrapping lets a closing
mark hang into the margin and knows neither ，；：？！》” nor the opening rule).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

CANNOT_START = frozenset(
    "。，、；：？！）》」』”’…〕】〉］｝〗．・·～％‰℃°"  # full-width and CJK marks
    ",.;:?!)]}%"  # their half-width forms
)
CANNOT_END = frozenset("（《「『“‘〔【〈［｛〖￥([{$")
UNSPLIT_PAIRS = frozenset("—…")  # 破折号 and 省略号 take two em each and stay whole
SPACES = frozenset(" \u00a0\u3000")
EPSILON = 0.01  # points: rounding of summed widths


def is_wide(char: str) -> bool:
    """A character set on the em grid: Han, kana, CJK and full-width punctuation."""
    code = ord(char)
    return (
        0x2E80 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0xFE30 <= code <= 0xFE4F
        or 0xFF00 <= code <= 0xFFEF
        or 0x20000 <= code <= 0x3FFFF
        or char in "“”‘’…—·"
    )


def can_break(before: str, after: str) -> bool:
    """Whether a line may end after `before` and the next start with `after`."""
    if after in SPACES:
        return False  # a space stays on the line it follows and vanishes there
    if after in CANNOT_START or before in CANNOT_END:
        return False
    if before in SPACES:
        return True
    if before == after and before in UNSPLIT_PAIRS:
        return False
    # Inside a run of Latin letters and digits: no break (a word, a number, a code).
    return is_wide(before) or is_wide(after)


def _punctuation_allows(text: str, k: int) -> bool:
    return text[k] not in CANNOT_START and text[k - 1] not in CANNOT_END


@dataclass(frozen=True)
class Line:
    """Characters `start`..`end` (exclusive, trailing spaces left out) of the text, their
    natural width, and whether this is the paragraph's last line (not justified)."""

    start: int
    end: int
    width: float
    last: bool


def break_lines(
    text: str, widths: Sequence[float], width: float, first_width: float | None = None
) -> list[Line]:
    """Break `text` (no newlines) into lines at most `width` wide; the first line may be
    narrower (`first_width`, for an indent). `widths[i]` is the advance of `text[i]`."""
    if len(widths) != len(text):
        raise ValueError("one width per character")
    lines: list[Line] = []
    n = len(text)
    i = 0
    while i < n:
        while i < n and text[i] in SPACES and text[i] != "\u3000":
            i += 1  # a line never starts with a (half-width) space
        if i >= n:
            break
        room = first_width if not lines and first_width is not None else width
        used = 0.0
        j = i
        fallback = None  # the last point where a break is allowed
        while j < n:
            if text[j] not in SPACES and used + widths[j] > room + EPSILON and j > i:
                break
            used += widths[j]
            j += 1
            if j < n and can_break(text[j - 1], text[j]):
                fallback = j
        if j >= n:
            end = n
        elif fallback is not None and fallback > i:
            end = fallback
        else:
            # Nowhere allowed (a word wider than the line): cut the word, but still not
            # before a closing mark or after an opening one.
            end = next((k for k in range(j, i, -1) if _punctuation_allows(text, k)), j)
        stop = end
        while stop > i and text[stop - 1] in SPACES and text[stop - 1] != "\u3000":
            stop -= 1
        lines.append(Line(i, stop, sum(widths[i:stop]), last=end >= n))
        i = end
    return lines


def wrap(
    text: str, measure: Callable[[str], float], width: float, first_width: float | None = None
) -> list[str]:
    """`text` broken into lines (as strings), each character measured by `measure`."""
    lines = break_lines(text, [measure(c) for c in text], width, first_width)
    return [text[line.start : line.end] for line in lines]
