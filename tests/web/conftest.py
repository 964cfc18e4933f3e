"""A real headless Chromium (the system's), driven by Playwright, for the page tests."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.factories import migrated_district
from tests.serverproc import ServerProcess

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def _chromium() -> str | None:
    return os.environ.get("CITYOPS_CHROMIUM") or shutil.which("chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = _chromium()
    if path is None:
        reason = "no Chromium on this machine (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where page tests leave their screenshots (kept after the run)."""
    path = Path(os.environ.get("CITYOPS_TEST_ARTIFACTS", ROOT / "test-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def server(fresh_database_url: str, tmp_path: Path) -> Iterator[tuple[ServerProcess, str]]:
    """The test district in a fresh database, served by a real `cityops serve`; and an API key."""
    key = migrated_district(fresh_database_url)
    proc = ServerProcess(fresh_database_url, tmp_path)
    proc.start()
    yield proc, key
    proc.stop()
