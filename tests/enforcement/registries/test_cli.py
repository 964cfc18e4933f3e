"""`cityops import enforcement`: the shipped sample with no argument, a folder of tables, and
a bad folder reported row by row."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cityops.cli import app
from cityops.config import get_settings

runner = CliRunner()


@pytest.fixture(autouse=True)
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("CITYOPS_DATABASE_URL", url)
    monkeypatch.setenv("CITYOPS_STORAGE_DIR", str(tmp_path / "blobs"))
    get_settings.cache_clear()
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    yield url
    get_settings.cache_clear()


def test_the_sample_loads_with_one_command_and_once() -> None:
    first = runner.invoke(app, ["import", "enforcement"])
    assert first.exit_code == 0, first.output
    # No regions here: the laws and items load, the demo district's agencies do not.
    assert "laws 4 created, 0 updated; articles 35 created" in first.output
    assert "agencies" not in first.output
    again = runner.invoke(app, ["import", "enforcement"])
    assert again.exit_code == 0 and "laws 0 created, 0 updated, 4 kept" in again.output


def test_a_folder_imports_and_a_bad_one_lists_its_problems(tmp_path: Path) -> None:
    folder = tmp_path / "registries"
    folder.mkdir()
    (folder / "laws.csv").write_text(
        "code,version,title,level\nmy-law,1,我的法,law\n", encoding="utf-8"
    )
    (folder / "articles.csv").write_text(
        "law_code,number,text\nmy-law,1,第一条的文字。\n", encoding="utf-8"
    )
    ok = runner.invoke(app, ["import", "enforcement", str(folder)])
    assert ok.exit_code == 0, ok.output
    assert "enforcement: laws 1 created, 0 updated; articles 1 created" in ok.output
    (folder / "items.csv").write_text(
        "code,name,kind,penalty_articles\nX-1,某事项,penalty,my-law:2\n", encoding="utf-8"
    )
    bad = runner.invoke(app, ["import", "enforcement", str(folder)])
    assert bad.exit_code == 1
    assert "enforcement: 1 problem(s); nothing was written" in bad.output
    assert "items.csv:2: penalty_articles: my-law:2: my-law@1 has no 第二条" in bad.output
    missing = runner.invoke(app, ["import", "enforcement", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2
