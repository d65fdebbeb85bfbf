"""The `peer-match` command: serve, migrate, keys, demo."""

import os
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from service.core import auth, migrate
from service.core.config import get_settings
from service.core.db import make_engine
from service.volunteers import repository as volunteer_repository

app = typer.Typer(help="peer-match: one-to-one perinatal peer support matching.", no_args_is_help=True)
keys = typer.Typer(help="API keys: create (shown once), list, revoke.", no_args_is_help=True)
app.add_typer(keys, name="keys")


@app.command("migrate")
def migrate_db() -> None:
    """Apply database migrations up to the newest."""
    migrate.upgrade(make_engine(get_settings()))
    typer.echo("database is at the newest migration")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    workers: int = 1,
) -> None:
    """Apply migrations, then run the HTTP server."""
    import uvicorn

    settings = get_settings()
    migrate.upgrade(make_engine(settings))
    # The app is imported afresh in each worker and reads its settings from the environment: the flags go there
    # too, so the URLs it prints (docs, calendar feeds) carry the port it really listens on.
    if host:
        os.environ["PEER_MATCH_HOST"] = host
    if port:
        os.environ["PEER_MATCH_PORT"] = str(port)
    if workers > 1:
        _count_across_workers(settings.data_dir / "metrics")
    uvicorn.run(
        "service.main:app",
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        access_log=False,
        proxy_headers=True,
    )


def _count_across_workers(directory: Path) -> None:
    """With several workers, each counts into files in `directory` (prometheus_client's multiprocess mode) and
    /metrics adds them up; otherwise each answer would hold one worker's share. Emptied at every start, so a
    restart does not count the last run's requests again. A directory set in the environment is left as given."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.db"):
        old.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)


@keys.command("create")
def keys_create(
    role: Annotated[auth.Role, typer.Option()],
    name: Annotated[str, typer.Option()],
    source: Annotated[str | None, typer.Option(help="integrators: the source name")] = None,
    volunteer_id: Annotated[str | None, typer.Option(help="volunteers: her id")] = None,
    safeguarding_lead: Annotated[
        bool, typer.Option("--safeguarding-lead", help="coordinators: alerted to concerns; reads and closes them")
    ] = False,
) -> None:
    """Create a key; the secret is printed once and stored only as a hash."""
    engine = make_engine(get_settings())
    with Session(engine) as db:
        if volunteer_id is not None and volunteer_repository.get(db, volunteer_id) is None:
            raise typer.BadParameter(
                f"no volunteer with id {volunteer_id} (see GET /v1/volunteers)", param_hint="--volunteer-id"
            )
        try:
            key, secret = auth.create_key(
                db,
                name=name,
                role=role,
                source=source,
                volunteer_id=volunteer_id,
                safeguarding_lead=safeguarding_lead,
            )
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
        db.commit()
        lead = "\nsafeguarding lead" if key.safeguarding_lead else ""
        typer.echo(f"id:     {key.id}\nrole:   {key.role}{lead}\nsecret: {secret}\n(shown once; store it safely)")


@keys.command("list")
def keys_list() -> None:
    """List keys (never their secrets)."""
    with Session(make_engine(get_settings())) as db:
        for key in auth.all_keys(db):
            state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
            bound = key.source or key.volunteer_id or ("safeguarding lead" if key.safeguarding_lead else "")
            typer.echo(f"{key.id}  {key.prefix}…  {key.role:<11} {state:<18} {bound}  {key.name}")


@keys.command("revoke")
def keys_revoke(key_id: str) -> None:
    """Revoke a key at once."""
    with Session(make_engine(get_settings())) as db:
        if not auth.revoke(db, key_id):
            raise typer.BadParameter("no active key with this id")
        db.commit()
    typer.echo("revoked")


def lower_priority(by: int) -> None:
    """Let requests go first: background work (match runs, scans, deliveries) yields the CPU to the API."""
    if by > 0:
        os.nice(by)


@app.command()
def worker() -> None:
    """Run the background work alone (when the service runs with PEER_MATCH_RUN_WORKER_IN_APP=false): on
    PostgreSQL a job queue worker (as many as you like, on any machine); on SQLite the delivery loop."""
    import signal
    import threading

    from service.events.worker import DeliveryWorker
    from service.jobs import PERIODIC_JOBS, periodic, senders

    settings = get_settings()
    lower_priority(settings.worker_nice)
    engine = make_engine(settings)
    if settings.uses_job_queue:
        from service.core import queue, tasks

        tasks.set_runner(queue.ProcrastinateRunner(settings.database_url))
        typer.echo(f"job queue worker running ({settings.worker_concurrency} at once); Ctrl-C to stop")
        queue.run_worker(
            queue.worker_app(settings.database_url, periodic(settings, engine)),
            engine,
            concurrency=settings.worker_concurrency,
        )
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    typer.echo("worker running; Ctrl-C to stop")
    DeliveryWorker(
        engine,
        allow_private=settings.allow_private_webhooks,
        periodic=PERIODIC_JOBS,
        senders=senders(settings),
    ).run_until(stop)


@app.command()
def demo(referrals: int = 120, volunteers: int = 60, seed: int = 7) -> None:
    """Fill an empty database with realistic synthetic referrals and volunteers; print a coordinator key."""
    from service.tools import demo as demo_data

    settings = get_settings()
    engine = make_engine(settings)
    migrate.upgrade(engine)
    with Session(engine) as db:
        counts = demo_data.fill(db, referrals=referrals, volunteers=volunteers, seed=seed)
        _key, secret = auth.create_key(db, name="demo coordinator", role=auth.Role.coordinator)
        match_run = demo_data.first_run(db) if counts["referrals"] else None
        table = demo_data.proposals_table(db, match_run) if match_run else ""
        db.commit()
    # The log channel's masked lines for one match, from offer to reminders (the demo's clock moves, not time).
    messages = demo_data.messages_walkthrough(engine, match_run) if match_run else ""
    typer.echo(f"demo data: {counts['referrals']} referrals, {counts['volunteers']} volunteers")
    if table:
        typer.echo(table)
    if messages:
        typer.echo(messages)
    typer.echo(f"coordinator key (shown once): {secret}")
    typer.echo(f"docs: {settings.public_base_url}/docs")
