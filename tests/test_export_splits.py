"""Splits that train: a label with examples always reaches train (whole clusters move, stable per seed), and
a label with no training examples is always warned about (CLI, export.json, dataset card)."""

from __future__ import annotations

import json
from pathlib import Path

from newsner.export import ExportOptions, export, split_of
from newsner.export.splits import plan_splits
from newsner.schema import Article
from newsner.workspace import Workspace
from tests.test_export import _record, _write

FRACTIONS = (0.8, 0.1, 0.1)


def _articles_hashing_to(split: str, template: str, n: int) -> list[Article]:
    """`n` articles whose own cluster hashes into `split` at seed 0 (found by trying texts, deterministic)."""
    out: list[Article] = []
    k = 0
    while len(out) < n:
        a = Article.from_text(template.format(k=k), language="en")
        if split_of(a.id, 0, FRACTIONS) == split:
            out.append(a)
        k += 1
    return out


def _location_in_test_workspace(root: Path) -> tuple[Workspace, list[Article]]:
    """8 ACTOR-only articles in train/validation, and the only 2 LOCATION articles both hashing into test."""
    ws = Workspace.at(root)
    actors = (_articles_hashing_to("train", "Report {k}: the army attacked at dawn.", 6)
              + _articles_hashing_to("validation", "Report {k}: the army attacked at dawn.", 2))
    places = _articles_hashing_to("test", "Shelling was heard near Gao, witness {k} said.", 2)
    records = [_record(a, "gold", [("the army", "ACTOR")]) for a in actors]
    records += [_record(a, "gold", [("Gao", "LOCATION")]) for a in places]
    _write(ws, [*actors, *places], {"gold": records})
    return ws, places


def test_a_label_only_in_test_moves_one_whole_cluster_into_train(workspace: Path, tmp_path: Path) -> None:
    ws, places = _location_in_test_workspace(workspace)
    result = export(ws, tmp_path / "hf", ExportOptions("hf"))
    assert result.splits["train"].entities["LOCATION"] == 1  # one cluster moved, not both
    assert result.splits["test"].entities["LOCATION"] == 1
    assert len(result.split_moves) == 1 and "LOCATION" in result.split_moves[0]
    assert "from test to train" in result.split_moves[0]
    summary = json.loads((tmp_path / "hf" / "export.json").read_text())
    assert summary["split_moves"] == result.split_moves
    assert "so that LOCATION has training examples" in (tmp_path / "hf" / "README.md").read_text()
    # stable for a given seed: the same cluster moves again
    again = export(ws, tmp_path / "hf2", ExportOptions("hf"))
    assert again.split_moves == result.split_moves
    from datasets import load_from_disk

    ids = {ex["doc_id"] for ex in load_from_disk(str(tmp_path / "hf"))["train"]}
    ids2 = {ex["doc_id"] for ex in load_from_disk(str(tmp_path / "hf2"))["train"]}
    assert ids == ids2 and len(ids & {a.id for a in places}) == 1


def test_labels_without_training_examples_are_warned_everywhere(workspace: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    _location_in_test_workspace(workspace)
    out = tmp_path / "spacy"
    result = cli("export", "spacy", "--out", str(out))
    assert result.exit_code == 0, result.output
    # CASUALTY and CLAIM_SOURCE have no example at all; LOCATION was repaired, so no warning for it
    assert "warning: label CASUALTY has no examples at all" in result.stderr
    assert "warning: label CLAIM_SOURCE has no examples at all" in result.stderr
    assert "LOCATION has no" not in result.stderr
    assert "split: cluster" in result.stdout
    card = (out / "README.md").read_text()
    assert "## Warnings" in card and "CASUALTY has no examples at all" in card
    # no train fraction: nothing can be moved, and the warning says why LOCATION will score 0
    none = cli("export", "conll", "--out", str(tmp_path / "c"), "--splits", "0,0.5,0.5")
    assert none.exit_code == 0, none.output
    assert "warning: label LOCATION has no training examples (2 in validation/test)" in none.stderr
    assert json.loads((tmp_path / "c" / "export.json").read_text())["warnings"]


def test_plan_streaming_and_small_agree_and_never_empty_a_split() -> None:
    clusters = [(f"c{i}", frozenset({"ACTOR"})) for i in range(40)]
    rare = [c for c in (f"r{i}" for i in range(200)) if split_of(c, 3, FRACTIONS) != "train"][:3]
    clusters += [(c, frozenset({"CASUALTY"})) for c in rare]
    small = plan_splits(clusters, 3, FRACTIONS, label_order=["ACTOR", "CASUALTY"], small=True)
    large = plan_splits(iter(clusters), 3, FRACTIONS, label_order=["ACTOR", "CASUALTY"], small=False)
    assert [m for m in small.moves if m.label] == large.moves
    assert sum(small.split(c) == "train" for c in rare) == 1
    assert {small.split(c) for c, _ in clusters} == {"train", "validation", "test"}
    # a lone training example of a label is never taken to fill an empty split
    only = [("a", frozenset({"ACTOR"})), ("b", frozenset({"LOCATION"}))]
    plan = plan_splits(only, 0, FRACTIONS, label_order=["ACTOR", "LOCATION"])
    assert {plan.split("a"), plan.split("b")} == {"train"}


def test_majority_export_ignores_rounds_file(workspace: Path, tmp_path: Path) -> None:
    ws, _ = _location_in_test_workspace(workspace)
    from newsner.annotations.store import AnnotationStore

    store = AnnotationStore(ws.annotations_dir)
    recs = list(store.read("gold"))
    store.write_layer("alice", [r.__class__(r.doc_id, r.text_sha256, "alice", r.spans, r.status) for r in recs])
    (ws.annotations_dir / "rounds.jsonl").write_text(
        json.dumps({"round": 1, "created_at": "2026-11-20T09:00:00+00:00", "strategy": "random", "seed": 0,
                    "requested": 1, "selected": 1, "model": None, "project": "newsner",
                    "doc_ids": [recs[0].doc_id]}) + "\n")
    result = export(ws, tmp_path / "m", ExportOptions("conll", layer="majority"))
    assert result.layer_names == ["alice"]  # not "rounds", not the derived gold layer
    assert result.documents == 10
