"""What happened to devices and alarms, published after the transaction that did it commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class AlarmChanged:
    """An alarm was raised, escalated, acknowledged or cleared, or opened a case."""

    alarm_id: int
    device_id: int
    change: str
    severity: int
    state: str
    grid_code: str | None
    department_id: int | None


@dataclass(frozen=True)
class ReadingsStored:
    """New latest values: datastream id → (time, value), for the in-memory latest values."""

    latest: dict[int, tuple[datetime, float]]
