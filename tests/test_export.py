"""Export: DatasetDict / DocBin / CoNLL written, loaded back and checked; splits; report; CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from newsner.annotations import import_annotations
from newsner.annotations.store import AnnotationStore
from newsner.corpus.store import Corpus
from newsner.errors import AlignmentError, ExportError, InputError
from newsner.export import ExportOptions, export, parse_splits, split_of
from newsner.schema import AnnotationRecord, Article, Span
from newsner.workspace import Workspace

SEED_TEXT = ("Mali's army and Wagner fighters attacked Tinzaouatene. At least 17 dead, a rebel spokesman said.\n\n"
             "The U.S.-backed junta in Bamako denied it.")


def _record(article: Article, layer: str, spans: list[tuple[str, str]], status: str = "confirmed",
            occurrence: int = 0) -> AnnotationRecord:
    out = []
    for words, label in spans:
        start = -1
        for _ in range(occurrence + 1):
            start = article.text.index(words, start + 1)
        out.append(Span(start, start + len(words), label, words))
    return AnnotationRecord(article.id, article.text_sha256, layer, out, status)


def _write(ws: Workspace, articles: list[Article], layers: dict[str, list[AnnotationRecord]]) -> None:
    corpus = Corpus(ws.corpus_dir)
    with corpus.lock():
        corpus.append(articles)
    store = AnnotationStore(ws.annotations_dir)
    for layer, recs in layers.items():
        store.write_layer(layer, recs)


@pytest.fixture
def ws(workspace: Path) -> Workspace:
    """A corpus of 41 articles: the seed-like one, a near-duplicate cluster, 37 generic ones, an unconfirmed one."""
    w = Workspace.at(workspace)
    seed = Article.from_text(SEED_TEXT, source="Sahel Monitor", published="2024-07-29", language="en")
    rep = Article.from_text("Wagner fighters left Kidal on Monday. Mali's army moved in.", language="en")
    dup = Article.from_text("Wagner fighters left Kidal on Monday! Mali's army moved in.", language="en",
                            duplicate_of=rep.id)
    generic = [Article.from_text(f"Report {i}: fighters attacked Gao. Officials in Bamako said {i} died.",
                                 language="en") for i in range(37)]
    draft = Article.from_text("Unfinished: Wagner in Menaka.", language="en")
    gold = [
        _record(seed, "gold", [("Mali's army", "ACTOR"), ("Wagner fighters", "ACTOR"), ("Tinzaouatene", "LOCATION"),
                               ("At least 17 dead", "CASUALTY"), ("a rebel spokesman", "CLAIM_SOURCE"),
                               ("U.S", "ACTOR"),           # inside the token "U.S.-backed": misaligned
                               ("Bamako", "LOCATION"), ("Bamako denied", "ACTOR")]),  # overlapping
        _record(rep, "gold", [("Wagner fighters", "ACTOR"), ("Kidal", "LOCATION")]),
        _record(dup, "gold", [("Wagner fighters", "ACTOR"), ("Kidal", "LOCATION")]),
        *[_record(a, "gold", [("Gao", "LOCATION"), ("Officials in Bamako", "CLAIM_SOURCE")]) for a in generic],
        _record(draft, "gold", [("Wagner", "ACTOR")], status="unconfirmed"),
    ]
    _write(w, [seed, rep, dup, *generic, draft], {"gold": gold})
    return w


def _entities(tokens: list[str], tags: list[int], names: list[str]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for tok, t in zip(tokens, tags, strict=True):
        name = names[t]
        if name.startswith("B-"):
            out.append((tok, name[2:]))
        elif name.startswith("I-"):
            assert out and out[-1][1] == name[2:], "I- must continue an entity (valid IOB2)"
            out[-1] = (out[-1][0] + " " + tok, name[2:])
    return out


def test_hf_dataset_loads_like_conll2003(ws: Workspace, tmp_path: Path) -> None:
    from datasets import ClassLabel, List, Value, load_from_disk

    result = export(ws, tmp_path / "hf", ExportOptions("hf"))
    ds = load_from_disk(str(tmp_path / "hf"))
    assert list(ds) == ["train", "validation", "test"]
    features = ds["train"].features
    names = ws.label_schema().bio_tags()
    assert features["tokens"] == List(Value("string"))
    assert features["ner_tags"] == List(ClassLabel(names=names))
    assert features["ner_tags"].feature.names == names  # includes labels with no data at all, in schema order
    assert set(features) == {"id", "doc_id", "tokens", "ner_tags", "source", "published", "language",
                             "relations"}  # relations: the schema defines relation types
    total = sum(len(ds[s]) for s in ds)
    assert total == sum(st.examples for st in result.splits.values())
    assert result.documents == 40  # the unconfirmed one is left out
    rows = [r for s in ds for r in ds[s]]
    seed_rows = sorted((r for r in rows if r["source"] == "Sahel Monitor"), key=lambda r: r["id"])
    assert [r["id"].rsplit("-", 1)[1] for r in seed_rows] == ["0", "1", "2"]  # three sentences
    assert seed_rows[0]["published"] == "2024-07-29" and seed_rows[0]["language"] == "en"
    ents = [e for r in seed_rows for e in _entities(r["tokens"], r["ner_tags"], names)]
    assert ents == [("Mali 's army", "ACTOR"), ("Wagner fighters", "ACTOR"), ("Tinzaouatene", "LOCATION"),
                    ("At least 17 dead", "CASUALTY"), ("a rebel spokesman", "CLAIM_SOURCE"),
                    ("Bamako denied", "ACTOR")]
    # label counts per split add up to what the tags say
    for split in ds:
        counted = {lb: 0 for lb in result.labels}
        for r in ds[split]:
            for _, lb in _entities(r["tokens"], r["ner_tags"], names):
                counted[lb] += 1
        assert counted == {lb: result.splits[split].entities.get(lb, 0) for lb in result.labels}


def test_alignment_report_names_every_dropped_span(ws: Workspace, tmp_path: Path) -> None:
    result = export(ws, tmp_path / "hf", ExportOptions("hf"))
    issues = [json.loads(line) for line in (tmp_path / "hf/alignment.jsonl").read_text().splitlines()]
    assert {(i["text"], i["kind"], i["resolution"]) for i in issues} == {
        ("U.S", "misaligned", "dropped"), ("Bamako", "overlap", "dropped")}
    assert result.alignment["dropped_misaligned"] == 1 and result.alignment["dropped_overlap"] == 1
    assert all(i["doc_id"] == Article.from_text(SEED_TEXT).id for i in issues)
    card = (tmp_path / "hf/README.md").read_text()
    assert "| dropped misaligned | 1 |" in card and "| dropped overlap | 1 |" in card
    assert "label schema version 2" in card and "gold (40)" in card and "1 unconfirmed left out" in card
    for split, st in result.splits.items():
        assert f"| {split} | {st.examples} | {st.documents} | {st.tokens} |" in card
    summary = json.loads((tmp_path / "hf/export.json").read_text())
    assert summary["alignment_issues"] == 2 and summary["ner_tags"] == ws.label_schema().bio_tags()
    expand = export(ws, tmp_path / "hf2", ExportOptions("hf", resolution="expand"))
    assert expand.alignment["expanded"] == 1 and expand.alignment["dropped_misaligned"] == 0


def test_strict_fails_and_writes_nothing(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(AlignmentError, match=r"--strict: 2 span\(s\).*'U.S'"):
        export(ws, tmp_path / "hf", ExportOptions("hf", strict=True))
    assert not (tmp_path / "hf").exists() and not list(tmp_path.glob(".hf*"))


def test_splits_are_deterministic_leak_free_and_stable(ws: Workspace, tmp_path: Path) -> None:
    from datasets import load_from_disk

    export(ws, tmp_path / "a", ExportOptions("hf", seed=3))
    export(ws, tmp_path / "b", ExportOptions("hf", seed=3))

    def membership(path: Path) -> dict[str, str]:
        ds = load_from_disk(str(path))
        return {doc: split for split in ds for doc in ds[split]["doc_id"]}

    a = membership(tmp_path / "a")
    assert a == membership(tmp_path / "b")
    assert set(a.values()) == {"train", "validation", "test"}
    cluster = [art for art in Corpus(ws.corpus_dir) if "Kidal" in art.text]
    assert len(cluster) == 2 and len({a[c.id] for c in cluster}) == 1  # near-duplicates on one side
    # adding articles never moves existing ones
    extra = [Article.from_text(f"Extra {i}: clashes near Menaka.") for i in range(10)]
    _write(ws, extra, {"gold": [*AnnotationStore(ws.annotations_dir).load("gold").values(),
                                *[_record(e, "gold", [("Menaka", "LOCATION")]) for e in extra]]})
    export(ws, tmp_path / "c", ExportOptions("hf", seed=3))
    c = membership(tmp_path / "c")
    assert {d: c[d] for d in a} == a and len(c) == len(a) + 10
    assert split_of("x", 0, (1.0, 0.0, 0.0)) == "train" and split_of("x", 0, (0.0, 0.0, 1.0)) == "test"


def test_units_and_max_tokens(ws: Workspace, tmp_path: Path) -> None:
    from datasets import load_from_disk

    doc = export(ws, tmp_path / "doc", ExportOptions("hf", unit="document"))
    assert sum(s.examples for s in doc.splits.values()) == 40
    win = export(ws, tmp_path / "win", ExportOptions("hf", unit="window", max_tokens=6))
    ds = load_from_disk(str(tmp_path / "win"))
    assert max(len(t) for s in ds for t in ds[s]["tokens"]) <= 6
    assert win.alignment["entities_split"] == 0  # cuts move before entities when they can
    tiny = export(ws, tmp_path / "tiny", ExportOptions("hf", unit="sentence", max_tokens=2))
    assert tiny.alignment["entities_split"] >= 1  # "At least 17 dead" cannot fit in 2 tokens: split and named
    issues = (tmp_path / "tiny/alignment.jsonl").read_text()
    assert "longer_than_max_tokens" in issues and "At least 17 dead" in issues
    names = ws.label_schema().bio_tags()
    ds = load_from_disk(str(tmp_path / "tiny"))
    for s in ds:
        for r in ds[s]:
            _entities(r["tokens"], r["ner_tags"], names)  # every example is valid IOB2 on its own


def test_unconfirmed_and_layers(ws: Workspace, tmp_path: Path) -> None:
    with_drafts = export(ws, tmp_path / "all", ExportOptions("hf", include_unconfirmed=True))
    assert with_drafts.documents == 41
    with pytest.raises(ExportError, match="no annotation layer 'alice'"):
        export(ws, tmp_path / "x", ExportOptions("hf", layer="alice"))
    seed = Article.from_text(SEED_TEXT)
    store = AnnotationStore(ws.annotations_dir)
    store.write_layer("alice", [_record(seed, "alice", [("Wagner fighters", "ACTOR"), ("Bamako", "LOCATION")])])
    store.write_layer("bob", [_record(seed, "bob", [("Wagner fighters", "ACTOR"), ("Tinzaouatene", "LOCATION")])])
    result = export(ws, tmp_path / "maj", ExportOptions("conll", layer="majority", splits=(1.0, 0.0, 0.0)))
    assert result.documents == 1 and result.layer_names == ["alice", "bob"]
    assert result.alignment["majority_below_threshold"] == 2  # Bamako and Tinzaouatene have 1 vote of 2
    conll = (tmp_path / "maj/train.conll").read_text()
    assert "Wagner _ _ B-ACTOR" in conll and "B-LOCATION" not in conll


def test_stale_and_missing_articles_are_named(ws: Workspace, tmp_path: Path) -> None:
    store = AnnotationStore(ws.annotations_dir)
    gold = store.load("gold")
    seed_id = Article.from_text(SEED_TEXT).id
    gold[seed_id] = AnnotationRecord(seed_id, "0" * 64, "gold", [], "confirmed")
    gold["feedfeedfeedfeed"] = AnnotationRecord("feedfeedfeedfeed", "1" * 64, "gold", [], "confirmed")
    store.write_layer("gold", gold.values())
    result = export(ws, tmp_path / "hf", ExportOptions("hf"))
    assert len(result.skipped_documents) == 2
    assert any("another version of the article text" in s and seed_id in s for s in result.skipped_documents)
    assert any("feedfeedfeedfeed" in s and "not in the corpus" in s for s in result.skipped_documents)
    with pytest.raises(AlignmentError, match="2 document"):
        export(ws, tmp_path / "strict", ExportOptions("hf", strict=True))


def test_docbin_loads_back_with_spacy(ws: Workspace, tmp_path: Path) -> None:
    import spacy
    from spacy.tokens import DocBin

    result = export(ws, tmp_path / "sp", ExportOptions("spacy", unit="document", splits=(1.0, 0.0, 0.0)))
    nlp = spacy.blank("en")
    docs = list(DocBin().from_disk(tmp_path / "sp/train.spacy").get_docs(nlp.vocab))
    assert len(docs) == result.splits["train"].examples == 40
    assert list(DocBin().from_disk(tmp_path / "sp/test.spacy").get_docs(nlp.vocab)) == []
    seed = next(d for d in docs if d.text.startswith("Mali's army"))
    assert seed.text == SEED_TEXT  # whitespace tokens kept: the text is exact
    assert [(e.text, e.label_) for e in seed.ents] == [
        ("Mali's army", "ACTOR"), ("Wagner fighters", "ACTOR"), ("Tinzaouatene", "LOCATION"),
        ("At least 17 dead", "CASUALTY"), ("a rebel spokesman", "CLAIM_SOURCE"), ("Bamako denied", "ACTOR")]
    sentences = export(ws, tmp_path / "sp2", ExportOptions("spacy", splits=(1.0, 0.0, 0.0)))
    sdocs = list(DocBin().from_disk(tmp_path / "sp2/train.spacy").get_docs(nlp.vocab))
    assert len(sdocs) == sentences.splits["train"].examples
    assert "Mali's army and Wagner fighters attacked Tinzaouatene." in [d.text for d in sdocs]


def test_conll_round_trip_gives_the_same_spans(workspace: Path, shared_data: Path, tmp_path: Path) -> None:
    shutil.copy(Path(__file__).parent / "data/labels_conll2003.json", workspace / "annotations/labels.json")
    ws = Workspace.at(workspace)
    import_annotations(ws, [shared_data / "conll/wikigold_first300sent.conll"], fmt="conll", annotator="first")
    first = AnnotationStore(ws.annotations_dir).load("first")
    export(ws, tmp_path / "conll", ExportOptions("conll", layer="first"))
    files = [tmp_path / "conll" / f"{s}.conll" for s in ("train", "validation", "test")]
    report = import_annotations(ws, files, fmt="conll", annotator="second")
    assert report.articles_added == 0 and not report.rejected  # back onto the same articles
    second = AnnotationStore(ws.annotations_dir).load("second")
    assert {d: r.spans for d, r in second.items()} == {d: r.spans for d, r in first.items()}
    # the same through BIOES and IOB1 files
    for scheme in ("bioes", "iob1"):
        export(ws, tmp_path / scheme, ExportOptions("conll", layer="first", conll_scheme=scheme))
        import_annotations(ws, [tmp_path / scheme], fmt="conll", annotator=scheme, scheme=scheme)
        again = AnnotationStore(ws.annotations_dir).load(scheme)
        assert {d: r.spans for d, r in again.items()} == {d: r.spans for d, r in first.items()}


def test_jobs_do_not_change_the_output(ws: Workspace, tmp_path: Path) -> None:
    export(ws, tmp_path / "one", ExportOptions("conll"))
    export(ws, tmp_path / "two", ExportOptions("conll", jobs=2))
    for split in ("train", "validation", "test"):
        assert (tmp_path / "one" / f"{split}.conll").read_bytes() == (tmp_path / "two" / f"{split}.conll").read_bytes()


def test_parquet_and_jsonl(ws: Workspace, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    result = export(ws, tmp_path / "hf", ExportOptions("hf", parquet=True, jsonl=True))
    table = pq.read_table(tmp_path / "hf/parquet/train.parquet")
    assert table.num_rows == result.splits["train"].examples
    lines = (tmp_path / "hf/jsonl/train.jsonl").read_text().splitlines()
    assert len(lines) == result.splits["train"].examples and set(json.loads(lines[0])) >= {"tokens", "ner_tags"}


def test_out_folder_rules(ws: Workspace, tmp_path: Path) -> None:
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    with pytest.raises(ExportError, match="is not a newsner export"):
        export(ws, other, ExportOptions("hf"))
    assert (other / "notes.txt").read_text() == "keep me"
    export(ws, tmp_path / "hf", ExportOptions("hf"))
    export(ws, tmp_path / "hf", ExportOptions("conll"))  # an earlier export is replaced as a whole
    assert not (tmp_path / "hf/train").exists() and (tmp_path / "hf/train.conll").exists()
    with pytest.raises(InputError, match="--splits"):
        parse_splits("0.5,0.5")
    with pytest.raises(InputError, match="--parquet"):
        export(ws, tmp_path / "sp", ExportOptions("spacy", parquet=True))


# ------------------------------------------------------------------------------------------------- CLI
def test_cli_export_prints_splits_sizes_and_label_counts(cli, ws: Workspace, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("export", "hf", "--out", str(tmp_path / "hf"))
    assert result.exit_code == 0, result.output
    out = result.stdout
    for word in ("train", "validation", "test", "examples", "CASUALTY", "dropped misaligned", "alignment.jsonl",
                 "README.md", "1 unconfirmed record(s) left out"):
        assert word in out, word
    strict = cli("export", "conll", "--out", str(tmp_path / "c"), "--strict")
    assert strict.exit_code == 1 and strict.stderr.startswith("Error: --strict: 2 span(s)")
    bad = cli("export", "spacy", "--out", str(tmp_path / "s"), "--splits", "1,1,1")
    assert bad.exit_code == 1 and "--splits" in bad.stderr
    missing = cli("export", "hf", "--out", str(tmp_path / "m"), "--layer", "nobody")
    assert missing.exit_code == 1 and "no annotation layer 'nobody'" in missing.stderr


def test_cli_export_without_corpus(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("export", "hf", "--out", str(tmp_path / "hf"))
    assert result.exit_code == 1 and "newsner ingest" in result.stderr


def test_small_exports_leave_no_split_empty() -> None:
    from newsner.export import small_corpus_splits

    fractions = (0.8, 0.1, 0.1)
    for seed in range(30):
        clusters = [f"article-{seed}-{i}" for i in range(10)]
        out = small_corpus_splits(clusters, seed, fractions)
        assert set(out) == set(clusters)
        assert set(out.values()) == {"train", "validation", "test"}, seed
        # only what was needed moved: at most one cluster per split that the hash left empty
        hashed = {c: split_of(c, seed, fractions) for c in clusters}
        empty = {"train", "validation", "test"} - set(hashed.values())
        assert sum(out[c] != hashed[c] for c in clusters) == len(empty)
    assert set(small_corpus_splits(["a", "b"], 0, fractions).values()) <= {"train", "validation", "test"}
    assert small_corpus_splits(["a", "b", "c"], 0, (1.0, 0.0, 0.0)) == {"a": "train", "b": "train", "c": "train"}


def test_a_damaged_export_list_is_set_aside_with_one_line(tmp_path: Path) -> None:
    """A corrupt .newsner/exports.json is neither silently overwritten nor fatal: it is kept beside the new list
    and the user gets one line naming the file and where it broke."""
    from newsner.export.card import record_export, recorded_exports

    w = Workspace.at(tmp_path / "ws")
    w.state_dir.mkdir(parents=True, exist_ok=True)
    record = w.state_dir / "exports.json"
    record.write_text('{"exports": [{"path": "/data/old-export"}\n', encoding="utf-8")  # cut off mid-write
    note = record_export(w, tmp_path / "out", "hf")
    assert note is not None and "\n" not in note
    assert str(record) in note and "line 2" in note and "exports.json.bad" in note
    assert (w.state_dir / "exports.json.bad").read_text(encoding="utf-8").startswith('{"exports": [{"path": "/data/')
    assert recorded_exports(w) == [(tmp_path / "out").resolve()]
    assert record_export(w, tmp_path / "out2", "hf") is None  # the new list is sound
