"""A paragraph of Chinese text as a reportlab flowable, broken by `linebreak` (禁则) and
justified on the character grid, with per-character face fallback and emphasis (bold).

Every character is drawn in the first face of its role that has it (the body face, then the
title face, then the fallbacks), so a name outside GB 2312 does not print as an empty box.
Bold is drawn as filled and stroked glyphs: free Chinese faces rarely come with a bold
weight, and this prints the same in every viewer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable

from cityops.enforcement.documents.fonts import Face, FontSet
from cityops.enforcement.documents.linebreak import SPACES, Line, break_lines, is_wide

BOLD_STROKE = 0.035  # of the size: the width of the outline that thickens bold glyphs


@dataclass(frozen=True)
class Span:
    """A piece of a paragraph's text; `role` ("body", "title", "kai") overrides the
    paragraph's face."""

    text: str
    bold: bool = False
    role: str = ""


@dataclass(frozen=True)
class TextStyle:
    """How a paragraph is set. Indents are in ems of `size`; `tracking` (points) is added
    to every character, which puts a fixed number of characters on a line."""

    size: float
    leading: float
    role: str = "body"
    indent: float = 0.0  # the first line, relative to `left` (2: a paragraph; negative: hanging)
    left: float = 0.0
    right: float = 0.0
    align: str = "justify"  # justify | left | center | right
    tracking: float = 0.0
    before: float = 0.0  # points
    after: float = 0.0

    def but(self, **changes: Any) -> TextStyle:
        return replace(self, **changes)


@lru_cache(maxsize=65536)
def _advance(font: str, char: str, size: float) -> float:
    return float(stringWidth(char, font, size))


@dataclass(frozen=True)
class Prepared:
    """The characters of a paragraph with the face, emphasis and advance of each."""

    text: str
    faces: tuple[Face, ...]
    bold: tuple[bool, ...]
    widths: tuple[float, ...]


def prepare(spans: Sequence[Span], style: TextStyle, fonts: FontSet) -> Prepared:
    chars: list[str] = []
    faces: list[Face] = []
    bold: list[bool] = []
    widths: list[float] = []
    for span in spans:
        role = span.role or style.role
        for char in span.text.replace("\t", " "):
            face = fonts.face_for(char, role)
            chars.append(char)
            faces.append(face)
            bold.append(span.bold)
            widths.append(_advance(face.name, char, style.size) + style.tracking)
    return Prepared("".join(chars), tuple(faces), tuple(bold), tuple(widths))


class TextBlock(Flowable):
    """One paragraph. It splits between lines across frames and pages; the part on the next
    page goes on without the first-line indent."""

    def __init__(
        self,
        prepared: Prepared,
        style: TextStyle,
        fonts: FontSet,
        start: int = 0,
        stop: int | None = None,
    ) -> None:
        super().__init__()
        self.prepared = prepared
        self.style = style
        self.fonts = fonts
        self.start = start  # where this part begins (after a split: no first-line indent)
        self.stop = stop  # where it ends, for a part holding only some of the lines
        self.lines: list[Line] = []
        self._for_width = -1.0
        self.width = 0.0
        self.height = 0.0

    @property
    def em(self) -> float:
        return self.style.size + self.style.tracking

    def getSpaceBefore(self) -> float:
        return self.style.before if self.start == 0 else 0.0

    def getSpaceAfter(self) -> float:
        return self.style.after

    def break_into_lines(self, width: float) -> list[Line]:
        if width != self._for_width:
            s = self.style
            room = width - (s.left + s.right) * self.em
            first = room - s.indent * self.em if self.start == 0 else room
            p = self.prepared
            lines = break_lines(p.text[self.start :], p.widths[self.start :], room, first)
            self.lines = [
                Line(line.start + self.start, line.end + self.start, line.width, line.last)
                for line in lines
                if self.stop is None or line.start + self.start < self.stop
            ]
            self._for_width = width
        return self.lines

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        lines = self.break_into_lines(availWidth)
        self.width = availWidth
        self.height = len(lines) * self.style.leading
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        lines = self.break_into_lines(availWidth)
        fit = int((availHeight + 1e-6) // self.style.leading)
        if fit <= 0:
            return []
        if fit >= len(lines):
            return [self]
        return list(self.cut(availWidth, fit))

    def cut(self, width: float, lines: int) -> tuple[TextBlock, TextBlock]:
        """The first `lines` lines at `width`, and the rest (which must not be empty)."""
        at = self.break_into_lines(width)[lines].start
        return (
            TextBlock(self.prepared, self.style, self.fonts, self.start, at),
            TextBlock(self.prepared, self.style, self.fonts, at, self.stop),
        )

    def _baseline(self) -> float:
        """From the top of a line to its baseline: the glyphs centred in the line pitch."""
        face = self.fonts.chain(self.style.role)[0]
        ascent = face.ascent / (face.ascent - face.descent)
        return (self.style.leading - self.style.size) / 2 + self.style.size * ascent

    def _stretches(self, line: Line) -> list[bool]:
        """Which gaps after each character of `line` take justification space: every gap
        but those inside a run of Latin letters and digits (a code such as 500103-XF-0001
        keeps its letters together; the line's Chinese characters spread instead)."""
        t = self.prepared.text
        gaps = [
            is_wide(t[i]) or is_wide(t[i + 1]) or t[i] in SPACES or t[i + 1] in SPACES
            for i in range(line.start, line.end - 1)
        ]
        return [*gaps, False] if any(gaps) else [*([True] * len(gaps)), False]

    def draw(self) -> None:
        s = self.style
        p = self.prepared
        canvas = self.canv
        room = self.width - (s.left + s.right) * self.em
        canvas.saveState()
        canvas.setLineWidth(s.size * BOLD_STROKE)
        text = canvas.beginText()
        for k, line in enumerate(self.lines):
            if line.end <= line.start:
                continue
            first = line.start == 0
            left = (s.left + (s.indent if first else 0.0)) * self.em
            line_room = room - (s.indent * self.em if first else 0.0)
            slack = line_room - line.width + s.tracking
            stretches = self._stretches(line)
            extra = 0.0
            if s.align == "justify" and not line.last and any(stretches):
                extra = slack / sum(stretches)
            elif s.align == "center":
                left += slack / 2
            elif s.align == "right":
                left += slack
            text.setTextOrigin(left, self.height - k * s.leading - self._baseline())
            # One run per face, emphasis and kind of gap; the character spacing (Tc) of a
            # run is the grid's tracking plus, where the gaps stretch, the justification.
            key = [
                (p.faces[i], p.bold[i], stretches[i - line.start])
                for i in range(line.start, line.end)
            ]
            run_start = line.start
            for i in range(line.start + 1, line.end + 1):
                if i == line.end or key[i - line.start] != key[run_start - line.start]:
                    face, bold, stretch = key[run_start - line.start]
                    text.setFont(face.name, s.size)
                    text.setTextRenderMode(2 if bold else 0)
                    text.setCharSpace(s.tracking + (extra if stretch else 0.0))
                    text.textOut(p.text[run_start:i])
                    run_start = i
        canvas.drawText(text)
        canvas.restoreState()


class Typesetter:
    """Makes paragraphs in the faces of one document."""

    def __init__(self, fonts: FontSet) -> None:
        self.fonts = fonts

    def text(self, content: str | Sequence[Span], style: TextStyle) -> TextBlock:
        spans = [Span(content)] if isinstance(content, str) else list(content)
        return TextBlock(prepare(spans, style, self.fonts), style, self.fonts)

    def lines(self, content: str, style: TextStyle, width: float) -> list[TextBlock]:
        """`content` broken at `width` into one block per line (each justified as in the
        whole paragraph), so that a table can break between any two of them."""
        whole = self.text(content, style)
        return [
            TextBlock(whole.prepared, style, self.fonts, line.start, line.end)
            for line in whole.break_into_lines(width)
        ]

    def width(self, content: str, style: TextStyle) -> float:
        """The natural width of one line of `content`."""
        widths = prepare([Span(content)], style, self.fonts).widths
        return sum(widths) - (style.tracking if widths else 0.0)
