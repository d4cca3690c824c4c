"""Putting a finished export in place, and recovering what a crash during that left behind.

An export is built in ``.<name>.tmp-<pid>`` beside ``out`` and swapped in with two renames: ``out`` →
``.<name>.old-<pid>``, then the temp folder → ``out``. A kill between the two leaves no ``out`` at all, only the
old copy and a complete new one. `recover` (run by every export before it starts, and by `newsner report`)
puts the newest complete copy back in place and removes leftovers of processes that are gone. A folder is
complete when it has ``export.json``: the card writes that file last (`newsner.export.card.write_summary`).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from newsner.errors import ExportError
from newsner.export.options import MARKER

_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?P<kind>tmp|old)-(?P<pid>\d+)$")


def check_out(out: Path) -> None:
    """`out` must be missing, empty, or an earlier export (never overwrite someone's folder)."""
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out}: is a file; --out must be a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise ExportError(f"{out}: exists and is not a newsner export (no {MARKER}); choose another --out or "
                          "empty it")


def replace_dir(tmp: Path, out: Path) -> None:
    """Swap the finished export into place; the previous export is removed only after the swap."""
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        os.replace(out, old)
    try:
        os.replace(tmp, out)
    except BaseException:
        # Interrupted or failed between the renames: put the previous export back rather than leave none.
        if old.exists() and not out.exists():
            os.replace(old, out)
        raise
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # our own leftovers come from an earlier run that had our pid; nothing of ours is running
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def leftovers(out: Path) -> list[tuple[Path, str, int]]:
    """(folder, "tmp" or "old", pid) for every leftover of `out`'s swaps."""
    if not out.parent.is_dir():
        return []
    found = []
    for path in out.parent.iterdir():
        m = _LEFTOVER.match(path.name)
        if m and m["name"] == out.name and path.is_dir():
            found.append((path, m["kind"], int(m["pid"])))
    return sorted(found)


def recover(out: Path) -> list[str]:
    """Finish or undo a swap a crash interrupted, and remove leftovers of dead processes.

    Returns one plain sentence per action taken (nothing when there was nothing to do). Leftovers of a
    process that is still running (an export in progress) are left alone.
    """
    actions: list[str] = []
    dead = [(p, kind, pid) for p, kind, pid in leftovers(out) if not _alive(pid)]
    if not out.exists():
        # The newest complete copy wins: a complete temp folder is the export that was being swapped in.
        complete = [(kind == "tmp", p.stat().st_mtime, p) for p, kind, _ in dead if (p / MARKER).is_file()]
        if complete:
            _, _, best = max(complete)
            os.replace(best, out)
            actions.append(f"{out}: restored from {best.name}, left by an export that was interrupted while "
                           "swapping folders")
    for path, _, _ in dead:
        if path.exists():
            shutil.rmtree(path, ignore_errors=True)
            actions.append(f"{path}: removed (left by an interrupted export)")
    return actions
