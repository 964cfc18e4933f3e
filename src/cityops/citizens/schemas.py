"""What residents' clients send to Open311 (GeoReport v2), checked before anything is written."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, HttpUrl, field_validator

from cityops.kit.schemas import ReadSchema, Schema

MAX_DESCRIPTION = 4000


class RequestIn(Schema):
    """`POST requests`: the fields the GeoReport v2 specification gives, as a form sends
    them (`attribute[code]` gathered into `attributes`)."""

    service_code: str = Field(min_length=1, max_length=40)
    lat: float | None = Field(default=None, ge=-90, le=90)
    long: float | None = Field(default=None, ge=-180, le=180)
    address_string: str | None = Field(default=None, max_length=250)
    address_id: str | None = Field(default=None, max_length=80)
    description: str = Field(default="", max_length=MAX_DESCRIPTION)
    media_url: HttpUrl | None = None
    email: str | None = Field(default=None, max_length=120, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(default=None, max_length=30, pattern=r"^\+?[0-9 ()\-]{5,30}$")
    first_name: str | None = Field(default=None, max_length=60)
    last_name: str | None = Field(default=None, max_length=60)
    device_id: str | None = Field(default=None, max_length=80)
    account_id: str | None = Field(default=None, max_length=80)
    attributes: dict[str, str | list[str]] = Field(default_factory=dict)

    @field_validator("description", "address_string", "first_name", "last_name", mode="after")
    @classmethod
    def _plain_text(cls, value: str | None) -> str | None:
        """Control characters out (they break XML and logs); markup is kept as text and
        escaped wherever it is shown."""
        if value is None:
            return None
        return "".join(c for c in value if c in "\n\t" or c.isprintable()).strip()


def form_to_request(form: dict[str, Any]) -> dict[str, Any]:
    """A form's fields as `RequestIn` takes them: `attribute[code]` (one value, or several
    for a multi-value list) into `attributes`; empty fields left out, as clients send them."""
    out: dict[str, Any] = {}
    attributes: dict[str, str | list[str]] = {}
    for key, value in form.items():
        if key.startswith("attribute[") and key.endswith("]"):
            code = key[len("attribute[") : -1]
            if code.endswith("[]"):  # attribute[code][]=a&attribute[code][]=b
                code = code[:-2]
            attributes[code] = value if isinstance(value, list) and len(value) > 1 else (
                value[0] if isinstance(value, list) else value)  # fmt: skip
        elif key not in ("api_key", "jurisdiction_id") and value not in ("", None, []):
            out[key] = value[0] if isinstance(value, list) and len(value) == 1 else value
    if attributes:
        out["attributes"] = attributes
    return out


# The statuses of mySociety's Open311 extension, as a client sends them (upper case).
EXTENDED_STATUSES = ("OPEN", "CLOSED", "FIXED", "IN_PROGRESS", "ACTION_SCHEDULED",
                     "INVESTIGATING", "DUPLICATE", "NOT_COUNCILS_RESPONSIBILITY",
                     "NO_FURTHER_ACTION", "INTERNAL_REFERRAL", "REOPEN", "FOR_TRIAGE")  # fmt: skip


class UpdateIn(Schema):
    """`POST servicerequestupdates` (the GeoReport v2 updates extension): a resident's
    follow-up on a request, with the client's own id for it."""

    service_request_id: str = Field(pattern=r"^\d{1,12}$")
    update_id: str = Field(min_length=1, max_length=80)
    status: str = Field(pattern="^(" + "|".join(EXTENDED_STATUSES) + ")$")
    updated_datetime: str = Field(min_length=10, max_length=40)
    description: str = Field(min_length=1, max_length=MAX_DESCRIPTION)
    media_url: HttpUrl | None = None
    service_code: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=120)
    phone: str | None = Field(default=None, max_length=30)
    first_name: str | None = Field(default=None, max_length=60)
    last_name: str | None = Field(default=None, max_length=60)
    title: str | None = Field(default=None, max_length=20)
    account_id: str | None = Field(default=None, max_length=80)
    public_anonymity_required: str | None = None
    email_alerts_requested: str | None = None

    @field_validator("description", mode="after")
    @classmethod
    def _plain_text(cls, value: str) -> str:
        return "".join(c for c in value if c in "\n\t" or c.isprintable()).strip()


class ClassifyIn(Schema):
    text: str = Field(min_length=1, max_length=MAX_DESCRIPTION, description="What was reported")


class SuggestionRead(ReadSchema):
    class_code: str
    name: str
    confidence: float = Field(description="0-1: how sure the classifier is")


class ClassifyRead(ReadSchema):
    """The likeliest classes, likeliest first; `automatic` when the first is sure enough
    to route the report without a person reading it first (the configured confidence)."""

    suggestions: list[SuggestionRead]
    automatic: bool
    threshold: float


class ContactRead(ReadSchema):
    """Who reported: in full for the roles that call residents back, masked for others."""

    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    masked: bool


class CitizenRequestRead(ReadSchema):
    """A resident's request as it came, for the centre's staff."""

    id: int
    token: str
    channel: str
    service_code: str
    case_id: int | None
    description: str
    lon: float
    lat: float
    address_string: str | None
    media_url: str | None
    attributes: dict[str, Any]
    requested_at: datetime
    contact: ContactRead
