"""Atomic file writes and streaming JSONL: the only way newsner writes a file.

Every write goes to a temp file in the target folder, is fsynced, then renamed over the target, so a reader
(or a crash) never sees a half-written file.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import jsonlines
import orjson

from newsner.errors import InputError


def dumps(obj: Any) -> str:
    """One JSON line: compact, UTF-8 (not \\u-escaped), keys in the order given."""
    return orjson.dumps(obj).decode("utf-8")


def loads(line: str | bytes) -> Any:
    return orjson.loads(line)


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Read once at import: os.umask can only be read by setting it, which would race with other threads.
_UMASK = _read_umask()


def normal_mode(*, directory: bool = False) -> int:
    """The mode a new file (0666) or folder (0777) gets under the process umask."""
    return (0o777 if directory else 0o666) & ~_UMASK


@contextlib.contextmanager
def atomic_open(path: Path, mode: str = "w", *, encoding: str | None = "utf-8",
                perm: int | None = None) -> Iterator[IO[Any]]:
    """Open a temp file beside `path`; on success fsync and rename it over `path`; on error remove it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp creates 0600; a normal file keeps the usual 0666 & ~umask unless a mode is asked for.
        os.fchmod(fd, perm if perm is not None else normal_mode())
        with open(fd, mode, encoding=None if "b" in mode else encoding,
                  newline=None if "b" in mode else "\n") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str, *, perm: int | None = None) -> None:
    with atomic_open(path, "w", perm=perm) as fh:
        fh.write(text)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    with atomic_open(path, "wb") as fh:
        fh.write(data)


def write_jsonl(path: Path, records: Iterable[Any]) -> int:
    """Write `records` (dicts) as JSON lines atomically; returns the number written."""
    n = 0
    with atomic_open(path, "w") as fh:
        writer = jsonlines.Writer(fh, dumps=dumps, flush=False)
        for record in records:
            writer.write(record)
            n += 1
    return n


def read_jsonl(path: Path) -> Iterator[tuple[int, Any]]:
    """Stream (line number, object) from a JSONL file; a bad line raises InputError naming file:line.

    Blank lines are skipped. A byte-order mark on the first line is tolerated.
    """
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    with fh:
        for lineno, raw in enumerate(fh, start=1):
            if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if not raw.strip():
                continue
            try:
                yield lineno, orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                hint = " (the line is truncated?)" if not raw.endswith(b"\n") else ""
                raise InputError(f"{path}:{lineno}: invalid JSON{hint}: {exc}") from None


def flock_wait(fd: int, timeout: float, busy: Callable[[], Exception], *, poll: float = 0.05) -> None:
    """Take an exclusive flock on `fd`, polling while another process holds it; after `timeout` seconds raise
    `busy()` (a NewsnerError naming what is locked). Polling (not a blocking flock) keeps Ctrl-C working and the
    wait bounded. Closing `fd` releases the lock."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            if time.monotonic() >= deadline:
                raise busy() from None
            time.sleep(poll)


def utc_now() -> str:
    """Now, in UTC, as the ISO timestamp every record carries (seconds, "Z")."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
