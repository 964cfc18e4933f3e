"""Fixtures of the supervision tests: the registries, staff and businesses every rule test
starts from, committed."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session
from tests.enforcement.supervision.factories import World, build_world


@pytest.fixture
def world(session: Session, request: pytest.FixtureRequest) -> World:
    request.getfixturevalue("district")
    w = build_world(session)
    session.commit()
    return w
