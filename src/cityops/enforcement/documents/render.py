"""`render(document) -> bytes`: an enforcement document (执法文书) as a PDF that prints the
same everywhere (its Chinese faces embedded as subsets), laid out after GB/T 9704-2012."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from reportlab.platypus import Flowable

from cityops.config import get_settings
from cityops.enforcement.documents import content as c
from cityops.enforcement.documents.fonts import FontSet, default_fonts
from cityops.enforcement.documents.forms import filing_approval, on_site_record, service_proof
from cityops.enforcement.documents.layout import build
from cityops.enforcement.documents.letters import (
    Setting,
    advance_notice,
    order_to_correct,
    penalty_decision,
    rectification_notice,
)
from cityops.enforcement.documents.typeset import Typesetter

Layout = Callable[[Setting, Any], list[Flowable]]
LAYOUTS: dict[type, Layout] = {
    c.RectificationNotice: rectification_notice,
    c.FilingApproval: filing_approval,
    c.OnSiteRecord: on_site_record,
    c.OrderToCorrect: order_to_correct,
    c.AdvanceNotice: advance_notice,
    c.PenaltyDecision: penalty_decision,
    c.ServiceProof: service_proof,
}


@dataclass(frozen=True)
class Rendered:
    """A rendered document: the PDF and its number of pages."""

    pdf: bytes
    pages: int


def kind_of(document: c.Document | type) -> str:
    """The kind of a document as stored: its content class in snake case
    (PenaltyDecision → penalty_decision)."""
    cls = document if isinstance(document, type) else type(document)
    return re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()


KINDS: dict[str, type] = {kind_of(cls): cls for cls in LAYOUTS}


def title_of(document: c.Document) -> str:
    """行政处罚决定书 etc."""
    return c.TITLES[type(document)]


def issuers_of(document: c.Document) -> list[str]:
    if isinstance(document, c.RectificationNotice):
        return [i.name for i in document.issuers]
    return [document.issuer.name]


def render_document(
    document: c.Document, *, fonts: FontSet | None = None, zone: ZoneInfo | None = None
) -> Rendered:
    """The PDF of `document` and its page count. Raises FontsUnavailable (503) when no
    Chinese face can be found."""
    layout = LAYOUTS.get(type(document))
    if layout is None:
        raise TypeError(f"not an enforcement document: {type(document).__name__}")
    fonts = fonts or default_fonts()
    zone = zone or ZoneInfo(get_settings().timezone)
    story = layout(Setting(Typesetter(fonts), zone), document)
    title = title_of(document)
    pdf, pages = build(
        story, fonts, title=f"{title} {document.number}".strip(),
        author="、".join(issuers_of(document)), subject=title, creator="cityops",
    )  # fmt: skip
    return Rendered(pdf, pages)


def render(document: c.Document, *, fonts: FontSet | None = None) -> bytes:
    """The PDF of an enforcement document (the faces found once per process)."""
    return render_document(document, fonts=fonts).pdf
