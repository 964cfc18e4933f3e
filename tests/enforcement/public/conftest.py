"""Fixtures of the public entrance's tests: the sample registries and business directory of
the demo district, and the app with the entrance's routes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cityops.enforcement.businesses.models import Business
from cityops.enforcement.businesses.service import load_seed

API = "/api/v1"


@pytest.fixture
def client(context: Any, request: pytest.FixtureRequest) -> Iterator[TestClient]:
    """An HTTP client for the app, on the test district."""
    request.getfixturevalue("district")
    from cityops.app import create_app

    app = create_app(context.settings, context=context, check_schema=False)
    with TestClient(app) as c:
        yield c


@pytest.fixture
def directory(session: Session, request: pytest.FixtureRequest) -> dict[str, Business]:
    """The shipped registries and business directory of 解放碑 and 七星岗, committed; the
    businesses by credit code."""
    request.getfixturevalue("seeded")
    load_seed(session)
    session.commit()
    return {b.credit_code: b for b in session.query(Business)}


@pytest.fixture
def texts(context: Any) -> list[tuple[str, str]]:
    """The text messages sent, as (phone, text), oldest first."""
    return context.sms.sent  # type: ignore[no-any-return]


def jpeg() -> bytes:
    """A small photo, as a phone's camera stands in for."""
    import cv2
    import numpy as np

    image = np.full((120, 160, 3), 90, dtype=np.uint8)
    cv2.circle(image, (80, 60), 30, (20, 60, 220), thickness=-1)
    ok, data = cv2.imencode(".jpg", image)
    assert ok
    return bytes(data.tobytes())


def last_code(texts: list[tuple[str, str]], phone: str) -> str:
    """The six digits of the last code sent to `phone`, as its owner reads them."""
    import re

    (text,) = [t for p, t in texts if p == phone][-1:]
    found = re.search(r"\d{6}", text)
    assert found, text
    return found.group()


@pytest.fixture
def supervisor(session: Session, request: pytest.FixtureRequest) -> str:
    """A person with the role of enforcement supervisor (执法监督人员); their username."""
    return add_person(session, request, "jiandu", ["enforcement_supervisor"])


def add_person(session: Session, request: pytest.FixtureRequest, username: str,
               roles: list[str]) -> str:  # fmt: skip
    from tests.factories import DISTRICT, PASSWORD

    from cityops.auth.models import Account
    from cityops.auth.passwords import hash_password
    from cityops.org.models import Person

    request.getfixturevalue("district")
    person = Person(code=username, name=f"监督员{username}", roles=roles, scope_code=DISTRICT,
                    active=True)  # fmt: skip
    session.add(person)
    session.flush()
    session.add(Account(person_id=person.id, username=username,
                        password_hash=hash_password(PASSWORD), active=True,
                        token_version=0))  # fmt: skip
    session.commit()
    return username


@pytest.fixture
def story(session: Session, context: Any, clock: Any, request: pytest.FixtureRequest) -> Any:
    """The café's story (see `scenario`), committed."""
    from tests.enforcement.public import scenario
    from tests.factories import PASSWORD

    request.getfixturevalue("directory")

    built = scenario.build(session, context.storage, clock.now(), PASSWORD)
    session.commit()
    return built
