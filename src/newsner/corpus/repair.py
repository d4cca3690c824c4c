"""Opening the corpus index: verified against the shards, and repaired, rebuilt or replaced when it does not match.

The index is never the store of record. Whatever is wrong with it ends with every article of the shards readable
and ONE note (logger "newsner.corpus", printed by the CLI as a `note:` line) saying what was done:

- damaged (garbage in its pages, not a database) or unreadable for this user: replaced by a new one built from
  the shards; where the corpus folder cannot be written, the new one lives in a cache folder
  (`$XDG_CACHE_HOME/newsner/index/`, else `~/.cache/...`, else the temp folder);
- a read-only corpus folder (a mounted archive, a colleague's copy): its own index is read without writing when it
  matches the shards, else one in the cache folder is used (built there once);
- a writer killed inside a chunk (`pending` rows): the bytes that chunk appended are cut out of its shards when
  their hash matches; lines appended after them (by hand) are kept and indexed; a shard whose bytes do not match
  is kept whole (nothing is cut that the chunk did not write);
- shards edited, renamed, added or removed by hand: rebuilt from the shards;
- another process writing (it holds the corpus lock for its whole run): a reader does not wait for it, it reads
  the last committed state of the index (shards only grow at the end, so every recorded offset stays valid).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

from newsner._io import atomic_write_bytes, flock_wait
from newsner.corpus.index import (
    EMPTY,
    INDEX_NAME,
    INTERRUPTED,
    STALE_PARAMS,
    CorpusIndex,
    remove_index_files,
    shard_stat,
)
from newsner.corpus.linking import plan_rows
from newsner.errors import CorpusError, CorpusLockedError


class Corpus(Protocol):
    """What this module needs of newsner.corpus.store.Corpus (which imports this module, not the reverse)."""

    root: Path
    said: set[str]  # the notes already given for this corpus (a command that opens the index twice says it once)

    def require(self) -> None: ...
    def shard_paths(self) -> list[Path]: ...
    def stray_paths(self) -> list[Path]: ...
    def lock(self, *, timeout: float = 60.0) -> AbstractContextManager[None]: ...

log = logging.getLogger("newsner.corpus")

#: Problems a running writer causes (a chunk in flight): readers use the last committed state meanwhile.
_IN_FLIGHT = (INTERRUPTED, " changed", " is not indexed")


def cache_index_path(root: Path) -> Path:
    """Where the index of a corpus folder that cannot be written is kept (one per corpus folder)."""
    key = hashlib.sha256(str(Path(root).resolve()).encode("utf-8")).hexdigest()[:16]
    bases = [os.environ.get("XDG_CACHE_HOME") or "", str(Path.home() / ".cache"),
             os.path.join(tempfile.gettempdir(), f"newsner-cache-{os.getuid()}")]
    for base in filter(None, bases):
        folder = Path(base) / "newsner" / "index" / key
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK | os.X_OK):
            return folder / INDEX_NAME
    raise CorpusError(f"{root}: the corpus folder cannot be written and no cache folder can either (tried "
                      f"{', '.join(filter(None, bases))}); set XDG_CACHE_HOME to a writable folder")


def _writable(folder: Path) -> bool:
    return os.access(folder, os.W_OK | os.X_OK)


def _fresh(root: Path, path: Path, why: str, notes: list[str]) -> CorpusIndex:
    """A new, empty index at `path` in place of one that could not be used (the reason goes into `notes`)."""
    remove_index_files(path)
    notes.append(f"the corpus index {why}: replaced it")
    return CorpusIndex(root, path)


def open_writable(root: Path, path: Path, notes: list[str]) -> CorpusIndex:
    """The index at `path` (a folder this user can write), replaced when it is damaged or unreadable."""
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        return _fresh(root, path, "could not be read or written by this user", notes)
    try:
        return CorpusIndex(root, path)
    except sqlite3.DatabaseError as exc:  # not a database, a damaged header, a journal of another file ...
        return _fresh(root, path, f"was damaged ({exc})", notes)


def open_index(corpus: Corpus) -> CorpusIndex:
    """The corpus index, verified against the shards (see the module docstring). The caller closes it."""
    corpus.require()
    notes: list[str] = []
    strays = corpus.stray_paths()
    if strays:
        names = ", ".join(p.name for p in strays[:3]) + (f" and {len(strays) - 3} more" if len(strays) > 3 else "")
        notes.append(f"ignored {names}: not a shard name (articles-NUMBER.jsonl); rename it to one to include "
                     "its articles, or move it out of the corpus folder")
    try:
        if _writable(corpus.root):
            idx = _open_local(corpus, notes)
        else:
            idx = _open_elsewhere(corpus, notes)
    finally:
        said = "; ".join(notes)
        if said and said not in corpus.said:
            corpus.said.add(said)
            log.warning("%s: %s", corpus.root, said)
    return idx


def _open_local(corpus: Corpus, notes: list[str]) -> CorpusIndex:
    root = corpus.root
    path = root / INDEX_NAME
    try:
        idx = open_writable(root, path, notes)
    except sqlite3.Error as exc:  # still unusable (its journal files belong to someone else ...): use the cache
        notes.append(f"the corpus index could not be opened ({exc})")
        return _open_cached(corpus, notes)
    try:
        problems = _checked(idx, corpus, notes)
        if not problems:
            return idx
        with contextlib.ExitStack() as held:
            try:
                held.enter_context(corpus.lock(timeout=0))
            except CorpusLockedError:
                if all(any(mark in p for mark in _IN_FLIGHT) for p in problems):
                    # a writer is mid-chunk: what it has committed is consistent, read that (no wait)
                    return idx
                held.enter_context(corpus.lock())  # nothing usable yet: wait for the writer, as before
            problems = _checked(idx, corpus, notes)
            if INTERRUPTED in problems:
                notes.extend(recover(idx))
                problems = idx.problems(corpus.shard_paths())
            if problems:
                _rebuild(idx, corpus, problems, notes)
        return idx
    except BaseException:
        idx.close()
        raise


def _checked(idx: CorpusIndex, corpus: Corpus, notes: list[str]) -> list[str]:
    """idx.problems(); a damaged index (sqlite3.DatabaseError while reading it) is emptied, to be rebuilt."""
    try:
        return idx.problems(corpus.shard_paths())
    except sqlite3.DatabaseError as exc:
        idx.close()
        fresh = _fresh(corpus.root, idx.path, f"was damaged ({exc})", notes)
        idx.conn = fresh.conn
        return [EMPTY]


def _rebuild(idx: CorpusIndex, corpus: Corpus, problems: list[str], notes: list[str]) -> None:
    shards = corpus.shard_paths()
    n = idx.rebuild(shards, plan_rows)
    if not shards and not notes:
        return  # a new corpus: nothing to say
    if problems[0] == EMPTY:
        reason = "" if any("replaced" in x for x in notes) else "the corpus index was missing; "
    else:
        more = f" and {len(problems) - 1} more" if len(problems) > 1 else ""
        what = "written by another newsner version" if problems[0] == STALE_PARAMS else problems[0]
        reason = f"the corpus index is out of date ({what}{more}); "
    notes.append(f"{reason}rebuilt it from {len(shards)} shard(s), {n} article(s)")


def _open_elsewhere(corpus: Corpus, notes: list[str]) -> CorpusIndex:
    """A corpus folder this user cannot write: its own index read as is when it matches, else a cached one."""
    own = corpus.root / INDEX_NAME
    problems = [f"{INDEX_NAME} is missing"]
    if own.is_file() and os.access(own, os.R_OK):
        try:
            idx = CorpusIndex(corpus.root, own, read_only=True)
        except sqlite3.Error as exc:
            problems = [f"{INDEX_NAME} cannot be read: {exc}"]
        else:
            try:
                problems = idx.problems(corpus.shard_paths())
                if not problems:
                    notes.append("the corpus folder is read-only: read through its index, nothing written")
                    return idx
            except sqlite3.Error as exc:
                problems = [f"{INDEX_NAME} is damaged: {exc}"]
            idx.close()
    elif own.exists():
        problems = [f"{INDEX_NAME} cannot be read by this user"]
    more = f" and {len(problems) - 1} more" if len(problems) > 1 else ""
    notes.append(f"the corpus folder cannot be written and its index does not fit ({problems[0]}{more})")
    return _open_cached(corpus, notes)


@contextlib.contextmanager
def _cache_lock(path: Path) -> Iterator[None]:
    fd = os.open(path.parent / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        flock_wait(fd, 600, lambda: CorpusLockedError(f"{path.parent}: another newsner process is building this "
                                                      "index; try again when it has finished"))
        yield
    finally:
        os.close(fd)


def _open_cached(corpus: Corpus, notes: list[str]) -> CorpusIndex:
    path = cache_index_path(corpus.root)
    with _cache_lock(path):
        try:
            idx = open_writable(corpus.root, path, [])
        except sqlite3.Error as exc:
            raise CorpusError(f"{path}: cannot create the corpus index ({exc})") from None
        try:
            problems = _checked(idx, corpus, [])
            if problems:
                # an interrupted chunk cannot be cut out of shards this user cannot write: they are read as they are
                shards = corpus.shard_paths()
                n = idx.rebuild(shards, plan_rows)
                notes.append(f"built an index of {n} article(s) from {len(shards)} shard(s) in {path.parent} "
                             "(the shards were not changed)")
            else:
                notes.append(f"using the index built earlier in {path.parent} (the shards were not changed)")
        except BaseException:
            idx.close()
            raise
    return idx


def recover(idx: CorpusIndex) -> list[str]:
    """Cut a killed chunk out of its shards (the caller holds the corpus lock); returns what was done.

    For each shard in `pending`: when the bytes between its recorded sizes before and after the chunk hash to the
    recorded sha256, exactly those bytes are removed and anything after them (lines appended by hand after the
    crash) is kept; when they do not, nothing is cut. The index is left to be rebuilt when a shard kept more
    than it had before the chunk (problems() then reports it changed)."""
    notes: list[str] = []
    pending = list(idx.conn.execute("SELECT name, size, after, sha FROM pending"))
    cut = kept = 0
    untouched: list[str] = []
    for name, before, after, sha in pending:
        path = idx.root / name
        if not path.exists():
            continue  # a new shard the chunk never wrote (or one removed by hand: the rebuild says so)
        data = path.read_bytes()
        if len(data) == before:
            continue  # not replaced yet when the writer died
        if len(data) < after or hashlib.sha256(data[before:after]).hexdigest() != sha:
            untouched.append(name)
            continue
        cut += data[before:after].count(b"\n")
        rest = data[after:]
        kept += len(rest.splitlines())
        if before == 0 and not rest.strip():
            path.unlink()
        else:
            atomic_write_bytes(path, data[:before] + rest)
    with idx.conn:
        for name, before, _after, _sha in pending:
            path = idx.root / name
            if path.exists() and path.stat().st_size == before:
                st = shard_stat(path)
                idx.conn.execute("UPDATE shards SET size=?, mtime_ns=?, inode=? WHERE name=?",
                                 (st.size, st.mtime_ns, st.inode, name))
        idx.conn.execute("DELETE FROM pending")
    if cut:
        notes.append(f"removed the {cut} article(s) of an interrupted write (rerun that ingest or import to add "
                     "them again)")
    if kept:
        notes.append(f"kept {kept} line(s) added after the interrupted write")
    if untouched:
        notes.append(f"{', '.join(untouched)} changed after an interrupted write: kept every line of it")
    return notes
