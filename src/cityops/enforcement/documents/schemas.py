"""What the document endpoints return."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from cityops.kit.schemas import ReadSchema


class IssuedDocumentRead(ReadSchema):
    """An issued enforcement document (执法文书) and where to download its PDF."""

    id: int
    kind: str = Field(description="the document's kind, e.g. penalty_decision")
    title: str = Field(description="e.g. 行政处罚决定书")
    number: str = Field(description="文书编号, e.g. 渝中消罚决字〔2026〕第12号")
    agency_id: int
    subject_kind: str
    subject_id: int
    sha256: str
    size: int
    pages: int
    issued_at: datetime
    issued_by: int | None
    pdf_url: str
