"""`newsner doccano install|up|status|down`: the local doccano server (push/pull live in doccano_sync.py)."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Annotated

import typer

from newsner.cli._app import doccano_app, err_console, workspace_of
from newsner.doccano.connection import ENV_URL

if TYPE_CHECKING:
    from newsner.doccano.server import LocalServer


def _say(message: str) -> None:
    """Progress lines on stderr (also when it is not a terminal, e.g. in CI logs)."""
    err_console.print(message, markup=False, highlight=False, soft_wrap=True)


def _server(ctx: typer.Context, workers: int = 2) -> LocalServer:
    from newsner.doccano.server import LocalServer  # httpx and the process helpers load when a command runs

    return LocalServer(workspace_of(ctx), workers=workers)


@doccano_app.command("install")
def install_cli(
    ctx: typer.Context,
    force: Annotated[bool, typer.Option("--force", help="Rebuild the environment even if it looks complete.")]
    = False,
) -> None:
    """Build doccano 1.8.4 in its own virtual environment (reused when already there).

    The environment is WORKSPACE/.newsner/venv-doccano, or NEWSNER_DOCCANO_VENV when set.

    Example: newsner doccano install
    """
    server = _server(ctx)
    with err_console.status("checking doccano's environment…"):
        info = server.install(progress=_say, force=force)
    if info.reused:
        typer.echo(f"doccano is installed in {info.venv}")
    else:
        typer.echo(f"installed doccano in {info.venv} ({info.seconds:.0f} s)")


@doccano_app.command("up")
def up_cli(
    ctx: typer.Context,
    port: Annotated[int | None, typer.Option("--port", "-p", help="Port on 127.0.0.1 (default: a free one).")]
    = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait until it is ready.")] = 120,
    workers: Annotated[int, typer.Option("--workers", help="gunicorn worker processes (~100 MB each).")] = 2,
) -> None:
    """Start the local doccano on 127.0.0.1 (SQLite, state under .newsner/doccano/) and wait until it is ready.

    Prints the URL and the file holding the admin credentials (mode 0600). Safe to run twice.

    Example: newsner doccano up --port 8000
    """
    server = _server(ctx, workers)
    with err_console.status("starting doccano…"):
        info = server.up(port, timeout=timeout, progress=_say)
    for note in info.notes:
        typer.echo(f"note: {note}", err=True)
    if info.already_running:
        typer.echo(f"doccano is already running at {info.url}")
    else:
        typer.echo(f"doccano is running at {info.url} (ready in {info.seconds:.1f} s)")
    typer.echo(f"log in as {info.username!r}; the password is in {info.credentials_path} (mode 0600)")
    typer.echo(f"logs: {info.log_dir}")
    typer.echo("stop it with: newsner doccano down")


@doccano_app.command("status")
def status_cli(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
) -> None:
    """Say whether the local doccano runs and passes its health checks (exit 1 when not running or unhealthy).

    Example: newsner doccano status
    """
    st = _server(ctx).status()
    remote = os.environ.get(ENV_URL, "").strip()
    if as_json:
        typer.echo(json.dumps({"state": st.state, "healthy": st.healthy, "url": st.url, "pids": st.pids,
                               "checks": st.checks, "message": st.message, "remote_url": remote or None}, indent=2))
    else:
        if st.url and st.state == "running":
            pids = ", ".join(f"{name} {pid}" for name, pid in st.pids.items())
            typer.echo(f"doccano {st.state} at {st.url} (pids: {pids}): {st.message}")
            typer.echo(f"admin login: {st.credentials_path}; logs: {st.log_dir}")
        else:
            state = "is not running" if st.state == "stopped" else st.state
            typer.echo(f"doccano {state}: {st.message}")
        if remote:
            typer.echo(f"note: {ENV_URL} is set, so push/pull use {remote} rather than this server")
    if not (st.running and st.healthy):
        raise typer.Exit(1)


@doccano_app.command("down")
def down_cli(ctx: typer.Context) -> None:
    """Stop the local doccano: exactly the processes `up` recorded (nothing else, even if the PIDs were reused).

    Example: newsner doccano down
    """
    server = _server(ctx)
    with err_console.status("stopping doccano…"):
        stopped = server.down()
    if stopped:
        typer.echo(f"stopped doccano in {server.workspace.root}")
    else:
        typer.echo(f"no doccano was running in {server.workspace.root}")

