"""The `cityops` command: serve, migrate, demo, import, export, user, apikey, sweep."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from cityops.config import get_settings

if TYPE_CHECKING:
    from cityops.bootstrap import Context

app = typer.Typer(
    help="cityops: the operation and governance centre platform", no_args_is_help=True
)
user_app = typer.Typer(help="Manage people's logins", no_args_is_help=True)
apikey_app = typer.Typer(help="Manage API keys of machine sources", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(apikey_app, name="apikey")
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
    uvicorn.run(
        "cityops.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )


@app.command()
def sweep(
    loop: Annotated[
        bool, typer.Option(help="Keep sweeping every CITYOPS_SLA_SWEEP_SECONDS")
    ] = False,
) -> None:
    """Mark overdue cases and escalate them (once, or as a worker process with --loop)."""
    import time

    from cityops.cases.jobs import run_sweep

    ctx = _context()
    while True:
        count = run_sweep(ctx)
        console.print(f"escalated {count} overdue case(s)")
        if not loop:
            return
        time.sleep(ctx.settings.sla_sweep_seconds)


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
            progress=lambda done, total, _label: bar.update(task, completed=done, total=total),
        )  # fmt: skip
    levels = ", ".join(f"{n} {level}" for level, n in sorted(summary.regions.items()))
    console.print(f"regions: {levels}; people: {summary.people}; steps: {summary.steps}")
    console.print("cases: " + ", ".join(f"{s} {n}" for s, n in summary.cases.items()))
    _print_logins()


def _print_logins() -> None:
    from cityops.demo.district import DEMO_PASSWORD, WELL_KNOWN

    console.print(f"demo logins (password [bold]{DEMO_PASSWORD}[/bold], for the demo only):")
    for username, role in WELL_KNOWN.items():
        console.print(f"  {username:<12} {role}")
