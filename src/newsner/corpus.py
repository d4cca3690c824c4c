"""The corpus store: Article records as JSONL shards under corpus/.

- Shards are `articles-00000.jsonl`, `articles-00001.jsonl`, ... of at most `shard_size` records, so an append
  rewrites at most one shard (temp file + rename) and readers stream shard by shard.
- Writers take an exclusive lock (`corpus/.lock`, fcntl) so two concurrent ingests cannot interleave or lose
  lines; the second waits, then sees the first one's articles and skips them as duplicates.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsner._io import atomic_open, dumps, read_jsonl
from newsner.errors import CorpusError, CorpusLockedError, InputError, SchemaError
from newsner.schema import Article, validate_article_dict

SHARD_PREFIX = "articles-"
DEFAULT_SHARD_SIZE = 5000


@dataclass
class ValidationProblem:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class CorpusStats:
    articles: int = 0
    shards: int = 0
    characters: int = 0
    by_source: Counter[str] = field(default_factory=Counter)
    by_language: Counter[str] = field(default_factory=Counter)
    by_month: Counter[str] = field(default_factory=Counter)
    length_buckets: Counter[str] = field(default_factory=Counter)
    near_duplicates: int = 0
    duplicate_clusters: int = 0
    min_length: int = 0
    max_length: int = 0


_LENGTH_BUCKETS = ((500, "< 500"), (2000, "500-2k"), (5000, "2k-5k"), (20000, "5k-20k"))


def _length_bucket(n: int) -> str:
    for limit, name in _LENGTH_BUCKETS:
        if n < limit:
            return name
    return ">= 20k"


class Corpus:
    """A folder of Article shards. Reading streams; writing is atomic and locked."""

    def __init__(self, root: Path, *, shard_size: int = DEFAULT_SHARD_SIZE) -> None:
        self.root = Path(root)
        self.shard_size = shard_size

    # ------------------------------------------------------------------------------------ reading
    def exists(self) -> bool:
        return self.root.is_dir()

    def require(self) -> None:
        """Raise CorpusError with the fix when the corpus folder is missing."""
        if not self.root.exists():
            raise CorpusError(f"{self.root}: no corpus here yet; run `newsner ingest PATH` first "
                              "(or pass --corpus DIR / --workspace DIR)")
        if not self.root.is_dir():
            raise CorpusError(f"{self.root}: is a file, expected the corpus folder")

    def shard_paths(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return sorted(self.root.glob(f"{SHARD_PREFIX}*.jsonl"))

    def iter_raw(self) -> Iterator[tuple[Path, int, Any]]:
        """(shard, line number, decoded JSON) for every record, streaming."""
        for path in self.shard_paths():
            try:
                for lineno, obj in read_jsonl(path):
                    yield path, lineno, obj
            except InputError as exc:
                raise CorpusError(f"{exc} — run `newsner corpus validate` for every problem") from None

    def __iter__(self) -> Iterator[Article]:
        for path, lineno, obj in self.iter_raw():
            try:
                yield Article.from_dict(obj, where=f"{path}:{lineno}")
            except SchemaError as exc:
                raise CorpusError(f"{exc} — run `newsner corpus validate` for every problem") from None

    def ids(self) -> set[str]:
        return {obj["id"] for _, _, obj in self.iter_raw() if isinstance(obj, dict) and "id" in obj}

    def get_many(self, ids: Iterable[str]) -> dict[str, Article]:
        wanted = set(ids)
        return {a.id: a for a in self if a.id in wanted}

    def __len__(self) -> int:
        return sum(1 for _ in self.iter_raw())

    # ------------------------------------------------------------------------------------ writing
    @contextlib.contextmanager
    def lock(self, *, timeout: float = 60.0) -> Iterator[None]:
        """Hold the corpus write lock; waits up to `timeout` seconds for another writer."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CorpusError(f"{self.root}: cannot create the corpus folder ({exc.strerror})") from None
        fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                    if time.monotonic() >= deadline:
                        raise CorpusLockedError(
                            f"{self.root}: another newsner process is writing this corpus "
                            f"(waited {timeout:.0f} s); try again when it has finished") from None
                    time.sleep(0.05)
            yield
        finally:
            os.close(fd)  # closing releases the flock

    def append(self, articles: Iterable[Article]) -> int:
        """Append articles; the caller holds `lock()` and has already removed duplicates.

        Fills the last shard up to `shard_size`, then starts new ones; each shard is replaced atomically.
        """
        pending = [dumps(a) for a in articles]  # orjson writes dataclasses in field order, = to_dict()
        total = len(pending)
        if not pending:
            return 0
        shards = self.shard_paths()
        index = 0
        if shards:
            last = shards[-1]
            index = int(last.stem[len(SHARD_PREFIX):])
            with open(last, "rb") as fh:
                existing = fh.read()
            count = existing.count(b"\n") + (0 if not existing or existing.endswith(b"\n") else 1)
            room = self.shard_size - count
            if room > 0:
                self._write_shard(last, existing, pending[:room])
                pending = pending[room:]
            index += 1
        while pending:
            chunk, pending = pending[: self.shard_size], pending[self.shard_size:]
            self._write_shard(self.root / f"{SHARD_PREFIX}{index:05d}.jsonl", b"", chunk)
            index += 1
        return total

    def _write_shard(self, path: Path, existing: bytes, lines: list[str]) -> None:
        with atomic_open(path, "wb") as fh:
            if existing:
                fh.write(existing if existing.endswith(b"\n") else existing + b"\n")
            fh.write(("\n".join(lines) + "\n").encode("utf-8"))

    # ------------------------------------------------------------------------------ validate/stats
    def validate(self) -> list[ValidationProblem]:
        """Every record checked against the Article contract, with file and line; duplicate ids too."""
        self.require()
        problems: list[ValidationProblem] = []
        first_seen: dict[str, tuple[Path, int]] = {}
        for path in self.shard_paths():
            try:
                for lineno, obj in read_jsonl(path):
                    for message in validate_article_dict(obj):
                        problems.append(ValidationProblem(path, lineno, message))
                    if isinstance(obj, dict) and isinstance(obj.get("id"), str):
                        if obj["id"] in first_seen:
                            p, ln = first_seen[obj["id"]]
                            problems.append(ValidationProblem(
                                path, lineno, f"duplicate id {obj['id']} (first at {p.name}:{ln})"))
                        else:
                            first_seen[obj["id"]] = (path, lineno)
            except InputError as exc:
                problems.append(ValidationProblem(path, 0, str(exc)))
        for path, lineno, obj in self.iter_raw_lenient():
            dup = obj.get("duplicate_of") if isinstance(obj, dict) else None
            if dup and dup not in first_seen:
                problems.append(ValidationProblem(path, lineno, f"duplicate_of {dup} names no article"))
        return problems

    def iter_raw_lenient(self) -> Iterator[tuple[Path, int, Any]]:
        for path in self.shard_paths():
            try:
                yield from ((path, ln, obj) for ln, obj in read_jsonl(path))
            except InputError:
                continue

    def stats(self) -> CorpusStats:
        self.require()
        st = CorpusStats(shards=len(self.shard_paths()))
        clusters: set[str] = set()
        lengths: list[int] = []
        for article in self:
            st.articles += 1
            n = len(article.text)
            lengths.append(n)
            st.characters += n
            st.by_source[article.source or "(unknown)"] += 1
            st.by_language[article.language or "(unknown)"] += 1
            st.by_month[(article.published or "")[:7] or "(undated)"] += 1
            st.length_buckets[_length_bucket(n)] += 1
            if article.duplicate_of:
                st.near_duplicates += 1
                clusters.add(article.duplicate_of)
        st.duplicate_clusters = len(clusters)
        if lengths:
            st.min_length, st.max_length = min(lengths), max(lengths)
        return st
