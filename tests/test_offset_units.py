"""doccano-style offsets in UTF-16 units, code points or graphemes are detected per file; ambiguity fails clearly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsner.annotations import import_annotations
from newsner.annotations.store import AnnotationStore
from newsner.errors import FormatError
from newsner.formats.offset_units import detect_offset_unit
from newsner.text.offsets import GraphemeMap, OffsetMap
from newsner.workspace import Workspace

# Emoji, a flag (two regional indicators) and combining marks (NFD, kept NFD: é is e + U+0301) before the spans.
TEXTS = [
    "Le drapeau 🇲🇱 flotte à Kidal 🙂 depuis que le FLA est entré.",
    "🔥🔥 Attaque contre Ménaka (NFD: Me\u0301naka) revendiquée par l'EIGS.",
    "👍🏽 Troops reached Gao; 🇫🇷 soldiers left Tessalit.",
]
TARGETS = [[("Kidal", "LOCATION"), ("FLA", "ACTOR")], [("Me\u0301naka", "LOCATION"), ("EIGS", "ACTOR")],
           [("Gao", "LOCATION"), ("Tessalit", "LOCATION")]]


def _write(path: Path, unit: str) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for text, targets in zip(TEXTS, TARGETS, strict=True):
            spans = []
            for word, label in targets:
                s, e = text.index(word), text.index(word) + len(word)
                if unit == "utf16":
                    s, e = OffsetMap(text).span_to_utf16(s, e)
                elif unit == "graphemes":
                    s, e = GraphemeMap(text).span_to_graphemes(s, e)
                spans.append([s, e, label])
            fh.write(json.dumps({"text": text, "label": spans}, ensure_ascii=False) + "\n")
    return path


@pytest.mark.parametrize("unit", ["utf16", "codepoints", "graphemes"])
def test_each_unit_is_detected_and_imports_the_right_words(unit: str, workspace: Path, tmp_path: Path) -> None:
    path = _write(tmp_path / f"{unit}.jsonl", unit)
    decision = detect_offset_unit(path)
    assert decision.unit == unit and decision.telling > 0
    report = import_annotations(Workspace.at(workspace), [path], fmt="doccano", annotator="x")
    assert not report.rejected
    assert unit.replace("utf16", "UTF-16").replace("codepoints", "code points").replace(
        "graphemes", "grapheme clusters") in report.offset_units[str(path)]
    words = sorted(s.text for rec in AnnotationStore(workspace / "annotations").load("x").values()
                   for s in rec.spans)
    assert words == sorted(["Kidal", "FLA", "Ménaka", "EIGS", "Gao", "Tessalit"])


def test_ambiguous_file_fails_with_a_clear_line(tmp_path: Path, workspace: Path, cli) -> None:  # type: ignore[no-untyped-def]
    # One astral character before single-letter "words": shifted by one, every span still sits on a word.
    text = "🙂 a b c d e f"
    path = tmp_path / "amb.jsonl"
    path.write_text(json.dumps({"text": text, "label": [[4, 5, "ACTOR"]]}) + "\n")
    with pytest.raises(FormatError, match="cannot tell which unit.*--offsets"):
        detect_offset_unit(path)
    out = cli("annotations", "import", str(path))
    assert out.exit_code == 1 and "--offsets" in out.stderr and "Traceback" not in out.output
    assert not (workspace / "corpus").exists() or not any((workspace / "corpus").glob("*.jsonl"))
    forced = cli("annotations", "import", str(path), "--offsets", "codepoints")
    assert forced.exit_code == 0 and "(--offsets codepoints)" in forced.stdout


def test_cli_says_which_unit_it_used(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    out = cli("annotations", "import", str(_write(tmp_path / "script.jsonl", "codepoints")))
    assert out.exit_code == 0, out.output
    assert "offsets read as code points (detected" in out.stdout


def test_a_script_file_with_single_code_point_emoji_is_not_ambiguous(tmp_path: Path, workspace: Path) -> None:
    # Written by a Python script (code points): 🔥 is one code point and one grapheme cluster, so code points and
    # grapheme clusters read every span the same way; only UTF-16 differs. Nothing to ask the user.
    texts = ["🔥 Fighters of the FLA entered Kidal on Monday.", "Attack near Gao 🔥🔥, claimed by the EIGS."]
    words = [[("FLA", "ACTOR"), ("Kidal", "LOCATION")], [("Gao", "LOCATION"), ("EIGS", "ACTOR")]]
    path = tmp_path / "script.jsonl"
    path.write_text("".join(json.dumps({"text": t, "label": [[t.index(w), t.index(w) + len(w), lb]
                                                             for w, lb in ws]}, ensure_ascii=False) + "\n"
                            for t, ws in zip(texts, words, strict=True)), encoding="utf-8")
    decision = detect_offset_unit(path)
    assert decision.unit == "codepoints" and decision.telling == 3  # FLA, Kidal, EIGS come after an emoji
    assert "grapheme clusters read every span the same way" in decision.describe()
    report = import_annotations(Workspace.at(workspace), [path], fmt="doccano", annotator="x")
    assert not report.rejected
    got = sorted(s.text for rec in AnnotationStore(workspace / "annotations").load("x").values() for s in rec.spans)
    assert got == ["EIGS", "FLA", "Gao", "Kidal"]
