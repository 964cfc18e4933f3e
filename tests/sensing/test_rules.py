"""Alarm rule semantics, reading by reading."""

from __future__ import annotations

import copy
import itertools

from hypothesis import given
from hypothesis import strategies as st

from cityops.sensing.models import RuleKind, Severity
from cityops.sensing.rules import Change, Level, RuleSpec, empty_state, reset, run, step

GAS = RuleSpec(
    id=1,
    kind=RuleKind.THRESHOLD,
    direction="above",
    levels=(Level(Severity.WARNING, 25), Level(Severity.MAJOR, 50)),
    clear_at=20,
)


def changes(spec: RuleSpec, values: list[float], every: float = 10) -> list[tuple[str, int, float]]:
    moves, _ = run(spec, [(i * every, v) for i, v in enumerate(values)])
    return [(m.change.value, int(m.severity), m.at) for m in moves]


def test_a_value_hovering_between_clear_and_raise_raises_one_alarm_until_back_to_normal() -> None:
    assert changes(GAS, [10, 26, 24, 26, 22, 27, 21, 19]) == [("raised", 1, 10), ("cleared", 1, 70)]


def test_a_value_flapping_around_the_threshold_raises_once() -> None:
    assert changes(GAS, [24.9, 25.1] * 20) == [("raised", 1, 10)]


def test_consecutive_readings_must_all_be_past_the_threshold() -> None:
    three = RuleSpec(
        id=1,
        kind=RuleKind.THRESHOLD,
        direction="above",
        levels=GAS.levels,
        clear_at=20,
        for_count=3,
    )
    assert changes(three, [30, 30, 24, 30, 30]) == []  # the dip starts the count again
    assert changes(three, [30, 30, 24, 30, 30, 30]) == [("raised", 1, 50)]


def test_a_duration_is_judged_at_the_readings_that_span_it() -> None:
    held = RuleSpec(
        id=1,
        kind=RuleKind.THRESHOLD,
        direction="above",
        levels=GAS.levels,
        clear_at=20,
        for_seconds=60,
    )
    assert changes(held, [30, 30, 30, 30, 30, 30]) == []  # 0..50 s: not a minute yet
    assert changes(held, [30] * 7) == [("raised", 1, 60)]


def test_severity_escalates_while_active_and_never_drops_until_cleared() -> None:
    assert changes(GAS, [30, 55, 30, 26, 10]) == [
        ("raised", 1, 0),
        ("escalated", 3, 10),
        ("cleared", 3, 40),
    ]


def test_a_late_reading_is_not_judged() -> None:
    state = empty_state()
    assert step(GAS, state, 100, 30)[0][0].change is Change.RAISED
    moves, judged = step(GAS, state, 50, 99)  # older than the last one judged
    assert (moves, judged) == ([], False)
    moves, judged = step(GAS, state, 100, 99)  # the same instant again
    assert (moves, judged) == ([], False)
    assert state["active"] == int(Severity.WARNING)


def test_a_rule_below_a_level_raises_when_the_value_falls() -> None:
    pressure = RuleSpec(
        id=2,
        kind=RuleKind.THRESHOLD,
        direction="below",
        levels=(Level(Severity.MINOR, 0.2), Level(Severity.CRITICAL, 0.05)),
        clear_at=0.25,
    )
    assert changes(pressure, [0.3, 0.18, 0.22, 0.04, 0.3]) == [
        ("raised", 2, 10),
        ("escalated", 4, 30),
        ("cleared", 4, 40),
    ]


def test_a_rate_rule_watches_how_fast_the_value_changes_per_minute() -> None:
    rising = RuleSpec(
        id=3, kind=RuleKind.RATE, direction="above", levels=(Level(Severity.MAJOR, 10),), clear_at=2
    )
    # 30 s apart: +2 is 4/min, +6 is 12/min, then flat
    assert changes(rising, [1, 3, 9, 9], every=30) == [("raised", 3, 60), ("cleared", 3, 90)]


def test_an_alarm_clears_only_after_staying_normal_for_the_clear_time() -> None:
    slow = RuleSpec(
        id=1,
        kind=RuleKind.THRESHOLD,
        direction="above",
        levels=GAS.levels,
        clear_at=20,
        clear_for_seconds=30,
    )
    assert changes(slow, [30, 10, 10, 22, 10, 10, 10, 10]) == [("raised", 1, 0), ("cleared", 1, 70)]


def test_after_a_reset_the_condition_must_hold_again() -> None:
    held = RuleSpec(
        id=1,
        kind=RuleKind.THRESHOLD,
        direction="above",
        levels=GAS.levels,
        clear_at=20,
        for_count=2,
    )
    moves, state = run(held, [(0, 30), (10, 30)])
    assert [m.change for m in moves] == [Change.RAISED]
    reset(state)
    moves, state = run(held, [(20, 30)], state)
    assert moves == []
    moves, state = run(held, [(30, 30)], state)
    assert [m.change for m in moves] == [Change.RAISED]


# -- properties that hold for any sequence of readings ------------------------------------------

values = st.floats(min_value=-10, max_value=100, allow_nan=False)
readings = st.lists(st.tuples(st.floats(min_value=0.001, max_value=120), values), max_size=60)
specs = st.builds(
    RuleSpec,
    id=st.just(1),
    kind=st.sampled_from([RuleKind.THRESHOLD, RuleKind.RATE]),
    direction=st.just("above"),
    levels=st.just((Level(Severity.WARNING, 25), Level(Severity.MAJOR, 50))),
    clear_at=st.sampled_from([0.0, 10.0, 20.0]),
    for_seconds=st.sampled_from([0.0, 30.0]),
    for_count=st.integers(min_value=1, max_value=3),
    clear_for_seconds=st.sampled_from([0.0, 45.0]),
)


@given(spec=specs, gaps=readings)
def test_any_sequence_alternates_raise_and_clear_and_severity_only_rises(
    spec: RuleSpec, gaps: list[tuple[float, float]]
) -> None:
    times = itertools.accumulate(gap for gap, _ in gaps)
    moves, state = run(spec, [(t, v) for t, (_, v) in zip(times, gaps, strict=True)])
    active = 0
    for move in moves:
        if move.change is Change.RAISED:
            assert active == 0, "a second alarm while one is active"
            active = int(move.severity)
        elif move.change is Change.ESCALATED:
            assert 0 < active < int(move.severity)
            active = int(move.severity)
        else:
            assert active and int(move.severity) == active
            active = 0
    assert state["active"] == active


@given(spec=specs, gaps=readings.filter(bool), late=st.lists(values, min_size=1, max_size=10))
def test_late_readings_change_nothing(
    spec: RuleSpec, gaps: list[tuple[float, float]], late: list[float]
) -> None:
    series = list(zip(itertools.accumulate(g for g, _ in gaps), (v for _, v in gaps), strict=True))
    _, state = run(spec, series)
    before = copy.deepcopy(state)
    last = series[-1][0]
    for i, v in enumerate(late):  # at the last reading's time, then ever earlier
        moves, judged = step(spec, state, last - i, v)
        assert moves == [] and not judged
    assert state == before
