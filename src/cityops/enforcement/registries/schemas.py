"""Enforcement registries I/O: laws and articles, items with their basis, benchmark and
checklist, agencies, officers, and the checks of officers and fines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import Field

from cityops.enforcement.registries.models import Grade, Party
from cityops.kit.schemas import ReadSchema, Schema

REGION_CODE = r"^\d{6,15}$"


class LawRead(ReadSchema):
    id: int
    code: str
    version: str
    title: str
    level: str
    level_name: str
    issuer: str
    document_number: str
    promulgated_on: date | None
    effective_on: date | None
    superseded_on: date | None
    repealed_on: date | None
    amendments: list[dict[str, Any]]
    source: str
    note: str


class ArticleRead(ReadSchema):
    id: int
    law_id: int
    number: int
    paragraph: int | None = Field(description="款, when this row is one paragraph")
    item: int | None = Field(description="项, when this row is one item")
    label: str = Field(description="as printed, e.g. 第四十二条")
    citation: str = Field(description="《title》第四十二条")
    text: str


class LawDetail(LawRead):
    articles: list[ArticleRead]


class LawBrief(ReadSchema):
    id: int
    code: str
    version: str
    title: str
    level: str


class ArticleHit(ArticleRead):
    law: LawBrief


class BasisRead(ReadSchema):
    role: str = Field(description="duty (违法依据), penalty (处罚依据) or power")
    article_id: int
    law_code: str
    law_version: str
    citation: str
    text: str = Field(description="the article's text (the whole article)")


class BenchmarkRead(ReadSchema):
    id: int
    position: int
    grade: str
    grade_name: str
    party: str
    circumstance: str
    fine_min: int | None = Field(description="CNY")
    fine_max: int | None = Field(description="CNY")
    times_min: float | None
    times_max: float | None
    base_name: str = Field(description="the amount multiples and spans refer to (货值金额…)")
    base_from: int | None = Field(description="the row holds from this amount (CNY)")
    base_below: int | None = Field(description="… and below this one")
    measure: str
    article_id: int | None
    citation: str | None = None


class ChecklistRead(ReadSchema):
    id: int
    code: str
    position: int
    text: str
    article_id: int | None
    citation: str | None = None


class ItemRead(ReadSchema):
    id: int
    code: str
    name: str
    kind: str
    kind_name: str
    field: str
    agency_kinds: list[str]
    first_violation_exempt: bool
    exemption_conditions: str
    effective_on: date | None
    expires_on: date | None
    active: bool
    note: str


class ItemDetail(ItemRead):
    basis: list[BasisRead]
    benchmarks: list[BenchmarkRead]
    checklist: list[ChecklistRead]


class AgencyRead(ReadSchema):
    id: int
    code: str
    name: str
    kind: str
    kind_name: str
    department_id: int | None
    address: str
    phone: str
    active: bool
    note: str
    regions: list[str] = Field(description="jurisdiction: each code covers the regions below")
    items: list[str] = Field(description="items given beyond those of its kind (codes)")


class OfficerRead(ReadSchema):
    id: int
    certificate_number: str
    name: str
    agency_id: int
    agency_code: str
    agency_name: str
    valid_from: date
    valid_until: date
    regions: list[str] = Field(description="the certificate's regions; empty: the agency's")
    active: bool
    person_id: int | None
    phone: str = Field(description="in full for admins and supervisors, masked for others")


class OfficerCheckRequest(Schema):
    officer_ids: list[int] = Field(min_length=1, max_length=50)
    region_code: str = Field(pattern=REGION_CODE)
    on: date


class OfficerProblemRead(ReadSchema):
    kind: str
    officer_id: int | None
    name: str | None
    certificate_number: str | None
    message: str
    blocking: bool
    basis: str


class OfficerCheckRead(ReadSchema):
    ok: bool = Field(description="no blocking problem: these officers may act here that day")
    problems: list[OfficerProblemRead]


class FineCheckRequest(Schema):
    grade: Grade
    fine: Decimal = Field(ge=0, max_digits=14, decimal_places=2, description="CNY")
    party: Party | None = None
    base_amount: Decimal | None = Field(
        default=None,
        ge=0,
        max_digits=16,
        decimal_places=2,
        description="the amount a multiple is of (货值金额, 违法所得…), CNY",
    )
    benchmark_id: int | None = Field(default=None, description="the row of the circumstance")


class AllowedRangeRead(ReadSchema):
    benchmark_id: int
    circumstance: str
    party: str
    minimum: float
    maximum: float
    measure: str


class FineCheckRead(ReadSchema):
    within: bool
    needs_reason: bool
    grade: str
    fine: float
    allowed: list[AllowedRangeRead]
    reason: str
