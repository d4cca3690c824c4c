"""Golden files: doccano-transformer's per-user CoNLL output, spaCy's convert examples, and our own expected files.

doccano-transformer tokenizes by whitespace; newsner uses spaCy's blank English tokenizer, which also splits
hyphens between letters ("AL-AIN" → "AL - AIN") and inside dates ("1996-12-06" → "1996 - 12 - 06"). The
comparison below is token by token: wherever their token is several of ours, our pieces must concatenate to it,
the first piece must carry their tag and the others continue it (I- of the same entity, or O) — and those splits
must be exactly the documented ones, nothing else.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from newsner.annotations import import_annotations, parse_label_map
from newsner.export import ExportOptions, export
from newsner.workspace import Workspace

DATA = Path(__file__).parent / "data"
EXPECTED = DATA / "expected"
TRANSFORMER_IDS = {"12": "LOC", "13": "PER", "14": "ORG"}
# Every token doccano-transformer kept whole and spaCy splits, with the reason (see the module docstring).
DOCUMENTED_SPLITS = {
    "AL-AIN": "infix hyphen between letters",
    "1996-12-06": "hyphens inside a date",
}


def _blocks(text: str) -> list[list[tuple[str, str]]]:
    """Sentences of (token, tag); -DOCSTART- lines become an empty sentence marker."""
    out: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    for line in text.splitlines():
        if not line.strip():
            if current:
                out.append(current)
                current = []
            continue
        fields = line.split()
        if fields[0] == "-DOCSTART-":
            out.append([])
            continue
        current.append((fields[0], fields[-1]))
    if current:
        out.append(current)
    return out


def _compare(theirs: list[list[tuple[str, str]]], ours: list[list[tuple[str, str]]]) -> set[str]:
    """Assert the token-by-token agreement described above; return the tokens of theirs that we split."""
    assert len(theirs) == len(ours), "documents and sentences must line up"
    split: set[str] = set()
    for t_sent, o_sent in zip(theirs, ours, strict=True):
        i = 0
        for token, tag in t_sent:
            pieces = [o_sent[i]]
            i += 1
            while "".join(p[0] for p in pieces) != token:
                assert i < len(o_sent) and len("".join(p[0] for p in pieces)) < len(token), (token, pieces)
                pieces.append(o_sent[i])
                i += 1
            assert pieces[0][1] == tag, (token, pieces, tag)
            follow = "O" if tag == "O" else f"I-{tag[2:]}"
            assert all(p[1] == follow for p in pieces[1:]), (token, pieces)
            if len(pieces) > 1:
                split.add(token)
        assert i == len(o_sent)
    return split


def _their_tags(path: Path) -> list[list[tuple[str, str]]]:
    blocks = _blocks(path.read_text())
    return [[(tok, tag if tag == "O" else f"{tag[:2]}{TRANSFORMER_IDS.get(tag[2:], tag[2:])}") for tok, tag in s]
            for s in blocks]


@pytest.fixture
def ws(workspace: Path) -> Workspace:
    shutil.copy(DATA / "labels_conll2003.json", workspace / "annotations" / "labels.json")
    return Workspace.at(workspace)


def _export_conll(ws: Workspace, layer: str, out: Path) -> str:
    export(ws, out, ExportOptions("conll", layer=layer, splits=(1.0, 0.0, 0.0)))
    assert (out / "validation.conll").read_text() == "" and (out / "test.conll").read_text() == ""
    return (out / "train.conll").read_text()


def _golden(name: str, produced: str) -> None:
    """Compare with tests/data/expected/NAME (NEWSNER_REGEN_GOLDEN=1 rewrites it after a deliberate change)."""
    path = EXPECTED / name
    if os.environ.get("NEWSNER_REGEN_GOLDEN"):
        path.write_text(produced)
    assert produced == path.read_text()


@pytest.mark.parametrize("user", ["user1", "user2"])
def test_doccano_transformer_conll_per_user(ws: Workspace, shared_data: Path, tmp_path: Path, user: str) -> None:
    src = shared_data / "doccano_transformer"
    import_annotations(ws, [src / "labeling.jsonl"], fmt="doccano",
                       label_map=parse_label_map([",".join(f"{k}={v}" for k, v in TRANSFORMER_IDS.items())],
                                                 ws.label_schema()))
    produced = _export_conll(ws, user, tmp_path / user)
    split = _compare(_their_tags(src / f"labeling.conll2003.{user}"), _blocks(produced))
    assert split == set(DOCUMENTED_SPLITS)
    _golden(f"labeling.conll2003.{user}", produced)


def test_doccano_transformer_text_labels(ws: Workspace, shared_data: Path, tmp_path: Path) -> None:
    src = shared_data / "doccano_transformer"
    import_annotations(ws, [src / "labeling_text_label.jsonl"], fmt="doccano", annotator="user0")
    produced = _export_conll(ws, "user0", tmp_path / "user0")
    split = _compare(_their_tags(src / "labeling_text_label.conll2003.user0"), _blocks(produced))
    assert split == set(DOCUMENTED_SPLITS)
    _golden("labeling_text_label.conll2003.user0", produced)


@pytest.mark.parametrize("stem", ["ner-token-per-line-conll2003", "ner-token-per-line-with-pos",
                                  "ner-token-per-line", "ner-sent-per-line"])
def test_spacy_convert_examples_survive_import_and_export(workspace: Path, shared_data: Path, tmp_path: Path,
                                                          stem: str) -> None:
    """spaCy's example .iob → import → export conll gives the same tokens and tags (no tokenization difference)."""
    shutil.copy(DATA / "labels_ontonotes.json", workspace / "annotations" / "labels.json")
    ws = Workspace.at(workspace)
    src = shared_data / "spacy" / f"spacy_example_{stem}.iob"
    import_annotations(ws, [src], fmt="conll")
    produced = _export_conll(ws, "imported", tmp_path / "out")
    ours = [(tok, tag) for sent in _blocks(produced) for tok, tag in sent]
    if stem == "ner-sent-per-line":  # word|POS|TAG tokens, one sentence a line
        theirs = [(f.split("|")[0], f.split("|")[-1]) for line in src.read_text().splitlines() for f in line.split()]
    else:
        theirs = [(tok, tag) for sent in _blocks(src.read_text()) for tok, tag in sent]
    assert len(theirs) == 66
    assert ours == theirs
