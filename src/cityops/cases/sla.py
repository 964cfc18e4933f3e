"""Stage deadlines and the traffic light, on the working-time calendar."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from cityops.cases.workflow import State
from cityops.catalog.models import Stage, TimeUnit
from cityops.catalog.service import CatalogSnapshot
from cityops.worktime.service import WorkCalendar

# The stage whose limit runs while a case is in a state. HANDLING runs on the class's own
# handling limit instead (处置时限); DEFERRED and the final states have no clock.
STAGE_OF_STATE: dict[State, Stage] = {
    State.REPORTED: Stage.ACCEPT,
    State.VERIFYING: Stage.VERIFY,
    State.ACCEPTED: Stage.FILE,
    State.FILED: Stage.DISPATCH,
    State.HANDLED: Stage.CHECK,
    State.CHECKING: Stage.CHECK,
    State.CHECKED: Stage.CLOSE,
}

# Sending a handled case to check and checking it are one stage with one deadline.
CONTINUING = {(State.HANDLED, State.CHECKING)}


def stage_name(state: State) -> str | None:
    if state is State.HANDLING:
        return "handle"
    stage = STAGE_OF_STATE.get(state)
    return stage.value if stage else None


def handling_due(
    snapshot: CatalogSnapshot, calendar: WorkCalendar, class_code: str, start: datetime
) -> datetime:
    """The handling deadline of a case of `class_code` dispatched at `start`."""
    klass = snapshot.classes[class_code]
    return calendar.add(start, klass.limit_value, TimeUnit(klass.limit_unit))


def stage_due(
    snapshot: CatalogSnapshot,
    calendar: WorkCalendar,
    class_code: str | None,
    state: State,
    start: datetime,
) -> datetime | None:
    """When the stage that `state` belongs to must end, if it has a limit."""
    if state is State.HANDLING:
        return handling_due(snapshot, calendar, class_code, start) if class_code else None
    stage = STAGE_OF_STATE.get(state)
    if stage is None:
        return None
    limit = snapshot.stage_limit(stage, class_code)
    if limit is None:
        return None
    return calendar.add(start, limit.value, TimeUnit(limit.unit))


def light(
    calendar: WorkCalendar,
    start: datetime,
    due: datetime | None,
    now: datetime,
    unit: TimeUnit = TimeUnit.NATURAL_HOURS,
) -> tuple[Literal["green", "yellow", "red"] | None, float | None]:
    """The traffic light of a running stage and the fraction of its limit used."""
    if due is None:
        return None, None
    return calendar.traffic_light(start, due, now, unit)
