"""The corpus store: Article records as JSONL shards under corpus/.

- Shards are `articles-00000.jsonl`, `articles-00001.jsonl`, ... of at most `shard_size` records, so an append
  rewrites at most one shard (temp file + rename) and readers stream shard by shard.
- Writers take an exclusive lock (`corpus/.lock`, fcntl) so two concurrent ingests cannot interleave or lose
  lines; the second waits, then sees the first one's articles and skips them as duplicates. The lock is
  re-entrant within one process (flock would otherwise deadlock a process against itself).
- `corpus/.index.sqlite3` (newsner.corpus.index) answers id / offset / cluster / near-duplicate-candidate questions
  without a pass over the shards; `index()` verifies it against the shards first and repairs or rebuilds it.
- `append` commits one chunk at a time, shards and index together (the protocol is in newsner.corpus.index).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from newsner._io import atomic_open, dumps, flock_wait, read_jsonl
from newsner.corpus.index import CorpusIndex, Row, shard_stat
from newsner.corpus.linking import Chunk
from newsner.corpus.signatures import Signature
from newsner.errors import CorpusError, CorpusLockedError, InputError, SchemaError
from newsner.schema import Article, validate_article_dict

SHARD_PREFIX = "articles-"
DEFAULT_SHARD_SIZE = 5000
ORPHAN_GLOB = f".{SHARD_PREFIX}*.tmp"  # temp shards of a writer killed before its rename

# corpus folder -> how many times this process holds its lock (flock is per open file, not per process)
_HELD: dict[str, int] = {}
#: Notices a user should see (the CLI prints them as `note:` lines on stderr), e.g. a long index rebuild.
log = logging.getLogger("newsner.corpus.store")


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

    def index(self) -> CorpusIndex:
        """The corpus index, verified against the shards (repaired or rebuilt under the lock when it is not).

        The caller closes it. Raises CorpusError when the corpus folder is missing or a shard is unreadable.
        """
        self.require()
        idx = CorpusIndex(self.root)
        try:
            if idx.problems():
                with self.lock():
                    problems = idx.problems()
                    if "a write was interrupted" in problems:
                        idx.recover()
                        problems = idx.problems()
                    if problems:
                        shards = self.shard_paths()
                        if shards:  # a long pause on a large corpus: say why, once
                            more = f" and {len(problems) - 1} more" if len(problems) > 1 else ""
                            log.warning("%s: the corpus index is out of date (%s%s); rebuilding it from %d "
                                        "shard(s)", self.root, problems[0], more, len(shards))
                        idx.rebuild(shards)
        except BaseException:
            idx.close()
            raise
        return idx

    def reindex(self) -> int:
        """Rebuild the index from the shards (`newsner corpus reindex`); returns the number of articles."""
        self.require()
        with self.lock():
            idx = CorpusIndex(self.root)
            try:
                return idx.rebuild(self.shard_paths())
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
            finally:
                if index is None:
                    idx.close()

    def _commit(self, idx: CorpusIndex, batch: list[Article], sigs: list[Signature], link: bool) -> int:
        shards = self.shard_paths()
        records = idx.shard_records()
        number, size, count, existing = 0, 0, self.shard_size, b""  # "full": the first article opens a shard
        if shards:
            last = shards[-1]
            number = int(last.stem[len(SHARD_PREFIX):])
            count = records.get(last.name, 0)
            if count < self.shard_size:
                existing = last.read_bytes()
                if existing and not existing.endswith(b"\n"):
                    existing += b"\n"
                size = len(existing)
            else:
                number += 1
                count = 0
        else:
            count = 0
        # the shards this chunk will touch, known before anything is written (step 1 of the commit)
        touched: dict[str, int] = {}
        n_left, c, num = len(batch), count, number
        while n_left > 0:
            room = self.shard_size - c
            touched[f"{SHARD_PREFIX}{num:05d}.jsonl"] = size if num == number else 0
            n_left -= room
            num, c = num + 1, 0
        idx.mark_pending(touched)
        idx.begin()
        try:
            chunk = Chunk(idx)
            if link:
                chunk.link(batch, sigs)
            lines: dict[str, list[bytes]] = {name: [] for name in touched}
            name = f"{SHARD_PREFIX}{number:05d}.jsonl"
            for article, sig in zip(batch, sigs, strict=True):
                if count >= self.shard_size:
                    number, count, size = number + 1, 0, 0
                    name = f"{SHARD_PREFIX}{number:05d}.jsonl"
                line = dumps(article).encode("utf-8")  # orjson writes dataclasses in field order, = to_dict()
                chunk.add(Row(article, sig, name, size, len(line)))
                lines[name].append(line)
                count, size = count + 1, size + len(line) + 1
            chunk.flush()
            stats = []
            for shard, shard_lines in lines.items():
                path = self.root / shard
                with atomic_open(path, "wb") as fh:
                    if touched[shard]:
                        fh.write(existing)
                    fh.write(b"\n".join(shard_lines) + b"\n")
                stats.append((shard_stat(path), records.get(shard, 0) + len(shard_lines)))
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
        st = CorpusStats(shards=len(self.shard_paths()))
        if not st.shards:
            return st
        clusters: set[str] = set()
        idx = self.index()
        try:
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
        finally:
            idx.close()
        st.duplicate_clusters = len(clusters)
        return st
