from __future__ import annotations

import re
from pathlib import Path

from newsner.annotations_store import AnnotationStore
from newsner.corpus import Corpus
from newsner.schema import AnnotationRecord, Article, Span


def test_report_shows_corpus_layers_and_agreement(cli, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    texts = ["Wagner fighters left <Kidal> on Monday.", "The army said 5 died in Gao."]
    arts = [Article.from_text(t, source="Sahel Monitor", published="2024-07-29") for t in texts]
    corpus = Corpus(workspace / "corpus")
    with corpus.lock():
        corpus.append(arts)
    store = AnnotationStore(workspace / "annotations")
    for layer, label in (("alice", "LOCATION"), ("bob", "ACTOR")):
        start = texts[0].index("Kidal")
        store.write_layer(layer, [AnnotationRecord(arts[0].id, arts[0].text_sha256, layer,
                                                   [Span(start, start + 5, label, "Kidal")], "confirmed")])
    out = workspace / "report.html"
    result = cli("report", "--out", str(out))
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert "2 articles" in page and "Sahel Monitor" in page and "2024-07" in page
    assert re.search(r"<td>alice</td><td class=\"n\">1</td><td class=\"n\">1</td><td class=\"n\">0</td>"
                     r"<td class=\"n\">1</td>", page)  # documents, confirmed, ACTOR 0, LOCATION 1
    assert "alice / bob" in page  # agreement: same span, different label
    assert "<Kidal>" not in page and "<script" not in page  # text is escaped; nothing executable


def test_report_on_an_empty_workspace_says_what_to_run(cli, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("report", "--out", str(workspace / "r.html"))
    assert result.exit_code == 0
    page = (workspace / "r.html").read_text()
    assert "newsner ingest" in page and "newsner doccano pull" in page and "ACTOR" in page
    folder = cli("report", "--out", str(workspace))
    assert folder.exit_code != 0
