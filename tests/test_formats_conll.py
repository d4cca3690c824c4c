"""CoNLL/BIO dialects (../shared/data/conll, doccano's and spaCy's examples) and the tag codecs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsner.formats import ParsedDoc, Rejected
from newsner.formats.conll import (
    ConllDoc,
    decode,
    detect_scheme,
    encode,
    file_scheme,
    format_sentence,
    read_conll,
    to_parsed,
)


def _docs(path: Path, **kw) -> tuple[list[ConllDoc], list[Rejected]]:  # type: ignore[no-untyped-def]
    items = list(read_conll(path, **kw))
    return [i for i in items if isinstance(i, ConllDoc)], [i for i in items if isinstance(i, Rejected)]


def _parsed(path: Path, scheme: str = "auto") -> tuple[list[ParsedDoc], list[Rejected]]:
    docs, rejected = _docs(path)
    used = file_scheme(docs, scheme)
    out = []
    for d in docs:
        p, rej = to_parsed(d, used)
        rejected += rej
        if p:
            out.append(p)
    return out, rejected


def _ents(doc: ParsedDoc) -> list[tuple[str, str]]:
    return [(doc.text[s.start:s.end], s.label) for s in doc.spans]


@pytest.mark.parametrize("name, scheme", [
    ("gum_wikinews/GUM_news_asylum.tsv", "io"),
    ("wikigold_first300sent.conll", "iob1"),
    ("europeana_enp_FR.bnf_first3000tok.bio", "iob1"),
    ("wnut17_dev_first200sent.conll", "iob2"),
    ("re3d_conll/CENTCOM/001C9C3F3DFE16B4921B1E906F66E161.conll", "iob2"),
])
def test_dialect_detection(shared_data: Path, name: str, scheme: str) -> None:
    docs, rejected = _docs(shared_data / "conll" / name)
    assert not rejected
    assert file_scheme(docs, "auto") == scheme


def test_io_without_prefixes_merges_runs_of_one_label(shared_data: Path) -> None:
    docs, _ = _parsed(shared_data / "conll/gum_wikinews/GUM_news_asylum.tsv")
    ents = _ents(docs[0])
    assert ents[:3] == [("Over 900 asylum seekers", "person"), ("off Indonesian coast", "place"),
                        ("Monday", "time")]


def test_iob1_entities_start_with_i(shared_data: Path) -> None:
    docs, _ = _parsed(shared_data / "conll/wikigold_first300sent.conll")
    ents = _ents(docs[0])
    assert ents[:3] == [("010", "MISC"), ("Japanese", "MISC"), ("The Mad Capsule Markets", "ORG")]
    # read as IOB2 the same tags give the same entities, but every I- start is counted as a repair
    strict_docs, _ = _parsed(shared_data / "conll/wikigold_first300sent.conll", scheme="iob2")
    assert _ents(strict_docs[0]) == ents and "without B-" in strict_docs[0].notes[0]


def test_four_columns_with_docstart_and_the_text_rebuilt(shared_data: Path) -> None:
    docs, rejected = _parsed(shared_data / "doccano_transformer/labeling_text_label.conll2003.user0")
    assert not rejected and len(docs) == 2  # one document per -DOCSTART-
    assert docs[0].text.split("\n")[1] == "Nadim Ladki"  # sentences on lines, tokens joined by spaces
    assert _ents(docs[0]) == [("JAPAN", "LOC"), ("CHINA", "PER"), ("Nadim Ladki", "PER"), ("AL-AIN", "LOC"),
                              ("United Arab Emirates", "LOC")]


def test_invalid_tag_rejects_its_sentence_only(shared_data: Path) -> None:
    docs, rejected = _parsed(shared_data / "doccano/current/tests_labeling.invalid.conll")
    assert len(rejected) == 1
    assert rejected[0].where.endswith("tests_labeling.invalid.conll:1")
    assert "'SOCCERO'" in rejected[0].message and "lines 1-12" in rejected[0].message
    assert _ents(docs[0])[0] == ("Nadim Ladki", "PER")
    assert "SOCCER" not in docs[0].text


def test_trailing_blank_lines_and_double_space_columns(shared_data: Path) -> None:
    docs, rejected = _parsed(shared_data / "doccano/current/tests_labeling.trailing.conll")
    assert not rejected and _ents(docs[0]) == [("JAPAN", "LOC"), ("CHINA", "PER")]
    docs, rejected = _parsed(shared_data / "doccano/current/import_sequence_labeling_example_conll.txt")
    assert not rejected and _ents(docs[0])[:2] == [("EU", "ORG"), ("German", "MISC")]


def test_a_line_with_one_column_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.conll"
    path.write_text("Mali B-LOC\nattacked\n\nGao B-LOC\n")
    docs, rejected = _parsed(path)
    assert [r.where for r in rejected] == [f"{path}:2"]
    assert _ents(docs[0]) == [("Gao", "LOC")]


def _spacy_json_entities(path: Path) -> list[tuple[list[str], list[tuple[int, int, str]]]]:
    """(tokens, BILUO entities) per sentence of spaCy's v2 JSON training format (their `spacy convert` output)."""
    out = []
    for doc in json.loads(path.read_text()):
        for para in doc["paragraphs"]:
            for sent in para["sentences"]:
                tokens = [t["orth"] for t in sent["tokens"]]
                tags = [t["ner"] for t in sent["tokens"]]
                out.append((tokens, decode(tags, "bioes")[0]))
    return out


@pytest.mark.parametrize("stem", ["ner-sent-per-line", "ner-token-per-line-conll2003",
                                  "ner-token-per-line-with-pos", "ner-token-per-line"])
def test_spacy_convert_examples_token_by_token(shared_data: Path, stem: str) -> None:
    """Our reading of each .iob file equals what `spacy convert` made of it (its .json), token by token."""
    docs, rejected = _docs(shared_data / f"spacy/spacy_example_{stem}.iob")
    assert not rejected
    ours = []
    for doc in docs:
        scheme = file_scheme(docs, "auto")
        for sentence in doc.sentences:
            ours.append(([t.text for t in sentence], decode([t.tag for t in sentence], scheme)[0]))
    theirs = _spacy_json_entities(shared_data / f"spacy/spacy_example_{stem}.json")
    flat = lambda seq: ([t for toks, _ in seq for t in toks],  # noqa: E731
                        [(lb, " ".join(toks[s:e])) for toks, ents in seq for s, e, lb in ents])
    # spaCy splits sentence-per-line input into sentences on its own; token-per-line files without blank lines
    # are one sentence for us. Compare the token stream and the entities, which must agree exactly.
    assert flat(ours) == flat(theirs)
    assert [lb for lb, _ in flat(ours)[1]] == ["PERSON", "ORG", "DATE", "NORP", "PERSON", "ORG", "DATE"]


def test_tokens_are_found_in_an_existing_article_text() -> None:
    text = "Fighters  attacked\nKidal on Monday."
    doc = ConllDoc(Path("x.conll"), [[_tok("Fighters", "B-ACTOR"), _tok("attacked", "O"), _tok("Kidal", "B-LOC"),
                                      _tok("on", "O"), _tok("Monday", "O"), _tok(".", "O")]], article_id="0" * 16)
    parsed, rejected = to_parsed(doc, "iob2", text=text)
    assert parsed is not None and not rejected
    assert parsed.text == text and _ents(parsed) == [("Fighters", "ACTOR"), ("Kidal", "LOC")]
    wrong, rejected = to_parsed(doc, "iob2", text="Fighters attacked Gao on Monday.")
    assert wrong is None and "does not match article" in rejected[0].message


def _tok(text: str, tag: str) -> object:
    from newsner.formats.conll import ConllToken

    return ConllToken(text, tag, 1)


def test_spacy_sentence_per_line_pipe_format(tmp_path: Path) -> None:
    path = tmp_path / "pipes.iob"
    path.write_text("Wagner|NNP|B-ORG fighters|NNS|O\nIn|IN|O Kidal|NNP|B-LOC\n")
    docs, _ = _parsed(path)
    assert docs[0].text == "Wagner fighters\nIn Kidal" and _ents(docs[0]) == [("Wagner", "ORG"), ("Kidal", "LOC")]


def test_writer_layouts() -> None:
    assert format_sentence(["Gao", "fell"], ["B-LOC", "O"], 4) == "Gao _ _ B-LOC\nfell _ _ O"
    assert format_sentence(["Gao", "fell"], ["B-LOC", "O"], 2) == "Gao B-LOC\nfell O"


def test_encode_examples() -> None:
    ents = [(0, 2, "LOC"), (2, 3, "LOC"), (4, 5, "PER")]
    assert encode(5, ents, "iob2") == ["B-LOC", "I-LOC", "B-LOC", "O", "B-PER"]
    assert encode(5, ents, "iob1") == ["I-LOC", "I-LOC", "B-LOC", "O", "I-PER"]
    assert encode(5, ents, "bioes") == ["B-LOC", "E-LOC", "S-LOC", "O", "S-PER"]
    assert encode(5, ents, "io") == ["LOC", "LOC", "LOC", "O", "PER"]
    assert detect_scheme(encode(5, ents, "iob1")) == "iob1"
    assert detect_scheme(encode(5, ents, "bioes")) == "bioes"


@st.composite
def _entities(draw: st.DrawFn) -> tuple[int, list[tuple[int, int, str]]]:
    n = draw(st.integers(0, 30))
    ents, i = [], 0
    while i < n:
        if draw(st.booleans()):
            length = draw(st.integers(1, min(4, n - i)))
            ents.append((i, i + length, draw(st.sampled_from(["LOC", "PER", "X-Y"]))))
            i += length
        else:
            i += 1
    return n, ents


@given(_entities(), st.sampled_from(["iob2", "iob1", "bioes", "io"]))
def test_encode_then_decode_is_identity(case: tuple[int, list[tuple[int, int, str]]], scheme: str) -> None:
    n, ents = case
    tags = encode(n, ents, scheme)
    decoded, repairs = decode(tags, scheme)
    if scheme == "io":
        # IO cannot separate adjacent entities of one label: they merge (and only then)
        merged: list[tuple[int, int, str]] = []
        for s, e, lb in ents:
            if merged and merged[-1][1] == s and merged[-1][2] == lb:
                merged[-1] = (merged[-1][0], e, lb)
            else:
                merged.append((s, e, lb))
        assert decoded == merged
    else:
        assert decoded == ents and repairs == 0
