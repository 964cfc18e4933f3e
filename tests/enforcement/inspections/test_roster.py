"""The draw reads the directory and the roster in bulk; what it reads is what the
registries say: the officers `eligible_officers` gives, the active businesses of the
types in the region."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.enforcement.conftest import JIEFANGBEI, QIXINGGANG

from cityops.enforcement.businesses.models import Business
from cityops.enforcement.inspections import repository
from cityops.enforcement.registries import service as registries
from cityops.enforcement.registries.credentials import covers
from cityops.enforcement.registries.models import Agency

pytestmark = pytest.mark.usefixtures("directory")


@pytest.mark.parametrize("day", [date(2026, 12, 1), date(2026, 12, 22), date(2029, 6, 1)])
def test_the_bulk_roster_is_the_registries_roster(session: Session, day: date) -> None:
    for agency in session.scalars(select(Agency)):
        roster = repository.draw_roster(
            session, agency_id=agency.id, region_code="500103", valid_from=day, valid_until=day
        )
        for street in (JIEFANGBEI, QIXINGGANG):
            bulk = {o.id for o in roster if covers(o.regions, street)}
            eligible = registries.eligible_officers(
                session, region_code=street, on=day, agency_id=agency.id
            )
            assert bulk == {o.id for o in eligible}, (agency.code, street, day)


def test_the_candidates_are_the_active_businesses_of_the_types(session: Session) -> None:
    cafe = session.scalar(select(Business).where(Business.name == "渝中区七星网吧"))
    assert cafe is not None
    cafe.active = False
    session.flush()
    found = repository.draw_candidates(
        session, region_code=QIXINGGANG, type_codes=["internet-cafe"]
    )
    assert [c.key for c in found] == [
        b.credit_code
        for b in session.scalars(
            select(Business).where(
                Business.region_code == QIXINGGANG,
                Business.type_code == "internet-cafe",
                Business.active.is_(True),
            )
        )
    ]
    assert len(found) == 1 and found[0].region_code == QIXINGGANG
    everything = repository.draw_candidates(session, region_code="500103", type_codes=[])
    assert len(everything) == 39
    # A region code is a prefix, not a pattern: '_' matches nothing but itself.
    assert repository.draw_candidates(session, region_code="50010_", type_codes=[]) == []
