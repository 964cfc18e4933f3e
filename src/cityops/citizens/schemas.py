"""What residents and their clients send (Open311 GeoReport v2, the public page, the
hotline, ratings and call-backs), checked before anything is written; and what they read."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, HttpUrl, field_validator

from cityops.kit.schemas import ReadSchema, Schema

MAX_DESCRIPTION = 4000


def plain_text(value: str | None) -> str | None:
    """Control characters out (they break XML and logs); markup is kept as text and
    escaped wherever it is shown."""
    if value is None:
        return None
    return "".join(c for c in value if c in "\n\t" or c.isprintable()).strip()


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

    _plain = field_validator("description", "address_string", "first_name", "last_name",
                             mode="after")(plain_text)  # fmt: skip


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

    _plain = field_validator("description", mode="after")(lambda v: plain_text(v) or "")


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


Rating = Literal["satisfied", "basically_satisfied", "dissatisfied"]
# A mainland mobile number: what a verification code can be sent to.
MOBILE = r"^1[3-9]\d{9}$"


class RatingRead(ReadSchema):
    rating: Rating
    comment: str
    at: datetime


class CallbackIn(Schema):
    """A call-back's result (回访): whether the resident was reached, and if so how
    satisfied they are with how their request was handled."""

    reached: bool
    rating: Rating | None = None
    note: str = Field(default="", max_length=2000)

    _plain = field_validator("note", mode="after")(lambda v: plain_text(v) or "")


class CallbackRead(ReadSchema):
    id: int
    at: datetime
    by: str
    reached: bool
    rating: Rating | None
    note: str
    reopened: bool


class CitizenRequestRead(ReadSchema):
    """A resident's request as it came, for the centre's staff."""

    id: int
    token: str
    channel: str
    service_code: str | None
    case_id: int | None
    description: str
    lon: float
    lat: float
    address_string: str | None
    media_url: str | None
    attributes: dict[str, Any]
    requested_at: datetime
    contact: ContactRead
    routing: str
    joined: bool
    phone_verified: bool
    rating: RatingRead | None
    callbacks: list[CallbackRead]


class PhoneCodeIn(Schema):
    phone: str = Field(pattern=MOBILE, description="A mainland mobile number, 11 digits")


class PhoneCodeRead(ReadSchema):
    expires_in: int = Field(description="Seconds the code stays good")
    resend_after: int = Field(description="Seconds before another code may be asked for")


class PublicReportIn(Schema):
    """A resident's report from the public page: no account; the phone, if given, proven
    by the code sent to it."""

    description: str = Field(min_length=1, max_length=2000)
    service_code: str | None = Field(default=None, max_length=40)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    address: str | None = Field(default=None, max_length=250)
    name: str | None = Field(default=None, max_length=60)
    phone: str | None = Field(default=None, pattern=MOBILE)
    code: str | None = Field(default=None, pattern=r"^\d{6}$")

    _plain = field_validator("description", "address", "name", mode="after")(plain_text)


class HotlineIn(Schema):
    """What a call-taker types while the caller speaks (热线受理)."""

    description: str = Field(min_length=1, max_length=2000)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    address: str | None = Field(default=None, max_length=250)
    caller_name: str | None = Field(default=None, max_length=60)
    caller_phone: str | None = Field(default=None, max_length=30,
                                     pattern=r"^\+?[0-9 ()\-]{5,30}$")  # fmt: skip
    class_code: str | None = Field(
        default=None,
        max_length=8,
        description="The call-taker's choice; none: automatic when the classifier is sure "
        "enough, else left to decide",
    )

    _plain = field_validator("description", "address", "caller_name", mode="after")(plain_text)


class TakenRead(ReadSchema):
    """A public report taken in: the ticket to follow it by."""

    ticket: str
    status: str
    state: str
    status_note: str
    service_code: str | None
    service_name: str | None
    joined: bool
    notice: str


class HotlineRead(ReadSchema):
    request_id: int
    ticket: str
    case_id: int | None
    case_state: str | None
    class_code: str | None
    routing: str = Field(description="chosen, automatic or call_taker")
    joined: bool
    suggestions: list[SuggestionRead]


class ProgressRead(ReadSchema):
    at: datetime
    text: str


class PhotoRead(ReadSchema):
    url: str


class TicketRead(ReadSchema):
    """What a resident reads of their request by its ticket: never anyone's contact."""

    ticket: str
    service_code: str | None
    service_name: str | None
    description: str
    address: str | None
    lat: float
    lon: float
    requested_at: datetime
    status: str
    state: str
    status_note: str
    notes: list[ProgressRead]
    answer: str | None
    photos: list[PhotoRead]
    joined: bool
    rating: RatingRead | None
    can_rate: bool


class RatingIn(Schema):
    rating: Rating
    comment: str = Field(default="", max_length=1000)

    _plain = field_validator("comment", mode="after")(lambda v: plain_text(v) or "")


class PublicServiceRead(ReadSchema):
    code: str
    name: str
    group: str
    description: str
    keywords: list[str]


class PublicSuggestionRead(ReadSchema):
    service_code: str
    name: str
    confidence: float


class DueCallbackRead(ReadSchema):
    """A closed request whose resident has not been called back yet (回访待办)."""

    request_id: int
    ticket: str
    case_id: int
    closed_at: datetime | None
    service_name: str | None
    description: str
    contact: ContactRead


class VocabularyTermIn(Schema):
    class_code: str = Field(min_length=1, max_length=8)
    term: str = Field(min_length=1, max_length=80)

    _plain = field_validator("term", mode="after")(lambda v: plain_text(v) or "")


class VocabularyTermRead(ReadSchema):
    id: int
    class_code: str
    term: str
    created_at: datetime


class DueCallbacksRead(ReadSchema):
    items: list[DueCallbackRead]


class PublicServicesRead(ReadSchema):
    items: list[PublicServiceRead]


class PublicSuggestionsRead(ReadSchema):
    items: list[PublicSuggestionRead]
