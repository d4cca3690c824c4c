"""LocalServer and `newsner doccano install|up|status|down`.

One test runs the real doccano end to end in a fresh workspace. The process-management paths (stale PID files,
reused PIDs, a server dying or hanging while starting, a port in use) run against a fake venv whose gunicorn and
celery are tiny Python scripts, so they are fast and deterministic.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsner.doccano.config import connect, resolve_connection
from newsner.doccano.server import LocalServer, _proc_start_time
from newsner.errors import DoccanoServerError
from newsner.workspace import Workspace
from tests.fixtures.doccano import doccano_venv

# ---------------------------------------------------------------------------- helpers


def _processes_with(marker: str) -> list[int]:
    """Live (non-zombie) processes whose command line mentions `marker` (a venv path unique to the test)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if marker in cmdline and _proc_start_time(int(entry.name)) is not None:
            found.append(int(entry.name))
    return found


def _listeners(port: int) -> list[tuple[str, str]]:
    """(table, hex local address) of every listening TCP socket on `port` (what `ss -ltn` shows)."""
    out = []
    for table in ("tcp", "tcp6"):
        try:
            rows = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            addr, hex_port = fields[1].split(":")
            if int(hex_port, 16) == port and fields[3] == "0A":  # 0A = LISTEN
                out.append((table, addr))
    return out


FAKE_GUNICORN = '''
import http.server, json, os, signal, sys, time
mode = os.environ.get("FAKE_DOCCANO_MODE", "ok")
host, port = sys.argv[sys.argv.index("--bind") + 1].rsplit(":", 1)
print("fake gunicorn starting", flush=True)
if mode == "crash":
    print("ModuleNotFoundError: boom, fake gunicorn cannot import config", flush=True)
    sys.exit(3)
if mode == "hang":
    while True:
        time.sleep(1)
worker = os.fork()
if worker == 0:  # like gunicorn: a worker the master stops on TERM
    while True:
        time.sleep(1)
def stop(*_):
    os.kill(worker, signal.SIGTERM)
    os.waitpid(worker, 0)
    os._exit(0)
signal.signal(signal.SIGTERM, stop)
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/v1/auth/login/"):
            self.send_response(405)
            self.end_headers()
            return
        body = json.dumps({"CeleryHealthCheckCelery": os.environ.get("FAKE_CELERY_HEALTH", "OK")}).encode()
        self.send_response(200 if body.endswith(b'"OK"}') else 500)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer((host, int(port)), Handler).serve_forever()
'''

FAKE_CELERY = '''
import time
print("[INFO/MainProcess] celery@fake ready.", flush=True)
while True:
    time.sleep(1)
'''


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    """A LocalServer whose venv runs fake gunicorn/celery scripts; its database and credentials pre-exist."""
    venv = tmp_path / "fake-venv"
    (venv / "lib" / "python3.11" / "site-packages" / "backend").mkdir(parents=True)
    (venv / "bin").mkdir()
    (venv / "bin" / "python").symlink_to(sys.executable)
    for name, body in (("gunicorn", FAKE_GUNICORN), ("celery", FAKE_CELERY)):
        script = venv / "bin" / name
        script.write_text(f"#!{sys.executable}\n{textwrap.dedent(body)}")
        script.chmod(0o755)
    monkeypatch.setenv("FAKE_DOCCANO_MODE", "ok")
    ws = tmp_path / "ws"
    ws.mkdir()
    server = LocalServer(Workspace.at(ws), venv=venv)
    server.use_credentials("admin", "fake-password")
    server.db_path.touch()
    yield server
    server.down(timeout=2)
    for pid in _processes_with(str(venv)):  # whatever a failing test left behind: only this test's processes
        os.kill(pid, signal.SIGKILL)


# ---------------------------------------------------------------------------- fake venv: process management


def test_up_status_down_and_up_twice(fake: LocalServer) -> None:
    info = fake.up(timeout=20)
    assert info.url.startswith("http://127.0.0.1:") and not info.already_running
    assert set(info.pids) == {"gunicorn", "celery"}
    running = _processes_with(str(fake.venv))
    assert len(running) == 3, "gunicorn master + its worker + celery"
    again = fake.up(timeout=20)
    assert again.already_running and again.url == info.url and again.pids == info.pids
    status = fake.status()
    assert status.state == "running" and status.healthy and status.checks == {"CeleryHealthCheckCelery": "OK"}
    assert fake.connection() is not None and fake.connection().url == info.url  # type: ignore[union-attr]
    assert fake.down() is True
    assert _processes_with(str(fake.venv)) == [], "down leaves no process (the gunicorn worker included)"
    assert not fake.pids_path.exists()
    assert fake.down() is False, "down with nothing running is fine"
    assert fake.status().state == "stopped" and fake.connection() is None


def test_unhealthy_worker_shows_in_status(fake: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_CELERY_HEALTH", "unavailable: TimeoutError")
    fake.up(timeout=20)
    status = fake.status()
    assert status.state == "running" and not status.healthy
    assert "CeleryHealthCheckCelery: unavailable: TimeoutError" in status.message


def test_stale_pid_file_after_a_crash_is_detected_and_replaced(fake: LocalServer) -> None:
    info = fake.up(timeout=20)
    for pid in _processes_with(str(fake.venv)):  # a crash: nobody ran `down`
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while _processes_with(str(fake.venv)) and time.monotonic() < deadline:
        time.sleep(0.05)
    status = fake.status()
    assert status.state == "stale" and "newsner doccano up" in status.message
    assert fake.connection() is None
    again = fake.up(timeout=20)
    assert not again.already_running and again.pids != info.pids
    assert any("stale PID file" in note for note in again.notes)


def test_half_dead_server_is_restarted(fake: LocalServer) -> None:
    info = fake.up(timeout=20)
    os.kill(info.pids["celery"], signal.SIGKILL)
    deadline = time.monotonic() + 5
    while _proc_start_time(info.pids["celery"]) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    status = fake.status()
    assert status.state == "degraded" and "celery died" in status.message
    again = fake.up(timeout=20)
    assert any("celery had died" in note for note in again.notes)
    assert _proc_start_time(info.pids["gunicorn"]) is None, "the old gunicorn was stopped"
    assert fake.status().state == "running"


def test_a_reused_pid_is_never_stopped(fake: LocalServer, tmp_path: Path) -> None:
    # A process that is not ours: its command line even names the venv, but it started at another time than
    # the one recorded (what a PID reused after a reboot looks like).
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", str(fake.venv / "bin")])
    try:
        start = _proc_start_time(other.pid)
        assert start is not None
        fake.pids_path.write_text(json.dumps({"url": "http://127.0.0.1:9", "port": 9, "ready": True, "processes": {
            "gunicorn": {"pid": other.pid, "start_time": start - 1},
            "celery": {"pid": os.getpid(), "start_time": _proc_start_time(os.getpid())}}}))  # not a doccano cmdline
        assert fake.status().state == "stale"
        assert fake.down() is False
        assert other.poll() is None, "a process that is not ours must survive `down`"
        assert not fake.pids_path.exists()
    finally:
        other.kill()
        other.wait()


def test_port_in_use_is_refused_before_starting_anything(fake: LocalServer) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(DoccanoServerError, match=f"port {port} on 127.0.0.1 is in use.*--port"):
            fake.up(port, timeout=20)
    assert _processes_with(str(fake.venv)) == [] and not fake.pids_path.exists()


def test_server_dying_while_starting_reports_the_log_and_leaves_nothing(fake: LocalServer,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_DOCCANO_MODE", "crash")
    with pytest.raises(DoccanoServerError) as info:
        fake.up(timeout=20)
    message = str(info.value)
    assert "gunicorn exited while starting" in message and "boom, fake gunicorn cannot import config" in message
    assert _processes_with(str(fake.venv)) == [], "celery, started alongside, must be stopped too"
    assert not fake.pids_path.exists()


def test_server_hanging_while_starting_times_out_cleanly(fake: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_DOCCANO_MODE", "hang")
    started = time.monotonic()
    with pytest.raises(DoccanoServerError, match="did not become ready in time \\(the API not answering") as info:
        fake.up(timeout=1.5)
    assert time.monotonic() - started < 15
    assert "fake gunicorn starting" in str(info.value)
    assert _processes_with(str(fake.venv)) == [] and not fake.pids_path.exists()


def test_missing_venv_says_to_install(tmp_path: Path, cli, workspace: Path,  # type: ignore[no-untyped-def]
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSNER_DOCCANO_VENV", str(tmp_path / "nowhere"))
    with pytest.raises(DoccanoServerError, match="not installed at .*nowhere — run `newsner doccano install`"):
        LocalServer(Workspace.at(workspace)).up()
    result = cli("doccano", "up")
    assert result.exit_code == 1 and "newsner doccano install" in result.stderr and "Traceback" not in result.output
    assert not (workspace / ".newsner" / "doccano" / "pids.json").exists()


def test_install_refuses_a_folder_that_is_not_a_venv_and_reports_failures(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "precious"
    target.mkdir()
    (target / "thesis.txt").write_text("do not delete")
    with pytest.raises(DoccanoServerError, match="is not a virtual environment"):
        LocalServer(Workspace.at(tmp_path), venv=target).install()
    assert (target / "thesis.txt").exists()
    monkeypatch.setenv("NEWSNER_DOCCANO_PYTHON", "/bin/false")
    with pytest.raises(DoccanoServerError, match="creating the venv failed \\(exit 1\\)"):
        LocalServer(Workspace.at(tmp_path), venv=tmp_path / "new-venv").install()


def test_install_reuses_a_complete_venv() -> None:
    venv = doccano_venv()
    if not LocalServer(Workspace.at(venv.parent), venv=venv).installed():
        pytest.fail(f"no doccano venv at {venv}: run `newsner doccano install` (scripts/test.sh does)")
    started = time.monotonic()
    info = LocalServer(Workspace.at(venv.parent), venv=venv).install()
    assert info.reused and time.monotonic() - started < 5


# ---------------------------------------------------------------------------- the real doccano, end to end


@pytest.mark.doccano
def test_real_server_up_status_down_end_to_end(cli, workspace: Path,  # type: ignore[no-untyped-def]
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    venv = doccano_venv()
    if not LocalServer(Workspace.at(workspace), venv=venv).installed():
        pytest.fail(f"no doccano venv at {venv}: run `newsner doccano install` (scripts/test.sh does)")
    monkeypatch.setenv("NEWSNER_DOCCANO_VENV", str(venv))
    monkeypatch.delenv("NEWSNER_DOCCANO_URL", raising=False)
    server = LocalServer(Workspace.at(workspace))
    try:
        up = cli("doccano", "up")
        assert up.exit_code == 0, up.output
        state = json.loads(server.pids_path.read_text())
        url, port = state["url"], state["port"]
        assert f"doccano is running at {url}" in up.stdout and str(server.credentials_path) in up.stdout

        # loopback only: one listening socket, on 127.0.0.1 (0100007F in /proc/net/tcp), none on IPv6
        assert _listeners(port) == [("tcp", "0100007F")]
        # credentials private, the password printed nowhere
        assert stat.S_IMODE(server.credentials_path.stat().st_mode) == 0o600
        assert stat.S_IMODE(server.state_dir.stat().st_mode) == 0o700
        password = json.loads(server.credentials_path.read_text())["password"]
        logs = "".join(p.read_text(errors="replace") for p in server.log_dir.glob("*.log*"))
        assert password not in up.output and password not in logs
        for pid in state["processes"].values():
            assert password not in Path(f"/proc/{pid['pid']}/cmdline").read_text(errors="replace")

        status = cli("doccano", "status")
        assert status.exit_code == 0 and "healthy" in status.stdout and url in status.stdout
        twice = cli("doccano", "up")
        assert twice.exit_code == 0 and f"already running at {url}" in twice.stdout

        conn = resolve_connection(Workspace.at(workspace))
        assert conn.url == url and conn.source == str(server.credentials_path)
        with connect(Workspace.at(workspace)) as client:
            project = client.create_project("kept across restarts", description="e2e")

        pids = [p["pid"] for p in state["processes"].values()]
        workers = [int(e.name) for e in Path("/proc").iterdir() if e.name.isdigit()
                   and (e / "stat").exists() and _parent(int(e.name)) == state["processes"]["gunicorn"]["pid"]]
        assert len(workers) == 2
        down = cli("doccano", "down")
        assert down.exit_code == 0 and "stopped doccano" in down.stdout
        assert all(_proc_start_time(pid) is None for pid in pids + workers), "no process left after down"
        assert _listeners(port) == []

        stopped = cli("doccano", "status")
        assert stopped.exit_code == 1 and "not running" in stopped.stdout
        again = cli("doccano", "down")
        assert again.exit_code == 0 and "no doccano was running" in again.stdout

        warm = cli("doccano", "up")  # the database is kept: same admin, same projects
        assert warm.exit_code == 0, warm.output
        assert "created the database" not in warm.stderr
        with connect(Workspace.at(workspace)) as client:
            assert client.find_project("kept across restarts")["id"] == project["id"]
    finally:
        server.down()


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


# ---------------------------------------------------------------------------- issue 8: down/status/port


def test_down_and_status_use_the_venv_recorded_by_up_not_the_current_one(fake: LocalServer, tmp_path: Path) -> None:
    info = fake.up(timeout=20)
    # Another shell with another NEWSNER_DOCCANO_VENV: the same workspace, a different venv.
    other = LocalServer(fake.workspace, venv=tmp_path / "another-venv")
    assert other.status().state == "running"
    assert other.down() is True
    assert _processes_with(str(fake.venv)) == [], "gunicorn, its worker and celery are stopped"
    assert _proc_start_time(info.pids["celery"]) is None
    assert not fake.pids_path.exists()


def test_down_keeps_the_record_of_a_server_it_could_not_stop(fake: LocalServer,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    fake.up(timeout=20)
    monkeypatch.setattr(LocalServer, "_stop", lambda self, data, timeout: [])  # e.g. EPERM: nothing stopped
    with pytest.raises(DoccanoServerError, match="still run after `down`"):
        fake.down(timeout=1)
    assert fake.pids_path.exists(), "the only record of a live server is never dropped"
    monkeypatch.undo()
    assert fake.down() is True and not fake.pids_path.exists()


def test_a_restart_reuses_the_last_port_when_it_is_free(fake: LocalServer) -> None:
    first = fake.up(timeout=20)
    fake.down()
    second = fake.up(timeout=20)
    assert second.url == first.url, "same workspace, same URL across restarts"
    fake.down()
    port = int(first.url.rsplit(":", 1)[1])
    with socket.socket() as busy:  # someone else took it meanwhile: a free one instead, no error
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", port))
        busy.listen()
        third = fake.up(timeout=20)
    assert third.url != first.url
