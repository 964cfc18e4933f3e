"""Fixtures of the document tests: officers of two sample agencies who can log in, and a
local blob store."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import PASSWORD

from cityops.auth.models import Account
from cityops.auth.passwords import hash_password
from cityops.enforcement.registries.models import Agency, Officer
from cityops.kit.storage import LocalStorage
from cityops.org.models import Person

_HASH = hash_password(PASSWORD)


@dataclass(frozen=True)
class Staff:
    """Agency ids and the people (by username) who act for them."""

    fire: int  # 重庆市渝中区消防救援支队
    culture: int  # 重庆市渝中区文化市场综合行政执法支队
    people: dict[str, int]


def _person(session: Session, username: str, roles: list[str], certificate: str | None) -> int:
    person = Person(code=username, name=username, roles=roles, active=True)
    session.add(person)
    session.flush()
    session.add(Account(person_id=person.id, username=username, password_hash=_HASH,
                        active=True, token_version=0))  # fmt: skip
    if certificate:
        officer = session.scalar(select(Officer).where(Officer.certificate_number == certificate))
        assert officer is not None
        officer.person_id = person.id
    return person.id


@pytest.fixture
def staff(session: Session, request: pytest.FixtureRequest) -> Staff:
    """张伟 (fire brigade) and 赵磊 (culture market team) as officers with logins, a legal
    reviewer of the fire brigade, an enforcement supervisor, and a dispatcher (no role)."""
    request.getfixturevalue("seeded")
    agencies = {a.code: a.id for a in session.scalars(select(Agency))}
    people = {
        "fire_officer": _person(session, "fire_officer", ["officer"], "500103-XF-0001"),
        "culture_officer": _person(session, "culture_officer", ["officer"], "500103-WH-0001"),
        "fire_reviewer": _person(session, "fire_reviewer", ["legal_reviewer"], "500103-XF-0002"),
        "enforcement_supervisor": _person(
            session, "enforcement_supervisor", ["enforcement_supervisor"], None
        ),
    }
    session.commit()
    return Staff(fire=agencies["YZ-XFJY"], culture=agencies["YZ-WHZF"], people=people)


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "blobs")


@pytest.fixture
def client(context: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """The app on the test district."""
    request.getfixturevalue("district")
    from fastapi.testclient import TestClient

    from cityops.app import create_app

    app = create_app(context.settings, context=context, check_schema=False)
    with TestClient(app) as c:
        yield c
