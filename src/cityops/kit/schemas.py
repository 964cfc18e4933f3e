"""Pydantic base classes shared by every context's schemas."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints


def aware_utc(value: datetime) -> datetime:
    # A timestamp without a zone is taken as UTC: devices and scripts often omit it, and
    # guessing the local zone would shift every reading by eight hours.
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


UTCDatetime = Annotated[datetime, AfterValidator(aware_utc)]

# An idempotency key: made by a client (a UUID, say) for a request it may have to send
# again, so that the server does the work once. 1–64 printable ASCII characters, no spaces.
REQUEST_KEY_MAX_LENGTH = 64
REQUEST_KEY_PATTERN = r"^[!-~]+$"
RequestKey = Annotated[
    str,
    StringConstraints(min_length=1, max_length=REQUEST_KEY_MAX_LENGTH, pattern=REQUEST_KEY_PATTERN),
]


class Schema(BaseModel):
    """Input and output models: strict about unknown fields, readable from ORM objects."""

    model_config = ConfigDict(from_attributes=True, extra="forbid", populate_by_name=True)


class ReadSchema(BaseModel):
    """Output models: built from ORM objects, tolerant of extra attributes."""

    model_config = ConfigDict(from_attributes=True)
