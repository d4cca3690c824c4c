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


# ------------------------------------------------------------------------ issue 21: the index is never the record
def _feed(path: Path, n: int, start: int = 0) -> Path:
    import json

    path.write_text("".join(json.dumps({"text": text(i), "source": "Wire"}) + "\n" for i in range(start, start + n)))
    return path


def _notes(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


def _ids_on_disk(root: Path) -> list[str]:
    import json

    return [json.loads(line)["id"] for p in sorted(root.glob("articles-*.jsonl")) if p.name != "articles-old.jsonl"
            for line in p.read_text().splitlines() if line.strip()]


def test_garbage_after_the_first_page_is_rebuilt_not_a_traceback(cli, workspace: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("ingest", str(_feed(tmp_path / "a.jsonl", 40))).exit_code == 0
    index = workspace / "corpus" / INDEX_NAME
    first = index.read_bytes()[:4096]
    index.write_bytes(first + bytes(range(256)) * 64)  # the first page intact, garbage after it
    result = cli("corpus", "stats")
    assert result.exit_code == 0, result.output
    assert "40 articles in 1 shard(s)" in result.stdout and "Traceback" not in result.output
    notes = _notes(result.stderr)
    assert len(notes) == 1 and "damaged" in notes[0] and "rebuilt it from 1 shard(s), 40 article(s)" in notes[0]
    result = cli("ingest", str(_feed(tmp_path / "b.jsonl", 5, start=100)))
    assert result.exit_code == 0 and "note:" not in result.stderr
    assert "45 articles" in cli("corpus", "stats").stdout


def test_a_stray_copy_of_a_shard_is_named_and_left_alone(cli, workspace: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    assert cli("ingest", str(_feed(tmp_path / "a.jsonl", 10))).exit_code == 0
    corpus = workspace / "corpus"
    shutil.copy(corpus / "articles-00000.jsonl", corpus / "articles-old.jsonl")
    copy = (corpus / "articles-old.jsonl").read_bytes()
    for args in (("ingest", str(_feed(tmp_path / "b.jsonl", 3, start=50))), ("corpus", "stats"),
                 ("corpus", "validate")):
        result = cli(*args)
        assert result.exit_code == 0 and "Traceback" not in result.output, (args, result.output)
        notes = _notes(result.stderr)
        assert len(notes) == 1 and "articles-old.jsonl" in notes[0] and "ignored" in notes[0], (args, notes)
    assert "13 articles in 1 shard(s)" in cli("corpus", "stats").stdout
    assert (corpus / "articles-old.jsonl").read_bytes() == copy  # never read into the corpus, never written


def test_shards_are_ordered_by_number_not_as_text(cli, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    import os

    corpus = Corpus(workspace / "corpus", shard_size=4)
    corpus.append(articles(8))
    os.rename(corpus.root / "articles-00000.jsonl", corpus.root / "articles-99998.jsonl")
    os.rename(corpus.root / "articles-00001.jsonl", corpus.root / "articles-99999.jsonl")
    corpus.reindex()
    corpus.append(articles(4, start=8))  # opens articles-100000.jsonl
    corpus.append(articles(4, start=12))  # must open articles-100001.jsonl, not rewrite articles-100000.jsonl
    assert [p.name for p in corpus.shard_paths()] == [
        "articles-99998.jsonl", "articles-99999.jsonl", "articles-100000.jsonl", "articles-100001.jsonl"]
    assert _ids_on_disk(corpus.root) and len(set(_ids_on_disk(corpus.root))) == 16
    result = cli("corpus", "stats")
    assert result.exit_code == 0 and "16 articles in 4 shard(s)" in result.stdout
    assert [a.id for a in corpus] == [a.id for a in articles(16)]  # read back in numeric shard order


def test_a_renamed_shard_loses_nothing(cli, workspace: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import os

    corpus = Corpus(workspace / "corpus", shard_size=4)
    corpus.append(articles(10))  # 4 + 4 + 2
    os.rename(corpus.root / "articles-00001.jsonl", corpus.root / "articles-00007.jsonl")  # the index still says 1
    result = cli("ingest", str(_feed(tmp_path / "more.jsonl", 3, start=10)))
    assert result.exit_code == 0, result.output
    notes = _notes(result.stderr)
    assert len(notes) == 1 and "rebuilt it from 3 shard(s), 10 article(s)" in notes[0]
    assert sorted(_ids_on_disk(corpus.root)) == sorted(a.id for a in articles(13))
    result = cli("corpus", "stats")
    assert result.exit_code == 0 and "13 articles in 3 shard(s)" in result.stdout, result.stdout
    assert "note:" not in result.stderr and not corpus.validate()


def test_a_killed_commit_is_cut_out_but_lines_added_by_hand_after_it_stay(cli, workspace: Path,  # type: ignore[no-untyped-def]
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    corpus = Corpus(workspace / "corpus", shard_size=4)
    corpus.append(articles(6))  # shards: 4 + 2
    from newsner.corpus import index as index_module

    def killed(self: object, stats: object) -> None:  # dies after the shards were replaced, before the commit
        raise KeyboardInterrupt

    monkeypatch.setattr(index_module.CorpusIndex, "finish", killed)
    with pytest.raises(KeyboardInterrupt):
        corpus.append(articles(5, start=6))  # 2 into the second shard, 3 into a new third one
    monkeypatch.undo()
    by_hand = Article.from_text(text(500), source="Desk")
    with open(corpus.root / "articles-00002.jsonl", "a") as fh:  # after the crash, a line added by hand
        fh.write(json.dumps(by_hand.to_dict()) + "\n")
    result = cli("corpus", "stats")
    assert result.exit_code == 0, result.output
    notes = _notes(result.stderr)
    assert len(notes) == 1 and "removed the 5 article(s) of an interrupted write" in notes[0]
    assert "kept 1 line(s) added after" in notes[0]
    assert "7 articles" in result.stdout
    assert sorted(_ids_on_disk(corpus.root)) == sorted([a.id for a in articles(6)] + [by_hand.id])
    assert corpus.append(articles(11)) == 5  # the rerun adds the cut chunk again
    assert len(corpus) == 12 and not corpus.validate()


def _slow_writer(root: str, ready: str, release: str) -> None:
    """Appends a chunk and stops inside its commit (shards replaced, index not yet) until `release` exists."""
    import time

    from newsner.corpus import index as index_module

    real = index_module.CorpusIndex.finish

    def paused(self: index_module.CorpusIndex, stats: object) -> None:
        Path(ready).touch()
        while not Path(release).exists():
            time.sleep(0.05)
        real(self, stats)  # type: ignore[arg-type]

    index_module.CorpusIndex.finish = paused  # type: ignore[method-assign]
    Corpus(Path(root), shard_size=4).append(articles(6, start=10))


def test_a_reader_sees_the_last_commit_at_once_while_a_writer_works(cli, workspace: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import multiprocessing
    import time

    corpus = Corpus(workspace / "corpus", shard_size=4)
    corpus.append(articles(6))  # 4 + 2
    ready, release = tmp_path / "ready", tmp_path / "release"
    writer = multiprocessing.get_context("spawn").Process(
        target=_slow_writer, args=(str(corpus.root), str(ready), str(release)))
    writer.start()
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert time.monotonic() < deadline and writer.is_alive(), "the writer never reached its commit"
            time.sleep(0.05)
        assert len(corpus.shard_paths()) == 3  # the writer's shards are on disk, its index rows are not
        started = time.monotonic()
        result = cli("corpus", "stats")
        assert time.monotonic() - started < 10, "the reader waited for the writer"
        assert result.exit_code == 0, result.output
        assert "6 articles in 2 shard(s)" in result.stdout  # the last committed state, counted consistently
        assert cli("corpus", "validate").exit_code == 0
    finally:
        release.touch()
        writer.join(60)
    assert writer.exitcode == 0
    result = cli("corpus", "stats")
    assert "12 articles in 3 shard(s)" in result.stdout and "note:" not in result.stderr


@pytest.mark.parametrize("damage", ["not a database", "garbage after the first page"])
def test_reindex_replaces_a_damaged_index(tmp_path: Path, damage: str) -> None:
    corpus = Corpus(tmp_path / "corpus", shard_size=5)
    corpus.append(articles(12))
    index = corpus.root / INDEX_NAME
    for suffix in ("-wal", "-shm"):  # only the main file is damaged
        if os.path.exists(f"{index}{suffix}"):
            os.unlink(f"{index}{suffix}")
    if damage == "not a database":
        index.write_bytes(b"this is not a database at all" * 10)
    else:
        index.write_bytes(index.read_bytes()[:4096] + bytes(range(256)) * 64)
    assert corpus.reindex() == 12
    assert corpus.ids() == {a.id for a in articles(12)}
