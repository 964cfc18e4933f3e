"""Reading a rendered PDF back: its text line by line, its fonts, its content streams."""

from __future__ import annotations

import re
from io import BytesIO
from typing import Any

from pypdf import PdfReader


def reader(pdf: bytes) -> PdfReader:
    return PdfReader(BytesIO(pdf))


def page_lines(pdf: bytes) -> list[list[str]]:
    """Each page's text lines, stripped, empty ones left out."""
    return [
        [line.strip() for line in page.extract_text().splitlines() if line.strip()]
        for page in reader(pdf).pages
    ]


PAGE_NUMBER = re.compile(r"— \d+ —")


def lines(pdf: bytes) -> list[str]:
    """The text lines of all pages, page numbers left out."""
    return [line for page in page_lines(pdf) for line in page if not PAGE_NUMBER.fullmatch(line)]


def flat(pdf: bytes) -> str:
    """All the text with no line breaks or spaces, to find phrases broken over lines."""
    return re.sub(r"\s+", "", "".join(lines(pdf)))


def in_order(text: str, phrases: list[str]) -> list[str]:
    """The phrases not found in `text` after the previous one (empty: all in order)."""
    missing, at = [], 0
    for phrase in phrases:
        found = text.find(re.sub(r"\s+", "", phrase), at)
        if found < 0:
            missing.append(phrase)
        else:
            at = found + 1
    return missing


def fonts(pdf: bytes) -> dict[str, dict[str, Any]]:
    """Every font the pages use, by base name, with its descriptor (of the descendant font
    for a composite one)."""
    found: dict[str, dict[str, Any]] = {}
    for page in reader(pdf).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is None and "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            found[str(font["/BaseFont"])] = dict(descriptor.get_object()) if descriptor else {}
    return found


def content(pdf: bytes) -> str:
    """The pages' content streams as text (operators and all)."""
    return "\n".join(page.get_contents().get_data().decode("latin-1") for page in reader(pdf).pages)
