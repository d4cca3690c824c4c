from __future__ import annotations

import json
import shutil
from pathlib import Path

from newsner.corpus import Corpus
from newsner.schema import AnnotationRecord, Article

REPO = Path(__file__).resolve().parents[1]
TEXT = ("Mali's army and Wagner fighters retreated from Tinzaouaten, a spokesman for the rebels told AFP, "
        "citing at least 17 dead. 🇲🇱 Fighting moved toward Kidal.")


def _workspace_with(workspace: Path, *texts: str) -> list[Article]:
    arts = [Article.from_text(t, source="test") for t in texts]
    corpus = Corpus(workspace / "corpus")
    with corpus.lock():
        corpus.append(arts)
    shutil.copytree(REPO / "annotations" / "patterns", workspace / "annotations" / "patterns")
    return arts


def test_pre_annotate_writes_suggestions_that_fit_the_text(cli, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    (article,) = _workspace_with(workspace, TEXT)
    result = cli("pre-annotate")
    assert result.exit_code == 0, result.output
    out = workspace / "annotations" / "suggestions" / "patterns.jsonl"
    (line,) = out.read_text().splitlines()
    rec = AnnotationRecord.from_dict(json.loads(line))
    rec.check(article.text)  # offsets are code points even after the flag emoji
    found = {(s.label, s.text) for s in rec.spans}
    assert {("ACTOR", "Mali's army"), ("ACTOR", "Wagner fighters"), ("LOCATION", "Tinzaouaten"),
            ("CLAIM_SOURCE", "a spokesman for the rebels"), ("CLAIM_SOURCE", "AFP"),
            ("CASUALTY", "at least 17 dead"), ("LOCATION", "Kidal")} <= found
    assert rec.status == "unconfirmed"
    # suggestions are not an annotator layer
    assert not list((workspace / "annotations").glob("*.jsonl"))


def test_pattern_with_unknown_label_is_rejected_with_its_line(cli, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    _workspace_with(workspace, TEXT)
    bad = workspace / "bad.jsonl"
    bad.write_text('{"label": "ACTOR", "pattern": "x"}\n{"label": "GPE", "pattern": "Mali"}\n')
    result = cli("pre-annotate", "--patterns", str(bad))
    assert result.exit_code == 1
    assert "bad.jsonl:2: label 'GPE' is not in the label schema" in result.stderr
