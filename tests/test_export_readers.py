"""Exports meet their readers (issue 18): JSON Lines carry tag names, the card names the command that works,
and the dataset has a licence (from --license, or from what ingest and imports recorded of the sources)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from newsner.annotations.store import AnnotationStore
from newsner.corpus.store import Corpus
from newsner.export import ExportOptions, export
from newsner.schema import AnnotationRecord, Article, Relation, Span
from newsner.workspace import Workspace

TOWNS = ["Kidal", "Gao", "Menaka", "Timbuktu", "Bamako", "Mopti"]


def _workspace(root: Path, metas: list[dict[str, Any]] | None = None) -> Workspace:
    """30 articles, each with an ACTOR, a LOCATION, a CASUALTY and its CLAIM_SOURCE linked by CLAIMED_BY."""
    ws = Workspace.at(root)
    texts = [f"Wagner fighters attacked {TOWNS[i % 6]} on day {i}. At least {i + 2} dead, the army said."
             for i in range(30)]
    arts = [Article.from_text(t, language="en", meta=(metas[i % len(metas)] if metas else {}))
            for i, t in enumerate(texts)]
    corpus = Corpus(ws.corpus_dir)
    with corpus.lock():
        corpus.append(arts)

    def span(text: str, words: str, label: str) -> Span:
        at = text.index(words)
        return Span(at, at + len(words), label, words)

    records = []
    for i, a in enumerate(arts):
        spans = sorted([span(a.text, "Wagner fighters", "ACTOR"), span(a.text, TOWNS[i % 6], "LOCATION"),
                        span(a.text, f"At least {i + 2} dead", "CASUALTY"), span(a.text, "the army", "CLAIM_SOURCE")])
        records.append(AnnotationRecord(a.id, a.text_sha256, "gold", spans, "confirmed",
                                        relations=[Relation(2, 3, "CLAIMED_BY")]))
    AnnotationStore(ws.annotations_dir).write_layer("gold", records)
    return ws


def test_jsonl_ner_tags_are_tag_names_that_load_dataset_reads(workspace: Path) -> None:
    from datasets import load_dataset, load_from_disk

    ws = _workspace(workspace)
    out = workspace / "exports" / "hf"
    export(ws, out, ExportOptions("hf", unit="document", jsonl=True))
    arrow = load_from_disk(str(out))
    names = arrow["train"].features["ner_tags"].feature.names
    first = json.loads((out / "jsonl" / "train.jsonl").read_text().splitlines()[0])
    assert all(isinstance(t, str) for t in first["ner_tags"]) and "B-ACTOR" in first["ner_tags"]
    assert [r["type"] for r in first["relations"]] == ["CLAIMED_BY"]
    # what run_ner.py does with --dataset_name <folder>/jsonl: load it, read labels as strings (startswith)
    ds = load_dataset(str(out / "jsonl"))
    assert ds["train"].features["ner_tags"].feature.dtype == "string"
    assert all(t.startswith(("B-", "I-", "O")) for row in ds["train"]["ner_tags"] for t in row)
    # row for row, the same tags as the Arrow dataset
    by_id = {row["id"]: row for row in ds["train"]}
    for row in arrow["train"]:
        assert by_id[row["id"]]["tokens"] == row["tokens"]
        assert by_id[row["id"]]["ner_tags"] == [names[t] for t in row["ner_tags"]]


def test_the_card_names_the_commands_that_work(workspace: Path) -> None:
    ws = _workspace(workspace)
    out = workspace / "exports" / "hf"
    export(ws, out, ExportOptions("hf", jsonl=True, parquet=True))
    card = (out / "README.md").read_text()
    assert "python run_ner.py --model_name_or_path bert-base-cased --dataset_name <this folder>/jsonl" in card
    assert 'load_dataset("json", data_files=' in card and '`"B-ACTOR"`' in card
    assert "(same columns; `ner_tags` as ids)." not in card  # the JSON Lines files no longer carry ids


def test_license_from_the_option_reaches_card_and_dataset_info(workspace: Path) -> None:
    from datasets import load_from_disk
    from huggingface_hub import DatasetCard

    ws = _workspace(workspace)
    out = workspace / "exports" / "hf"
    result = export(ws, out, ExportOptions("hf", license="CC-BY-4.0"))
    assert DatasetCard.load(out / "README.md").data.license == "cc-by-4.0"
    assert json.loads((out / "train" / "dataset_info.json").read_text())["license"] == "cc-by-4.0"
    assert load_from_disk(str(out))["train"].info.license == "cc-by-4.0"
    assert json.loads((out / "export.json").read_text())["license"] == "cc-by-4.0"
    assert result.source_licenses == {}


@pytest.mark.parametrize("metas, expected, says", [
    ([{"license": "CC-BY-4.0"}], "cc-by-4.0", "CC-BY-4.0 (30 articles)"),  # trafilatura's meta.license (HTML)
    ([{"re3d": {"id": "x", "source": "bbc", "license": "Apache-2.0"}}], "apache-2.0", "Apache-2.0 (30 articles)"),
    ([{"license": "CC-BY-4.0"}, {"license": "CC-BY-NC-4.0"}, {}], "other", "CC-BY-NC-4.0 (10 articles)"),
    ([{}], "unknown", "newsner export --license ID"),
    # half the articles declare nothing: the dataset's licence is not known
    ([{"license": "CC-BY-4.0"}, {}], "unknown", "CC-BY-4.0 (15 articles). 15 exported article(s) declare none."),
])
def test_license_from_the_sources(workspace: Path, metas: list[dict[str, Any]], expected: str, says: str) -> None:
    from huggingface_hub import DatasetCard

    ws = _workspace(workspace, metas)
    out = workspace / "exports" / "spacy"
    export(ws, out, ExportOptions("spacy"))
    assert DatasetCard.load(out / "README.md").data.license == expected
    assert says in (out / "README.md").read_text()


def test_cli_license_option_and_a_bad_identifier(cli, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    from huggingface_hub import DatasetCard

    _workspace(workspace)
    ok = cli("export", "conll", "--out", str(workspace / "exports" / "conll"), "--license", "mit")
    assert ok.exit_code == 0, ok.output
    assert DatasetCard.load(workspace / "exports" / "conll" / "README.md").data.license == "mit"
    bad = cli("export", "hf", "--out", str(workspace / "exports" / "hf"), "--license", "CC BY 4.0")
    assert bad.exit_code == 1 and "--license 'CC BY 4.0': expected a licence identifier" in bad.stderr
    assert bad.stderr.count("\n") == 1 and not (workspace / "exports" / "hf").exists()
