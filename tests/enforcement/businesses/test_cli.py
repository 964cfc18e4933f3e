"""`cityops import businesses`: the shipped sample after the registries' (where the demo
streets exist), a folder of tables, and a bad one reported row by row."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from cityops.cli import app
from cityops.config import get_settings
from cityops.db import Base, import_all_models
from cityops.org.models import Region

runner = CliRunner()


@pytest.fixture(autouse=True)
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("CITYOPS_DATABASE_URL", url)
    monkeypatch.setenv("CITYOPS_STORAGE_DIR", str(tmp_path / "blobs"))
    get_settings.cache_clear()
    engine = create_engine(url)
    # The tables as the models describe them (the migration of new tables comes with them).
    import_all_models()
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(Region(code="500103", level="district", name="渝中区"))
        session.flush()
        session.add_all(
            [
                Region(code=c, level="street", name=n, parent_code="500103")
                for c, n in (("500103010", "解放碑街道"), ("500103008", "七星岗街道"))
            ]
        )
        session.commit()
    engine.dispose()
    yield url
    get_settings.cache_clear()


def said(result: Result) -> str:
    """The output as one line (the console wraps long lines)."""
    return " ".join(result.output.split())


def test_the_sample_loads_once() -> None:
    assert runner.invoke(app, ["import", "enforcement"]).exit_code == 0
    first = runner.invoke(app, ["import", "businesses"])
    assert first.exit_code == 0, first.output
    assert "businesses: business_types 5 created, 0 updated; businesses 40 created" in said(first)
    assert "conflicts 1 created" in said(first)
    again = runner.invoke(app, ["import", "businesses"])
    assert again.exit_code == 0 and "businesses 0 created, 0 updated, 40 kept" in said(again)


def test_a_bad_folder_lists_its_problems(tmp_path: Path) -> None:
    folder = tmp_path / "directory"
    folder.mkdir()
    (folder / "businesses.csv").write_text(
        "credit_code,name,type_code,region_code\n91500103MA5U00001X,某店,bookshop,500103010\n",
        encoding="utf-8",
    )
    bad = runner.invoke(app, ["import", "businesses", str(folder)])
    assert bad.exit_code == 1
    assert "businesses: 2 problem(s); nothing was written" in said(bad)
    assert "businesses.csv:2: credit_code: the check character is X, it should be G" in said(bad)
    assert "businesses.csv:2: type_code: no business type 'bookshop'" in said(bad)
    assert runner.invoke(app, ["import", "businesses", str(tmp_path / "none")]).exit_code == 2
