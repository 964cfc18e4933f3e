"""Fixtures of the enforcement tests: the demo district's streets the sample refers to, the
shipped sample loaded, and files written for an import."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from tests.factories import DISTRICT

from cityops.enforcement.registries.io import ImportSummary
from cityops.enforcement.registries.service import SEED_REFERENCE_DAY, load_seed
from cityops.org.models import Region

# The sample's street teams act in these streets of the demo district (渝中区).
JIEFANGBEI, QIXINGGANG = "500103010", "500103008"
TODAY = SEED_REFERENCE_DAY


@pytest.fixture
def streets(session: Session, request: pytest.FixtureRequest) -> None:
    """The two demo streets of the sample's street teams, beside the test district's."""
    request.getfixturevalue("district")
    for code, name in ((JIEFANGBEI, "解放碑街道"), (QIXINGGANG, "七星岗街道")):
        session.add(Region(code=code, level="street", name=name, parent_code=DISTRICT))
    session.commit()


@pytest.fixture
def seeded(session: Session, request: pytest.FixtureRequest) -> ImportSummary:
    """The shipped sample, committed, with its certificate dates as written (today = the
    day they were written for)."""
    request.getfixturevalue("streets")
    summary = load_seed(session, today=TODAY)
    session.commit()
    return summary


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """`write("laws.csv", text)` → the file in a folder of its own for the test."""
    folder = tmp_path / "registries"
    folder.mkdir()

    def _write(name: str, text: str) -> Path:
        path = folder / name
        path.write_text(text.strip() + "\n", encoding="utf-8")
        return path

    return _write
