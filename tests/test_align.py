"""Span ↔ token alignment: properties (hypothesis) and the documented policies."""

from __future__ import annotations

from pathlib import Path

import pytest
import spacy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsner.schema import Span
from newsner.text.align import align_spans, blank_nlp, make_units, tag_ids, tokenize, unit_tags

LABELS = ["ACTOR", "LOCATION", "CASUALTY"]
NLP, _ = blank_nlp("en")
PIECES = ["Mali", "Wagner", "U.S.", "Kidal-based", "fighters", "17", "1,200", "dead", ".", ",", "!", "?", "'s",
          "\"", "(", ")", "don't", "—", "Gao.", "e.g.", " ", "\n", "\n\n", "😀", "Café"]

REF = spacy.blank("en")
REF.add_pipe("sentencizer")

texts = st.lists(st.sampled_from(PIECES), min_size=1, max_size=25).map(lambda xs: " ".join(xs))


@st.composite
def text_and_spans(draw: st.DrawFn) -> tuple[str, list[Span]]:
    text = draw(texts)
    spans = []
    for _ in range(draw(st.integers(0, 6))):
        a = draw(st.integers(0, len(text) - 1))
        b = draw(st.integers(a + 1, len(text)))
        spans.append(Span(a, b, draw(st.sampled_from(LABELS)), text[a:b]))
    return text, spans


def _valid_iob2(tags: list[int]) -> bool:
    prev = 0
    for t in tags:
        if t and t % 2 == 0 and prev not in (t, t - 1):  # I-X must follow B-X or I-X
            return False
        prev = t
    return True


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_sentences_match_spacys_sentencizer(text: str) -> None:
    rdoc = REF(text)
    _, tokens = tokenize(NLP, text)
    starts = [t.is_sent_start for t in rdoc]
    prev = -1
    for k, di in enumerate(tokens.doc_index.tolist()):
        gap = text[int(tokens.ends[k - 1]):int(tokens.starts[k])] if k else ""
        expected = k == 0 or any(starts[prev + 1:di + 1]) or "\n" in gap  # + our rule: a line break ends one
        assert bool(tokens.sent_start[k]) == expected
        prev = di
    assert all(not t.isspace() for t in tokens.texts)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(text_and_spans(), st.sampled_from(["contract", "expand"]))
def test_every_span_is_accounted_for_and_tags_are_valid(case: tuple[str, list[Span]], resolution: str) -> None:
    text, spans = case
    _, tokens = tokenize(NLP, text)
    out = align_spans(tokens, text, spans, doc_id="d", labels=LABELS, resolution=resolution)
    c = out.counts
    assert c["spans"] == len(spans)
    aligned = c["exact"] + c["contracted"] + c["expanded"]
    assert aligned + c["dropped_misaligned"] == len(spans)
    assert len(out.spans) + c["dropped_overlap"] + c["duplicates"] == aligned
    # every span that did not go in exactly as annotated is named in an issue
    assert len(out.issues) == (c["contracted"] + c["expanded"] + c["dropped_misaligned"] + c["dropped_overlap"]
                               + c["duplicates"])
    # kept spans do not overlap, and the IOB2 tags are valid
    occupied: set[int] = set()
    for s in out.spans:
        assert occupied.isdisjoint(range(s.start, s.end))
        occupied.update(range(s.start, s.end))
    assert _valid_iob2(tag_ids(len(tokens), out.spans, LABELS).tolist())
    for issue in out.issues:
        if issue.resolution == "contracted":
            assert issue.result and issue.result in issue.text


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(texts, st.data())
def test_spans_on_token_boundaries_align_exactly(text: str, data: st.DataObject) -> None:
    _, tokens = tokenize(NLP, text)
    if not len(tokens):
        return
    n = len(tokens)
    i = data.draw(st.integers(0, n - 1))
    j = data.draw(st.integers(i + 1, n))
    a, b = int(tokens.starts[i]), int(tokens.ends[j - 1])
    span = Span(a, b, "ACTOR", text[a:b])
    for resolution in ("contract", "expand"):
        out = align_spans(tokens, text, [span], doc_id="d", labels=LABELS, resolution=resolution)
        assert [(s.start, s.end) for s in out.spans] == [(i, j)] and not out.issues
        # token span → characters gives the original span back
        assert (int(tokens.starts[out.spans[0].start]), int(tokens.ends[out.spans[0].end - 1])) == (a, b)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(text_and_spans())
def test_contract_stays_inside_and_expand_covers(case: tuple[str, list[Span]]) -> None:
    text, spans = case
    _, tokens = tokenize(NLP, text)
    for span in spans:
        for resolution in ("contract", "expand"):
            out = align_spans(tokens, text, [span], doc_id="d", labels=LABELS, resolution=resolution)
            for s in out.spans:
                a, b = int(tokens.starts[s.start]), int(tokens.ends[s.end - 1])
                if resolution == "contract":
                    assert span.start <= a and b <= span.end
                else:
                    assert a <= span.start or text[span.start:a].isspace()
                    assert span.end <= b or text[b:span.end].isspace()


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(text_and_spans(), st.sampled_from(["sentence", "document", "window"]), st.one_of(st.none(),
                                                                                         st.integers(1, 8)))
def test_units_partition_the_tokens(case: tuple[str, list[Span]], unit: str, max_tokens: int | None) -> None:
    text, spans = case
    _, tokens = tokenize(NLP, text)
    out = align_spans(tokens, text, spans, doc_id="d", labels=LABELS)
    ranges, issues, counts = make_units(tokens, out.spans, unit=unit, max_tokens=max_tokens, doc_id="d", text=text)
    flat = [i for a, b in ranges for i in range(a, b)]
    assert flat == list(range(len(tokens)))
    limit = max_tokens or (128 if unit == "window" else None)
    if limit:
        assert all(b - a <= limit for a, b in ranges)
    cuts = {a for a, _ in ranges}
    crossing = [s for s in out.spans if any(s.start < c < s.end for c in cuts)]
    assert len(crossing) == counts["entities_split"] == len(issues)
    tags = tag_ids(len(tokens), out.spans, LABELS)
    for a, b in ranges:
        assert _valid_iob2(unit_tags(tags, a, b))


def test_documented_examples() -> None:
    text = "U.S.-backed forces entered Kidal-based camps. Mali's army said 17 dead."
    _, tokens = tokenize(NLP, text)
    spans = [Span(0, 3, "ACTOR", "U.S"),                   # inside the token "U.S.": nothing whole inside
             Span(27, 32, "LOCATION", "Kidal"),           # "Kidal" of "Kidal-based": spaCy splits the hyphen
             Span(46, 57, "ACTOR", "Mali's army"),
             Span(46, 50, "LOCATION", "Mali"),            # overlaps the longer ACTOR span
             Span(63, 70, "CASUALTY", "17 dead")]
    out = align_spans(tokens, text, spans, doc_id="a1", labels=LABELS, resolution="contract")
    got = {(text[int(tokens.starts[s.start]):int(tokens.ends[s.end - 1])], s.label) for s in out.spans}
    assert got == {("Kidal", "LOCATION"), ("Mali's army", "ACTOR"), ("17 dead", "CASUALTY")}
    kinds = {(i.text, i.kind, i.resolution) for i in out.issues}
    assert ("U.S", "misaligned", "dropped") in kinds
    assert ("Mali", "overlap", "dropped") in kinds
    expand = align_spans(tokens, text, spans[:1], doc_id="a1", labels=LABELS, resolution="expand")
    # spaCy keeps "U.S.-backed" as one token, so expanding takes all of it
    assert expand.issues[0].result == "U.S.-backed" and expand.counts["expanded"] == 1


def test_unknown_language_falls_back_to_multilingual() -> None:
    assert blank_nlp("zz")[1] == "xx"
    assert blank_nlp(None)[1] == "en"
    assert blank_nlp("fr-FR")[1] == "fr"


def test_sentence_boundary_inside_an_entity_is_suppressed() -> None:
    text = "Fighters of the Front de Libération de l'Azawad. Inc. attacked."
    _, tokens = tokenize(NLP, text)
    a = text.index("Front")
    b = text.index("Inc.") + 4
    out = align_spans(tokens, text, [Span(a, b, "ACTOR", text[a:b])], doc_id="d", labels=LABELS)
    ranges, _, counts = make_units(tokens, out.spans, unit="sentence", max_tokens=None, doc_id="d", text=text)
    assert counts["sentence_boundaries_suppressed"] == 1 and len(ranges) == 1


# ------------------------------------------------------------------------ invisible format characters (issue 18)
GLUED = [("Mosul\u200e", "Mosul"), ("\u200fMosul", "Mosul"), ("\u202bMosul\u202c", "Mosul"),
         ("Mosul\u200b", "Mosul"), ("\u2066Mosul\u2069", "Mosul"), ("\ufeffMosul", "Mosul")]


@pytest.mark.parametrize("resolution", ["contract", "expand"])
@pytest.mark.parametrize(("glued", "name"), GLUED)
def test_span_edge_next_to_a_format_character_snaps_to_the_token(glued: str, name: str, resolution: str) -> None:
    text = f"Fighting resumed in {glued}, officials said."
    _, tokens = tokenize(NLP, text)
    assert glued.strip() in tokens.texts or name not in tokens.texts  # the mark is glued to the word's token
    start = text.index(name)
    aligned = align_spans(tokens, text, [Span(start, start + len(name), "LOCATION", name)], doc_id="d",
                          labels=LABELS, resolution=resolution)
    assert [tokens.texts[s.start] for s in aligned.spans] == [tokens.texts[tokens.texts.index(glued)]]
    assert aligned.issues == [] and aligned.counts["exact"] == 1 and aligned.counts["format_chars_snapped"] == 1


def test_a_format_character_inside_a_word_does_not_snap() -> None:
    text = "Fighting resumed in Mo\u200esul, officials said."
    _, tokens = tokenize(NLP, text)
    aligned = align_spans(tokens, text, [Span(20, 22, "LOCATION", "Mo")], doc_id="d", labels=LABELS)
    assert aligned.spans == [] and aligned.counts["dropped_misaligned"] == 1  # "Mo" is not the token: reported


def test_glued_mark_keeps_the_entity_and_its_relation_on_export(tmp_path: Path) -> None:
    from datasets import load_from_disk

    from newsner.annotations.store import AnnotationStore
    from newsner.corpus.store import Corpus
    from newsner.export import ExportOptions, export
    from newsner.schema import AnnotationRecord, Article, Relation, default_label_schema_path
    from newsner.workspace import Workspace

    (tmp_path / "annotations").mkdir()
    (tmp_path / "annotations" / "labels.json").write_text(default_label_schema_path().read_text())
    ws = Workspace.at(tmp_path)
    text = "At least 12 civilians died in Mosul\u200e on Friday, a police officer said."
    article = Article.from_text(text, language="en")
    others = [Article.from_text(f"Report {i}: fighters attacked Gao.", language="en") for i in range(4)]
    with Corpus(ws.corpus_dir).lock():
        Corpus(ws.corpus_dir).append([article, *others])

    def span(words: str, label: str) -> Span:
        return Span(text.index(words), text.index(words) + len(words), label, words)

    spans = [span("At least 12 civilians", "CASUALTY"), span("Mosul", "LOCATION"),
             span("a police officer", "CLAIM_SOURCE")]
    records = [AnnotationRecord(article.id, article.text_sha256, "gold", spans, "confirmed",
                                relations=[Relation(0, 1, "LOCATED_IN"), Relation(0, 2, "CLAIMED_BY")])]
    records += [AnnotationRecord(a.id, a.text_sha256, "gold", [Span(a.text.index("Gao"), a.text.index("Gao") + 3,
                                                                     "LOCATION", "Gao")], "confirmed") for a in others]
    AnnotationStore(ws.annotations_dir).write_layer("gold", records)
    out = tmp_path / "hf"
    result = export(ws, out, ExportOptions("hf", unit="document"))
    assert result.issues_total == 0 and (out / "alignment.jsonl").read_text() == ""
    dd = load_from_disk(str(out))
    row = next(r for split in dd for r in dd[split] if r["doc_id"] == article.id)
    names = dd["train"].features["ner_tags"].feature.names
    tagged = [(tok, names[t]) for tok, t in zip(row["tokens"], row["ner_tags"], strict=True) if t]
    assert ("Mosul\u200e", "B-LOCATION") in tagged
    types = dd["train"].features["relations"].feature["type"].names
    assert sorted((r["head"], r["tail"], types[r["type"]]) for r in row["relations"]) == [
        (0, 1, "LOCATED_IN"), (0, 2, "CLAIMED_BY")]


def test_blank_pipeline_starts_without_pytorch_which_stays_importable() -> None:
    """spaCy's thinc imports PyTorch at start-up when it is installed (a second of CPU per export, issue 20);
    the blank pipeline never uses it, and whoever needs PyTorch later in the process still gets it."""
    import subprocess
    import sys

    code = ("import sys; from newsner.text.align import blank_nlp, tokenize; nlp, _ = blank_nlp('en'); "
            "assert [t for t in tokenize(nlp, 'Gao fell.')[1].texts] == ['Gao', 'fell', '.']; "
            "print('torch' in sys.modules); import torch; print(torch.tensor([1]).sum().item())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "1"]
