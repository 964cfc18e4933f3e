"""Alarm rule semantics, reading by reading: pure functions, no database, no clock.

A threshold rule watches a value; a rate rule watches how fast it changes (units per
minute, between one reading and the next). Both share the same machinery:

- Levels: each severity has a raise threshold, further from normal as severity rises. A
  level *holds* once the value has been past its threshold for at least `for_count`
  consecutive readings and `for_seconds` seconds (judged at each reading).
- Raise: with no alarm active, the highest level that holds raises one.
- Escalate: while active, a higher level that holds raises the alarm's severity. Severity
  never drops while the alarm is active: the worst it reached is what the centre must see.
- Clear: back on the normal side of `clear_at` (short of the lowest threshold: hysteresis)
  for `clear_for_seconds`, the alarm clears. A value that flaps around a threshold
  therefore raises one alarm, not one per crossing.
- Time order: a reading not newer than the last one judged is late. It is stored by the
  caller but not judged: judging the past after the present would raise or clear alarms
  for a moment that is over.

The state is a small JSON-able dict, kept by the caller per (rule, device).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cityops.sensing.models import RuleKind, Severity


@dataclass(frozen=True, slots=True)
class Level:
    severity: Severity
    raise_at: float


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """What the engine needs of a threshold or rate rule."""

    id: int
    kind: RuleKind
    direction: str  # "above" | "below"
    levels: tuple[Level, ...]  # rising severity
    clear_at: float
    for_seconds: float = 0.0
    for_count: int = 1
    clear_for_seconds: float = 0.0

    def past(self, x: float, threshold: float) -> bool:
        return x >= threshold if self.direction == "above" else x <= threshold

    def normal(self, x: float) -> bool:
        return x < self.clear_at if self.direction == "above" else x > self.clear_at

    def worse(self, x: float, than: float) -> bool:
        return x > than if self.direction == "above" else x < than


class Change(StrEnum):
    RAISED = "raised"
    ESCALATED = "escalated"
    CLEARED = "cleared"


@dataclass(frozen=True, slots=True)
class Transition:
    """Something the alarm did at a reading: raised, escalated or cleared."""

    change: Change
    severity: Severity
    at: float  # epoch seconds of the reading
    value: float  # the measured value (for a rate rule, the reading, not the rate)
    measure: float  # what was compared: the value, or the rate per minute


def empty_state() -> dict[str, Any]:
    return {"t": None, "v": None, "runs": {}, "active": 0, "clear_since": None, "peak": None}


def step(
    spec: RuleSpec, state: dict[str, Any], t: float, v: float
) -> tuple[list[Transition], bool]:
    """Judge one reading at `t` (epoch seconds) of value `v`, updating `state` in place.

    Returns what changed, and whether the reading was judged (False when it was late).
    """
    last_t, last_v = state["t"], state["v"]
    if last_t is not None and t <= last_t:
        return [], False
    state["t"], state["v"] = t, v
    if spec.kind is RuleKind.RATE:
        if last_t is None:
            return [], True  # the first reading only gives the next one a start
        x = (v - last_v) / (t - last_t) * 60.0
    else:
        x = v
    runs: dict[str, list[float]] = state["runs"]
    qualified = 0
    for level in spec.levels:
        key = str(int(level.severity))
        if spec.past(x, level.raise_at):
            run = runs.get(key)
            if run is None:
                run = runs[key] = [t, 0]
            run[1] += 1
            if run[1] >= spec.for_count and t - run[0] >= spec.for_seconds:
                qualified = int(level.severity)
        else:
            runs.pop(key, None)
    changes: list[Transition] = []
    active = state["active"]
    if not active:
        if qualified:
            state["active"], state["peak"], state["clear_since"] = qualified, x, None
            changes.append(Transition(Change.RAISED, Severity(qualified), t, v, x))
        return changes, True
    if spec.worse(x, state["peak"]):
        state["peak"] = x
    if qualified > active:
        state["active"] = qualified
        changes.append(Transition(Change.ESCALATED, Severity(qualified), t, v, x))
    if spec.normal(x):
        since = state["clear_since"]
        if since is None:
            since = state["clear_since"] = t
        if t - since >= spec.clear_for_seconds:
            changes.append(Transition(Change.CLEARED, Severity(state["active"]), t, v, x))
            state["active"], state["clear_since"], state["peak"] = 0, None, None
            runs.clear()
    else:
        state["clear_since"] = None
    return changes, True


def run(
    spec: RuleSpec, readings: Iterable[tuple[float, float]], state: dict[str, Any] | None = None
) -> tuple[list[Transition], dict[str, Any]]:
    """Judge readings in the order given; what changed and the state after them."""
    state = state if state is not None else empty_state()
    changes: list[Transition] = []
    for t, v in readings:
        changes.extend(step(spec, state, t, v)[0])
    return changes, state


def reset(state: dict[str, Any]) -> None:
    """Forget the alarm and the runs (an operator cleared it by hand), keeping the last
    reading: the condition must hold again, from the next reading, to raise a new one."""
    state.update(runs={}, active=0, clear_since=None, peak=None)
