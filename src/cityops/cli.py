"""The `cityops` command: serve, migrate, demo, import, export, user, apikey, sweep, mqtt,
sensors."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from cityops.config import get_settings
from cityops.kit.logs import configure_logging, uvicorn_log_config

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from cityops.bootstrap import Context

app = typer.Typer(
    help="cityops: the operation and governance centre platform", no_args_is_help=True
)
user_app = typer.Typer(help="Manage people's logins", no_args_is_help=True)
apikey_app = typer.Typer(help="Manage API keys of machine sources", no_args_is_help=True)
import_app = typer.Typer(help="Load a district's own data (all-or-nothing)", no_args_is_help=True)
export_app = typer.Typer(help="Write the district's data to files", no_args_is_help=True)
sensors_app = typer.Typer(help="Look after the sensors' data", no_args_is_help=True)
video_app = typer.Typer(help="Cameras without analytics of their own", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(apikey_app, name="apikey")
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")
app.add_typer(video_app, name="video")
app.add_typer(sensors_app, name="sensors")
console = Console()


def _context() -> Context:
    from cityops.bootstrap import build_context

    return build_context(get_settings())


def progress_bar() -> Progress:
    """The progress display every long command uses."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema to the newest revision."""
    from cityops.migrate import current_revision, head_revision, upgrade

    ctx = _context()
    before = current_revision(ctx.engine)
    upgrade(ctx.engine)
    console.print(f"database at revision {head_revision()} (was {before or 'empty'})")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    workers: Annotated[int, typer.Option(help="Server processes")] = 1,
    scheduler: Annotated[bool, typer.Option(help="Run the overdue sweep in this server")] = True,
) -> None:
    """Serve the API and pages (uvicorn)."""
    import os

    import uvicorn

    from cityops.migrate import NotMigrated, ensure_migrated

    try:
        ensure_migrated(_context().engine)
    except NotMigrated as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    os.environ["CITYOPS_RUN_SCHEDULER"] = "1" if scheduler else "0"
    if workers > 1 and get_settings().mqtt_enabled:
        # Every worker would connect with the same client id and take the session from
        # the others, over and over: one consumer only, in a process of its own.
        os.environ["CITYOPS_MQTT_ENABLED"] = "0"
        console.print("[yellow]MQTT consumer not started with --workers: run `cityops mqtt`[/]")
    # The settings were read (and cached) above, before these variables were set; a single
    # worker builds its app in this process and must read them again to see them.
    get_settings.cache_clear()
    uvicorn.run(
        "cityops.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        log_config=uvicorn_log_config(get_settings().log_level),
        # Phones and consoles keep streams open: a restart closes them after this long
        # rather than waiting for them, and they reconnect and resume.
        timeout_graceful_shutdown=5,
    )


@app.command()
def sweep(
    loop: Annotated[
        bool,
        typer.Option(
            help="Run all the scheduled work, each job at its interval, until stopped "
            "(the overdue and silence sweeps, sensor storage upkeep, inspection reminders, "
            "supervision rules)"
        ),
    ] = False,
) -> None:
    """Escalate overdue cases, raise alarms for silent devices, remind officers of joint
    inspections and evaluate the supervision rules, once; or, with --loop, run all the
    scheduled work as a worker process beside API processes that run none."""
    import signal
    import threading

    from cityops.cases.jobs import run_sweep
    from cityops.enforcement.inspections.jobs import run_upkeep
    from cityops.enforcement.supervision.jobs import run_supervision
    from cityops.sensing.jobs import run_silence_sweep

    ctx = _context()
    # Escalations and alarms are pushed to the consoles and phones connected to the API
    # processes (through PostgreSQL or NATS; on SQLite the API process sweeps by itself).
    ctx.start_delivery(always=True)
    try:
        if not loop:
            console.print(f"escalated {run_sweep(ctx)} overdue case(s)")
            console.print(f"raised {run_silence_sweep(ctx)} silence alarm(s)")
            console.print(f"inspections: {run_upkeep(ctx)} reminder(s) and re-inspection(s) due")
            console.print(f"supervision: {run_supervision(ctx)} flag(s) raised")
            return
        configure_logging(ctx.settings.log_level)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        jobs = ctx.scheduled_work()
        for job in jobs:
            job.start()
        console.print(f"running: {', '.join(job.name for job in jobs)}", soft_wrap=True)
        try:
            while not stop.wait(1.0):
                pass
        except KeyboardInterrupt:
            pass
        for job in jobs:
            job.stop()
        for job in jobs:  # a pass under way finishes (and commits) before the exit
            job.join(timeout=60)
    finally:
        ctx.stop_delivery()


@app.command("mqtt")
def mqtt_cmd() -> None:
    """Take in readings from the MQTT broker (CITYOPS_MQTT_*) until stopped.

    The one consumer of a deployment that runs several API processes: `serve --workers N`
    must not consume in every worker (with CITYOPS_MQTT_SHARED, several `cityops mqtt`
    processes with their own CITYOPS_MQTT_CLIENT_ID split the messages).
    """
    import signal
    import threading

    from cityops.ingest.mqtt import ReadingsConsumer
    from cityops.migrate import NotMigrated, ensure_migrated

    ctx = _context()
    try:
        ensure_migrated(ctx.engine)
    except NotMigrated as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    configure_logging(ctx.settings.log_level)
    try:
        consumer = ReadingsConsumer(ctx)
    except ValueError as exc:  # a topic scheme that cannot work
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # Alarms and the cases they open reach the consoles connected to the API processes.
    ctx.start_delivery(always=True)
    consumer.start()
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        consumer.stop()
        ctx.stop_delivery()
    s = consumer.stats
    console.print(
        f"stopped: {s.messages} message(s), {s.created} reading(s) stored, "
        f"{s.duplicates} duplicate(s), {s.dead_letters} dead letter(s)"
    )


@app.command("frigate")
def frigate_cmd() -> None:
    """Take in a Frigate NVR's detections from the MQTT broker (CITYOPS_FRIGATE_*, and the
    broker of CITYOPS_MQTT_*) until stopped; malformed messages become dead letters."""
    import signal
    import threading

    from pydantic import ValidationError

    from cityops.ingest.frigate import SnapshotFetcher
    from cityops.ingest.frigate_consumer import FrigateConsumer, load_mapping
    from cityops.migrate import NotMigrated, ensure_migrated

    ctx = _context()
    s = ctx.settings
    if s.frigate_mapping_file is None:
        console.print("[red]set CITYOPS_FRIGATE_MAPPING_FILE to the camera mapping (JSON)[/red]")
        raise typer.Exit(2)
    try:
        ensure_migrated(ctx.engine)
        mapping = load_mapping(s.frigate_mapping_file)
    except (NotMigrated, OSError, ValidationError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    configure_logging(s.log_level)
    fetcher = SnapshotFetcher(s.frigate_url, s.frigate_token) if s.frigate_url else None
    consumer = FrigateConsumer(ctx, mapping, prefix=s.frigate_topic_prefix, fetcher=fetcher,
                               client_id=s.frigate_client_id)  # fmt: skip
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # The cases detections open reach the phones and consoles connected to the API.
    ctx.start_delivery(always=True)
    consumer.start()
    console.print(f"consuming {consumer.topic} as source {mapping.source!r} "
                  f"({len(mapping.cameras)} camera(s))")  # fmt: skip
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        consumer.stop()
        ctx.stop_delivery()
    st = consumer.stats
    console.print(f"stopped: {st.messages} message(s), {st.detections} detection(s), "
                  f"{st.ignored} ignored, {st.dead_letters} dead letter(s)")  # fmt: skip


@video_app.command("detect")
def video_detect(
    camera: Annotated[
        list[str] | None, typer.Option(help="A camera's code; repeat for several (default: all)")
    ] = None,
    file: Annotated[
        Path | None, typer.Option(help="Read this video file instead of the camera's stream")
    ] = None,
    fps: Annotated[float, typer.Option(help="Frames looked at per second, per camera")] = 5.0,
    width: Annotated[int, typer.Option(help="Frames are scaled down to this width")] = 1280,
    height: Annotated[int, typer.Option(help="… and this height")] = 720,
    stationary: Annotated[
        float, typer.Option(help="Seconds still before an object counts as stationary")
    ] = 60.0,
    onnx: Annotated[
        Path | None,
        typer.Option(help="An ONNX detection model (rows x1,y1,x2,y2,score,class)"),
    ] = None,
    labels: Annotated[
        str | None, typer.Option(help="The ONNX model's class names, comma-separated, in order")
    ] = None,
    input_size: Annotated[int, typer.Option(help="The ONNX model's input size")] = 640,
    source: Annotated[str, typer.Option(help="The source its detections are recorded under")] = (
        "builtin"
    ),
) -> None:
    """Run the built-in detector on cameras' streams (one worker each) until stopped, or on
    a video file for a trial; what it finds is verified against the cameras' zones."""
    import signal
    import threading

    from cityops.migrate import NotMigrated, ensure_migrated
    from cityops.video.detector import DetectorConfig, OnnxModel
    from cityops.video.jobs import DetectorRunner, cameras_to_watch, require_camera

    ctx = _context()
    try:
        ensure_migrated(ctx.engine)
    except NotMigrated as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    if (onnx is None) != (labels is None):
        console.print("[red]--onnx and --labels go together[/red]")
        raise typer.Exit(2)
    configure_logging(ctx.settings.log_level)
    model_path, names = onnx, [n.strip() for n in (labels or "").split(",") if n.strip()]
    try:
        config = DetectorConfig(
            max_fps=fps, max_width=width, max_height=height, stationary_seconds=stationary,
            model=(lambda: OnnxModel(model_path, names, input_size)) if model_path else None,
            source=source,
        )  # fmt: skip
        if file is not None:
            if not camera or len(camera) != 1:
                raise ValueError("--file needs exactly one --camera")
            require_camera(ctx, camera[0])
            sources: list[tuple[str, str | Path]] = [(camera[0], file)]
        else:
            sources = list(cameras_to_watch(ctx, camera or ()))
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    if not sources:
        console.print("no online camera has a stream URL: nothing to watch")
        raise typer.Exit(0)
    runner = DetectorRunner(ctx, sources, config)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    ctx.start_delivery(always=True)
    runner.start()
    console.print(f"watching {len(sources)} camera(s): {', '.join(c for c, _ in sources)}")
    try:
        while runner.running and not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        runner.stop()
        ctx.stop_delivery()
    st = runner.stats
    console.print(f"stopped: {st.frames} frame(s), {st.detections} detection(s), "
                  f"{st.signalled} signal(s), {st.failed_batches} failed batch(es)")  # fmt: skip


@user_app.command("create")
def user_create(
    name: Annotated[str, typer.Argument(help="Login name (also used as the person's name)")],
    role: Annotated[list[str], typer.Option(help="Role; repeat for several")],
    scope: Annotated[str | None, typer.Option(help="Region code of the scope")] = None,
    department: Annotated[str | None, typer.Option(help="Department code")] = None,
    password: Annotated[str | None, typer.Option(help="Password (asked if omitted)")] = None,
    display_name: Annotated[str | None, typer.Option(help="Full name")] = None,
) -> None:
    """Create a person with a login."""
    from cityops.auth.service import create_account
    from cityops.org.schemas import PersonCreate
    from cityops.org.service import create_person

    if password is None:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    ctx = _context()
    uow = ctx.unit_of_work()
    try:
        from sqlalchemy import select

        from cityops.org.models import Department

        dept_id = None
        if department:
            dept_id = uow.session.scalar(select(Department.id).where(Department.code == department))
            if dept_id is None:
                console.print(f"[red]unknown department {department}[/red]")
                raise typer.Exit(2)
        person = create_person(
            uow.session,
            PersonCreate(
                code=name,
                name=display_name or name,
                roles=role,
                scope_code=scope,
                department_id=dept_id,
            ),
        )
        create_account(uow.session, person=person, username=name, password=password)
        uow.commit()
    finally:
        uow.close()
    console.print(f"created {name} ({', '.join(role)}) scope={scope or '-'}")


@apikey_app.command("create")
def apikey_create(
    source: Annotated[list[str], typer.Option(help="A source name this key may post as; repeat")],
    name: Annotated[str | None, typer.Option(help="What the key is for")] = None,
    trusted: Annotated[bool, typer.Option(help="Its events skip on-site verification")] = False,
) -> None:
    """Create an API key for machine sources and print it (shown only once)."""
    from cityops.auth.service import create_api_key

    ctx = _context()
    uow = ctx.unit_of_work()
    try:
        row, key = create_api_key(uow.session, name=name or ",".join(source), sources=source,
                                  trusted=trusted, now=ctx.clock.now())  # fmt: skip
        uow.commit()
    finally:
        uow.close()
    console.print(f"API key {row.id} for {', '.join(row.sources)}:")
    sys.stdout.write(key + "\n")


@apikey_app.command("revoke")
def apikey_revoke(key_id: int) -> None:
    """Revoke an API key at once."""
    from cityops.auth.service import revoke_api_key

    ctx = _context()
    uow = ctx.unit_of_work()
    try:
        revoke_api_key(uow.session, key_id, now=ctx.clock.now())
        uow.commit()
    finally:
        uow.close()
    console.print(f"revoked API key {key_id}")


def _path(p: Path) -> Path:
    if not p.exists():
        console.print(f"[red]{p}: no such file[/red]")
        raise typer.Exit(2)
    return p


def _run_import(label: str, action: Callable[[Session], object]) -> None:
    """Run one import in one transaction; print every problem and exit 1 if there are any."""
    from cityops.errors import ImportFailed

    ctx = _context()
    uow = ctx.unit_of_work()
    try:
        result = action(uow.session)
        uow.commit()
    except ImportFailed as failed:
        console.print(f"[red]{label}: {len(failed.problems)} problem(s); nothing was written[/red]")
        for problem in failed.problems[:200]:
            console.print(f"  {problem}")
        raise typer.Exit(1) from None
    finally:
        uow.close()
    console.print(f"{label}: {result}")


FileArg = Annotated[Path, typer.Argument(help="The file to read")]


@import_app.command("regions")
def import_regions_cmd(
    file: FileArg,
    layer: Annotated[str | None, typer.Option(help="Layer of a GeoPackage")] = None,
    code_field: Annotated[str, typer.Option(help="Field holding the region code")] = "code",
    name_field: Annotated[str, typer.Option(help="Field holding the name")] = "name",
    grade_field: Annotated[str, typer.Option(help="Field holding a grid's grade")] = "grade",
) -> None:
    """Regions and grids from GeoJSON, GeoPackage or Shapefile, in any CRS."""
    from cityops.org.io import import_regions

    path = _path(file)
    with progress_bar() as bar:
        task = bar.add_task("regions", total=None)

        def run(session: Session) -> object:
            return import_regions(
                session, path, layer=layer, code_field=code_field, name_field=name_field,
                grade_field=grade_field,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )  # fmt: skip

        _run_import("regions", run)


@import_app.command("layer")
def import_layer_cmd(
    file: FileArg,
    name: Annotated[str, typer.Option(help="The layer's name (a slug); again: a new version")],
    title: Annotated[str | None, typer.Option(help="Its title (the name if none)")] = None,
    kind: Annotated[str, typer.Option(help="plan, base or control_line")] = "plan",
    line: Annotated[
        str | None,
        typer.Option(
            help="A control line's kind: ecological_red_line, permanent_farmland, urban_boundary"
        ),
    ] = None,
    class_field: Annotated[
        str | None, typer.Option(help="The field holding each feature's land-use class")
    ] = None,
    scheme: Annotated[
        str, typer.Option(help="The class codes' scheme: 2023, gbt21010_2017, gb50137_2011")
    ] = "2023",
    layer: Annotated[str | None, typer.Option(help="Layer of a GeoPackage")] = None,
    crs: Annotated[str | None, typer.Option(help="The CRS of a file that has none (CSV)")] = None,
    note: Annotated[str, typer.Option(help="What this version is (e.g. 2024 revision)")] = "",
) -> None:
    """A one-map layer from GeoPackage, Shapefile, GeoJSON, FlatGeobuf or CSV with WKT, in
    any CRS: a plan's land use, a base layer or a control line, kept as a new version."""
    from cityops.onemap.io import LayerImport, import_layer
    from cityops.onemap.models import ControlLine, LayerKind

    path = _path(file)
    try:
        spec = LayerImport(
            name=name, title=title or name, kind=LayerKind(kind),
            line=ControlLine(line) if line else None, class_field=class_field,
            class_scheme=scheme, source_layer=layer, crs=crs, note=note,
        )  # fmt: skip
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    now = _context().clock.now()
    with progress_bar() as bar:
        task = bar.add_task(f"layer {name}", total=None)

        def run(session: Session) -> object:
            done = import_layer(
                session, path, spec, now=now, by="cli",
                progress=lambda n, total: bar.update(task, completed=n, total=total),
            )  # fmt: skip
            return (f"version {done.version}: {done.features} features, "
                    f"{done.area_m2 / 1e6:.3f} km², {len(done.repaired)} repaired")  # fmt: skip

        _run_import(f"layer {name}", run)


@app.command()
def conflicts(
    layers: Annotated[list[str], typer.Argument(help="Two or more stored layers, by name")],
    out: Annotated[
        Path | None, typer.Option(help="Every patch, also to a .gpkg or .geojson file")
    ] = None,
    summary: Annotated[
        Path | None,
        typer.Option(help="By class pair (.xlsx or .csv), and by street beside it"),
    ] = None,
    min_area: Annotated[float, typer.Option(help="Slivers: smaller than this (m²)")] = 1.0,
    min_width: Annotated[float, typer.Option(help="Slivers: narrower than this (m)")] = 0.5,
    checkpoint: Annotated[
        Path | None, typer.Option(help="A folder to resume an interrupted run from")
    ] = None,
    note: Annotated[str, typer.Option(help="What this comparison is for")] = "",
    threads: Annotated[int, typer.Option(min=1, max=64, help="Chunks computed at once")] = 2,
    matrix: Annotated[
        Path | None,
        typer.Option(help="Your own compatibility matrix (CSV, the columns of the shipped one)"),
    ] = None,
) -> None:
    """Where the layers' current versions disagree (多规合一): every conflict patch, with its
    area on the ellipsoid, the classes and features on each side and the rule, kept as a run
    (shown on the one-map page, served at /ogcapi) and written to files if asked."""
    from cityops.errors import DomainError
    from cityops.onemap import service
    from cityops.onemap.conflicts import Tolerances
    from cityops.onemap.landuse import CompatibilityMatrix

    rules = None
    if matrix is not None:
        try:
            rules = CompatibilityMatrix.from_csv(_path(matrix))
        except (ValueError, KeyError) as exc:
            console.print(f"[red]{matrix}: {exc}[/red]")
            raise typer.Exit(1) from None
    ctx = _context()
    uow = ctx.unit_of_work()
    try:
        with progress_bar() as bar:
            task = bar.add_task("conflicts", total=None)
            run = service.run(
                uow.session, layers, now=ctx.clock.now(), by="cli",
                tolerances=Tolerances(min_area, min_width), checkpoint_dir=checkpoint,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
                note=note, threads=threads, matrix=rules,
            )  # fmt: skip
        run_id = run.id
        done = (
            f"run {run.id}: {run.patch_count} conflict patches, {run.total_area_m2 / 1e4:.2f} "
            f"ha; slivers dropped: {run.dropped_by_area} by area, {run.dropped_by_width} by "
            f"width; {len(run.repaired)} features repaired"
        )
        uow.commit()
    except DomainError as exc:
        uow.rollback()
        console.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(1) from None
    finally:
        uow.close()
    console.print(done)
    with ctx.read_sessions() as session:
        if out is not None:
            written = service.write_patches(session, run_id, out)
            console.print(f"{written} patches: {out}")
        if summary is not None:
            for table in service.write_summary(service.summarise(session, run_id), summary):
                console.print(f"summary: {table}")


@import_app.command("departments")
def import_departments_cmd(file: FileArg) -> None:
    """Departments from CSV/XLSX: code, name, kind, region_code, phone."""
    from cityops.org.io import import_departments

    path = _path(file)
    _run_import("departments", lambda s: import_departments(s, path))


@import_app.command("people")
def import_people_cmd(file: FileArg) -> None:
    """People from CSV/XLSX: code, name, phone, roles, department_code, scope_code, username,
    password."""
    from cityops.org.io import import_people

    path = _path(file)
    _run_import("people", lambda s: import_people(s, path))


@import_app.command("duty")
def import_duty_cmd(file: FileArg) -> None:
    """Duty roster from CSV/XLSX: person_code, grid_code, role, starts_at, ends_at."""
    from cityops.org.io import import_duty

    path = _path(file)
    _run_import("duty", lambda s: import_duty(s, path))


@import_app.command("catalog")
def import_catalog_cmd(file: FileArg) -> None:
    """Case classes from CSV/XLSX (the columns of `cityops export catalog`)."""
    from cityops.catalog.io import import_classes

    path = _path(file)
    _run_import("catalog (created, updated)", lambda s: import_classes(s, path))


@import_app.command("services")
def import_services_cmd(
    file: Annotated[
        Path | None, typer.Argument(help="A CSV like the shipped one; the shipped one if none")
    ] = None,
) -> None:
    """Residents' services (Open311) from CSV: code, class_code, group, name, description,
    keywords (;-separated), attributes (JSON). Existing services are kept as they are."""
    from cityops.citizens.service import SEED, load_services

    path = _path(file) if file is not None else SEED
    now = _context().clock.now()
    _run_import("services", lambda s: f"{load_services(s, now, path, strict=True)} added")


@import_app.command("vocabulary")
def import_vocabulary_cmd(
    file: Annotated[
        Path | None, typer.Argument(help="A CSV like the shipped one; the shipped one if none")
    ] = None,
) -> None:
    """The words residents use for each class, which the classifier learns: CSV of
    class_code, terms (;-separated). Terms the district has are kept; new ones are added."""
    from cityops.citizens.service import VOCABULARY_SEED, load_vocabulary

    path = _path(file) if file is not None else VOCABULARY_SEED
    now = _context().clock.now()
    _run_import("vocabulary", lambda s: f"{load_vocabulary(s, now, path, strict=True)} added")


@import_app.command("enforcement")
def import_enforcement_cmd(
    source: Annotated[
        Path | None,
        typer.Argument(
            help="A folder of laws, articles, items, benchmarks, checklist, agencies and "
            "officers files (CSV/XLSX, any of them), a workbook with those sheets, or one such "
            "file; the shipped sample if none"
        ),
    ] = None,
) -> None:
    """The enforcement registries (执法依据, 执法事项, 执法主体, 执法人员), all-or-nothing;
    with no SOURCE, what is missing of the shipped sample."""
    from cityops.enforcement.registries.io import import_registries
    from cityops.enforcement.registries.service import load_seed

    path = _path(source) if source is not None else None
    today = datetime.now(ZoneInfo(get_settings().timezone)).date()
    with progress_bar() as bar:
        progress = _phases(bar)

        def run(session: Session) -> object:
            if path is None:
                return load_seed(session, today=today, progress=progress)
            return import_registries(session, path, progress=progress)

        _run_import("enforcement", run)


@import_app.command("businesses")
def import_businesses_cmd(
    source: Annotated[
        Path | None,
        typer.Argument(
            help="A folder of business_types, businesses, licences and conflicts files "
            "(CSV/XLSX, any of them), a workbook with those sheets, or one such file; the "
            "shipped sample if none"
        ),
    ] = None,
) -> None:
    """The directory of regulated businesses (监管对象名录库), all-or-nothing; with no
    SOURCE, what is missing of the shipped sample (load `import enforcement` first)."""
    from cityops.enforcement.businesses.io import import_businesses
    from cityops.enforcement.businesses.service import load_seed

    path = _path(source) if source is not None else None
    with progress_bar() as bar:
        progress = _phases(bar)

        def run(session: Session) -> object:
            if path is None:
                return load_seed(session, progress=progress)
            return import_businesses(session, path, progress=progress)

        _run_import("businesses", run)


OutArg = Annotated[Path, typer.Argument(help="The file to write; its suffix picks the format")]


def _run_export(label: str, action: Callable[[Session], int]) -> None:
    ctx = _context()
    with ctx.sessions() as session:
        count = action(session)
        session.commit()  # what an export records in the audit trail
    console.print(f"{label}: {count} written")


@export_app.command("regions")
def export_regions_cmd(
    file: OutArg, level: Annotated[str | None, typer.Option(help="Only this level")] = None
) -> None:
    """Regions to GeoJSON (.geojson) or GeoPackage (.gpkg), CGCS2000 lon/lat."""
    from cityops.org.io import export_regions

    _run_export("regions", lambda s: export_regions(s, file, level=level))


@export_app.command("people")
def export_people_cmd(file: OutArg) -> None:
    """People to CSV or XLSX (no passwords)."""
    from cityops.org.io import export_people

    _run_export("people", lambda s: export_people(s, file))


@export_app.command("departments")
def export_departments_cmd(file: OutArg) -> None:
    """Departments to CSV or XLSX."""
    from cityops.org.io import export_departments

    _run_export("departments", lambda s: export_departments(s, file))


@export_app.command("requests")
def export_requests_cmd(
    file: OutArg,
    since: Annotated[str | None, typer.Option(help="From this day (YYYY-MM-DD), local")] = None,
    until: Annotated[str | None, typer.Option(help="Before this day (YYYY-MM-DD)")] = None,
    with_contacts: Annotated[
        bool,
        typer.Option(
            help="Names, phones and descriptions in full (recorded in the audit "
            "trail); masked by default"
        ),
    ] = False,
) -> None:
    """Residents' requests to CSV or XLSX, with their cases' states, ratings and call-backs."""
    from cityops.citizens.io import export_requests

    zone = ZoneInfo(get_settings().timezone)

    def day(text: str | None, name: str) -> datetime | None:
        if text is None:
            return None
        try:
            return datetime.fromisoformat(text).replace(tzinfo=zone)
        except ValueError:
            raise typer.BadParameter("a day as YYYY-MM-DD", param_hint=name) from None

    start, end = day(since, "--since"), day(until, "--until")
    _run_export("requests", lambda s: export_requests(
        s, file, since=start, until=end, with_contacts=with_contacts,
        now=datetime.now(UTC)))  # fmt: skip


@export_app.command("catalog")
def export_catalog_cmd(file: OutArg) -> None:
    """Case classes to CSV or XLSX."""
    from cityops.catalog.io import export_classes

    _run_export("catalog", lambda s: export_classes(s, file))


@app.command()
def demo(
    if_empty: Annotated[
        bool, typer.Option(help="Do nothing if the database has a district")
    ] = False,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed builds the same demo")] = 7,
    until: Annotated[str | None, typer.Option(help="Last day of history, YYYY-MM-DD")] = None,
    days: Annotated[int, typer.Option(help="Days of case history")] = 30,
) -> None:
    """Build the demo district (regions, staff, catalog) and a month of cases."""
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from cityops.demo.service import build_demo, has_district

    ctx = _context()
    if if_empty and has_district(ctx):
        console.print("the database already holds a district: demo not loaded")
        _print_logins()
        return
    last = (
        date.fromisoformat(until) if until else datetime.now(ZoneInfo(ctx.settings.timezone)).date()
    )
    with progress_bar() as bar:
        task = bar.add_task("demo district", total=days + 1)
        summary = build_demo(
            ctx, until=last, seed=seed, days=days,
            progress=lambda done, total, label: bar.update(
                task, completed=done, total=total, description=f"demo: {label}"),
        )  # fmt: skip
    levels = ", ".join(f"{n} {level}" for level, n in sorted(summary.regions.items()))
    console.print(f"regions: {levels}; people: {summary.people}; steps: {summary.steps}")
    console.print("cases: " + ", ".join(f"{s} {n}" for s, n in summary.cases.items()))
    if summary.ticket:
        console.print(f"residents' requests: {summary.requests}; follow one at "
                      f"/report/track?ticket={summary.ticket}")  # fmt: skip
    console.print(f"one map: {summary.layers} layers, {summary.conflicts} conflict patches "
                  "between the plans and the control lines, at /onemap/")  # fmt: skip
    stages = ", ".join(f"{stage} {n}" for stage, n in summary.penalty_cases.items())
    console.print(f"enforcement: {summary.inspections} inspections, penalty cases ({stages}), "
                  f"{summary.flags} supervision flags, {summary.complaints} complaints about "
                  "conduct, at /enforcement/")  # fmt: skip
    _print_logins()


def _print_logins() -> None:
    from cityops.demo.district import DEMO_PASSWORD, WELL_KNOWN

    console.print(f"demo logins (password [bold]{DEMO_PASSWORD}[/bold], for the demo only):")
    for username, role in WELL_KNOWN.items():
        console.print(f"  {username:<14} {role}")


@sensors_app.command("maintain")
def sensors_maintain(
    loop: Annotated[
        bool, typer.Option(help="Keep at it every CITYOPS_SENSOR_MAINTENANCE_SECONDS")
    ] = False,
) -> None:
    """Make the days' partitions of readings ahead, move readings out of the default
    partition, and remove readings and rollups past their retention (once, or with --loop
    as a worker process)."""
    import time

    from cityops.migrate import NotMigrated, ensure_migrated
    from cityops.sensing.jobs import run_maintenance

    ctx = _context()
    try:
        ensure_migrated(ctx.engine)
        while True:
            with progress_bar() as bar:
                report = run_maintenance(ctx, progress=_phases(bar))
            for line in report.lines():
                console.print(line)
            if not loop:
                return
            time.sleep(ctx.settings.sensor_maintenance_seconds)
    except NotMigrated as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    finally:
        ctx.engine.dispose()


def _phases(bar: Progress) -> Callable[[str, int, int], None]:
    """A progress callback showing a bar per phase of a long job, each added when it starts."""
    tasks: dict[str, TaskID] = {}

    def show(phase: str, done: int, total: int) -> None:
        if phase not in tasks:
            tasks[phase] = bar.add_task(phase, total=total)
        bar.update(tasks[phase], completed=done, total=total)

    return show
