"""What happened to cases, published after the transaction that did it commits."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CaseOpened:
    case_id: int
    class_code: str | None
    region_code: str
    state: str


@dataclass(frozen=True)
class CaseMerged:
    case_id: int
    source_event_id: int


@dataclass(frozen=True)
class CaseTransitioned:
    """A step was taken: the delivery hub tells the people concerned."""

    case_id: int
    step_id: int
    action: str
    from_state: str | None
    to_state: str
    region_code: str
    department_id: int | None
    assignee_id: int | None


@dataclass(frozen=True)
class CaseEscalated:
    case_id: int
    stage: str
    region_code: str
