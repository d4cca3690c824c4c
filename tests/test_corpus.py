from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from newsner.corpus.store import Corpus
from newsner.errors import CorpusError
from newsner.schema import Article


def _articles(n: int, prefix: str = "Article") -> list[Article]:
    return [Article.from_text(f"{prefix} number {i} about Kidal.", source="test") for i in range(n)]


def test_append_shards_and_streams_back(tmp_path: Path) -> None:
    corpus = Corpus(tmp_path / "corpus", shard_size=3)
    with corpus.lock():
        assert corpus.append(_articles(4)) == 4
    with corpus.lock():
        corpus.append(_articles(3, "More"))
    assert [p.name for p in corpus.shard_paths()] == [
        "articles-00000.jsonl", "articles-00001.jsonl", "articles-00002.jsonl"]
    assert [a.text for a in corpus] == [a.text for a in _articles(4) + _articles(3, "More")]
    assert corpus.validate() == []
    assert not list((tmp_path / "corpus").glob("*.tmp"))


def test_validate_reports_file_line_and_duplicates(tmp_path: Path) -> None:
    corpus = Corpus(tmp_path)
    with corpus.lock():
        corpus.append(_articles(2))
    shard = corpus.shard_paths()[0]
    lines = shard.read_text().splitlines()
    shard.write_text("\n".join([lines[0], lines[1], lines[0], '{"id": "x"', ""]))
    problems = [str(p) for p in corpus.validate()]
    assert any(":3: duplicate id" in p for p in problems)
    assert any(":4: invalid JSON" in p for p in problems)


def test_missing_corpus_has_an_actionable_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="newsner ingest"):
        Corpus(tmp_path / "nope").stats()


def _append_many(root: str, prefix: str) -> None:
    corpus = Corpus(Path(root), shard_size=7)
    for i in range(10):
        with corpus.lock():
            corpus.append(_articles(3, f"{prefix}-{i}"))


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(str(tmp_path), p)) for p in ("A", "B")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert all(p.exitcode == 0 for p in procs)
    corpus = Corpus(tmp_path)
    assert len(corpus) == 60
    assert len(corpus.ids()) == 60
    assert corpus.validate() == []


def test_atomic_writes_keep_normal_file_modes(tmp_path: Path) -> None:
    from newsner._io import atomic_write_text

    atomic_write_text(tmp_path / "public.txt", "x")
    atomic_write_text(tmp_path / "secret.txt", "x", perm=0o600)
    assert (tmp_path / "public.txt").stat().st_mode & 0o077 != 0  # readable by the group/others per umask
    assert (tmp_path / "secret.txt").stat().st_mode & 0o777 == 0o600


def test_article_lookup_reads_articles_on_demand_in_corpus_order(tmp_path: Path) -> None:
    """What doccano push uses instead of loading the corpus: lookups through the index, ids in corpus order."""
    from newsner.corpus.store import ArticleLookup

    corpus = Corpus(tmp_path / "corpus", shard_size=4)
    arts = _articles(10)
    with corpus.lock():
        corpus.append(arts)
    with ArticleLookup(corpus) as lookup:
        assert len(lookup) == 10 and list(lookup) == [a.id for a in arts]
        assert lookup[arts[7].id].text == arts[7].text and arts[7].id in lookup
        assert "no-such-id" not in lookup and lookup.get("no-such-id") is None
        with pytest.raises(KeyError):
            lookup["no-such-id"]
        wanted = [arts[9].id, arts[0].id, arts[5].id]
        assert [a.id for a in lookup.many(wanted)] == wanted
