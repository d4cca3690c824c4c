from __future__ import annotations

import json
import threading
from collections import Counter
from pathlib import Path

import pytest

from newsner.corpus.store import Corpus
from newsner.errors import InputError, ModelError
from newsner.rounds.record import Round, load_rounds, record_round
from newsner.rounds.select import BestPerCluster, Candidate, select_articles
from newsner.schema import Article
from newsner.workspace import Workspace
from tests.model_fixtures import TOWNS, train_tiny_model

SOURCES = ["afp", "reuters", "bbc", "aljazeera"]


def _corpus(root: Path, n: int = 60) -> list[Article]:
    """n articles over 4 sources and 3 months; every 5th article is a near duplicate of the one before it."""
    arts: list[Article] = []
    for i in range(n):
        dup = arts[-1].id if i % 5 == 4 else None
        arts.append(Article.from_text(
            f"Article {i}: Wagner fighters attacked {TOWNS[i % len(TOWNS)]} on Friday, the army said.",
            source=SOURCES[i % 4] if i < n - 3 else "rare-source", published=f"2024-0{1 + i % 3}-15",
            duplicate_of=dup))
    corpus = Corpus(root / "corpus", shard_size=17)  # several shards
    with corpus.lock():
        corpus.append(arts)
    return arts


@pytest.fixture
def ws(workspace: Path) -> Workspace:
    _corpus(workspace)
    return Workspace.at(workspace)


@pytest.mark.parametrize("strategy", ["random", "diverse"])
def test_deterministic_per_seed_and_excludes(ws: Workspace, strategy: str) -> None:
    a = select_articles(ws, 10, strategy, 3)
    assert a.doc_ids == select_articles(ws, 10, strategy, 3).doc_ids
    assert a.doc_ids != select_articles(ws, 10, strategy, 4).doc_ids
    assert a.selected == 10 == a.requested and len(set(a.doc_ids)) == 10
    exclude = set(a.doc_ids[:5])
    b = select_articles(ws, 10, strategy, 3, exclude=exclude)
    assert not exclude & set(b.doc_ids)
    # asking for more than is left returns what is left, never an excluded one
    everything = select_articles(ws, 1000, strategy, 0, exclude=exclude)
    assert not exclude & set(everything.doc_ids) and everything.selected < 1000


@pytest.mark.parametrize("strategy", ["random", "diverse"])
def test_never_two_of_one_cluster_nor_a_copy_of_an_excluded_article(ws: Workspace, strategy: str) -> None:
    arts = {a.id: a for a in Corpus(ws.corpus_dir)}
    cluster = {i: a.duplicate_of or i for i, a in arts.items()}
    every = select_articles(ws, 1000, strategy, 1)
    clusters = Counter(cluster[i] for i in every.doc_ids)
    assert clusters and max(clusters.values()) == 1
    assert every.selected == len(set(cluster.values()))
    original = next(a for a in arts.values() if a.duplicate_of).duplicate_of
    assert original is not None
    picked = select_articles(ws, 1000, strategy, 1, exclude={original})
    assert not {i for i in picked.doc_ids if cluster[i] == original}


def test_diverse_spreads_over_sources_and_months(ws: Workspace) -> None:
    arts = {a.id: a for a in Corpus(ws.corpus_dir)}
    r = select_articles(ws, 5, "diverse", 0)
    assert len({arts[i].source for i in r.doc_ids}) == 5  # 4 big sources + the rare one
    r = select_articles(ws, 12, "diverse", 0)
    per_source = Counter(arts[i].source for i in r.doc_ids)
    assert max(per_source.values()) - min(per_source.values()) <= 2
    months = Counter((arts[i].source, arts[i].published) for i in r.doc_ids if arts[i].source == "afp")
    assert max(months.values()) == 1  # afp's three picks are in three different months


def test_uncertain_without_a_model_says_what_to_run(ws: Workspace) -> None:
    with pytest.raises(ModelError, match="newsner train"):
        select_articles(ws, 5, "uncertain", 0)
    with pytest.raises(InputError, match="unknown strategy"):
        select_articles(ws, 5, "clever", 0)


def test_uncertain_picks_the_least_confident(workspace: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    model = train_tiny_model(tmp_path_factory.mktemp("tiny"), steps=60)
    ws = Workspace.at(workspace)
    # six texts the model was trained on (it is sure there) and two unlike them (where it doubts)
    known = [Article.from_text(f"Wagner fighters attacked {t} on Friday , the army said .") for t in TOWNS]
    odd = [Article.from_text(t) for t in (
        "Mr. Okonkwo , a rebel commander in northern Mali , told Reuters that 40 people died in Sikasso .",
        "The ministry said on Tuesday that the convoy of Malian soldiers reached Ansongo near the border .")]
    corpus = Corpus(ws.corpus_dir)
    with corpus.lock():
        corpus.append(known + odd)
    r = select_articles(ws, 2, "uncertain", 0, model_dir=model)
    assert r.doc_ids == select_articles(ws, 2, "uncertain", 0, model_dir=model).doc_ids
    assert set(r.doc_ids) == {a.id for a in odd}
    assert r.model and r.model.endswith("model-best") and r.strategy == "uncertain"
    r2 = select_articles(ws, 2, "uncertain", 0, model_dir=model, exclude={odd[0].id})
    assert odd[0].id not in r2.doc_ids and odd[1].id in r2.doc_ids


def test_best_per_cluster_keeps_the_smallest_keys() -> None:
    keep = BestPerCluster(3)
    for k in [9, 4, 7, 1, 8, 3, 2]:
        keep.add(Candidate(k, f"d{k}", f"c{k % 4}", "s", "m"))
    # clusters c1: 9,1 → 1; c0: 4,8 → 4; c3: 7,3 → 3; c2: 2 → best three are 1, 2, 3
    assert [c.id for c in keep.sorted()] == ["d1", "d2", "d3"]


def test_rounds_are_numbered_and_appended_under_a_lock(workspace: Path) -> None:
    ws = Workspace.at(workspace)
    assert load_rounds(ws) == []

    def one(i: int) -> None:
        record_round(ws, Round(strategy="random", seed=i, requested=2, doc_ids=[f"a{i}", f"b{i}"],
                               project="newsner"))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rounds = load_rounds(ws)
    assert sorted(r.round for r in rounds) == [1, 2, 3, 4, 5, 6]
    line = json.loads((workspace / "annotations" / "rounds.jsonl").read_text().splitlines()[0])
    assert list(line) == ["round", "created_at", "strategy", "seed", "requested", "selected", "model", "project",
                          "doc_ids"]
    assert line["selected"] == 2 and line["created_at"].endswith("Z") and line["model"] is None


def test_a_broken_rounds_line_is_named(workspace: Path) -> None:
    (workspace / "annotations" / "rounds.jsonl").write_text('{"round": 1}\n')
    with pytest.raises(InputError, match="rounds.jsonl:1"):
        load_rounds(Workspace.at(workspace))
