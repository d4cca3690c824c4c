"""The corpus store: Article records as JSONL shards under corpus/.

- Shards are `articles-00000.jsonl`, `articles-00001.jsonl`, ... of at most `shard_size` records, so an append
  rewrites at most one shard (temp file + rename) and readers stream shard by shard. They are ordered by their
  number (articles-100000 after articles-99999); other `articles-*.jsonl` files are not shards (ignored, with a note).
- Writers take an exclusive lock (`corpus/.lock`, fcntl) so two concurrent ingests cannot interleave or lose
  lines; the second waits, then sees the first one's articles and skips them as duplicates. The lock is
  re-entrant within one process (flock would otherwise deadlock a process against itself).
- `corpus/.index.sqlite3` (newsner.corpus.index) answers id / offset / cluster / near-duplicate-candidate questions
  without a pass over the shards; `index()` verifies it against the shards first and repairs or rebuilds it
  (newsner.corpus.repair: a damaged, unreadable or out-of-date index, a read-only folder, a running writer).
- `append` commits one chunk at a time, shards and index together (the protocol is in newsner.corpus.index).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from newsner._io import atomic_open, dumps, flock_wait, read_jsonl
from newsner.corpus.index import (
    INDEX_NAME,
    CorpusIndex,
    Row,
    list_shards,
    remove_index_files,
    shard_name,
    shard_number,
    shard_stat,
)
from newsner.corpus.linking import Chunk, plan_rows
from newsner.corpus.repair import open_index, open_writable
from newsner.corpus.signatures import Signature
from newsner.errors import CorpusError, CorpusLockedError, InputError, SchemaError
from newsner.schema import Article, validate_article_dict

SHARD_PREFIX = "articles-"
DEFAULT_SHARD_SIZE = 5000
ORPHAN_GLOB = f".{SHARD_PREFIX}*.tmp"  # temp shards of a writer killed before its rename

# corpus folder -> how many times this process holds its lock (flock is per open file, not per process)
_HELD: dict[str, int] = {}


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


class ArticleLookup(Mapping[str, Article]):
    """Articles by id, each read from its shard on demand through the corpus index, so a command that needs
    "the article with this id" for some ids (doccano push) does not hold the whole corpus in memory.
    Iterating gives the ids in corpus order. Close it (or use `with`)."""

    def __init__(self, corpus: Corpus) -> None:
        self._idx = corpus.index()

    def __getitem__(self, article_id: str) -> Article:
        article = self._idx.locate(article_id)
        if article is None:
            raise KeyError(article_id)
        return article

    def __contains__(self, article_id: object) -> bool:
        return isinstance(article_id, str) and self._idx.known(article_id)

    def __len__(self) -> int:
        return self._idx.count()

    def __iter__(self) -> Iterator[str]:
        # Materialized: a cursor left open would interleave with the lookups made while iterating.
        return iter(list(self._idx.iter_ids()))

    def many(self, ids: Sequence[str]) -> list[Article]:
        """The articles of `ids` (all known), in the order of `ids`."""
        found = {a.id: a for a in self._idx.iter_articles(list(ids))}
        return [found[i] for i in ids]

    def close(self) -> None:
        self._idx.close()

    def __enter__(self) -> ArticleLookup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Corpus:
    """A folder of Article shards. Reading streams; writing is atomic and locked."""

    def __init__(self, root: Path, *, shard_size: int = DEFAULT_SHARD_SIZE) -> None:
        self.root = Path(root)
        self.shard_size = shard_size
        self.said: set[str] = set()  # notes of newsner.corpus.repair already given (once per command)

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
        """The shards, in the order of their numbers."""
        if not self.root.is_dir():
            return []
        return list_shards(self.root)[0]

    def stray_paths(self) -> list[Path]:
        """Files named like shards that are not (`articles-old.jsonl`): never read, never written."""
        if not self.root.is_dir():
            return []
        return list_shards(self.root)[1]

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

    def index(self) -> CorpusIndex:
        """The corpus index, verified against the shards (repaired or rebuilt when it is not; see
        newsner.corpus.repair). The caller closes it.

        Raises CorpusError when the corpus folder is missing or a shard is unreadable."""
        return open_index(self)

    def reindex(self) -> int:
        """Rebuild the index from the shards (`newsner corpus reindex`); returns the number of articles."""
        self.require()
        with self.lock():
            # damaged or unreadable: replaced, as every open does (it is only an index)
            idx = open_writable(self.root, self.root / INDEX_NAME, [])
            try:
                try:
                    return idx.rebuild(self.shard_paths(), plan_rows)
                except sqlite3.DatabaseError:  # damaged past the header: rebuilt into a new file
                    idx.close()
                    remove_index_files(self.root / INDEX_NAME)
                    idx = CorpusIndex(self.root)
                    return idx.rebuild(self.shard_paths(), plan_rows)
            finally:
                idx.close()

    def ids(self) -> set[str]:
        idx = self.index()
        try:
            return set(idx.iter_ids())
        finally:
            idx.close()

    def get_many(self, ids: Iterable[str]) -> dict[str, Article]:
        idx = self.index()
        try:
            return {a.id: a for a in idx.iter_articles(list(set(ids)))}
        finally:
            idx.close()

    def __len__(self) -> int:
        if not self.shard_paths():
            return 0
        idx = self.index()
        try:
            return idx.count()
        finally:
            idx.close()

    # ------------------------------------------------------------------------------------ writing
    @contextlib.contextmanager
    def lock(self, *, timeout: float = 60.0) -> Iterator[None]:
        """Hold the corpus write lock; waits up to `timeout` seconds for another writer. Re-entrant.

        Taking it also removes the temp shards a killed writer left behind.
        """
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CorpusError(f"{self.root}: cannot create the corpus folder ({exc.strerror})") from None
        key = str(self.root.resolve())
        if _HELD.get(key):
            _HELD[key] += 1
            try:
                yield
            finally:
                _HELD[key] -= 1
            return
        try:
            fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise CorpusError(f"{self.root / '.lock'}: cannot open the corpus lock file ({exc.strerror}); "
                              "check its and the folder's permissions") from None
        try:
            flock_wait(fd, timeout, lambda: CorpusLockedError(
                f"{self.root}: another newsner process is writing this corpus (waited {timeout:.0f} s); "
                "try again when it has finished"))
            _HELD[key] = 1
            try:
                for orphan in self.root.glob(ORPHAN_GLOB):
                    with contextlib.suppress(FileNotFoundError):
                        orphan.unlink()
                yield
            finally:
                _HELD.pop(key, None)
        finally:
            os.close(fd)  # closing releases the flock

    def append(self, articles: Iterable[Article], *, signatures: list[Signature] | None = None,
               link: bool = False, timeout: float = 60.0, index: CorpusIndex | None = None) -> int:
        """Append one chunk of articles, shards and index together (all of it or, after a crash, none).

        The caller has removed duplicates (ids already in the corpus are skipped here too, so a rerun never
        writes a record twice). `signatures`: their MinHash signatures when the caller has them. `link`: set
        each article's `duplicate_of` to the root of its near-duplicate cluster, matched through the index.
        Fills the last shard up to `shard_size`, then starts new ones; each shard is replaced atomically.
        `index`: an index this process opened while holding the corpus lock (a long ingest keeps one open:
        each open verifies the shards, and each close checkpoints the index's write-ahead log).
        """
        batch = list(articles)
        if not batch:
            return 0
        with self.lock(timeout=timeout):
            idx = index or self.index()
            try:
                known = idx.known_many([a.id for a in batch])
                keep = [n for n, a in enumerate(batch) if a.id not in known]
                if not keep:
                    return 0
                sigs = [signatures[n] if signatures else Signature.of(batch[n].text) for n in keep]
                return self._commit(idx, [batch[n] for n in keep], sigs, link)
            except sqlite3.DatabaseError as exc:  # damaged deeper than the open's checks read
                idx.close()
                remove_index_files(idx.path)  # we hold the lock: the next open builds a new one from the shards
                raise CorpusError(f"{idx.path}: the corpus index is damaged ({exc}); it was removed and is rebuilt "
                                  "from the shards on the next run: rerun the same command") from None
            finally:
                if index is None:
                    idx.close()

    def _commit(self, idx: CorpusIndex, batch: list[Article], sigs: list[Signature], link: bool) -> int:
        records = idx.shard_records()
        # the last shard the index knows (by number): a file on disk the index does not list is never written
        known = [p for p in self.shard_paths() if p.name in records]
        last = known[-1] if known else None
        number = max((shard_number(p) for p in self.shard_paths()), default=-1) + 1  # a new shard's number
        existing, count = b"", self.shard_size
        if last is not None and records[last.name] < self.shard_size and shard_number(last) == number - 1:
            number, count = shard_number(last), records[last.name]
            existing = last.read_bytes()
            if existing and not existing.endswith(b"\n"):
                existing += b"\n"
        else:
            count = 0
        chunk = Chunk(idx)
        chunk.link(batch, sigs, link=link)  # without `link`, it still chooses the band keys each row is stored under
        lines: dict[str, list[bytes]] = {}
        first, name = shard_name(number), shard_name(number)
        size = len(existing)
        for article, sig in zip(batch, sigs, strict=True):
            if count >= self.shard_size:
                number, count, size = number + 1, 0, 0
                name = shard_name(number)
            line = dumps(article).encode("utf-8")  # orjson writes dataclasses in field order, = to_dict()
            chunk.add(Row(article, sig, name, size, len(line)))
            lines.setdefault(name, []).append(line)
            count, size = count + 1, size + len(line) + 1
        # step 1 of the commit: the shards this chunk changes, their size before and after, and what it appends
        blobs = {shard: b"\n".join(shard_lines) + b"\n" for shard, shard_lines in lines.items()}
        before = {shard: len(existing) if shard == first else 0 for shard in blobs}
        idx.mark_pending({shard: (before[shard], before[shard] + len(blob), hashlib.sha256(blob).hexdigest())
                          for shard, blob in blobs.items()})
        idx.begin()
        try:
            chunk.flush()
            stats = []
            for shard, blob in blobs.items():
                path = self.root / shard
                with atomic_open(path, "wb") as fh:
                    if before[shard]:
                        fh.write(existing)
                    fh.write(blob)
                stats.append((shard_stat(path), records.get(shard, 0) + len(lines[shard])))
            idx.finish(stats)
        except BaseException:
            idx.rollback()
            raise
        return len(batch)

    # ------------------------------------------------------------------------------ validate/stats
    def validate(self) -> list[ValidationProblem]:
        """Every record checked against the Article contract, with file and line; duplicate ids too.

        Reads the shards themselves (never the index): it is what you run when something looks wrong.
        """
        self.require()
        problems: list[ValidationProblem] = []
        first_seen: dict[str, tuple[Path, int]] = {}
        dup_refs: list[tuple[Path, int, str]] = []
        for path in self.shard_paths():
            try:
                fh = open(path, "rb")
            except OSError as exc:
                problems.append(ValidationProblem(path, 0, f"cannot read ({exc.strerror})"))
                continue
            with fh:
                for lineno, raw in enumerate(fh, start=1):
                    if not raw.strip():
                        continue
                    try:
                        obj = orjson.loads(raw)
                    except orjson.JSONDecodeError as exc:
                        cut = " (the line is truncated?)" if not raw.endswith(b"\n") else ""
                        problems.append(ValidationProblem(path, lineno, f"invalid JSON{cut}: {exc}"))
                        continue
                    for message in validate_article_dict(obj):
                        problems.append(ValidationProblem(path, lineno, message))
                    if isinstance(obj, dict) and isinstance(obj.get("id"), str):
                        if obj["id"] in first_seen:
                            p, ln = first_seen[obj["id"]]
                            problems.append(ValidationProblem(
                                path, lineno, f"duplicate id {obj['id']} (first at {p.name}:{ln})"))
                        else:
                            first_seen[obj["id"]] = (path, lineno)
                        dup = obj.get("duplicate_of")
                        if isinstance(dup, str) and dup:
                            dup_refs.append((path, lineno, dup))
        for path, lineno, dup in dup_refs:
            if dup not in first_seen:
                problems.append(ValidationProblem(path, lineno, f"duplicate_of {dup} names no article"))
        return problems

    def iter_raw_lenient(self) -> Iterator[tuple[Path, int, Any]]:
        for path in self.shard_paths():
            try:
                yield from ((path, ln, obj) for ln, obj in read_jsonl(path))
            except InputError:
                continue

    def stats(self) -> CorpusStats:
        """Counts from the index (no pass over the article texts)."""
        self.require()
        if not self.shard_paths():
            return CorpusStats()
        try:
            return self._stats()
        except sqlite3.DatabaseError:  # damaged where the open's checks did not read: rebuilt, then counted again
            self.reindex()
            return self._stats()

    def _stats(self) -> CorpusStats:
        st = CorpusStats()
        clusters: set[str] = set()
        idx = self.index()
        try:
            with idx.snapshot():  # what a running writer has committed, shards and articles alike
                st.shards = len(idx.shard_records())
                st = self._count(idx, st, clusters)
        finally:
            idx.close()
        st.duplicate_clusters = len(clusters)
        return st

    @staticmethod
    def _count(idx: CorpusIndex, st: CorpusStats, clusters: set[str]) -> CorpusStats:
        for chars, source, language, month, duplicate, root in idx.facts():
            st.articles += 1
            st.characters += chars
            st.min_length = chars if st.articles == 1 else min(st.min_length, chars)
            st.max_length = max(st.max_length, chars)
            st.by_source[source or "(unknown)"] += 1
            st.by_language[language or "(unknown)"] += 1
            st.by_month[month or "(undated)"] += 1
            st.length_buckets[_length_bucket(chars)] += 1
            if duplicate:
                st.near_duplicates += 1
                clusters.add(root)
        return st
