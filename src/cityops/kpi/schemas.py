"""KPI I/O: the figures of one subject, weights of the composite score."""

from __future__ import annotations

from pydantic import BaseModel, Field

from cityops.kit.schemas import ReadSchema, UTCDatetime


class Weights(BaseModel):
    """Weights of the composite score; rates with no value are left out and the rest
    renormalised, so a department that had nothing to close is not punished for it."""

    closure_rate: float = Field(default=0.2, ge=0)
    on_time_closure_rate: float = Field(default=0.3, ge=0)
    on_time_handling_rate: float = Field(default=0.2, ge=0)
    rework_rate: float = Field(default=0.1, ge=0, description="scored as 1 − rate")
    extension_rate: float = Field(default=0.1, ge=0, description="scored as 1 − rate")
    accurate_dispatch_rate: float = Field(default=0.1, ge=0)


class Counts(ReadSchema):
    reported: int = 0
    filed: int = 0
    cancelled: int = 0
    dispatched: int = 0
    returned: int = 0
    handled: int = 0
    handled_on_time: int = 0
    due_to_handle: int = 0
    due_to_close: int = 0
    closed: int = 0
    closed_on_time: int = 0
    reworked: int = 0
    extended: int = 0
    filed_then_cancelled: int = 0
    public_reports_verified: int = 0
    escalations: int = 0
    verifications: int = 0
    verifications_on_time: int = 0
    checks: int = 0
    checks_on_time: int = 0
    own_reports: int = 0
    own_reports_filed: int = 0


class Rates(ReadSchema):
    closure_rate: float | None = Field(description="结案率")
    on_time_closure_rate: float | None = Field(description="按期结案率")
    on_time_handling_rate: float | None = Field(description="按时处置率")
    rework_rate: float | None = Field(description="返工率")
    extension_rate: float | None = Field(description="延期率")
    public_report_rate: float | None = Field(description="监督举报率")
    valid_report_rate: float | None = Field(description="有效上报率")
    accurate_filing_rate: float | None = Field(description="准确立案率")
    accurate_dispatch_rate: float | None = Field(description="准确派遣率")
    on_time_verification_rate: float | None = Field(description="按时核实率")
    on_time_check_rate: float | None = Field(description="按时核查率")


class KpiRead(ReadSchema):
    subject: str
    name: str | None = None
    start: UTCDatetime
    end: UTCDatetime
    counts: Counts
    rates: Rates
    score: float | None
    grade: str | None
