"""`GET /enforcement/officers/me`: a person's own officer rows, found through
`Officer.person_id`, not guessed by name."""

# The directory fixtures imported below are parameters of the tests.
# ruff: noqa: F811

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.enforcement.businesses.conftest import (  # noqa: F401 (fixtures)
    api,
    directory,
    login,
    staff,
)

from cityops.enforcement.registries.models import Agency, Officer

ME = "/api/v1/enforcement/officers/me"


def test_an_officer_finds_their_rows_with_agency_and_certificate(
    api: TestClient, login: Any, session: Session
) -> None:
    assert api.get(ME).status_code == 401
    (row,) = api.get(ME, headers=login("fire_officer")).json()
    assert (row["name"], row["certificate_number"], row["agency_code"]) == (
        "张伟", "500103-XF-0001", "YZ-XFJY",
    )  # fmt: skip
    assert "*" not in row["phone"]  # their own phone, in full
    # Someone who also acts for the street team through a second row has both.
    person_id = row["person_id"]
    team = session.scalar(select(Agency.id).where(Agency.code == "YZ-JFB-ZF"))
    second = session.scalar(select(Officer).where(Officer.certificate_number == "500103-JFB-0002"))
    assert second is not None and team is not None
    previous = second.person_id
    second.person_id = person_id
    session.commit()
    rows = api.get(ME, headers=login("fire_officer")).json()
    assert sorted(r["agency_code"] for r in rows) == ["YZ-JFB-ZF", "YZ-XFJY"]
    # An inactive row is not theirs to act through.
    second.active = False
    session.commit()
    assert len(api.get(ME, headers=login("fire_officer")).json()) == 1
    second.person_id, second.active = previous, True
    session.commit()


def test_staff_without_an_officer_row_are_told_so(api: TestClient, login: Any) -> None:
    r = api.get(ME, headers=login("enforcement_supervisor"))
    assert r.status_code == 404 and "not recorded as an active enforcement officer" in r.text
