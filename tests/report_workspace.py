"""A small workspace with something for every plot of the report: three annotators pulled on different days,
gold, two rounds, an export with alignment problems, a learning curve, and (added to gold after the export) one
article whose two sources give conflicting casualty figures."""

from __future__ import annotations

import json
from pathlib import Path

from newsner.annotations.store import AnnotationStore
from newsner.corpus.store import Corpus
from newsner.export import ExportOptions, export
from newsner.schema import AnnotationRecord, Article, Relation, Span
from newsner.workspace import Workspace

CONFLICT = ("Clashes near Kidal. At least 17 dead, a rebel spokesman said. "
            "The army said five soldiers died in Kidal.")
TEXTS = [f"Report {i}: Wagner fighters attacked Gao. At least {i + 3} dead, a U.S.-based monitor said."
         for i in range(24)]


def _span(text: str, words: str, label: str) -> Span:
    start = text.index(words)
    return Span(start, start + len(words), label, words)


def build(root: Path) -> Workspace:
    ws = Workspace.at(root)
    arts = [Article.from_text(t, source="Sahel Monitor", published="2024-07-29", language="en") for t in TEXTS]
    corpus = Corpus(ws.corpus_dir)
    with corpus.lock():
        corpus.append(arts)
    store = AnnotationStore(ws.annotations_dir)
    days = ["2026-11-20", "2026-11-21", "2026-11-23", "2026-11-24"]
    for k, name in enumerate(("alice", "bob", "chen")):
        records = []
        for i, a in enumerate(arts[: 20 - 4 * k]):
            spans = [_span(a.text, "Wagner fighters", "ACTOR"), _span(a.text, "Gao", "LOCATION" if k < 2 or i % 2
                                                                          else "ACTOR")]
            origin = {"server": "http://127.0.0.1:8000", "project": "newsner",
                      "pulled_at": f"{days[i % (len(days) - k)]}T10:00:00+00:00"}
            records.append(AnnotationRecord(a.id, a.text_sha256, name, spans, "confirmed", origin=origin))
        store.write_layer(name, records)
    gold = [AnnotationRecord(a.id, a.text_sha256, "gold",
                             [_span(a.text, "Wagner fighters", "ACTOR"), _span(a.text, "Gao", "LOCATION"),
                              _span(a.text, f"At least {i + 3} dead", "CASUALTY"),
                              _span(a.text, "U.S", "CLAIM_SOURCE")],  # inside "U.S.-based": misaligned
                             "confirmed") for i, a in enumerate(arts)]
    store.write_layer("gold", gold)
    rounds = [{"round": 1, "created_at": "2026-11-20T09:00:00+00:00", "strategy": "random", "seed": 0,
               "requested": 12, "selected": 12, "model": None, "project": "newsner",
               "doc_ids": [a.id for a in arts[:12]]},
              {"round": 2, "created_at": "2026-11-23T09:00:00+00:00", "strategy": "uncertain", "seed": 0,
               "requested": 12, "selected": 12, "model": "models/baseline/model-best", "project": "newsner",
               "doc_ids": [a.id for a in arts[12:]]}]
    (ws.annotations_dir / "rounds.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rounds))
    export(ws, root / "exports" / "hf", ExportOptions("hf"))
    curve = {"created_at": "2026-11-24T12:00:00+00:00", "data": "exports/spacy", "split": "test",
             "unit": "document",
             "points": [{"fraction": f, "train_docs": int(20 * f), "train_examples": int(20 * f),
                         "train_documents": int(20 * f),
                         "f1": {"ACTOR": 0.3 + 0.5 * f, "LOCATION": 0.2 + 0.6 * f, "CASUALTY": 0.1 * f,
                                "CLAIM_SOURCE": 0.0, "overall": 0.2 + 0.5 * f}}
                        for f in (0.25, 0.5, 0.75, 1.0)],
             "evidence": {"eval_examples": 240, "eval_entities": 700, "delta": 0.125, "ci95": [0.06, 0.19],
                          "seeds": 1},
             "verdict": "F1 still rises with more data: annotate more."}
    _add_conflict(ws, corpus, store)
    (root / "models" / "baseline").mkdir(parents=True)
    (root / "models" / "baseline" / "curve.json").write_text(json.dumps(curve))
    return ws


def _add_conflict(ws: Workspace, corpus: Corpus, store: AnnotationStore) -> None:
    art = Article.from_text(CONFLICT, title="Kidal clashes", source="Sahel Monitor", published="2024-07-30",
                            language="en")
    with corpus.lock():
        corpus.append([art])
    spans = sorted([_span(CONFLICT, "At least 17 dead", "CASUALTY"),
                    _span(CONFLICT, "a rebel spokesman", "CLAIM_SOURCE"),
                    _span(CONFLICT, "The army", "CLAIM_SOURCE"), _span(CONFLICT, "five soldiers died", "CASUALTY")])
    # sorted: 0 "At least 17 dead", 1 "a rebel spokesman", 2 "The army", 3 "five soldiers died"
    record = AnnotationRecord(art.id, art.text_sha256, "gold", spans, "confirmed",
                              relations=[Relation(0, 1, "CLAIMED_BY"), Relation(3, 2, "CLAIMED_BY")])
    store.write_layer("gold", [*store.read("gold"), record])


def build_misleading(root: Path, outside: Path) -> Workspace:
    """A workspace where a careless report would say wrong things (issue 18): every pull on one day (Dec 02),
    the pushing account's unconfirmed suggestions in its own layer ("admin"), an annotator whose only records
    were created by opening documents with auto-labeling on ("dana", unconfirmed), pattern suggestions imported as
    confirmed records ("patterns", origin.suggester), a learning curve of 88
    sentence examples from 11 documents scored on a 2-example test split where the 25 % model beat the 100 %
    one (its file still says "more annotation still helps"), and the only export written to `outside`."""
    from newsner.export.card import record_export

    ws = Workspace.at(root)
    arts = [Article.from_text(t, source="Sahel Monitor", published="2024-07-29", language="en") for t in TEXTS[:12]]
    corpus = Corpus(ws.corpus_dir)
    with corpus.lock():
        corpus.append(arts)
    store = AnnotationStore(ws.annotations_dir)
    origin = {"server": "http://127.0.0.1:8000", "project": "newsner", "pulled_at": "2026-12-02T10:00:00+00:00"}
    suggested = {"suggester": "patterns"}  # pre-annotate's mark: a suggestion even when imported as confirmed
    layers = (("alice", "confirmed", arts[:10], origin), ("bob", "confirmed", arts[2:12], origin),
              ("admin", "unconfirmed", arts, origin), ("dana", "unconfirmed", arts[:5], origin),
              ("patterns", "confirmed", arts, suggested))
    for name, status, docs, where in layers:
        store.write_layer(name, [AnnotationRecord(
            a.id, a.text_sha256, name, [_span(a.text, "Wagner fighters", "ACTOR"), _span(a.text, "Gao", "LOCATION")],
            status, origin=where) for a in docs])
    store.write_layer("gold", [AnnotationRecord(a.id, a.text_sha256, "gold", [_span(a.text, "Gao", "LOCATION")],
                                                "confirmed") for a in arts])
    export(ws, outside, ExportOptions("hf"))
    assert record_export(ws, outside, "hf") is None
    curve = {"created_at": "2026-12-02T12:00:00+00:00", "data": "exports/spacy", "split": "test",
             "evaluated_on": "exports/spacy/test.spacy", "unit": "sentence",
             "points": [{"fraction": f, "train_docs": n, "train_examples": n, "train_documents": d,
                         "f1": {"ACTOR": o, "LOCATION": o, "CASUALTY": 0.0, "CLAIM_SOURCE": 0.0, "overall": o}}
                        for f, n, d, o in ((0.25, 22, None, 0.8), (0.5, 44, None, 0.5), (0.75, 66, None, 0.4),
                                           (1.0, 88, 11, 0.6))],
             "evidence": {"eval_examples": 2, "eval_entities": 3, "delta": 0.2, "ci95": [0.0, 0.5], "seeds": 1},
             "verdict": "the last 25% of the training data added +0.20 F1: more annotation still helps"}
    (root / "models" / "baseline").mkdir(parents=True)
    (root / "models" / "baseline" / "curve.json").write_text(json.dumps(curve))
    return ws
