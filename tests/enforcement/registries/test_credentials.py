"""Whether a team of officers may act: each problem, and a compliant pair. Pure."""

from __future__ import annotations

from datetime import date

import pytest

from cityops.enforcement.registries.credentials import (
    OfficerFacts,
    ProblemKind,
    covers,
    judge_officers,
)
from cityops.errors import Invalid

DAY = date(2026, 12, 1)
STREET, COMMUNITY, OTHER_STREET = "500103010", "500103010001", "500103008"


def officer(officer_id: int, **changes: object) -> OfficerFacts:
    facts = {
        "id": officer_id,
        "name": f"officer{officer_id}",
        "certificate_number": f"C{officer_id}",
        "active": True,
        "agency_name": "队",
        "agency_active": True,
        "valid_from": date(2025, 1, 1),
        "valid_until": date(2029, 12, 31),
        "regions": (STREET,),
    }
    return OfficerFacts(**(facts | changes))  # type: ignore[arg-type]


def kinds(*team: OfficerFacts, region: str = STREET, ids: list[int] | None = None) -> set[str]:
    check = judge_officers(ids or [o.id for o in team], team, region, DAY)
    return {p.kind.value for p in check.problems}


def test_two_valid_officers_in_their_region_may_act_and_below_it_too() -> None:
    team = (officer(1), officer(2))
    assert judge_officers([1, 2], team, STREET, DAY).ok
    assert judge_officers([1, 2], team, COMMUNITY, DAY).problems == []


def test_one_officer_is_too_few_with_the_article_that_says_so() -> None:
    check = judge_officers([1], [officer(1)], STREET, DAY)
    assert not check.ok
    [problem] = check.problems
    assert problem.kind is ProblemKind.TOO_FEW and "第四十二条" in problem.basis
    # The same officer twice is still one.
    assert kinds(officer(1), ids=[1, 1]) == {"too_few"}


@pytest.mark.parametrize(
    ("changes", "kind"),
    [
        ({"valid_until": date(2026, 11, 30)}, "expired"),
        ({"valid_from": date(2026, 12, 2)}, "not_yet_valid"),
        ({"active": False}, "inactive"),
        ({"agency_active": False}, "inactive"),
        ({"regions": (OTHER_STREET,)}, "outside_region"),
        ({"regions": ()}, "outside_region"),
    ],
)
def test_each_problem_blocks_and_names_the_officer(changes: dict[str, object], kind: str) -> None:
    check = judge_officers([1, 2], [officer(1), officer(2, **changes)], STREET, DAY)
    assert not check.ok
    assert {p.kind.value for p in check.problems} == {kind, "too_few"}
    named = next(p for p in check.problems if p.kind.value == kind)
    assert named.officer_id == 2 and named.name == "officer2" and "C2" in named.message


def test_the_certificate_is_valid_on_its_first_and_last_day() -> None:
    assert kinds(officer(1), officer(2, valid_from=DAY)) == set()
    assert kinds(officer(1), officer(2, valid_until=DAY)) == {"expiring_soon"}


def test_a_certificate_expiring_soon_warns_without_blocking() -> None:
    check = judge_officers(
        [1, 2], [officer(1), officer(2, valid_until=date(2026, 12, 30))], STREET, DAY
    )
    assert check.ok
    [warning] = check.problems
    assert warning.kind is ProblemKind.EXPIRING_SOON and not warning.blocking


def test_an_unknown_officer_is_named_by_id() -> None:
    check = judge_officers([1, 99], [officer(1)], STREET, DAY)
    assert {(p.kind.value, p.officer_id) for p in check.problems} == {
        ("unknown", 99),
        ("too_few", None),
    }


def test_blocking_problems_become_a_422_naming_each_officer_by_position() -> None:
    check = judge_officers([1, 2], [officer(1), officer(2, active=False)], STREET, DAY)
    with pytest.raises(Invalid) as raised:
        check.raise_if_blocked()
    assert [e.path for e in raised.value.errors] == ["officer_ids.1", "officer_ids"]
    judge_officers([1, 2], [officer(1), officer(2)], STREET, DAY).raise_if_blocked()


def test_a_region_covers_those_below_it_only() -> None:
    assert covers(["500103"], "500103010001001")
    assert not covers(["500103010"], "500103")
    assert not covers([], "500103")
