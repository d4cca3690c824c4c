"""Relations in exports: HF `relations` column per example, spaCy Doc.user_data, CoNLL counted, splits reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsner.annotations.store import AnnotationStore
from newsner.corpus.store import Corpus
from newsner.export import ExportOptions, export
from newsner.schema import AnnotationRecord, Article, Relation, Span
from newsner.workspace import Workspace

TEXT = ("Fighting went on. At least 17 dead, a rebel spokesman said. "
        "Wagner fighters attacked Kidal on Monday.")


def _span(text: str, words: str, label: str) -> Span:
    start = text.index(words)
    return Span(start, start + len(words), label, words)


def _ws(workspace: Path, *, relations: bool = True) -> Workspace:
    ws = Workspace.at(workspace)
    article = Article.from_text(TEXT, language="en")
    others = [Article.from_text(f"Report {i}: fighters attacked Gao. Officials said {i} died.", language="en")
              for i in range(5)]
    with Corpus(ws.corpus_dir).lock():
        Corpus(ws.corpus_dir).append([article, *others])
    spans = sorted([_span(TEXT, "At least 17 dead", "CASUALTY"), _span(TEXT, "a rebel spokesman", "CLAIM_SOURCE"),
                    _span(TEXT, "Wagner fighters", "ACTOR"), _span(TEXT, "Kidal", "LOCATION")])
    # sorted: 0 CASUALTY, 1 CLAIM_SOURCE, 2 ACTOR, 3 LOCATION
    rels = [Relation(0, 1, "CLAIMED_BY"), Relation(0, 3, "LOCATED_IN")] if relations else []
    records = [AnnotationRecord(article.id, article.text_sha256, "gold", spans, "confirmed", relations=rels)]
    records += [AnnotationRecord(a.id, a.text_sha256, "gold", [_span(a.text, "Gao", "LOCATION")], "confirmed")
                for a in others]
    AnnotationStore(ws.annotations_dir).write_layer("gold", records)
    return ws


def _issues(out: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (out / "alignment.jsonl").read_text().splitlines()]


def _all_rows(out: Path) -> list[dict[str, object]]:
    from datasets import load_from_disk

    dd = load_from_disk(str(out))
    return [row for split in dd for row in dd[split]]


def test_hf_relations_column_per_sentence_and_split_relation_reported(workspace: Path, tmp_path: Path) -> None:
    ws = _ws(workspace)
    out = tmp_path / "hf"
    result = export(ws, out, ExportOptions(fmt="hf", unit="sentence"))
    from datasets import load_from_disk

    dd = load_from_disk(str(out))
    names = dd["train"].features["relations"].feature["type"].names
    assert names == ["CLAIMED_BY", "VICTIM", "PERPETRATOR", "LOCATED_IN"]
    rows = {" ".join(r["tokens"]): r for r in _all_rows(out)}
    claim = rows["At least 17 dead , a rebel spokesman said ."]
    # entities of this sentence: 0 = CASUALTY, 1 = CLAIM_SOURCE
    assert claim["relations"] == [{"head": 0, "tail": 1, "type": names.index("CLAIMED_BY")}]
    assert all(r["relations"] == [] for k, r in rows.items() if k != claim and r is not claim)
    split = [i for i in _issues(out) if i["kind"] == "relation_split"]
    assert len(split) == 1 and split[0]["label"] == "LOCATED_IN" and "Kidal" in split[0]["detail"]
    assert result.alignment["relations"] == 2 and result.alignment["relations_kept"] == 1
    assert result.alignment["relation_split"] == 1


def test_hf_document_unit_keeps_every_relation_and_ner_columns_unchanged(workspace: Path, tmp_path: Path) -> None:
    with_rel = tmp_path / "with"
    export(_ws(workspace), with_rel, ExportOptions(fmt="hf", unit="document"))
    rows = {r["doc_id"]: r for r in _all_rows(with_rel)}
    doc = next(r for r in rows.values() if r["relations"])
    names = ["CLAIMED_BY", "VICTIM", "PERPETRATOR", "LOCATED_IN"]
    # entities in ner_tags order: CASUALTY 0, CLAIM_SOURCE 1, ACTOR 2, LOCATION 3
    assert doc["relations"] == [{"head": 0, "tail": 1, "type": 0},
                                {"head": 0, "tail": 3, "type": names.index("LOCATED_IN")}]
    assert not [i for i in _issues(with_rel) if str(i["kind"]).startswith("relation")]

    other = tmp_path / "ws2"
    (other / "annotations").mkdir(parents=True)
    (other / "annotations" / "labels.json").write_bytes((workspace / "annotations" / "labels.json").read_bytes())
    without = tmp_path / "without"
    export(_ws(other, relations=False), without, ExportOptions(fmt="hf", unit="document"))
    plain = {r["doc_id"]: r for r in _all_rows(without)}
    for doc_id, row in rows.items():
        assert row["tokens"] == plain[doc_id]["tokens"] and row["ner_tags"] == plain[doc_id]["ner_tags"]


def test_relation_whose_span_is_dropped_is_reported(workspace: Path, tmp_path: Path) -> None:
    ws = Workspace.at(workspace)
    text = "At least 17 dead in the U.S.-backed raid, officials said."
    article = Article.from_text(text, language="en")
    with Corpus(ws.corpus_dir).lock():
        Corpus(ws.corpus_dir).append([article])
    spans = sorted([_span(text, "At least 17 dead", "CASUALTY"), _span(text, "U.S", "LOCATION"),
                    _span(text, "officials", "CLAIM_SOURCE")])
    rels = [Relation(0, 1, "LOCATED_IN"), Relation(0, 2, "CLAIMED_BY")]  # "U.S" is misaligned: dropped
    AnnotationStore(ws.annotations_dir).write_layer("gold", [AnnotationRecord(
        article.id, article.text_sha256, "gold", spans, "confirmed", relations=rels)])
    out = tmp_path / "hf"
    export(ws, out, ExportOptions(fmt="hf", unit="document", allow_empty=True))
    dropped = [i for i in _issues(out) if i["kind"] == "relation_span_dropped"]
    assert len(dropped) == 1 and "U.S" in str(dropped[0]["detail"])
    assert [r["relations"] for r in _all_rows(out) if r["tokens"]] == [[{"head": 0, "tail": 1, "type": 0}]]


def test_spacy_relations_in_user_data_survive_docbin(workspace: Path, tmp_path: Path) -> None:
    import spacy
    from spacy.tokens import DocBin

    out = tmp_path / "spacy"
    export(_ws(workspace), out, ExportOptions(fmt="spacy", unit="document"))
    nlp = spacy.blank("en")
    docs = [d for s in ("train", "validation", "test")
            for d in DocBin(store_user_data=True).from_disk(out / f"{s}.spacy").get_docs(nlp.vocab)]
    doc = next(d for d in docs if d.user_data.get("relations"))
    rels = [(doc.ents[r["head"]].text, r["type"], doc.ents[r["tail"]].text) for r in doc.user_data["relations"]]
    assert rels == [("At least 17 dead", "CLAIMED_BY", "a rebel spokesman"),
                    ("At least 17 dead", "LOCATED_IN", "Kidal")]
    assert sum(bool(d.user_data.get("relations")) for d in docs) == 1


@pytest.mark.parametrize("unit", ["sentence"])
def test_conll_counts_relations_it_cannot_hold(workspace: Path, tmp_path: Path, unit: str) -> None:
    out = tmp_path / "conll"
    result = export(_ws(workspace), out, ExportOptions(fmt="conll", unit=unit))
    assert result.alignment["relation_not_representable"] == 2
    assert sum(i["kind"] == "relation_not_representable" for i in _issues(out)) == 2


def test_majority_layer_exports_the_relations_that_won_the_vote(workspace: Path, tmp_path: Path) -> None:
    ws = _ws(workspace)
    store = AnnotationStore(ws.annotations_dir)
    gold = store.read("gold")
    for name in ("alice", "bob"):
        store.write_layer(name, [AnnotationRecord(r.doc_id, r.text_sha256, name, r.spans, "confirmed",
                                                  relations=r.relations) for r in gold])
    out = tmp_path / "hf"
    export(ws, out, ExportOptions(fmt="hf", unit="document", layer="majority"))
    assert [r["relations"] for r in _all_rows(out) if r["relations"]] == [
        [{"head": 0, "tail": 1, "type": 0}, {"head": 0, "tail": 3, "type": 3}]]


def test_relations_same_with_worker_processes(workspace: Path, tmp_path: Path) -> None:
    ws = _ws(workspace)
    export(ws, tmp_path / "one", ExportOptions(fmt="hf", unit="sentence"))
    export(ws, tmp_path / "two", ExportOptions(fmt="hf", unit="sentence", jobs=2))
    key = lambda r: r["id"]  # noqa: E731
    assert sorted(_all_rows(tmp_path / "one"), key=key) == sorted(_all_rows(tmp_path / "two"), key=key)
    assert _issues(tmp_path / "one") == _issues(tmp_path / "two")


def test_strict_fails_on_a_relation_that_crosses_examples(workspace: Path, tmp_path: Path) -> None:
    from newsner.errors import AlignmentError

    with pytest.raises(AlignmentError, match="relation"):
        export(_ws(workspace), tmp_path / "hf", ExportOptions(fmt="hf", unit="sentence", strict=True))
    assert not (tmp_path / "hf").exists()
