"""Administrative penalty cases (行政处罚案件), their append-only steps, and each agency's
own numbers for the procedure (thresholds, days, document prefixes).

The authoritative history of a case is its steps; the columns of the case are the projection
of that history that lists, deadlines and supervision queries need, written in the same
transaction as each step.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from cityops.auth.models import make_append_only
from cityops.db import Base, JSONType


class PenaltyCase(Base):
    """A penalty case of one agency against one party for one enforcement item.

    `fine` and the other penalty columns hold the intended penalty until the decision and
    the decided one after it; `notice` keeps what the advance notice told the party, which
    the decision may not exceed (Art. 45). Money is in whole CNY, payments in fen.
    """

    __tablename__ = "enforcement_penalty_cases"
    __table_args__ = (
        UniqueConstraint("origin_kind", "origin_id", name="uq_enforcement_penalty_cases_origin"),
        Index("ix_enforcement_penalty_cases_agency_stage", "agency_id", "stage"),
        Index("ix_enforcement_penalty_cases_stage_due", "stage", "stage_due"),
        Index("ix_enforcement_penalty_cases_party", "item_id", "party_identifier"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(80), unique=True)  # 案号, given at filing
    agency_id: Mapped[int] = mapped_column(ForeignKey("enforcement_agencies.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("enforcement_items.id"), index=True)
    business_id: Mapped[int | None] = mapped_column(
        ForeignKey("enforcement_businesses.id"), index=True
    )
    party_kind: Mapped[str] = mapped_column(String(12))  # citizen | organisation
    party_name: Mapped[str] = mapped_column(String(200))
    party_identifier: Mapped[str] = mapped_column(String(40), default="")
    party_representative: Mapped[str] = mapped_column(String(60), default="")
    party_address: Mapped[str] = mapped_column(String(200), default="")
    party_phone: Mapped[str] = mapped_column(String(40), default="")
    procedure: Mapped[str] = mapped_column(String(12))
    stage: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(12))
    origin_kind: Mapped[str | None] = mapped_column(String(40))
    origin_id: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))  # 案由
    facts: Mapped[str] = mapped_column(Text, default="")  # 违法事实 / 简要案情
    place: Mapped[str] = mapped_column(String(200), default="")
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    # 承办人员: the registry officers handling the case.
    officer_ids: Mapped[list[Any]] = mapped_column(JSONType, default=list)

    violation_on: Mapped[date]
    violation_ended_on: Mapped[date | None]  # the end of a continuing violation
    # Life, health or financial security with harmful consequences: five years (Art. 36).
    serious_harm: Mapped[bool] = mapped_column(Boolean, default=False)
    discovered_on: Mapped[date]
    filed_on: Mapped[date | None]
    decision_due: Mapped[date | None]
    extended_until: Mapped[date | None]
    extensions: Mapped[int] = mapped_column(Integer, default=0)

    grade: Mapped[str | None] = mapped_column(String(12))
    benchmark_id: Mapped[int | None] = mapped_column(ForeignKey("enforcement_benchmarks.id"))
    fine: Mapped[int | None] = mapped_column(BigInteger)
    base_amount: Mapped[int | None] = mapped_column(BigInteger)  # 货值金额 … for multiples
    confiscated_value: Mapped[int | None] = mapped_column(BigInteger)
    measures: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    other_measures: Mapped[str] = mapped_column(Text, default="")
    departure_reason: Mapped[str] = mapped_column(Text, default="")
    exempt: Mapped[str | None] = mapped_column(String(16))  # first_violation | minor
    exempt_reason: Mapped[str] = mapped_column(Text, default="")
    major_public_interest: Mapped[bool] = mapped_column(Boolean, default=False)
    complex: Mapped[bool] = mapped_column(Boolean, default=False)

    legal_review_required: Mapped[bool] = mapped_column(Boolean, default=False)
    legal_review_why: Mapped[str] = mapped_column(Text, default="")
    reviewed_at: Mapped[datetime | None]  # the last review passed
    hearing_right: Mapped[bool] = mapped_column(Boolean, default=False)
    notice: Mapped[dict[str, Any] | None] = mapped_column(JSONType)  # what the notice said
    notified_on: Mapped[date | None]
    statement_due: Mapped[date | None]
    hearing_request_due: Mapped[date | None]
    hearing_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    hearing_on: Mapped[date | None]
    hearing_held_at: Mapped[datetime | None]

    decision_kind: Mapped[str | None] = mapped_column(String(12))  # penalty | no_penalty
    decided_on: Mapped[date | None]
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    service_due: Mapped[date | None]
    served_on: Mapped[date | None]
    service_method: Mapped[str | None] = mapped_column(String(16))
    payment_due: Mapped[date | None]
    paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    late_fee_fen: Mapped[int | None] = mapped_column(BigInteger)
    executed_on: Mapped[date | None]
    record_due: Mapped[date | None]  # a simplified decision filed with the agency by then
    recorded_on: Mapped[date | None]
    publication_required: Mapped[bool] = mapped_column(Boolean, default=False)
    publication_due: Mapped[date | None]
    published_on: Mapped[date | None]
    closed_on: Mapped[date | None]

    # The deadline of the stage the case is in (None: no clock), for the overdue query.
    stage_started_on: Mapped[date]
    stage_due: Mapped[date | None]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads it)


class PenaltyStep(Base):
    """One act of a case (filing, an inquiry, the notice, the decision, a payment …): who
    did it, which officers took part, the document it produced. Never updated or deleted."""

    __tablename__ = "enforcement_penalty_steps"
    __table_args__ = (
        UniqueConstraint("case_id", "seq", name="uq_enforcement_penalty_steps_seq"),
        Index("ix_enforcement_penalty_steps_kind_at", "kind", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("enforcement_penalty_cases.id"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(40))
    from_stage: Mapped[str | None] = mapped_column(String(16))
    to_stage: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    actor_name: Mapped[str] = mapped_column(String(80), default="")
    officer_ids: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    # The document the act produced (enforcement documents' id), if any.
    document_id: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


make_append_only(cast(Table, PenaltyStep.__table__))


class PenaltySettings(Base):
    """An agency's own numbers for the procedure; a column left empty takes the default in
    `penalties.rules` (thresholds of legal review and of the hearing right, days given to
    state a defence, working days to publish and to file a simplified decision, the
    document prefix, how to pay, where to appeal)."""

    __tablename__ = "enforcement_penalty_settings"

    agency_id: Mapped[int] = mapped_column(
        ForeignKey("enforcement_agencies.id", ondelete="CASCADE"), primary_key=True
    )
    number_prefix: Mapped[str | None] = mapped_column(String(30))  # 渝中消
    review_fine_citizen: Mapped[int | None] = mapped_column(BigInteger)
    review_fine_organisation: Mapped[int | None] = mapped_column(BigInteger)
    hearing_fine_citizen: Mapped[int | None] = mapped_column(BigInteger)
    hearing_fine_organisation: Mapped[int | None] = mapped_column(BigInteger)
    statement_days: Mapped[int | None] = mapped_column(Integer)
    filing_working_days: Mapped[int | None] = mapped_column(Integer)
    publication_working_days: Mapped[int | None] = mapped_column(Integer)
    record_working_days: Mapped[int | None] = mapped_column(Integer)
    extension_days: Mapped[int | None] = mapped_column(Integer)
    payment_method: Mapped[str | None] = mapped_column(Text)
    reconsideration_body: Mapped[str | None] = mapped_column(String(200))
    court: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime | None]
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
