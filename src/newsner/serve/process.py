"""Start, check and stop the model server of a workspace by PID (state under WORKSPACE/.newsner/serve/).

    pids.json   pid + kernel start time of the server (a reused pid is never mistaken for ours), url, what it serves
    port        the last port, reused on the next start when free (doccano's auto-labeling config keeps the URL)
    serve.log   the server's output
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from newsner._io import atomic_write_text
from newsner._procs import _free_port, _port_free, _proc_cmdline, _proc_start_time, _set_pdeathsig, _tail
from newsner.errors import ServeError
from newsner.workspace import Workspace

MODULE = "newsner.serve.run"


@dataclass(frozen=True)
class ServeInfo:
    url: str
    pid: int
    name: str
    already_running: bool = False
    seconds: float = 0.0


@dataclass(frozen=True)
class ServeStatus:
    state: str  # stopped | stale | running
    url: str | None
    pid: int | None
    healthy: bool
    message: str
    name: str | None = None


class ModelServer:
    """The model server of one workspace.

    Args:
        die_with_parent: the kernel stops the server when the starting process dies (tests); the CLI leaves it.
    """

    def __init__(self, workspace: Workspace, *, die_with_parent: bool = False) -> None:
        self.workspace = workspace
        self.state_dir = workspace.state_dir / "serve"
        self.pids_path = self.state_dir / "pids.json"
        self.port_path = self.state_dir / "port"
        self.log_path = self.state_dir / "serve.log"
        self.die_with_parent = die_with_parent

    # ------------------------------------------------------------------ records
    def _read(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.pids_path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            raise ServeError(f"{self.pids_path} is unreadable: check that no `newsner serve` of this workspace "
                             "still runs, then delete the file") from None
        if not isinstance(data, dict) or "pid" not in data:
            raise ServeError(f"{self.pids_path} is not a newsner PID file: delete it")
        return data

    @staticmethod
    def _is_ours(data: dict[str, Any]) -> bool:
        try:
            pid, start = int(data["pid"]), int(data["start_time"])
        except (KeyError, TypeError, ValueError):
            return False
        return _proc_start_time(pid) == start and MODULE in _proc_cmdline(pid)

    def _last_port(self) -> int | None:
        try:
            port = int(self.port_path.read_text().strip())
        except (OSError, ValueError):
            return None
        return port if 1 <= port <= 65535 else None

    def url(self) -> str | None:
        """The URL of the running server, or None."""
        data = self._read()
        return str(data["url"]) if data is not None and self._is_ours(data) else None

    # ------------------------------------------------------------------ up
    def up(self, *, model_dir: Path | None = None, patterns: Path | None = None, port: int | None = None,
           base: str | None = None,
           budget: float = 10.0, timeout: float = 120.0) -> ServeInfo:
        """Start the server on 127.0.0.1 and wait until it answers /health. A running one is returned as is."""
        from newsner.serve.app import check_budget

        check_budget(budget)  # before anything starts: a budget of 0 would answer every request empty
        started = time.monotonic()
        data = self._read()
        if data is not None and self._is_ours(data):
            return ServeInfo(str(data["url"]), int(data["pid"]), str(data.get("name", "")), already_running=True)
        self.pids_path.unlink(missing_ok=True)
        if port is not None:
            if not 1 <= port <= 65535:
                raise ServeError(f"--port must be between 1 and 65535 (got {port})")
            if not _port_free(port):
                raise ServeError(f"port {port} on 127.0.0.1 is in use by another program: choose another with "
                                 "--port, or leave --port out")
        else:
            last = self._last_port()
            port = last if last is not None and _port_free(last) else _free_port()
        for path, what in ((model_dir, "--model"), (patterns, "--patterns")):
            if path is not None and not Path(path).exists():
                raise ServeError(f"{what} {path}: no such file or folder")
        argv = [sys.executable, "-m", MODULE, "--workspace", str(self.workspace.root), "--port", str(port),
                "--budget", str(budget)]
        if model_dir is not None:
            argv += ["--model", str(Path(model_dir).resolve())]
        if patterns is not None:
            argv += ["--patterns", str(Path(patterns).resolve())]
        if base is not None:  # an installed pipeline's name as it is; a folder resolved like the model
            argv += ["--base", str(Path(base).resolve()) if Path(base).exists() else base]
        self.state_dir.mkdir(parents=True, exist_ok=True)
        url = f"http://127.0.0.1:{port}"
        with open(self.log_path, "wb") as log:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    cwd=self.workspace.root, start_new_session=True, env=os.environ.copy(),
                                    preexec_fn=_set_pdeathsig if self.die_with_parent else None)
        record = {"pid": proc.pid, "start_time": _proc_start_time(proc.pid) or 0, "url": url, "port": port,
                  "model": str(model_dir) if model_dir else None, "patterns": str(patterns) if patterns else None,
                  "base": base,
                  "started_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
        atomic_write_text(self.pids_path, json.dumps(record, indent=2) + "\n")  # at once: `down` can stop it
        try:
            name = self._wait_ready(proc, url, started + timeout)
        except BaseException:
            self._stop(record, timeout=5)
            self.pids_path.unlink(missing_ok=True)
            with contextlib.suppress(Exception):
                proc.wait(timeout=1)
            raise
        atomic_write_text(self.pids_path, json.dumps({**record, "name": name}, indent=2) + "\n")
        atomic_write_text(self.port_path, f"{port}\n")
        return ServeInfo(url, proc.pid, name, seconds=time.monotonic() - started)

    def _wait_ready(self, proc: subprocess.Popen[bytes], url: str, deadline: float) -> str:
        with httpx.Client(timeout=2.0, trust_env=False) as http:
            while True:
                if proc.poll() is not None:
                    raise ServeError(f"the model server exited while starting; last lines of {self.log_path}:\n"
                                     f"{_tail(self.log_path)}")
                with contextlib.suppress(httpx.HTTPError, ValueError):
                    answer = http.get(f"{url}/health")
                    if answer.status_code == 200:
                        return str(answer.json().get("name", ""))
                if time.monotonic() > deadline:
                    raise ServeError(f"the model server did not answer at {url} in time; stopped it. Last lines "
                                     f"of {self.log_path}:\n{_tail(self.log_path)}")
                time.sleep(0.1)

    # ------------------------------------------------------------------ status / down
    def status(self, *, timeout: float = 5.0) -> ServeStatus:
        """What runs and whether it answers a suggestion (a real POST /suggest, not only /health)."""
        data = self._read()
        if data is None:
            return ServeStatus("stopped", None, None, False, "no model server running in this workspace "
                               "(`newsner serve up` starts one)")
        url, pid = str(data.get("url")), int(data["pid"])
        if not self._is_ours(data):
            return ServeStatus("stale", url, None, False, "the model server recorded in pids.json is gone: "
                               "`newsner serve up` starts it again")
        ok, message = check_endpoint(url, timeout=timeout)
        return ServeStatus("running", url, pid, ok, message, name=data.get("name"))

    def _stop(self, data: dict[str, Any], *, timeout: float) -> bool:
        if not self._is_ours(data):
            return False
        pid = int(data["pid"])
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _proc_start_time(pid) is not None:
            time.sleep(0.05)
        if _proc_start_time(pid) is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            kill_deadline = time.monotonic() + 5
            while time.monotonic() < kill_deadline and _proc_start_time(pid) is not None:
                time.sleep(0.05)
        return True

    def down(self, *, timeout: float = 10.0) -> bool:
        """Stop exactly the recorded process. False when nothing was running."""
        data = self._read()
        if data is None:
            return False
        stopped = self._stop(data, timeout=timeout)
        if self._is_ours(data):  # never drop the record of a live server
            raise ServeError(f"the model server (pid {data['pid']}) still runs; {self.pids_path} is kept so "
                             "`newsner serve down` can try again")
        self.pids_path.unlink(missing_ok=True)
        return stopped


def check_endpoint(url: str, *, timeout: float = 5.0) -> tuple[bool, str]:
    """(answers, one plain line): a real suggestion for a short text, as doccano will ask for it."""
    try:
        with httpx.Client(timeout=timeout, trust_env=False) as http:
            answer = http.post(f"{url.rstrip('/')}/suggest", json={"text": "newsner check"})
        if answer.status_code != 200:
            return False, f"{url} answered HTTP {answer.status_code} to a suggestion request"
        body = answer.json()
        if not isinstance(body, dict) or not isinstance(body.get("labels"), list):
            return False, f"{url} does not answer like `newsner serve` (no labels list)"
        if body.get("timed_out"):  # an empty answer after the budget is not a working server
            return False, (f"{url} answered a one-line suggestion request empty after its budget: the suggestion "
                           f"worker is busy or stuck{_worker_note(url, timeout)}; `newsner serve down` then "
                           "`newsner serve up` restarts it")
        return True, f"answering at {url} ({body.get('name', '?')})"
    except httpx.TimeoutException:
        return False, (f"{url} did not answer a suggestion request within {timeout:g} s"
                       f"{_worker_note(url, timeout)}")
    except (httpx.HTTPError, ValueError) as exc:
        return False, f"nothing answers at {url} ({type(exc).__name__}): `newsner serve up` starts the model server"


def _worker_note(url: str, timeout: float) -> str:
    """What /health says of the worker, as " (on one piece for N s, M request(s) waiting)", or ""."""
    with contextlib.suppress(httpx.HTTPError, ValueError, TypeError, KeyError, AttributeError):
        with httpx.Client(timeout=timeout, trust_env=False) as http:
            body = http.get(f"{url.rstrip('/')}/health").json()
        return f" (on one piece for {float(body['busy_seconds']):.0f} s, {int(body['waiting'])} request(s) waiting)"
    return ""
