"""The embedded doccano: build it in its own virtual environment, run it on 127.0.0.1, stop exactly what it ran.

Everything a server needs lives in WORKSPACE/.newsner/doccano/:

    db.sqlite3              doccano's database (projects, examples, users)
    celery-broker.sqlite3   the task queue (kombu's SQLAlchemy transport: no Redis needed)
    media/                  imported and exported files
    settings/               the Django settings module newsner writes (fast broker polling)
    logs/                   gunicorn.log, celery.log, init.log (the previous run's as *.log.1)
    pids.json               the processes `up` started: pid + kernel start time, so a reused pid is not ours
    credentials.json        the admin username and a random password (mode 0600)
    secret_key              Django's SECRET_KEY (mode 0600)

The venv is WORKSPACE/.newsner/venv-doccano unless NEWSNER_DOCCANO_VENV names another (tests and CI share one);
NEWSNER_DOCCANO_PYTHON picks the interpreter `install` builds it with, NEWSNER_DOCCANO_TEMPLATE_DIR where the
migrated template database is cached (default: inside the venv).
It must stay writable: doccano stores uploads inside its own package before importing them.
The server is gunicorn bound to 127.0.0.1 (not `doccano webserver`, which binds 0.0.0.0) plus one solo celery
worker for imports and exports.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from newsner._io import atomic_write_text
from newsner._procs import (  # noqa: F401 (re-exported)
    _alive,
    _children,
    _free_port,
    _port_free,
    _proc_cmdline,
    _proc_start_time,
    _reap,
    _record,
    _set_pdeathsig,
    _tail,
)
from newsner.doccano.connection import Connection
from newsner.doccano.install import (  # noqa: F401 (re-exported: tests and the CLI import them from here)
    ENV_PYTHON,
    ENV_VENV,
    REQUIREMENTS,
    SETTINGS_MODULE,
    DoccanoInstall,
    InstallInfo,
    Progress,
)
from newsner.errors import DoccanoServerError
from newsner.workspace import Workspace

__all__ = ["InstallInfo", "LocalServer", "ServerInfo", "ServerStatus", "default_venv", "REQUIREMENTS"]

ENV_TEMPLATES = "NEWSNER_DOCCANO_TEMPLATE_DIR"
#: numpy<2: doccano pins pandas 1.5, which crashes on numpy 2. marshmallow<4: doccano's environs 9.5 breaks on 4.
ADMIN_USERNAME = "admin"
_PROCESSES = ("gunicorn", "celery")



@dataclass(frozen=True)
class ServerInfo:
    url: str
    credentials_path: Path
    pids: dict[str, int]
    already_running: bool = False
    seconds: float = 0.0
    log_dir: Path | None = None
    notes: tuple[str, ...] = ()
    username: str = ADMIN_USERNAME


@dataclass(frozen=True)
class ServerStatus:
    """state: running (all recorded processes alive), degraded (some died), stale (all died without `down`:
    a crash or a reboot) or stopped (nothing recorded)."""

    state: str
    url: str | None
    pids: dict[str, int]
    healthy: bool
    message: str
    checks: dict[str, str] = field(default_factory=dict)
    credentials_path: Path | None = None
    log_dir: Path | None = None

    @property
    def running(self) -> bool:
        return self.state == "running"


def default_venv(workspace: Workspace) -> Path:
    """NEWSNER_DOCCANO_VENV if set, else WORKSPACE/.newsner/venv-doccano."""
    env = os.environ.get(ENV_VENV, "").strip()
    return Path(env).expanduser().resolve() if env else workspace.state_dir / "venv-doccano"



# ---------------------------------------------------------------------------- the server

class LocalServer(DoccanoInstall):
    """The doccano server of one workspace.

    Args:
        workspace: state goes under WORKSPACE/.newsner/doccano.
        venv: doccano's virtual environment (default: `default_venv(workspace)`).
        template_dir: where a freshly migrated database is kept for reuse, keyed on the doccano version, so a
            new workspace skips the ~8 s of migrations (default: NEWSNER_DOCCANO_TEMPLATE_DIR, else inside the
            venv).
        workers: gunicorn worker processes (~100 MB each).
        die_with_parent: ask the kernel to stop the server when the process that started it dies (test
            sessions use this so a killed pytest leaves nothing behind); the CLI leaves it running.
    """

    def __init__(self, workspace: Workspace, *, venv: Path | None = None, template_dir: Path | None = None,
                 workers: int = 2, die_with_parent: bool = False) -> None:
        self.workspace = workspace
        self.venv = Path(venv).resolve() if venv is not None else default_venv(workspace)
        if template_dir is None:
            env = os.environ.get(ENV_TEMPLATES, "").strip()
            template_dir = Path(env) if env else self.venv / "newsner-templates"
        self.template_dir = Path(template_dir)
        self.workers = max(1, workers)
        self.die_with_parent = die_with_parent
        self.state_dir = workspace.state_dir / "doccano"
        self.log_dir = self.state_dir / "logs"
        self.db_path = self.state_dir / "db.sqlite3"
        self.credentials_path = self.state_dir / "credentials.json"
        self.pids_path = self.state_dir / "pids.json"

    def __repr__(self) -> str:
        return f"LocalServer({str(self.state_dir)!r}, venv={str(self.venv)!r})"

    # ------------------------------------------------------------------ state files

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """One `up`/`down` at a time per workspace (a second `up` waits, then finds the server running)."""
        import fcntl

        self._make_state_dir()
        with open(self.state_dir / "lock", "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _make_state_dir(self) -> None:
        # Private: the database holds password hashes and tokens.
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if self.state_dir.stat().st_mode & 0o077:
            self.state_dir.chmod(0o700)

    def credentials(self) -> tuple[str, str]:
        """(username, password) of the local admin, created with a random password on first use."""
        try:
            data = json.loads(self.credentials_path.read_text())
            return str(data["username"]), str(data["password"])
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError):
            raise DoccanoServerError(f"{self.credentials_path} is unreadable: delete it and run `newsner doccano "
                                     "up` (a new admin password is set)") from None
        username, password = ADMIN_USERNAME, secrets.token_urlsafe(18)
        self._write_credentials(username, password)
        return username, password

    def _username(self) -> str:
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            return str(json.loads(self.credentials_path.read_text())["username"])
        return ADMIN_USERNAME

    def use_credentials(self, username: str, password: str) -> None:
        """Choose the admin's name and password before the database exists (test sessions use a fixed pair so a
        saved database can be reused); otherwise a random password is made on first `up`."""
        if self.db_path.exists():
            raise DoccanoServerError(f"{self.db_path} exists already: its admin keeps the password in "
                                     f"{self.credentials_path}")
        self._write_credentials(username, password)

    def _write_credentials(self, username: str, password: str) -> None:
        self._make_state_dir()
        body = {"username": username, "password": password,
                "note": "doccano admin of the local server started by `newsner doccano up`; keep private"}
        atomic_write_text(self.credentials_path, json.dumps(body, indent=2) + "\n", perm=0o600)

    def _secret_key(self) -> str:
        path = self.state_dir / "secret_key"
        with contextlib.suppress(OSError):
            key = path.read_text().strip()
            if key:
                return key
        key = secrets.token_urlsafe(48)
        atomic_write_text(path, key + "\n", perm=0o600)
        return key

    def _read_pids(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.pids_path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            raise DoccanoServerError(f"{self.pids_path} is unreadable: check that no doccano from this workspace "
                                     "still runs (`ps -ef | grep gunicorn`), then delete the file") from None
        if not isinstance(data, dict) or not isinstance(data.get("processes"), dict):
            raise DoccanoServerError(f"{self.pids_path} is not a newsner PID file: check that no doccano from this "
                                     "workspace still runs, then delete the file")
        return data

    def _is_ours(self, rec: dict[str, Any], venv: str | None = None) -> bool:
        """The recorded process still runs: same pid, same kernel start time, and a doccano command line.

        `venv` is the one pids.json recorded: `down` from a shell whose NEWSNER_DOCCANO_VENV differs from the
        `up` call must still recognise (and stop) the server `up` started."""
        try:
            pid, start = int(rec["pid"]), int(rec["start_time"])
        except (KeyError, TypeError, ValueError):
            return False
        now = _proc_start_time(pid)
        return now is not None and now == start and (venv or str(self.venv)) in _proc_cmdline(pid)

    @staticmethod
    def _recorded_venv(data: dict[str, Any] | None) -> str | None:
        venv = data.get("venv") if data else None
        return str(venv) if isinstance(venv, str) and venv else None

    @property
    def port_path(self) -> Path:
        """The port the last `up` used, kept after `down` so a restart gets the same URL (and the same push
        state and pulled origins) when that port is free."""
        return self.state_dir / "port"

    def last_port(self) -> int | None:
        try:
            port = int(self.port_path.read_text().strip())
        except (OSError, ValueError):
            return None
        return port if 1 <= port <= 65535 else None

    def _env(self, backend: Path, db_path: Path | None = None) -> dict[str, str]:
        drop = {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "DJANGO_SETTINGS_MODULE", "DATABASE_URL", "SECRET_KEY",
                "CELERY_BROKER_URL", "MEDIA_ROOT", "DOCCANO_HOME", "DEBUG", "STANDALONE"}
        env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("NEWSNER_DOCCANO_")}
        env.update({
            "DOCCANO_HOME": str(self.state_dir),
            "DATABASE_URL": f"sqlite:///{db_path or self.db_path}",
            "MEDIA_ROOT": str(self.state_dir / "media"),
            "CELERY_BROKER_URL": f"sqla+sqlite:///{self.state_dir / 'celery-broker.sqlite3'}",
            "STANDALONE": "True",
            "DEBUG": "False",
            "SECRET_KEY": self._secret_key(),
            "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
            "PYTHONPATH": os.pathsep.join([str(backend), str(self.state_dir / "settings")]),
            "PYTHONUNBUFFERED": "1",
        })
        return env

    # ------------------------------------------------------------------ up / status / down

    def _inspect(self) -> tuple[str, dict[str, Any] | None, dict[str, int]]:
        """(state, pids.json contents, {name: pid} of the recorded processes still running)."""
        data = self._read_pids()
        if data is None:
            return "stopped", None, {}
        venv = self._recorded_venv(data)
        alive = {name: int(rec["pid"]) for name, rec in data["processes"].items()
                 if isinstance(rec, dict) and self._is_ours(rec, venv)}
        if not alive:
            return "stale", data, {}
        if len(alive) < len(data["processes"]):
            return "degraded", data, alive
        return "running", data, alive

    def up(self, port: int | None = None, *, timeout: float = 120, progress: Progress | None = None) -> ServerInfo:
        """Start doccano on 127.0.0.1 (a free port unless given) and wait until the API and the worker are ready.

        Running it again while the server runs returns the running server (`already_running`).

        Raises:
            DoccanoServerError: not installed, port in use, or the server died or hung while starting (with the
                log tail; everything started is stopped again).
        """
        say = progress or (lambda _msg: None)
        started = time.monotonic()
        notes: list[str] = []
        with self._lock():
            state, data, alive = self._inspect()
            if state == "running" and data is not None:
                url = str(data["url"])
                if port is not None and int(data.get("port", 0)) != port:
                    notes.append(f"it runs on port {data.get('port')}, not {port}: `newsner doccano down` first "
                                 "to move it")
                if not data.get("ready"):  # a previous `up` was killed while waiting
                    self._wait_ready(url, {n: None for n in data["processes"]}, data, started + timeout)
                    self._write_pids({**data, "ready": True})
                return ServerInfo(url, self.credentials_path, alive, already_running=True,
                                  seconds=time.monotonic() - started, log_dir=self.log_dir, notes=tuple(notes),
                                  username=self._username())
            if state == "degraded" and data is not None:
                dead = sorted(set(data["processes"]) - set(alive))
                notes.append(f"stopped what was left of the previous server ({', '.join(dead)} had died)")
                self._stop(data, timeout=20)
            elif state == "stale":
                notes.append("removed a stale PID file (the server had stopped without `newsner doccano down`)")
            self.pids_path.unlink(missing_ok=True)

            backend = self._require_venv()
            if port is not None:
                if not 1 <= port <= 65535:
                    raise DoccanoServerError(f"--port must be between 1 and 65535 (got {port})")
                if not _port_free(port):
                    raise DoccanoServerError(f"port {port} on 127.0.0.1 is in use by another program: choose "
                                             "another with --port, or leave --port out for a free one")
            if self.init_database(say):
                notes.append("created the database and the admin user")
            if port is None:
                last = self.last_port()
                port = last if last is not None and _port_free(last) else _free_port()
            url = f"http://127.0.0.1:{port}"
            say(f"starting doccano at {url}")
            self._start(backend, port, url, started + timeout)
            data = self._read_pids() or {}
            pids = {name: int(rec["pid"]) for name, rec in data.get("processes", {}).items()}
        return ServerInfo(url, self.credentials_path, pids, seconds=time.monotonic() - started,
                          log_dir=self.log_dir, notes=tuple(notes), username=self._username())

    def _start(self, backend: Path, port: int, url: str, deadline: float) -> None:
        env = self._env(backend)
        bin_dir = self.venv / "bin"
        commands = {
            "gunicorn": [str(bin_dir / "gunicorn"), "--chdir", str(backend), "--bind", f"127.0.0.1:{port}",
                         "--workers", str(self.workers), "--timeout", "300", "--graceful-timeout", "10",
                         "--log-level", "info", "--error-logfile", "-", "config.wsgi:application"],
            # solo pool: one process, so `down` has one pid to stop; gossip/mingle/heartbeat need a broadcast
            # broker and only slow the start.
            "celery": [str(bin_dir / "celery"), "--app=config", f"--workdir={backend}", "worker", "--pool=solo",
                       "--concurrency=1", "--loglevel=info", "--without-gossip", "--without-mingle",
                       "--without-heartbeat"],
        }
        procs: dict[str, subprocess.Popen[bytes]] = {}
        data: dict[str, Any] = {"url": url, "port": port, "venv": str(self.venv), "ready": False,
                                "started_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                                "processes": {}}
        try:
            for name, argv in commands.items():
                log_path = self.log_dir / f"{name}.log"
                if log_path.exists():
                    os.replace(log_path, log_path.with_suffix(".log.1"))
                with open(log_path, "wb") as log:
                    procs[name] = subprocess.Popen(
                        argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                        cwd=self.state_dir, start_new_session=True,  # survives the terminal's Ctrl-C after `up`
                        preexec_fn=_set_pdeathsig if self.die_with_parent else None)
                data["processes"][name] = _record(procs[name].pid)
                self._write_pids(data)  # recorded at once: a crash from here on leaves something `down` can stop
            self._wait_ready(url, procs, data, deadline)
            atomic_write_text(self.port_path, f"{port}\n")
        except BaseException:
            self._stop(data, timeout=10)
            self.pids_path.unlink(missing_ok=True)
            for proc in procs.values():
                with contextlib.suppress(Exception):
                    proc.wait(timeout=1)
            raise
        self._write_pids({**data, "ready": True})

    def _write_pids(self, data: dict[str, Any]) -> None:
        atomic_write_text(self.pids_path, json.dumps(data, indent=2) + "\n")

    def _wait_ready(self, url: str, procs: dict[str, Any], data: dict[str, Any], deadline: float) -> None:
        """Until GET /v1/auth/login/ answers 405 (the API is up) and celery logs "ready."; fail fast if either
        process exits."""
        api_ready = worker_ready = False
        celery_log = self.log_dir / "celery.log"
        with httpx.Client(timeout=2.0, trust_env=False) as http:
            while True:
                for name, rec in data["processes"].items():
                    proc = procs.get(name)
                    if proc is not None:
                        proc.poll()
                    if not self._is_ours(rec):
                        raise DoccanoServerError(
                            f"doccano's {name} exited while starting; last lines of {self.log_dir / name}.log:\n"
                            f"{_tail(self.log_dir / f'{name}.log')}")
                if not api_ready:
                    try:
                        api_ready = http.get(f"{url}/v1/auth/login/").status_code == 405
                    except httpx.HTTPError:
                        pass
                if not worker_ready:
                    with contextlib.suppress(OSError):
                        worker_ready = b" ready." in celery_log.read_bytes()
                if api_ready and worker_ready:
                    return
                if time.monotonic() > deadline:
                    waiting = [n for n, ok in (("the API", api_ready), ("the celery worker", worker_ready)) if not ok]
                    logs = "\n".join(f"--- {self.log_dir / n}.log:\n{_tail(self.log_dir / f'{n}.log', 15)}"
                                     for n in _PROCESSES)
                    raise DoccanoServerError(f"doccano did not become ready in time ({' and '.join(waiting)} "
                                             f"not answering at {url}); stopped it. Logs:\n{logs}")
                time.sleep(0.1)

    def _stop(self, data: dict[str, Any], *, timeout: float) -> list[int]:
        """TERM the recorded processes that are still ours (and gunicorn's workers), KILL what outlives
        `timeout`. Returns the pids that were running."""
        venv = self._recorded_venv(data)
        targets = [int(rec["pid"]) for rec in data.get("processes", {}).values()
                   if isinstance(rec, dict) and self._is_ours(rec, venv)]
        workers = [child for pid in targets for child in _children(pid)]
        for pid in targets:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        everything = targets + workers
        while time.monotonic() < deadline and any(_alive(p) for p in everything):
            time.sleep(0.05)
        for pid in everything:
            if _alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        kill_deadline = time.monotonic() + 5
        while time.monotonic() < kill_deadline and any(_alive(p) for p in everything):
            time.sleep(0.05)
        return targets

    def status(self) -> ServerStatus:
        """What runs, and whether doccano's own health checks (database, storage, celery round trip) pass."""
        state, data, alive = self._inspect()
        url = str(data["url"]) if data else None

        def result(state: str, healthy: bool, message: str, checks: dict[str, str] | None = None) -> ServerStatus:
            return ServerStatus(state, url, alive, healthy, message, checks=checks or {},
                                credentials_path=self.credentials_path, log_dir=self.log_dir)

        if state == "stopped":
            return result("stopped", False, "no local doccano running in this workspace (`newsner doccano up` "
                          "starts one)")
        if state == "stale":
            return result("stale", False, "the server recorded in pids.json is gone (crash or reboot): `newsner "
                          "doccano up` starts it again")
        if state == "degraded":
            dead = ", ".join(sorted(set(data["processes"]) - set(alive))) if data else "?"
            return result("degraded", False, f"{dead} died (see {self.log_dir}): run `newsner doccano down` then "
                          "`newsner doccano up`")
        from newsner.doccano.client import DoccanoClient
        from newsner.errors import DoccanoError

        try:
            with DoccanoClient(str(url), timeout=15, retries=0) as client:
                checks = client.health()
        except DoccanoError as exc:
            return result("running", False, f"processes run but the API does not answer: {exc}")
        failing = {k: v for k, v in checks.items() if v.strip().lower() not in ("ok", "working")}
        message = "healthy" if not failing else "failing checks: " + "; ".join(f"{k}: {v}" for k, v in
                                                                                failing.items())
        return result("running", not failing, message, checks)

    def down(self, *, timeout: float = 20) -> bool:
        """Stop exactly the recorded processes. Returns False when nothing was running (which is fine)."""
        with self._lock():
            data = self._read_pids()
            if data is None:
                return False
            stopped = self._stop(data, timeout=timeout)
            venv = self._recorded_venv(data)
            left = [name for name, rec in data["processes"].items()
                    if isinstance(rec, dict) and self._is_ours(rec, venv)]
            if left:  # never drop the record of a live server: it is the only way to stop it by PID later
                raise DoccanoServerError(f"doccano's {', '.join(sorted(left))} still run after `down`; "
                                         f"{self.pids_path} is kept so `newsner doccano down` can try again")
            self.pids_path.unlink(missing_ok=True)
            return bool(stopped)

    def connection(self) -> Connection | None:
        """The running local server's URL and admin credentials, or None when it is not running."""
        state, data, _ = self._inspect()
        if state != "running" or data is None or not self.credentials_path.exists():
            return None
        username, password = self.credentials()
        return Connection(url=str(data["url"]), username=username, password=password,
                          source=str(self.credentials_path))

