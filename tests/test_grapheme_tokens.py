"""Grapheme clusters (flags, emoji ZWJ sequences, skin tones, keycaps, combining marks) stay one token in the
tokenizer and in every export format."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsner.export import ExportOptions, export
from newsner.schema import Article
from newsner.text.align import blank_nlp, tokenize
from newsner.text.grapheme_tokens import split_clusters
from newsner.workspace import Workspace
from tests.test_export import _record, _write

FLAG = "\U0001F1F2\U0001F1F1"  # 🇲🇱
FAMILY = "\U0001F468\u200d\U0001F469\u200d\U0001F467"  # 👨‍👩‍👧
THUMB = "\U0001F44D\U0001F3FD"  # 👍🏽
KEYCAP = "#\ufe0f\u20e3"  # #️⃣
MARK = "(\u0301"  # "(" with a combining acute accent


@pytest.mark.parametrize("cluster", [FLAG, FAMILY, THUMB, KEYCAP, MARK, FLAG + "\U0001F1EB\U0001F1F7"])
def test_tokenizer_keeps_clusters_whole(cluster: str) -> None:
    nlp, _ = blank_nlp("en")
    _, tokens = tokenize(nlp, f"Rebels{cluster}attacked Gao {cluster} today.")
    for text in tokens.texts:  # no token starts inside a cluster
        assert not split_clusters(f"Rebels{cluster}attacked Gao {cluster} today.", tokens.starts.tolist())
        assert text not in ("\U0001F1F2", "\u200d", "\U0001F3FD", "\u20e3", "\u0301")
    if cluster.startswith(FLAG) and len(cluster) == 4:
        assert tokens.texts.count(FLAG) == 2 and tokens.texts.count("\U0001F1EB\U0001F1F7") == 2  # two flags


TEXT = f"Fighters raised the {FLAG} flag over Kidal {THUMB}. Families {FAMILY} fled to Gao."


@pytest.fixture
def flag_ws(workspace: Path) -> Workspace:
    ws = Workspace.at(workspace)
    arts = [Article.from_text(f"{TEXT} Report {i}.", language="en") for i in range(4)]
    _write(ws, arts, {"gold": [_record(a, "gold", [(f"the {FLAG} flag", "ACTOR"), ("Kidal", "LOCATION")])
                               for a in arts]})
    return ws


def test_flag_is_one_token_in_every_export(flag_ws: Workspace, tmp_path: Path) -> None:
    from datasets import load_from_disk

    res = export(flag_ws, tmp_path / "hf", ExportOptions("hf", unit="document"))
    assert res.alignment["exact"] == 8 and res.issues_total == 0
    rows = [r for split in load_from_disk(str(tmp_path / "hf")).values() for r in split]
    for row in rows:
        assert FLAG in row["tokens"] and THUMB in row["tokens"] and FAMILY in row["tokens"]
        assert "\U0001F1F2" not in row["tokens"]

    export(flag_ws, tmp_path / "conll", ExportOptions("conll", unit="document"))
    lines = [ln.split()[0] for p in (tmp_path / "conll").glob("*.conll") for ln in p.read_text().splitlines()
             if ln.strip() and not ln.startswith("-DOCSTART-")]
    assert lines.count(FLAG) == 4 and "\U0001F1F2" not in lines and lines.count(FAMILY) == 4

    import spacy
    from spacy.tokens import DocBin

    export(flag_ws, tmp_path / "spacy", ExportOptions("spacy", unit="document"))
    vocab = spacy.blank("en").vocab
    docs = [d for p in (tmp_path / "spacy").glob("*.spacy") for d in DocBin().from_disk(p).get_docs(vocab)]
    assert len(docs) == 4
    for doc in docs:
        texts = [t.text for t in doc]
        assert FLAG in texts and THUMB in texts and FAMILY in texts
        assert [e.text for e in doc.ents] == [f"the {FLAG} flag", "Kidal"]


PIECES = [FLAG, "\U0001F1EB", FAMILY, THUMB, KEYCAP, MARK, "e\u0301", " \u0301", "\u0915\u094d\u0937\u093f",
          "\u1100\u1161\u11a8", "\u0600x", "\U0001F525", "\u200e", "\u200d", "\r\n", "Gao", "l'", "'s", " ", "\n",
          ".", ",", "(", ")", '"', "!", "-", "x", "\U0001F3FD."]


@pytest.mark.parametrize("language", ["en", "fr", "xx"])
def test_no_token_starts_inside_a_cluster_whatever_the_mix(language: str) -> None:
    """Unicode's own segmentation (regex `\\X` over the whole text) is the reference: the fast check, which only
    looks at token starts next to cluster-continuing characters, must leave no token starting inside a cluster."""
    import random

    import regex

    nlp, _ = blank_nlp(language)
    rng = random.Random(11)
    for _ in range(3000):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 20)))
        _, tokens = tokenize(nlp, text)
        # a mark on a space (" \u0301") stays apart: whitespace is never part of a token
        inside = {p for m in regex.finditer(r"\X", text) if not m.group()[0].isspace()
                  for p in range(m.start() + 1, m.end())}
        assert not inside & set(tokens.starts.tolist()), text
        doc = nlp.make_doc(text)
        assert doc.text == text
