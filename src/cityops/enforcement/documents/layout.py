"""The page and the parts every document shares, after GB/T 9704-2012 (党政机关公文格式) as
enforcement documents use it: A4, type area 156 × 225 mm (top 37, left 28 mm), 28
characters × 22 lines of 3号 (16 pt) text, the agency and title in 2号 (22 pt), page
numbers `— 1 —` in 4号 below the type area (odd pages right, even pages left, one
character in), the signature block right with the date four characters from the edge."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    PageTemplate,
    Spacer,
    Table,
    TableStyle,
)

from cityops.enforcement.documents.fonts import FontSet
from cityops.enforcement.documents.typeset import Span, TextBlock, TextStyle, Typesetter

PAGE_WIDTH, PAGE_HEIGHT = A4
TOP, BOTTOM, LEFT, RIGHT = 37 * mm, 35 * mm, 28 * mm, 26 * mm
WIDTH = PAGE_WIDTH - LEFT - RIGHT  # 156 mm
HEIGHT = PAGE_HEIGHT - TOP - BOTTOM  # 225 mm
CHARS_PER_LINE, LINES_PER_PAGE = 28, 22
SIZE_2, SIZE_3, SIZE_4, SIZE_SMALL_4 = 22.0, 16.0, 14.0, 12.0  # 2号, 3号, 4号, 小四
# The line pitch that puts 22 lines in the type area (a hair less, against rounding).
LEADING = HEIGHT / LINES_PER_PAGE - 0.001
# 28 characters of 16 pt are 1.5 mm wider than 156 mm: the grid squeezes each a little.
TRACKING = WIDTH / CHARS_PER_LINE - SIZE_3
BLANK_DATE = "年　　月　　日"
PAGE_NUMBER_GAP = 7 * mm  # from the type area's lower edge to the page number
SIGNATURE_LINES = 1.5  # a signature image is as high as this many lines

BODY = TextStyle(size=SIZE_3, leading=LEADING, tracking=TRACKING, indent=2)
FIELD = BODY.but(indent=0)  # 当事人：… lines, flush left
AGENCY = TextStyle(size=SIZE_2, leading=SIZE_2 * 1.6, role="title", align="center")
TITLE = AGENCY.but(before=4, after=6)
NUMBER = BODY.but(indent=0, align="right")
HEADING = BODY.but(role="title")  # 一、… in Hei (or the title face)
CELL = TextStyle(size=SIZE_4, leading=SIZE_4 * 1.5, align="justify")
LABEL = CELL.but(align="center")


class OfficialDocument(BaseDocTemplate):
    """A4 pages with the GB/T 9704 type area and page numbers."""

    def __init__(self, buffer: BytesIO, fonts: FontSet, **meta: Any) -> None:
        super().__init__(
            buffer, pagesize=A4, leftMargin=LEFT, rightMargin=RIGHT, topMargin=TOP,
            bottomMargin=BOTTOM, invariant=1, initialFontName=fonts.body.name,
            initialFontSize=SIZE_3, **meta,
        )  # fmt: skip
        # invariant: the same content gives the same bytes (and checksum); the initial font
        # is ours, so no unembedded standard font is named in the file.
        self.fonts = fonts
        frame = Frame(LEFT, BOTTOM, WIDTH, HEIGHT, 0, 0, 0, 0, id="type-area")
        self.addPageTemplates([PageTemplate("page", [frame], onPage=self._page_number)])

    def _page_number(self, canvas: Any, _doc: Any) -> None:
        number = f"— {canvas.getPageNumber()} —"
        # The 一字线 is one em wide: some faces (Noto) draw U+2014 as a narrow Western dash.
        face = next(
            (f for f in self.fonts.faces()
             if f.covers("—") and stringWidth("—", f.name, SIZE_4) >= 0.98 * SIZE_4),
            self.fonts.body,
        )  # fmt: skip
        canvas.saveState()
        canvas.setFont(face.name, SIZE_4)
        y = BOTTOM - PAGE_NUMBER_GAP - SIZE_4
        if canvas.getPageNumber() % 2:
            canvas.drawRightString(PAGE_WIDTH - RIGHT - SIZE_4, y, number)
        else:
            canvas.drawString(LEFT + SIZE_4, y, number)
        canvas.restoreState()


class Signature(Flowable):
    """The agency (or agencies), 印章 and date at the right: the date ends four characters
    from the right edge, the lines above are centred over it."""

    def __init__(self, ts: Typesetter, lines: Sequence[str], style: TextStyle = FIELD) -> None:
        super().__init__()
        self.style = style.but(indent=0, align="left", before=0, after=0)
        self.blocks = [ts.text(line, self.style) for line in lines]
        self.widths = [ts.width(line, self.style) for line in lines]
        self.em = style.size + style.tracking

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width = availWidth
        self.height = len(self.blocks) * self.style.leading
        return self.width, self.height

    def draw(self) -> None:
        axis = self.width - 4 * self.em - self.widths[-1] / 2
        for k, (block, width) in enumerate(zip(self.blocks, self.widths, strict=True)):
            x = min(axis - width / 2, self.width - width)
            block.wrap(width + 1, self.style.leading)
            block.drawOn(self.canv, max(x, 0.0), self.height - (k + 1) * self.style.leading)


class SignLine(Flowable):
    """`label：` at the left and a blank date `年　月　日` at the right: a line to sign on.
    With signature images (PNGs drawn on a screen) they stand between the two, a row of
    them as high as `SIGNATURE_LINES` lines, rows added as needed; the date then is the
    day signed when given."""

    def __init__(
        self,
        ts: Typesetter,
        label: str,
        style: TextStyle = FIELD,
        *,
        images: Sequence[bytes] = (),
        day: str = "",
    ) -> None:
        super().__init__()
        self.style = style.but(indent=0, align="left", before=0, after=0)
        self.left = ts.text(f"{label}：", self.style)
        self.right = ts.text(day or BLANK_DATE, self.style.but(align="right"))
        self.label_width = ts.width(f"{label}：", self.style)
        self.date_width = ts.width(day or BLANK_DATE, self.style)
        self.images = [ImageReader(BytesIO(png)) for png in images]
        self.placed: list[tuple[ImageReader, float, float, float, float]] = []

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width = availWidth
        self.placed = self._place()
        if not self.placed:
            self.height = self.style.leading
        else:
            rows = 1 + max(round(-y / self._image_height()) for _, _, y, _, _ in self.placed)
            self.height = max(self.style.leading, rows * self._image_height())
        return self.width, self.height

    def _image_height(self) -> float:
        return SIGNATURE_LINES * self.style.leading

    def _place(self) -> list[tuple[ImageReader, float, float, float, float]]:
        """(image, x, row offset ≤ 0, width, height) of each image, rows downwards."""
        h = self._image_height()
        start, end = self.label_width, self.width - self.date_width - self.style.size
        x, row, placed = start, 0.0, []
        for image in self.images:
            iw, ih = image.getSize()
            natural = h * iw / max(ih, 1)
            w = min(natural, end - start)  # wider than the room: scaled down whole
            if x + w > end and x > start:
                x, row = start, row - h
            placed.append((image, x, row, w, h * w / natural))
            x += w + self.style.size / 2
        return placed

    def draw(self) -> None:
        for block in (self.left, self.right):
            block.wrap(self.width, self.style.leading)
            block.drawOn(self.canv, 0, 0)
        top = self.height - self._image_height()
        for image, x, row, w, h in self.placed:
            self.canv.drawImage(image, x, top + row, w, h, mask="auto")


def header(ts: Typesetter, agencies: Sequence[str], title: str, number: str) -> list[Flowable]:
    """The issuing agency (agencies, for a joint document), the title and the number."""
    size = SIZE_2 if len(agencies) <= 2 else 18.0
    agency = AGENCY.but(size=size, leading=size * 1.5)
    out: list[Flowable] = [ts.text(name, agency) for name in agencies]
    # A short title is spread out (送 达 回 证), as printed forms do.
    spread = SIZE_2 if len(title) <= 5 else SIZE_2 * 0.1
    out.append(ts.text(title, TITLE.but(tracking=spread)))
    if number:
        out.append(ts.text(number, NUMBER))
    return out


def para(ts: Typesetter, content: str | Sequence[Span], style: TextStyle = BODY) -> TextBlock:
    return ts.text(content, style)


def labelled(ts: Typesetter, label: str, value: str, style: TextStyle = FIELD) -> TextBlock:
    """`label：value`, wrapped lines hanging under the value."""
    hang = len(label) + 1
    return ts.text(f"{label}：{value}", style.but(left=hang, indent=-hang))


def labelled_lines(
    ts: Typesetter, label: str, values: Sequence[str], style: TextStyle = FIELD
) -> list[TextBlock]:
    """`label：first value`, each further value on a line of its own under the first."""
    if not values:
        return []
    hang = len(label) + 1
    rest = [ts.text(v, style.but(left=hang, indent=0)) for v in values[1:]]
    return [labelled(ts, label, values[0], style), *rest]


class KeepTail(Flowable):
    """A document's last paragraph and its signature block: the block never stands alone
    on a page (GB/T 9704 7.3.5.3), at least the paragraph's last two lines go with it."""

    def __init__(self, paragraph: TextBlock, block: Flowable, gap: float) -> None:
        super().__init__()
        self.paragraph = paragraph
        self.block = block
        self.gap = gap

    def getSpaceBefore(self) -> float:
        return float(self.paragraph.getSpaceBefore())

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        _, text = self.paragraph.wrap(availWidth, availHeight)
        _, block = self.block.wrap(availWidth, availHeight)
        self.width, self.height = availWidth, text + self.gap + block
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        self.wrap(availWidth, availHeight)
        if self.height <= availHeight:
            return [self]
        lines = self.paragraph.break_into_lines(availWidth)
        leading = self.paragraph.style.leading
        here = min(int(availHeight // leading), len(lines) - min(2, len(lines)))
        if here <= 0:
            return []  # all of it on the next page
        head, tail = self.paragraph.cut(availWidth, here)
        return [head, KeepTail(tail, self.block, self.gap)]

    def draw(self) -> None:
        block_height = self.block.height
        self.paragraph.drawOn(self.canv, 0, block_height + self.gap)
        self.block.drawOn(self.canv, 0, 0)


def close_with_signature(
    story: list[Flowable], ts: Typesetter, agencies: Sequence[str], day: str
) -> list[Flowable]:
    """`story` ended by a blank line, the agencies, （印章） and the date, which keep the
    last paragraph's last lines with them."""
    block = Signature(ts, [*agencies, "（印章）", day])
    last = story[-1] if story else None
    if isinstance(last, TextBlock):
        return [*story[:-1], KeepTail(last, block, LEADING)]
    return [*story, KeepTogether([Spacer(1, LEADING), block])]


PAD_X, PAD_Y = 5.0, 4.0  # cell padding (points)


def cell(ts: Typesetter, content: str | Sequence[Span], style: TextStyle = CELL) -> list[Flowable]:
    """A table cell's paragraphs: one per line of `content` (a str may hold newlines)."""
    if isinstance(content, str):
        return [ts.text(line, style) for line in content.split("\n")]
    return [ts.text(content, style)]


@dataclass
class Form:
    """A ruled form being built: rows of label and value cells. A long value is set one
    line a row, its rows drawn as one cell, so that the form can break between any two
    lines and a page holds no half-empty row."""

    ts: Typesetter
    widths: Sequence[float]
    rows: list[list[Any]] = field(default_factory=list)
    spans: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)
    inner: list[int] = field(default_factory=list)  # rows continued by the next (no rule)
    keep: list[tuple[int, int]] = field(default_factory=list)  # row ranges kept on one page

    def row(self, *cells: Any) -> None:
        """One row of cells as given (strings become label or value cells alternately)."""
        made = [
            cell(self.ts, c, LABEL if k % 2 == 0 else CELL) if isinstance(c, str) else c
            for k, c in enumerate(cells)
        ]
        self.rows.append(made)

    def wide(self, label: str, value: str, *, blank_lines: int = 0) -> int:
        """A label and a value across all the other columns, the value's lines one row
        each (and `blank_lines` empty ones at the end, room to sign); the rows added."""
        columns = len(self.widths)
        room = sum(self.widths[1:]) - 2 * PAD_X
        lines: list[Flowable] = []
        for text in value.split("\n"):
            if text.strip():
                lines += self.ts.lines(text, CELL, room)
            else:
                lines.append(Spacer(1, CELL.leading))
        lines += [Spacer(1, CELL.leading)] * blank_lines
        first = len(self.rows)
        for k, line in enumerate(lines or [Spacer(1, CELL.leading)]):
            label_cell = cell(self.ts, label, LABEL) if k == 0 else ""
            self.rows.append([label_cell, line, *[""] * (columns - 2)])
            self.spans.append(((1, first + k), (columns - 1, first + k)))
        self.inner += range(first, len(self.rows) - 1)
        last = len(self.rows) - 1
        # A short value stays whole; a long one leaves at least two lines on either page.
        if last - first < 6:
            self.keep.append((first, last))
        else:
            self.keep += [(first, first + 1), (last - 1, last)]
        return last - first + 1

    def table(self, repeat: int = 1) -> Table:
        """The form; the first `repeat` rows are printed again on each page it goes on to."""
        table = Table(self.rows, colWidths=list(self.widths), repeatRows=repeat, hAlign="LEFT")
        commands: list[tuple[Any, ...]] = [
            ("BOX", (0, 0), (-1, -1), 1.2, "black"),
            # Empty cells would otherwise name the library's unembedded default font.
            ("FONTNAME", (0, 0), (-1, -1), self.ts.fonts.body.name),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("LEFTPADDING", (0, 0), (-1, -1), PAD_X),
            ("RIGHTPADDING", (0, 0), (-1, -1), PAD_X),
            ("TOPPADDING", (0, 0), (-1, -1), PAD_Y),
            ("BOTTOMPADDING", (0, 0), (-1, -1), PAD_Y),
        ]
        commands += [
            ("LINEAFTER", (c, 0), (c, -1), 0.75, "black") for c in range(len(self.widths) - 1)
        ]
        continued = set(self.inner)
        for r in range(len(self.rows)):
            if r not in continued:
                commands.append(("LINEBELOW", (0, r), (-1, r), 0.75, "black"))
            else:
                commands.append(("BOTTOMPADDING", (0, r), (-1, r), 0))
            if r - 1 in continued:
                commands.append(("TOPPADDING", (0, r), (-1, r), 0))
        # A label heads its lines at the top; one-row labels stay centred.
        commands += [("VALIGN", (0, r), (0, r), "TOP") for r in continued if r - 1 not in continued]
        commands += [("SPAN", start, end) for start, end in self.spans]
        commands += [("NOSPLIT", (0, a), (-1, b)) for a, b in self.keep if b > a]
        table.setStyle(TableStyle(commands))
        return table


def build(story: list[Flowable], fonts: FontSet, **meta: Any) -> tuple[bytes, int]:
    """The PDF of `story` and its number of pages."""
    buffer = BytesIO()
    doc = OfficialDocument(buffer, fonts, **meta)
    doc.build(story)
    return buffer.getvalue(), int(doc.page)
