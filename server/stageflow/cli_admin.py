"""``stageflow serve``, ``worker``, ``install`` and ``demo``: running the server."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from werkzeug.serving import run_simple

from .cli_runs import echo_deployed
from .cli_support import with_database
from .core import current
from .db import connection_context
from .demo import ADMIN_NAME, ADMIN_PASSWORD, EXAMPLES_DIR, load_demo
from .scheduler import build_scheduler


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@with_appcontext
def serve(host: str, port: int) -> None:
    """Run the web app, the worker threads and the scheduler in one process (until Ctrl-C).

    The setting ``scheduler = false`` leaves the scheduler to a ``stageflow scheduler``
    process.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    pool = current().start_workers()
    scheduler = build_scheduler(app) if current().config.get("scheduler", True) else None
    if scheduler is not None:
        scheduler.start()
    without = "" if scheduler is not None else ", no scheduler"
    click.echo(f"stageflow on http://{host}:{port}/ with {pool.count} worker thread(s){without}")
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        current().stop_workers()


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run only the scheduler (SLA escalations, record feeds) until SIGTERM."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    scheduler = build_scheduler(app)
    scheduler.start()
    jobs = ", ".join(job.id for job in scheduler.get_jobs())
    click.echo(f"scheduler: {jobs}; stop with Ctrl-C or SIGTERM")
    try:
        wait_for_stop_signal()
    finally:
        scheduler.shutdown()
    click.echo("scheduler stopped")


@click.command("worker")
@click.option("--once", is_flag=True, help="Do the jobs that are due, then exit.")
@click.option("--threads", type=click.IntRange(1, 64), help="Worker threads (default: workers).")
@with_appcontext
def worker(once: bool, threads: int | None) -> None:
    """Do background jobs (worker threads only) until SIGTERM or SIGINT."""
    sf = current()
    if once:
        with connection_context():
            done = sf.engine.run_until_idle()
        click.echo(f"{done} job(s) done")
        return
    pool = sf.start_workers(threads or max(1, sf.config.get("workers", 2)))
    click.echo(f"worker: {pool.count} thread(s); stop with Ctrl-C or SIGTERM")
    try:
        wait_for_stop_signal()
    finally:
        sf.stop_workers()
    click.echo("worker stopped")


def wait_for_stop_signal() -> None:
    """Block until SIGTERM or SIGINT arrives; then restore the previous handlers."""
    stop = threading.Event()
    signals = (signal.SIGTERM, signal.SIGINT)
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in signals}
    try:
        stop.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@click.command("install")
@click.argument("packages", nargs=-1, required=True)
def install(packages: tuple[str, ...]) -> None:
    """pip install plugin packages into the server's Python environment."""
    completed = subprocess.run([sys.executable, "-m", "pip", "install", *packages], check=False)  # noqa: S603
    sys.exit(completed.returncode)


@click.command("demo")
@click.option(
    "--examples",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=EXAMPLES_DIR,
    show_default=True,
    help="Folder of example definitions.",
)
@with_database
def demo(examples: Path) -> None:
    """Load the examples, an admin user, some records and runs (safe to run twice)."""
    result = load_demo(examples)
    echo_deployed(result.deployed)
    if result.token:
        click.echo(f"created admin user {ADMIN_NAME!r} with password {ADMIN_PASSWORD!r}")
        click.echo(f"API token (shown once): {result.token}")
    else:
        click.echo(f"user {ADMIN_NAME!r} exists; a token: stageflow users token {ADMIN_NAME}")
    if result.people:
        click.echo(f"users {', '.join(result.people)}: the password is the user's name")
    click.echo(f"created {len(result.records)} record(s), launched {len(result.runs)} run(s)")
    for run in result.runs:
        click.echo(f"  run {run.id}")


COMMANDS = (serve, scheduler_command, worker, install, demo)
