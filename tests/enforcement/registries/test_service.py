"""The registries in use: article search, law versions in force, the check of officers and
of fines, and which agencies and officers may act where."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.enforcement.conftest import JIEFANGBEI, QIXINGGANG, TODAY
from tests.factories import GRID_A

from cityops.enforcement.registries import repository, service
from cityops.enforcement.registries.io import Table, import_tables
from cityops.enforcement.registries.models import Agency, Item, Officer
from cityops.errors import Invalid

pytestmark = pytest.mark.usefixtures("seeded")


def hits(session: Session, text: str, **filters: Any) -> list[tuple[str, int]]:
    query = repository.articles_query(text, **filters)
    return [(a.law.code, a.number) for a in session.scalars(query)]


def officer(session: Session, certificate: str) -> int:
    found = session.scalar(select(Officer.id).where(Officer.certificate_number == certificate))
    assert found is not None
    return found


def item(session: Session, code: str) -> Item:
    return service.get_item(session, code)


def test_every_word_must_match_the_article_or_its_title(session: Session) -> None:
    fire = [("fire-protection-law", n) for n in (16, 28, 60)]
    assert hits(session, "消防法 疏散通道") == fire
    # Full-width spaces separate words too; both words must be there.
    assert hits(session, "罚款\u3000听证") == [("administrative-penalty-law", 63)]
    assert hits(session, "未成年人", level="administrative_regulation") == [
        ("internet-cafe-regulation", 21),
        ("internet-cafe-regulation", 31),
    ]
    assert hits(session, "100%") == []  # LIKE's wildcards are taken literally
    assert len(hits(session, "", law_code="administrative-penalty-law")) == 19


def test_a_search_on_a_day_finds_the_version_in_force_then(session: Session) -> None:
    older = Table(
        "laws",
        ["code", "version", "title", "level", "effective_on"],
        [
            (
                2,
                {
                    "code": "fire-protection-law",
                    "version": "2019",
                    "title": "中华人民共和国消防法",
                    "level": "law",
                    "effective_on": "2019-04-23",
                },
            )
        ],
    )
    article = Table(
        "articles",
        ["law_code", "law_version", "number", "text"],
        [
            (
                2,
                {
                    "law_code": "fire-protection-law",
                    "law_version": "2019",
                    "number": "28",
                    "text": "旧文本：不得占用疏散通道。",
                },
            )
        ],
    )
    import_tables(session, {"laws": older, "articles": article})
    versions = {
        law.version: law
        for law in session.scalars(repository.laws_query(code="fire-protection-law"))
    }
    assert versions["2019"].superseded_on == date(2021, 4, 29)
    in_2020 = repository.articles_query("疏散通道", on=date(2020, 1, 1))
    assert [(a.law.version, a.number) for a in session.scalars(in_2020)] == [("2019", 28)]
    in_2022 = repository.articles_query("疏散通道 消防法", on=date(2022, 1, 1))
    assert [(a.law.version, a.number) for a in session.scalars(in_2022)] == [
        ("2021", 16),
        ("2021", 28),
        ("2021", 60),
    ]
    assert [
        law.version for law in session.scalars(repository.laws_query("消防", on=date(2020, 1, 1)))
    ] == ["2019"]
    # A law in force from a day: the 2021 revision of the penalty law from 2021-07-15.
    assert session.scalars(repository.laws_query("行政处罚法", on=date(2021, 7, 14))).all() == []


def test_two_valid_officers_in_their_region_may_act(session: Session) -> None:
    pair = [officer(session, "500103-XF-0001"), officer(session, "500103-XF-0002")]
    # District officers (no regions of their own: the agency's) in a grid of the district.
    assert service.check_officers(session, pair, GRID_A, TODAY).problems == []
    # A certificate for two streets covers either.
    team = [officer(session, "500103-WH-0001"), officer(session, "500103-WH-0002")]
    assert service.check_officers(session, team, JIEFANGBEI, TODAY).ok


@pytest.mark.parametrize(
    ("certificate", "region", "kind"),
    [
        ("500103-SJ-0003", GRID_A, "expired"),
        ("500103-QXG-0001", QIXINGGANG, "inactive"),
        ("500103-WH-0002", QIXINGGANG, "outside_region"),
    ],
)
def test_each_problem_of_an_officer_blocks(
    session: Session, certificate: str, region: str, kind: str
) -> None:
    colleague = officer(session, "500103-XF-0001")  # valid all over the district
    check = service.check_officers(
        session, [colleague, officer(session, certificate)], region, TODAY
    )
    assert {p.kind.value for p in check.problems} == {kind, "too_few"}
    with pytest.raises(Invalid) as raised:
        check.raise_if_blocked()
    assert [e.path for e in raised.value.errors] == ["officer_ids.1", "officer_ids"]


def test_a_certificate_not_yet_valid_and_one_expiring_soon(session: Session) -> None:
    pair = [officer(session, "500103-XF-0001"), officer(session, "500103-XF-0003")]
    soon = service.check_officers(session, pair, GRID_A, TODAY)
    assert soon.ok and [p.kind.value for p in soon.problems] == ["expiring_soon"]
    early = service.check_officers(session, pair, GRID_A, date(2021, 12, 1))
    assert {p.kind.value for p in early.problems} == {"not_yet_valid", "too_few"}
    later = service.check_officers(session, pair, GRID_A, date(2026, 12, 21))
    assert {p.kind.value for p in later.problems} == {"expired", "too_few"}


def test_an_unknown_region_is_refused(session: Session) -> None:
    with pytest.raises(Invalid) as raised:
        service.check_officers(session, [1, 2], "500103999", TODAY)
    assert raised.value.errors[0].path == "region_code"


def test_the_roster_of_a_street(session: Session) -> None:
    names = {o.name for o in service.eligible_officers(session, region_code=JIEFANGBEI, on=TODAY)}
    assert {"孙浩", "马超", "赵磊", "黄敏", "张伟"} <= names  # the street's and the district's
    assert "杨帆" not in names and "朱琳" not in names  # expired; inactive (and elsewhere)
    fire = session.scalar(select(Agency.id).where(Agency.code == "YZ-XFJY"))
    assert fire is not None
    only = service.eligible_officers(session, region_code=JIEFANGBEI, on=TODAY, agency_id=fire)
    assert {o.name for o in only} == {"张伟", "李娜", "王强"}


def test_who_may_enforce_an_item_where(session: Session) -> None:
    agencies = {a.code: a.id for a in session.scalars(select(Agency))}
    evacuation, food = item(session, "XF-CF-001"), item(session, "SP-CF-001")
    assert service.may_enforce(session, agencies["YZ-XFJY"], evacuation.id)  # by its kind
    assert service.may_enforce(session, agencies["YZ-JFB-ZF"], evacuation.id)  # given it
    assert not service.may_enforce(session, agencies["YZ-JFB-ZF"], food.id)
    found = [a.code for a in service.agencies_for(session, evacuation.id, JIEFANGBEI)]
    assert found == ["YZ-JFB-ZF", "YZ-XFJY"]


def test_the_fine_check_on_the_sample_benchmark(session: Session) -> None:
    food = item(session, "SP-CF-001")
    assert service.check_fine(session, food.id, "ordinary", 70000, base_amount=5000).within
    check = service.check_fine(session, food.id, "ordinary", 70000, base_amount=Decimal(20000))
    assert not check.within and check.allowed[0].minimum == 260000
    evacuation = item(session, "XF-CF-001")
    assert service.check_fine(session, evacuation.id, "heavier", 500, party="citizen").within
    assert not service.check_fine(session, evacuation.id, "heavier", 501, party="citizen").within
    with pytest.raises(Invalid, match="benchmark"):
        service.check_fine(
            session, evacuation.id, "ordinary", 1, benchmark_id=food.benchmarks[0].id
        )
    with pytest.raises(Invalid):
        service.check_fine(session, evacuation.id, "severe", 1)


def test_an_item_cites_its_basis_down_to_the_item(session: Session) -> None:
    detail = service.item_detail(session, item(session, "XF-CF-001"))
    cited = {(b.role, b.citation) for b in detail.basis}
    assert cited == {
        ("duty", "《中华人民共和国消防法》第十六条第一款第四项"),
        ("duty", "《中华人民共和国消防法》第二十八条"),
        ("penalty", "《中华人民共和国消防法》第六十条第一款第三项"),
        ("penalty", "《中华人民共和国消防法》第六十条第二款"),
    }
    assert [b.grade for b in detail.benchmarks][:3] == ["none", "mitigated", "lighter"]
    assert detail.checklist[0].citation == "《中华人民共和国消防法》第二十八条"


def test_a_phone_is_masked_whatever_its_format() -> None:
    assert service.masked("13800000101") == "138******01"
    assert service.masked("023 6385 1234") == "023********34"
    assert service.masked("110") == "***"
