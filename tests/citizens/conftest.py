"""Fixtures of the citizens' tests: the seed's services on the test catalog, an Open311 key."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session
from tests.factories import EPOCH

from cityops.auth.service import create_api_key
from cityops.citizens.service import load_services


@pytest.fixture
def open311_key(session: Session, request: pytest.FixtureRequest) -> str:
    """The services of the seed that the test catalog has (E0102 with its attribute, E0502),
    and an API key for a residents' app."""
    request.getfixturevalue("district")
    assert load_services(session, EPOCH) == 2
    _, key = create_api_key(session, name="市民 app", sources=["open311"], trusted=False,
                            now=EPOCH)  # fmt: skip
    session.commit()
    return key
