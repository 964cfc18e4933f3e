"""The `cityops` command as an IT team would script a district's set-up."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from tests.factories import EPOCH
from typer.testing import CliRunner

from cityops.auth.models import Account, ApiKey
from cityops.cli import app
from cityops.config import get_settings
from cityops.migrate import head_revision
from cityops.org.models import Person
from cityops.video.models import Camera

runner = CliRunner()


@pytest.fixture(name="database")
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("CITYOPS_DATABASE_URL", url)
    monkeypatch.setenv("CITYOPS_STORAGE_DIR", str(tmp_path / "blobs"))
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_scripted_setup(database: str, tmp_path: Path) -> None:
    assert f"revision {head_revision()}" in run("migrate")
    (tmp_path / "regions.geojson").write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", '
        '"properties": {"code": "500105", "name": "九龙坡区"}, "geometry": {"type": "Polygon", '
        '"coordinates": [[[106.4, 29.4], [106.6, 29.4], [106.6, 29.6], [106.4, 29.6], '
        "[106.4, 29.4]]]}}]}",
        encoding="utf-8",
    )
    assert "regions: ImportResult(created=1, updated=0)" in run(
        "import", "regions", str(tmp_path / "regions.geojson")
    )
    run("user", "create", "chief", "--role", "admin", "--role", "supervisor",
        "--scope", "500105", "--password", "long-enough-pass")  # fmt: skip
    out = run("apikey", "create", "--source", "cam-gw-1", "--trusted")
    key = out.strip().splitlines()[-1]
    assert key.startswith("cok_")
    engine = create_engine(database)
    with Session(engine) as s:
        person = s.scalar(select(Person).where(Person.code == "chief"))
        assert person is not None and person.roles == ["admin", "supervisor"]
        assert s.scalar(select(Account.username)) == "chief"
        api_key = s.scalar(select(ApiKey))
        assert api_key is not None and api_key.sources == ["cam-gw-1"] and api_key.trusted
    engine.dispose()
    out_file = tmp_path / "out.geojson"
    assert "regions: 1 written" in run("export", "regions", str(out_file))
    assert "九龙坡区" in out_file.read_text(encoding="utf-8")


@pytest.mark.usefixtures("database")
def test_a_bad_import_prints_each_problem_and_fails(tmp_path: Path) -> None:
    run("migrate")
    bad = tmp_path / "people.csv"
    bad.write_text("code,name,roles\nP1,甲,wizard\nP2,,inspector\n", encoding="utf-8")
    result = runner.invoke(app, ["import", "people", str(bad)])
    assert result.exit_code == 1
    assert "2 problem(s); nothing was written" in result.output
    assert "people.csv:2: roles: unknown role 'wizard'" in result.output
    assert "people.csv:3: name: empty" in result.output


@pytest.mark.usefixtures("database")
def test_serving_an_unmigrated_database_says_what_to_run() -> None:
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 2
    assert "cityops migrate" in result.output


@pytest.mark.usefixtures("database")
def test_a_single_server_process_runs_the_sweeps_unless_told_not_to(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import uvicorn

    run("migrate")
    seen: list[bool] = []
    # The app is built from the settings read when uvicorn calls the factory, after `serve`
    # has set the scheduler switch: that is the moment to look.
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: seen.append(get_settings().run_scheduler))
    # Set (so that the test restores it afterwards): `serve` overwrites it.
    monkeypatch.setenv("CITYOPS_RUN_SCHEDULER", "0")
    run("serve")
    run("serve", "--no-scheduler")
    assert seen == [True, False]


@pytest.mark.usefixtures("database")
def test_sweep_runs_the_scheduled_work_once_or_as_a_worker_until_terminated(
    database: str,
) -> None:
    import os
    import signal
    import subprocess
    import sys

    run("migrate")
    out = run("sweep")
    assert "escalated 0 overdue case(s)" in out and "raised 0 silence alarm(s)" in out
    assert "inspections: 0 reminder(s)" in out
    assert "supervision: 0 flag(s) raised" in out
    env = {**os.environ, "CITYOPS_DATABASE_URL": database, "CITYOPS_HUB": "local"}
    command = [sys.executable, "-m", "cityops", "sweep", "--loop"]
    proc = subprocess.Popen(
        command, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("running: "), first
        names = first.removeprefix("running: ").strip().split(", ")
        assert names == [
            "cityops-sla-sweep",
            "cityops-silence-sweep",
            "cityops-sensor-maintenance",
            "cityops-video-pruning",
            "cityops-inspections",
            "cityops-enforcement-supervision",
        ]
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0


@pytest.mark.usefixtures("database")
def test_the_frigate_consumer_wants_its_mapping_and_says_what_is_wrong_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = runner.invoke(app, ["frigate"])
    assert result.exit_code == 2
    assert "CITYOPS_FRIGATE_MAPPING_FILE" in result.output
    run("migrate")
    mapping = tmp_path / "frigate.json"
    mapping.write_text('{"source": "nvr-1", "cameras": {"gate": {"code": "CAM-1"}}}')
    monkeypatch.setenv("CITYOPS_FRIGATE_MAPPING_FILE", str(mapping))
    get_settings.cache_clear()
    result = runner.invoke(app, ["frigate"])
    assert result.exit_code == 2
    assert "width" in result.output  # the camera's detect resolution is missing


def test_the_detector_runs_on_a_file_for_a_camera_and_says_what_it_found(
    database: str, tmp_path: Path
) -> None:
    from tests.factories import make_district
    from tests.video.test_detector import _scene, _write_video

    run("migrate")
    engine = create_engine(database)
    with Session(engine) as session:
        make_district(session)
        session.add(Camera(code="CAM-9", name="路口", lon=106.571, lat=29.561,
                           created_at=EPOCH, updated_at=EPOCH))  # fmt: skip
        session.commit()
    engine.dispose()
    video = _write_video(tmp_path / "stall.avi", 4, _scene(stall=(1, 99)))
    refused = runner.invoke(app, ["video", "detect", "--file", str(video)])
    assert refused.exit_code == 2 and "exactly one --camera" in refused.output
    unknown = runner.invoke(app, ["video", "detect", "--camera", "NOPE", "--file", str(video)])
    assert unknown.exit_code == 2 and "no camera NOPE" in unknown.output
    out = run("video", "detect", "--camera", "CAM-9", "--file", str(video), "--stationary", "1")
    assert "watching 1 camera(s): CAM-9" in out
    frames, detections = (int(n) for n in re.findall(r"(\d+) (?:frame|detection)\(s\)", out))
    assert frames > 0 and detections > 0


@pytest.mark.usefixtures("database")
def test_layers_are_imported_and_compared_with_an_edited_matrix(tmp_path: Path) -> None:
    from tests.onemap.conftest import INDUSTRY, WETLAND
    from tests.onemap.test_io import write

    from cityops.onemap.landuse import COMPATIBILITY_SEED

    run("migrate")
    write(tmp_path / "land.gpkg", [WETLAND], {"DLBM": ["0501"]})
    write(tmp_path / "urban.gpkg", [INDUSTRY], {"YDDM": ["M1"]})
    run("import", "layer", str(tmp_path / "land.gpkg"), "--name", "land", "--title", "土地利用规划",
        "--class-field", "DLBM")  # fmt: skip
    run("import", "layer", str(tmp_path / "urban.gpkg"), "--name", "urban", "--title", "城市规划",
        "--class-field", "YDDM", "--scheme", "gb50137_2011")  # fmt: skip
    out = run("conflicts", "land", "urban", "--out", str(tmp_path / "c.gpkg"),
              "--summary", str(tmp_path / "c.csv"), "--threads", "1")  # fmt: skip
    assert "run 1: 1 conflict patches" in out
    assert (tmp_path / "c-streets.csv").exists()
    # a district whose matrix has no rule for forest swamp against industry finds nothing
    rows = COMPATIBILITY_SEED.read_text(encoding="utf-8").splitlines()
    kept = [r for r in rows if not r.startswith(("wetland-vs-", "forest-vs-"))]
    (tmp_path / "mine.csv").write_text("\n".join(kept) + "\n", encoding="utf-8")
    out = run("conflicts", "land", "urban", "--matrix", str(tmp_path / "mine.csv"))
    assert "run 2: 0 conflict patches" in out
    (tmp_path / "bad.csv").write_text("rule,a\nx,99\n", encoding="utf-8")
    refused = runner.invoke(app, ["conflicts", "land", "urban", "--matrix",
                                  str(tmp_path / "bad.csv")])  # fmt: skip
    assert refused.exit_code == 1 and "bad.csv" in refused.output
