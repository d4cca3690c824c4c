"""The corpus index: a rebuildable SQLite file beside the shards (`corpus/.index.sqlite3`), never the store of record.

It answers, without a pass over the shards: is this id known, where is its record (shard + byte offset), which
cluster is it in, which earlier articles share an LSH band with a new text (so a new article's near-duplicate
candidates come from SQL lookups, not by recomputing the corpus), and the per-article facts `corpus stats` counts.

Tables: `articles` (seq = position in shard order, id, shard, offset, length, text hash, cluster root, MinHash
signature + shingle count, characters, source, language, month), `lsh` + `lsh_recent` (a 32-bit LSH band key
and the article's seq packed in one integer, see SEQ_BITS; in two levels, see MERGE_ROWS), `counts` (rows in
`lsh_recent`), `shards` (size, mtime, inode and record count of every shard when the index last matched it),
`pending` (the shards a chunk is about to change: their size before and after it, and a hash of the bytes it
appends) and `meta` (schema version and MinHash parameters). Commits are not fsynced (synchronous=NORMAL): the
index lags the shards only after a power cut, which the next open sees as changed shards and rebuilds.

Trust, but verify: every open compares the recorded shards with the files on disk (newsner.corpus.repair). A
`pending` row means a writer was killed inside a chunk: the bytes that chunk appended are cut out of its shards
(checked against their hash; lines added after them by hand stay), so the chunk is kept whole or not at all. Any
other difference — a shard edited, renamed or replaced by hand, a damaged or unreadable index, other MinHash
parameters — rebuilds the index from the shards.

Shards are `articles-NUMBER.jsonl`, in the order of their NUMBER (articles-100000 comes after articles-99999);
other files matching `articles-*.jsonl` (a copy such as articles-old.jsonl) are not shards and are left alone.

The commit unit is one chunk (see `Corpus.append`): (1) the shards it will touch are recorded in `pending` (with
the size and hash of what it will append) and committed; (2) the article rows and band keys are inserted in an
open transaction; (3) the shards are replaced atomically; (4) the shard stats are updated, `pending` cleared and
the transaction committed. A crash before (4) leaves the old index plus `pending`, and the next open cuts the
chunk out again.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from newsner.corpus import signatures
from newsner.corpus.signatures import Signature
from newsner.errors import CorpusError, SchemaError
from newsner.schema import Article

if TYPE_CHECKING:
    import numpy as np


INDEX_NAME = ".index.sqlite3"
SCHEMA_VERSION = "5"  # 4: `pending` records what a chunk appends; 5: band buckets of one row per cluster
#: Band rows collect in a small `lsh_recent` table (cheap to insert into: it stays in the page cache) and are
#: merged into `lsh` in key order once there are this many: a chunk's commit no longer rewrites pages all
#: over the big table, so its cost stops growing with the corpus (an LSM tree with two levels).
MERGE_ROWS = 2_000_000
SHARD_GLOB = "articles-*.jsonl"
#: A shard's name; the number orders the shards (as a number: not as text).
SHARD_NAME = re.compile(r"articles-([0-9]+)\.jsonl")
_REBUILD_BATCH = 500
_BAND_BATCH = 20_000
#: problems() of an index that holds nothing usable (rebuilt before anything reads it)
EMPTY = "empty"
STALE_PARAMS = "built with other parameters"
INTERRUPTED = "a write was interrupted"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS shards(name TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    inode INTEGER NOT NULL, records INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS pending(name TEXT PRIMARY KEY, size INTEGER NOT NULL, after INTEGER NOT NULL,
    sha TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles(seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, shard TEXT NOT NULL,
    offset INTEGER NOT NULL, length INTEGER NOT NULL, sha TEXT NOT NULL, root TEXT NOT NULL,
    shingles INTEGER NOT NULL, sig BLOB NOT NULL, chars INTEGER NOT NULL, source TEXT, language TEXT, month TEXT,
    duplicate INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS lsh(id INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS lsh_recent(id INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS counts(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


#: An LSH row is one integer, (32-bit band key << SEQ_BITS) | seq: the table is its own B-tree of rowids (half the
#: bytes of a (key, seq) index), and a chunk's rows go in with one INSERT ... SELECT over a JSON array, in C.
SEQ_BITS = 31
SEQ_MASK = (1 << SEQ_BITS) - 1
#: Every table a rebuild drops (and recreates from _SCHEMA), those of earlier index versions included.
_TABLES = ("bands", "bands_recent", "articles", "lsh", "lsh_recent", "counts", "shards", "pending", "meta")


def list_shards(root: Path) -> tuple[list[Path], list[Path]]:
    """(the shards of `root` in the order of their numbers, other files named like shards: `articles-old.jsonl`)."""
    shards: list[tuple[int, str, Path]] = []
    strays: list[Path] = []
    for path in Path(root).glob(SHARD_GLOB):
        m = SHARD_NAME.fullmatch(path.name)
        if m:
            shards.append((int(m.group(1)), path.name, path))
        else:
            strays.append(path)
    return [p for _, _, p in sorted(shards)], sorted(strays)


def shard_name(number: int) -> str:
    return f"articles-{number:05d}.jsonl"


def shard_number(path: Path) -> int:
    m = SHARD_NAME.fullmatch(path.name)
    if m is None:
        raise CorpusError(f"{path}: not a shard name (articles-NUMBER.jsonl)")
    return int(m.group(1))


def _params() -> dict[str, str]:
    return {"version": SCHEMA_VERSION,
            "minhash": f"{signatures.BANDS}x{signatures.ROWS}/{signatures.SHINGLE}/{signatures.SEED}/k32"}


@dataclass(frozen=True)
class ShardStat:
    name: str
    size: int
    mtime_ns: int
    inode: int


def shard_stat(path: Path) -> ShardStat:
    st = path.stat()
    return ShardStat(path.name, st.st_size, st.st_mtime_ns, st.st_ino)


@dataclass
class Row:
    """One article as the index stores it."""

    article: Article
    sig: Signature
    shard: str
    offset: int
    length: int
    #: the band keys it is stored under (newsner.corpus.linking's bucket rule); None: all its stored keys
    keys: np.ndarray | None = None


class CorpusIndex:
    """Lookups over one corpus folder. Get one from `Corpus.index()`, which verifies it first."""

    def __init__(self, root: Path, path: Path | None = None, *, read_only: bool = False) -> None:
        """Open (or create) the index of the shards in `root`, kept at `path` (default: root/.index.sqlite3).

        `read_only`: open an existing index without writing anything (a read-only corpus folder). Raises
        sqlite3.Error when the file cannot be opened or is damaged (newsner.corpus.repair handles that).
        """
        self.root = Path(root)
        self.path = Path(path) if path is not None else self.root / INDEX_NAME
        self.read_only = read_only
        self.conn = _open(self.path, read_only=read_only)

    def close(self) -> None:
        self.conn.close()

    # ------------------------------------------------------------------------------------------ lookups
    def count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0])

    def known(self, article_id: str) -> bool:
        return self.conn.execute("SELECT 1 FROM articles WHERE id = ?", (article_id,)).fetchone() is not None

    def known_many(self, ids: Sequence[str]) -> set[str]:
        """The ids of `ids` already in the corpus (one query per 500)."""
        found: set[str] = set()
        for i in range(0, len(ids), 500):
            part = list(ids[i:i + 500])
            marks = ",".join("?" * len(part))
            found.update(r[0] for r in self.conn.execute(f"SELECT id FROM articles WHERE id IN ({marks})", part))
        return found

    def cluster_of(self, article_id: str) -> str | None:
        """The id of the first article of `article_id`'s near-duplicate cluster (itself if it starts one)."""
        row = self.conn.execute("SELECT root FROM articles WHERE id = ?", (article_id,)).fetchone()
        return row[0] if row else None

    def clusters(self) -> Iterator[tuple[str, str]]:
        """(id, cluster root) of every article, in corpus order."""
        yield from self.conn.execute("SELECT id, root FROM articles ORDER BY seq")

    def locate(self, article_id: str) -> Article | None:
        """The article with this id, read from its shard at the recorded offset; None when unknown."""
        row = self.conn.execute("SELECT shard, offset, length FROM articles WHERE id = ?", (article_id,)).fetchone()
        if row is None:
            return None
        shard, offset, length = row
        path = self.root / shard
        try:
            with open(path, "rb") as fh:
                fh.seek(offset)
                raw = fh.read(length)
            obj = orjson.loads(raw)
            article = Article.from_dict(obj, where=f"{path}@{offset}")
        except (OSError, orjson.JSONDecodeError, SchemaError) as exc:
            raise CorpusError(f"{path}: the index points at byte {offset} but no valid record is there ({exc}); "
                              "run `newsner corpus reindex`") from None
        if article.id != article_id:
            raise CorpusError(f"{path}: the index is out of date (byte {offset} holds {article.id}, not "
                              f"{article_id}); run `newsner corpus reindex`")
        return article

    def iter_ids(self) -> Iterator[str]:
        """Every id in shard order."""
        for (article_id,) in self.conn.execute("SELECT id FROM articles ORDER BY seq"):
            yield article_id

    def iter_articles(self, ids: Sequence[str] | None = None) -> Iterator[Article]:
        """Articles in shard order (all, or those of `ids` that are known), each read at its offset."""
        if ids is None:
            for (article_id,) in self.conn.execute("SELECT id FROM articles ORDER BY seq").fetchall():
                article = self.locate(article_id)
                if article is not None:
                    yield article
            return
        wanted = sorted(self._seqs(ids))
        for _, article_id in wanted:
            article = self.locate(article_id)
            if article is not None:
                yield article

    def _seqs(self, ids: Sequence[str]) -> list[tuple[int, str]]:
        out: list[tuple[int, str]] = []
        ids = list(ids)
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            marks = ",".join("?" * len(part))
            out.extend(self.conn.execute(f"SELECT seq, id FROM articles WHERE id IN ({marks})", part))
        return out

    def members(self, ids: Sequence[str]) -> list[tuple[int, str, str, str]]:
        """(position, id, cluster root, text hash) of each known id of `ids`, in corpus order."""
        out: list[tuple[int, str, str, str]] = []
        ids = list(ids)
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            marks = ",".join("?" * len(part))
            out.extend(self.conn.execute(f"SELECT seq, id, root, sha FROM articles WHERE id IN ({marks})", part))
        out.sort()
        return out

    def facts(self) -> Iterator[tuple[int, str | None, str | None, str | None, bool, str]]:
        """(characters, source, language, month, is a near-duplicate, cluster root) per article, for stats."""
        yield from self.conn.execute(
            "SELECT chars, source, language, month, duplicate, root FROM articles ORDER BY seq")

    def shard_records(self) -> dict[str, int]:
        return {name: n for name, n in self.conn.execute("SELECT name, records FROM shards")}

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """One read transaction: every query inside sees the same committed state (a writer may be adding)."""
        self.conn.execute("BEGIN")
        try:
            yield
        finally:
            self.conn.execute("COMMIT")

    # ---------------------------------------------------------------------------------- near-duplicates
    def band_rows(self, keys: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(band keys, seqs) of every committed row stored under one of `keys` (distinct), sorted by key then seq,
        as two numpy arrays. One SQL statement per 20,000 keys (the rows come back as one JSON array, parsed in C;
        in parts, so the text and its Python list stay small whatever the chunk meets)."""
        import numpy

        lows = numpy.asarray(keys, dtype=numpy.int64) << SEQ_BITS
        parts = [numpy.empty(0, dtype=numpy.int64)]
        for i in range(0, len(lows), _BAND_BATCH):
            (found,) = self.conn.execute(
                f"WITH p(lo) AS MATERIALIZED (SELECT value FROM json_each(?1)), "
                f"h(id) AS (SELECT b.id FROM p CROSS JOIN lsh b ON b.id BETWEEN p.lo AND p.lo + {SEQ_MASK} "
                f"UNION ALL SELECT r.id FROM p CROSS JOIN lsh_recent r ON r.id BETWEEN p.lo AND p.lo + {SEQ_MASK}) "
                f"SELECT json_group_array(id) FROM h",
                (orjson.dumps(lows[i:i + _BAND_BATCH], option=orjson.OPT_SERIALIZE_NUMPY).decode(),)).fetchone()
            parts.append(numpy.array(orjson.loads(found), dtype=numpy.int64))
        packed = numpy.sort(numpy.concatenate(parts))
        return packed >> SEQ_BITS, packed & SEQ_MASK

    def root_rank(self, article_id: str) -> tuple[int, str]:
        """(position of the root, root) of the cluster `article_id` belongs to (a dangling id ranks first)."""
        root = self.cluster_of(article_id) or article_id
        ranked = self._seqs([root])
        return ranked[0] if ranked else (-1, root)

    # ------------------------------------------------------------------------------------------ writing
    def next_seq(self) -> int:
        row = self.conn.execute("SELECT MAX(seq) FROM articles").fetchone()
        return (row[0] + 1) if row and row[0] is not None else 0

    def mark_pending(self, shards: dict[str, tuple[int, int, str]]) -> None:
        """Step 1 of a chunk: record (durably) the shards about to change: size now, size after, and the sha256
        of the bytes the chunk appends (so a recovery cuts out exactly those)."""
        with self.conn:
            self.conn.executemany("INSERT OR REPLACE INTO pending(name, size, after, sha) VALUES (?, ?, ?, ?)",
                                  ((name, *v) for name, v in shards.items()))

    def begin(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def insert_many(self, rows: Sequence[tuple[int, Row, str]]) -> None:
        """Step 2: article rows (seq, row, cluster root) and their band keys, inside the open transaction."""
        self.conn.executemany(
            "INSERT INTO articles(seq, id, shard, offset, length, sha, root, shingles, sig, chars, source, language,"
            " month, duplicate) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            ((seq, r.article.id, r.shard, r.offset, r.length, r.article.text_sha256, root, r.sig.count,
              r.sig.to_bytes(), len(r.article.text), r.article.source, r.article.language,
              (r.article.published or "")[:7] or None, int(bool(r.article.duplicate_of))) for seq, r, root in rows))
        import numpy

        keys = [r.sig.stored_key_array() if r.keys is None else r.keys for _, r, _ in rows]
        if not keys:
            return
        seqs = numpy.repeat(numpy.array([seq for seq, _, _ in rows], dtype=numpy.int64), [len(k) for k in keys])
        packed = (numpy.concatenate(keys) << SEQ_BITS) | seqs
        packed.sort()  # consecutive inserts land on neighbouring B-tree pages
        self.conn.execute("INSERT OR IGNORE INTO lsh_recent(id) SELECT value FROM json_each(?)",
                          (orjson.dumps(packed, option=orjson.OPT_SERIALIZE_NUMPY).decode(),))
        self._recent_rows(add=len(packed))

    def insert(self, seq: int, row: Row) -> None:
        a = row.article
        root = (self.cluster_of(a.duplicate_of) or a.duplicate_of) if a.duplicate_of else a.id
        self.insert_many([(seq, row, root)])

    def finish(self, stats: Sequence[tuple[ShardStat, int]]) -> None:
        """Step 4: the shards' new stats, `pending` cleared, and the chunk committed."""
        self.conn.executemany("INSERT OR REPLACE INTO shards(name, size, mtime_ns, inode, records) VALUES "
                              "(?,?,?,?,?)", ((s.name, s.size, s.mtime_ns, s.inode, n) for s, n in stats))
        self.conn.execute("DELETE FROM pending")
        self._merge_if_due()
        self.conn.execute("COMMIT")

    def _recent_rows(self, add: int = 0) -> int:
        """Rows in `lsh_recent`, kept in `counts` (counting a million rows on every commit cost ~30 ms)."""
        row = self.conn.execute("SELECT value FROM counts WHERE name = 'recent'").fetchone()
        if row is None:  # an index written before the counter existed
            row = self.conn.execute("SELECT COUNT(*) FROM lsh_recent").fetchone()
            self.conn.execute("INSERT INTO counts(name, value) VALUES ('recent', ?)", (row[0],))
        if add:
            self.conn.execute("UPDATE counts SET value = value + ? WHERE name = 'recent'", (add,))
        return int(row[0]) + add

    def _merge_if_due(self, force: bool = False) -> None:
        """Move `lsh_recent` into `lsh` (key order) when it has grown to MERGE_ROWS, inside the commit."""
        if not force and self._recent_rows() < MERGE_ROWS:
            return
        self.conn.execute("INSERT OR IGNORE INTO lsh(id) SELECT id FROM lsh_recent ORDER BY id")
        self.conn.execute("DELETE FROM lsh_recent")
        self.conn.execute("UPDATE counts SET value = 0 WHERE name = 'recent'")

    def rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    # ------------------------------------------------------------------------------------- verification
    def problems(self, shards: Sequence[Path]) -> list[str]:
        """Why this index cannot be trusted for `shards` (the files on disk); empty when it can.

        Also reads a little of every table, so a damaged file raises sqlite3.DatabaseError here, not later. A
        little: every command opens the index, and COUNT(*) would read all of the articles' id index each time."""
        meta = dict(self.conn.execute("SELECT key, value FROM meta"))
        if meta != _params():
            return [STALE_PARAMS if meta else EMPTY]
        self.conn.execute("SELECT MAX(seq) FROM articles").fetchone()
        self.conn.execute("SELECT MAX(id) FROM lsh").fetchone()
        self.conn.execute("SELECT MAX(id) FROM lsh_recent").fetchone()
        out: list[str] = []
        if self.conn.execute("SELECT 1 FROM pending LIMIT 1").fetchone():
            out.append(INTERRUPTED)
        recorded = {r[0]: ShardStat(*r) for r in self.conn.execute("SELECT name, size, mtime_ns, inode FROM shards")}
        on_disk = {p.name: p for p in shards}
        for name in sorted(set(recorded) | set(on_disk)):
            if name not in on_disk:
                out.append(f"{name} is gone")
            elif name not in recorded:
                out.append(f"{name} is not indexed")
            else:
                try:
                    if shard_stat(on_disk[name]) != recorded[name]:
                        out.append(f"{name} changed")
                except FileNotFoundError:
                    out.append(f"{name} is gone")
        return out

    def rebuild(self, shard_paths: Sequence[Path],
                plan: Callable[[CorpusIndex, Sequence[tuple[int, Row, str]]], None] | None = None) -> int:
        """Index every record of the shards from scratch (the caller holds the corpus lock); returns the count.

        `plan`: chooses the band keys of each batch of rows before they are inserted (newsner.corpus.linking's
        plan_rows, so a rebuilt index stores what the ingests stored)."""
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            for table in _TABLES:  # dropped, not emptied: an earlier version's tables had other columns
                conn.execute(f"DROP TABLE IF EXISTS {table}")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            seq = 0
            batch: list[tuple[int, Row, str]] = []
            batch_ids: set[str] = set()
            roots: dict[str, str] = {}
            for path in shard_paths:
                before = shard_stat(path)
                records = 0
                with open(path, "rb") as fh:
                    offset = 0
                    for lineno, raw in enumerate(fh, start=1):
                        start, offset = offset, offset + len(raw)
                        if not raw.strip():
                            continue
                        article = _parse(path, lineno, raw)
                        if article.id in batch_ids or self.known(article.id):
                            continue  # a repeated id (hand-edited corpus): `corpus validate` reports it
                        sig = Signature.of(article.text)
                        dup = article.duplicate_of
                        root = (roots.get(dup) or self.cluster_of(dup) or dup) if dup else article.id
                        roots[article.id] = root
                        batch.append((seq, Row(article, sig, path.name, start, len(raw.rstrip(b"\r\n"))), root))
                        batch_ids.add(article.id)
                        seq += 1
                        records += 1
                        if len(batch) >= _REBUILD_BATCH:
                            if plan:
                                plan(self, batch)
                            self.insert_many(batch)
                            batch, batch_ids, roots = [], set(), {}
                            self._merge_if_due()
                if plan:
                    plan(self, batch)
                self.insert_many(batch)
                batch, batch_ids, roots = [], set(), {}
                if shard_stat(path) != before:
                    raise CorpusError(f"{path}: changed while it was being indexed; rerun `newsner corpus reindex`")
                conn.execute("INSERT INTO shards(name, size, mtime_ns, inode, records) VALUES (?,?,?,?,?)",
                             (before.name, before.size, before.mtime_ns, before.inode, records))
            conn.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", _params().items())
            self._merge_if_due()
            conn.execute("COMMIT")
        except BaseException:
            self.rollback()
            raise
        return seq


def _parse(path: Path, lineno: int, raw: bytes) -> Article:
    try:
        obj = orjson.loads(raw)
        return Article.from_dict(obj, where=f"{path}:{lineno}")
    except orjson.JSONDecodeError as exc:
        raise CorpusError(f"{path}:{lineno}: invalid JSON ({exc}); run `newsner corpus validate` for every "
                          "problem") from None
    except SchemaError as exc:
        raise CorpusError(f"{exc}; run `newsner corpus validate` for every problem") from None


def _open(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    if read_only:
        # immutable: no -shm/-wal is created or read (the folder cannot be written); what a writer left in a
        # -wal is not seen, which the shard check then reports as out of date
        uri = f"file:{urllib.parse.quote(str(path))}?mode=ro&immutable=1"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None)
        try:
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        except BaseException:
            conn.close()
            raise
        return conn
    conn = sqlite3.connect(path, isolation_level=None, timeout=600)
    try:
        conn.execute("PRAGMA journal_mode=WAL")  # readers see the last committed chunk while a writer works
        # NORMAL: a commit is not fsynced. A killed process loses nothing (the OS has the WAL); after a power cut
        # the index may lag the fsynced shards, which the next open detects (shard stats differ) and rebuilds.
        conn.execute("PRAGMA synchronous=NORMAL")
        # 16 MB of pages (bounded, whatever the corpus size): 32 MB made no difference to the rate, and a cache
        # that only fills once the corpus is large is memory that grows with the corpus (bench/bench_scale.py)
        conn.execute("PRAGMA cache_size=-16384")
        conn.executescript(_SCHEMA)
    except BaseException:
        conn.close()
        raise
    return conn


def remove_index_files(path: Path) -> None:
    """Delete an index file and its journal files (it is only an index: the shards are the store of record)."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{path}{suffix}")
