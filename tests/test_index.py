"""The corpus index: lookups, staleness detection and rebuild, and the chunk commit surviving a crash."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from newsner.corpus.index import INDEX_NAME
from newsner.corpus.store import Corpus
from newsner.schema import Article

WORDS = ("army attack town base convoy river market council minister rebels drought harvest road bridge "
         "clinic school police court election border refugees mayor governor bank cotton gold").split()


def text(i: int) -> str:
    # distinct stories: every sentence names i, so shingles do not repeat across articles
    return " ".join(f"Report {i} says the {WORDS[(i + k) % len(WORDS)]} number {i * 31 + k} was seen on day {k}."
                    for k in range(12))


def articles(n: int, start: int = 0) -> list[Article]:
    return [Article.from_text(text(i), source="Wire") for i in range(start, start + n)]


def test_lookups_locate_cluster_and_order(tmp_path: Path) -> None:
    corpus = Corpus(tmp_path / "corpus", shard_size=4)
    batch = articles(10)
    corpus.append(batch)
    idx = corpus.index()
    try:
        assert idx.count() == 10 and len(corpus) == 10
        assert list(idx.iter_ids()) == [a.id for a in batch]
        assert idx.locate(batch[6].id) == batch[6]  # read at its byte offset in the second shard
        assert idx.known(batch[0].id) and not idx.known("nope") and idx.locate("nope") is None
        assert idx.cluster_of(batch[3].id) == batch[3].id
        assert [a.id for a in idx.iter_articles([batch[9].id, batch[1].id])] == [batch[1].id, batch[9].id]
    finally:
        idx.close()


def test_near_duplicate_is_linked_through_the_index_across_runs(tmp_path: Path) -> None:
    corpus = Corpus(tmp_path / "corpus")
    first = articles(3)
    corpus.append(first, link=True)
    edited = Article.from_text(first[1].text.replace("was seen", "was spotted", 2) + " Reporting by the desk.")
    corpus.append([edited], link=True)
    idx = corpus.index()
    try:
        assert idx.cluster_of(edited.id) == first[1].id
    finally:
        idx.close()
    assert corpus.stats().near_duplicates == 1


def test_a_stale_index_is_detected_and_rebuilt(tmp_path: Path) -> None:
    corpus = Corpus(tmp_path / "corpus", shard_size=5)
    corpus.append(articles(8))
    shard = corpus.shard_paths()[-1]
    lines = shard.read_bytes().splitlines(keepends=True)
    shard.write_bytes(b"".join(lines[:-1]))  # edited by hand behind the index's back
    assert len(corpus) == 7
    assert corpus.ids() == {a.id for a in articles(7)}
    (corpus.root / INDEX_NAME).write_bytes(b"this is not a database at all" * 10)
    for suffix in ("-wal", "-shm"):
        if os.path.exists(f"{corpus.root / INDEX_NAME}{suffix}"):
            os.unlink(f"{corpus.root / INDEX_NAME}{suffix}")
    assert len(corpus) == 7  # a damaged index is rebuilt, never trusted
    os.unlink(corpus.root / INDEX_NAME)
    assert corpus.reindex() == 7 and len(corpus) == 7


def test_a_chunk_killed_before_its_commit_is_cut_back_not_kept_twice(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = Corpus(tmp_path / "corpus", shard_size=4)
    corpus.append(articles(6))  # shards: 4 + 2
    before = {p.name: p.read_bytes() for p in corpus.shard_paths()}

    from newsner.corpus import index as index_module

    def killed(self: object, stats: object) -> None:  # the process dies after the shards were replaced
        raise KeyboardInterrupt

    monkeypatch.setattr(index_module.CorpusIndex, "finish", killed)
    with pytest.raises(KeyboardInterrupt):
        corpus.append(articles(5, start=6))  # spans the second shard and a new third one
    monkeypatch.undo()
    # the rollback kept the `pending` record; the shards on disk hold the uncommitted tail
    assert len(corpus.shard_paths()) == 3
    (corpus.root / ".articles-00001.jsonl.abc123.tmp").write_text("half a shard")  # a killed writer's temp file
    assert len(corpus) == 6  # opening the index cut the chunk back
    assert {p.name: p.read_bytes() for p in corpus.shard_paths()} == before
    assert not list(corpus.root.glob(".articles-*.tmp"))
    assert corpus.append(articles(11)) == 5  # the rerun adds exactly the lost chunk
    assert len(corpus) == 11 and not corpus.validate()


def test_pending_rows_are_durable_before_shards_change(tmp_path: Path) -> None:
    corpus = Corpus(tmp_path / "corpus")
    corpus.append(articles(2))
    conn = sqlite3.connect(corpus.root / INDEX_NAME)
    assert conn.execute("SELECT COUNT(*) FROM pending").fetchone()[0] == 0
    assert conn.execute("SELECT (SELECT COUNT(*) FROM lsh) + (SELECT COUNT(*) FROM lsh_recent)").fetchone()[0] \
        == 2 * 42
    conn.close()


def test_band_rows_merge_into_the_main_table_and_still_match(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from newsner.corpus import index as index_module

    monkeypatch.setattr(index_module, "MERGE_ROWS", 100)  # a merge every ~2 articles' worth of band rows
    corpus = Corpus(tmp_path / "corpus")
    first = articles(5)
    for a in first:
        corpus.append([a], link=True)
    conn = sqlite3.connect(corpus.root / INDEX_NAME)
    main, recent = (conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("lsh", "lsh_recent"))
    conn.close()
    assert main >= 100 and recent < 100 and main + recent == 5 * 42
    edited = Article.from_text(first[0].text.replace("was seen", "was spotted", 2) + " Reporting by the desk.")
    corpus.append([edited], link=True)  # matched through the merged main table
    idx = corpus.index()
    try:
        assert idx.cluster_of(edited.id) == first[0].id
    finally:
        idx.close()
    assert corpus.reindex() == 6  # the rebuild merges too, and keeps the cluster stored in the shards
    idx = corpus.index()
    try:
        assert idx.cluster_of(edited.id) == first[0].id and idx.count() == 6
    finally:
        idx.close()


def test_an_index_of_an_earlier_version_is_rebuilt_and_still_links(tmp_path: Path) -> None:
    corpus = Corpus(tmp_path / "corpus")
    first = articles(4)
    corpus.append(first, link=True)
    conn = sqlite3.connect(corpus.root / INDEX_NAME)
    with conn:  # what an index of version 2 looked like: other parameters, (key, seq) band tables
        conn.execute("UPDATE meta SET value = '2' WHERE key = 'version'")
        conn.execute("CREATE TABLE bands(key INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY(key, seq)) "
                     "WITHOUT ROWID")
        conn.execute("DELETE FROM lsh")
        conn.execute("DELETE FROM lsh_recent")
    conn.close()
    edited = Article.from_text(first[2].text.replace("was seen", "was spotted", 2) + " Reporting by the desk.")
    assert corpus.append([edited], link=True) == 1  # the open rebuilt the index: the band rows are back
    conn = sqlite3.connect(corpus.root / INDEX_NAME)
    tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    assert "bands" not in tables and {"lsh", "lsh_recent"} <= tables
    idx = corpus.index()
    try:
        assert idx.cluster_of(edited.id) == first[2].id and idx.count() == 5
    finally:
        idx.close()


def test_where_a_chunk_boundary_falls_never_changes_a_link(tmp_path: Path) -> None:
    """Near-duplicates matched inside one chunk (in memory) and across chunks (through the index) agree."""
    import json

    from newsner.ingest import ingest

    texts = []
    for i in range(12):
        texts.append(text(i))
        # copies of earlier stories, each edited a little differently; some are copies of copies
        for k in range(i % 3):
            base = texts[-1 - k]
            texts.append(base.replace(f"day {k}", f"day {k + 20}").replace("was seen", f"was seen ({i}-{k})", 1))
    # long ones (400+ words: stored under their windows) and a copy of each with its first quarter cut
    for i in range(40, 44):
        long = " ".join(text(i * 10 + k) for k in range(4))
        texts += [long, long[len(long) // 4:].replace("was seen", "was noted", 2)]
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    links = {}
    for size in (1, 4, 1000):
        corpus = Corpus(tmp_path / f"c{size}")
        report = ingest([feed], corpus, chunk_size=size)
        links[size] = [(a.id, a.duplicate_of) for a in corpus]
        assert report.near_duplicates > 5
    assert links[1] == links[4] == links[1000]
