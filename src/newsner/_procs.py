"""The Linux /proc and socket helpers the local servers use: a process is identified by its pid *and* kernel
start time (so a pid reused after a crash or reboot is never taken for ours), ports are checked on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
from pathlib import Path


def _proc_start_time(pid: int) -> int | None:
    """The kernel start time of a live process (None if gone or a zombie): with the pid it names the process
    uniquely, so a pid reused after a crash or a reboot is never mistaken for ours."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] in ("Z", "X"):
        _reap(pid)
        return None
    return int(fields[19])


def _proc_cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(entry.name))
    return out


def _reap(pid: int) -> None:
    """Collect the exit status if the process is our own child (the test process starts servers itself)."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _alive(pid: int) -> bool:
    return _proc_start_time(pid) is not None


def _record(pid: int) -> dict[str, int]:
    return {"pid": pid, "start_time": _proc_start_time(pid) or 0}


def _set_pdeathsig() -> None:  # pragma: no cover - runs in the child between fork and exec
    import ctypes

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # Same option gunicorn uses, so a port in TIME_WAIT counts as free, a listening one does not.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(path: Path, lines: int = 25) -> str:
    try:
        data = path.read_bytes()[-20000:]
    except OSError:
        return f"(no log at {path})"
    text = data.decode("utf-8", "replace").splitlines()[-lines:]
    return "\n".join(text) if text else f"({path} is empty)"

