"""The random draw (双随机), pure: reproducible from its seed whatever order the rows come
in, drawing distinct targets and, for each, officers who may act there and do not
conflict with it."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityops.enforcement.inspections.draw import Candidate, Inspector, digest, draw

STREETS = ["500103008", "500103010", "500103001"]


def directory(n: int) -> list[Candidate]:
    return [Candidate(i, f"915001030000{i:05d}X", STREETS[i % 3]) for i in range(1, n + 1)]


def roster(n: int) -> list[Inspector]:
    # Every third officer covers the whole district, the others one street each.
    return [
        Inspector(i, f"500103-ZF-{i:04d}", 1, ("500103",) if i % 3 == 0 else (STREETS[i % 3],))
        for i in range(1, n + 1)
    ]


@st.composite
def draws(draw_: st.DrawFn) -> tuple[list[Candidate], list[Inspector], int, int, int]:
    candidates = directory(draw_(st.integers(0, 60)))
    officers = roster(draw_(st.integers(0, 30)))
    return (
        candidates,
        officers,
        draw_(st.integers(0, 70)),
        draw_(st.integers(2, 4)),
        draw_(st.integers(0, 2**63 - 1)),
    )


@settings(max_examples=150, deadline=None)
@given(draws(), st.randoms(use_true_random=False))
def test_the_same_seed_gives_the_same_draw_in_any_order(
    case: tuple[list[Candidate], list[Inspector], int, int, int], shuffler: random.Random
) -> None:
    candidates, officers, count, per_target, seed = case
    conflicts = {c.id: {o.id for o in officers[:2]} for c in candidates[::4]}
    first = draw(
        candidates, officers, count=count, per_target=per_target, seed=seed, conflicts=conflicts
    )
    shuffled_c, shuffled_o = candidates[:], officers[:]
    shuffler.shuffle(shuffled_c)
    shuffler.shuffle(shuffled_o)
    again = draw(
        shuffled_c, shuffled_o, count=count, per_target=per_target, seed=seed, conflicts=conflicts
    )
    assert again == first
    # What was drawn: distinct targets, as many as asked (or all), each either with
    # `per_target` distinct officers who cover its street and do not conflict, or
    # reported as a shortfall.
    drawn = [t.business_id for t in first.targets] + [s.business_id for s in first.shortfalls]
    assert len(drawn) == len(set(drawn)) == min(count, len(candidates))
    by_id = {c.id: c for c in candidates}
    by_officer = {o.id: o for o in officers}
    for target in first.targets:
        assert len(set(target.officer_ids)) == per_target
        region = by_id[target.business_id].region_code
        for officer_id in target.officer_ids:
            assert any(region.startswith(r) for r in by_officer[officer_id].regions)
            assert officer_id not in conflicts.get(target.business_id, set())
    assert first.candidates == len(candidates) and first.roster == len(officers)
    assert first.candidates_digest == digest(c.key for c in candidates)


def test_another_seed_draws_otherwise_and_the_record_says_from_what() -> None:
    candidates, officers = directory(500), roster(30)
    one = draw(candidates, officers, count=20, per_target=2, seed=20261201)
    other = draw(candidates, officers, count=20, per_target=2, seed=20261202)
    assert [t.business_id for t in one.targets] != [t.business_id for t in other.targets]
    record = one.record()
    assert record["seed"] == 20261201 and record["candidates"] == 500
    assert record["candidates_digest"] == digest(c.key for c in candidates)
    assert len(record["targets"]) == 20 and record["shortfalls"] == []  # type: ignore[arg-type]
    # A directory that changed gives another digest, so a re-run can be told apart.
    assert (
        draw(candidates[1:], officers, count=20, per_target=2, seed=20261201).candidates_digest
        != one.candidates_digest
    )


def test_a_target_without_enough_free_officers_is_a_shortfall() -> None:
    candidates = [Candidate(1, "A", "500103010"), Candidate(2, "B", "500103008")]
    officers = [
        Inspector(1, "X1", 1, ("500103010",)),
        Inspector(2, "X2", 1, ("500103010",)),
        Inspector(3, "X3", 1, ("500103",)),
    ]
    result = draw(candidates, officers, count=2, per_target=2, seed=7, conflicts={1: {3}})
    assert [(t.business_id, sorted(t.officer_ids)) for t in result.targets] == [(1, [1, 2])]
    assert [(s.business_id, s.available) for s in result.shortfalls] == [(2, 1)]
    with pytest.raises(ValueError, match="at least 2"):
        draw(candidates, officers, count=1, per_target=1, seed=7)
