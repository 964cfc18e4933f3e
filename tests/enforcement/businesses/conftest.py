"""Fixtures of the business directory and inspection tests: the shipped sample directory,
enforcement staff who log in and act through their officer rows, and an HTTP client that
serves the directory, plan and inspection routes."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import _HASH

from cityops.auth.models import Account
from cityops.enforcement.businesses.service import load_seed
from cityops.enforcement.registries.models import Agency, Officer
from cityops.org.models import Person

# The café of the story, in the sample (解放碑街道).
CAFE = "渝中区极速网咖"
# username → (roles, the certificate of their officer row; None: no officer row)
STAFF: dict[str, tuple[list[str], str | None]] = {
    "jfb_officer": (["officer"], "500103-JFB-0001"),  # 孙浩, street team of 解放碑
    "jfb_officer2": (["officer"], "500103-JFB-0002"),  # 马超
    "jfb_lead": (["enforcement_lead"], "500103-JFB-0009"),  # 林峰, the team's head
    "fire_officer": (["officer"], "500103-XF-0001"),  # 张伟
    "fire_officer2": (["officer"], "500103-XF-0002"),  # 李娜
    "market_officer": (["officer"], "500103-SJ-0001"),  # 刘洋
    "culture_officer": (["officer"], "500103-WH-0001"),  # 赵磊
    "police_officer": (["officer"], "500103-GA-0001"),  # 吴斌
    "fire_lead": (["enforcement_lead"], "500103-XF-0009"),  # 郑军
    "enforcement_supervisor": (["enforcement_supervisor"], None),
}
EXTRA_OFFICERS = {  # officer rows the sample lacks: the heads who approve plans
    "500103-JFB-0009": ("林峰", "YZ-JFB-ZF", ["500103010"]),
    "500103-XF-0009": ("郑军", "YZ-XFJY", []),
}


@pytest.fixture
def directory(session: Session, request: pytest.FixtureRequest) -> Any:
    """The shipped sample registries and business directory of 渝中区, committed."""
    request.getfixturevalue("seeded")
    summary = load_seed(session)
    session.commit()
    return summary


@pytest.fixture
def staff(session: Session, request: pytest.FixtureRequest) -> dict[str, Person]:
    """Enforcement staff with logins, each linked to their officer row."""
    request.getfixturevalue("directory")
    from cityops.enforcement.registries.models import OfficerRegion

    agencies = {a.code: a.id for a in session.scalars(select(Agency))}
    for number, (name, agency, regions) in EXTRA_OFFICERS.items():
        officer = Officer(
            certificate_number=number,
            name=name,
            agency_id=agencies[agency],
            valid_from=date(2024, 1, 1),
            valid_until=date(2030, 12, 31),
            phone="13800000999",
        )
        officer.regions = [OfficerRegion(region_code=r) for r in regions]
        session.add(officer)
    session.flush()
    people = {}
    for username, (roles, certificate) in STAFF.items():
        person = Person(code=username, name=username, roles=roles, scope_code="500103", active=True)
        session.add(person)
        session.flush()
        session.add(
            Account(
                person_id=person.id,
                username=username,
                password_hash=_HASH,
                active=True,
                token_version=0,
            )
        )
        if certificate is not None:
            officer = session.scalar(
                select(Officer).where(Officer.certificate_number == certificate)
            )
            assert officer is not None
            officer.person_id = person.id
        people[username] = person
    session.commit()
    return people


@pytest.fixture
def api(client: TestClient, request: pytest.FixtureRequest) -> TestClient:
    """The client, with the staff who use the directory, plan and inspection routes."""
    request.getfixturevalue("staff")
    return client


def officer_id(session: Session, certificate: str) -> int:
    found = session.scalar(select(Officer.id).where(Officer.certificate_number == certificate))
    assert found is not None
    return found


def agency_id(session: Session, code: str) -> int:
    found = session.scalar(select(Agency.id).where(Agency.code == code))
    assert found is not None
    return found


@pytest.fixture
def login(client: TestClient, clock: Any) -> Any:
    """`login("jfb_officer")` → headers with a token of that person, valid at the clock's
    time (the visits here move the clock by days: a token of the day before has expired;
    a new one is asked for only then, as logging in checks a slow password hash)."""
    from tests.factories import PASSWORD

    tokens: dict[str, tuple[datetime, dict[str, str]]] = {}

    def _login(username: str) -> dict[str, str]:
        now = clock.now()
        issued = tokens.get(username)
        if issued is None or not issued[0] <= now < issued[0] + timedelta(hours=11):
            r = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
            assert r.status_code == 200, r.text
            tokens[username] = (now, {"Authorization": f"Bearer {r.json()['access_token']}"})
        return tokens[username][1]

    return _login
