"""Export reads through the corpus index: a few annotated articles of a large corpus are read at their offsets
(no pass over every shard), split planning needs no pass at all, and the dataset is the same either way."""

from __future__ import annotations

from pathlib import Path

import pytest
from datasets import load_from_disk

import newsner.export.pipeline as export_pipeline
from newsner.corpus.store import Corpus
from newsner.export import ExportOptions, export
from newsner.schema import Article
from newsner.workspace import Workspace
from tests.test_export import _record, _write


def _big_workspace(root: Path) -> tuple[Workspace, list[Article]]:
    """300 articles over several shards; 6 annotated, two of them near-duplicates of each other."""
    ws = Workspace.at(root)
    articles = [Article.from_text(f"Dispatch {k}: the army patrolled the road to Gao on day {k} of the month, "
                                  f"officials in district {k * 7} said.", language="en") for k in range(300)]
    twin = Article.from_text(articles[10].text + " Residents confirmed it.", language="en")
    twin.duplicate_of = articles[10].id
    articles.append(twin)
    annotated = [articles[k] for k in (3, 10, 77, 150, 299)] + [twin]
    records = [_record(a, "gold", [("the army", "ACTOR"), ("Gao", "LOCATION")]) for a in annotated]
    corpus = Corpus(ws.corpus_dir, shard_size=40)
    with corpus.lock():
        corpus.append(articles)
    _write(ws, [], {"gold": records})
    return ws, annotated


def _rows(path: Path) -> dict[str, tuple[str, tuple[str, ...]]]:
    ds = load_from_disk(str(path))
    return {ex["doc_id"]: (split, tuple(ex["tokens"])) for split in ds for ex in ds[split]}


def test_a_few_annotated_articles_are_read_without_a_pass_over_the_corpus(
        workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws, annotated = _big_workspace(workspace)
    assert len(Corpus(ws.corpus_dir).shard_paths()) > 5

    def no_full_pass(self: Corpus) -> None:
        raise AssertionError("export read every shard for 6 of 301 articles")

    with monkeypatch.context() as m:
        m.setattr(Corpus, "__iter__", no_full_pass)
        m.setattr(Corpus, "iter_raw", no_full_pass)
        result = export(ws, tmp_path / "located", ExportOptions("hf"))
    assert result.documents == len(annotated)
    located = _rows(tmp_path / "located")
    assert set(located) == {a.id for a in annotated}
    # the near-duplicate pair stays in one split
    assert located[annotated[1].id][0] == located[annotated[-1].id][0]
    # reading every shard instead gives the same dataset
    monkeypatch.setattr(export_pipeline, "LOCATE_SHARE", 0.0)
    export(ws, tmp_path / "scanned", ExportOptions("hf"))
    assert _rows(tmp_path / "scanned") == located
