"""Business directory I/O: types, businesses with their licences, the agencies that inspect
a business, and officers' conflicts (回避)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from cityops.kit.schemas import ReadSchema, Schema


class BusinessTypeRead(ReadSchema):
    id: int
    code: str
    name: str
    item_codes: list[str] = Field(description="the enforcement items that apply to the type")
    note: str


class LicenceRead(ReadSchema):
    id: int
    kind: str
    number: str
    issuer: str
    valid_from: date | None
    valid_until: date | None


class BusinessRead(ReadSchema):
    id: int
    credit_code: str = Field(description="统一社会信用代码, or a citizen's ID number")
    name: str
    party_kind: str = Field(description="organisation or citizen")
    type_code: str
    type_name: str
    representative: str
    phone: str = Field(description="in full for enforcement staff, masked for others")
    address: str
    region_code: str = Field(description="the street")
    grid_code: str | None
    lon: float | None
    lat: float | None
    opened_on: date | None
    active: bool
    note: str


class InspectingAgency(ReadSchema):
    """An agency that inspects the business's type where it is, with the items it holds."""

    id: int
    code: str
    name: str
    kind: str
    kind_name: str
    items: list[str] = Field(description="the type's items this agency enforces there")


class ConflictRead(ReadSchema):
    officer_id: int
    officer_name: str
    certificate_number: str
    reason: str
    recorded_at: datetime | None


class BusinessDetail(BusinessRead):
    licences: list[LicenceRead]
    agencies: list[InspectingAgency] = Field(
        description="who inspects this type here (the agencies a joint inspection invites)"
    )
    conflicts: list[ConflictRead] = Field(
        description="officers who must not inspect it (回避); for enforcement staff only"
    )


class ConflictIn(Schema):
    officer_id: int
    reason: str = Field(min_length=1, max_length=500, description="why they must not inspect")
