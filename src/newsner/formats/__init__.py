"""Readers (and the CoNLL writer) for annotation formats other tools produce.

Every reader turns a file into `ParsedDoc`s (a text, its spans with *foreign* labels in Python code points, who
annotated it) and `Rejected` items (one line that could not be read, with `file:line` and why). Mapping labels
onto the schema, adding articles to the corpus and writing records is `newsner.annotations`' job, so readers stay
pure functions of their input.

- `doccano`: doccano JSONL of every generation (`label`, `labels`, `entities`, `annotations` with integer label
  ids and users) and doccano-transformer inputs.
- `conll`: CoNLL/BIO files in the IOB2, IOB1, IO and BIOES dialects, 2 to 4 columns or spaCy's `word|tag|ner`.
- `re3d`: Dstl re3d `documents.json` + `entities.json`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

FORMATS = ("doccano", "conll", "re3d")


@dataclass
class SourceSpan:
    """A span as the input file gives it: code-point offsets into the ParsedDoc text, the file's own label."""

    start: int
    end: int
    label: str
    #: Anything else the format says about the span (re3d confidence, doccano span id, ...).
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class SkippedSpan:
    """A span a reader (or the importer) left out on purpose; always reported, never silent."""

    where: str
    label: str
    start: int
    end: int
    text: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: span [{self.start}, {self.end}) {self.label} {self.text!r} skipped: {self.reason}"


@dataclass
class ParsedDoc:
    """One document of an input file with one annotator's spans."""

    where: str
    text: str
    spans: list[SourceSpan]
    #: Who annotated it, when the file says so (doccano user id → "user1"); None means "use --annotator".
    annotator: str | None = None
    #: Article fields the file carries (title, url, source, published, language, meta).
    fields: dict[str, Any] = field(default_factory=dict)
    #: Where the record came from (format, file, line, example id); stored in the record's `origin`.
    origin: dict[str, Any] = field(default_factory=dict)
    skipped: list[SkippedSpan] = field(default_factory=list)
    #: Things worth telling the user that are not errors (repaired tag sequences, duplicates merged).
    notes: list[str] = field(default_factory=list)
    #: Relations as (head, tail, type), head/tail indexing `spans` (doccano relation exports).
    relations: list[tuple[int, int, str]] = field(default_factory=list)
    #: Relations the reader could not keep, each naming file:line and why (a span that is missing, ...).
    relation_problems: list[str] = field(default_factory=list)


@dataclass
class Rejected:
    """A line (or sentence, or document) that could not be imported; the rest of the file still is."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def to_nfc(doc: ParsedDoc) -> ParsedDoc | Rejected:
    """Return `doc` with NFC-normalized text and offsets moved to match (the corpus stores NFC text).

    Normalization only recomposes combining sequences, so the text is normalized piece by piece, each piece a
    base character with the marks that follow it; an offset at a piece boundary maps exactly. An offset inside
    a piece (between a letter and its accent) has no NFC equivalent and rejects the document.
    """
    text = doc.text
    if unicodedata.is_normalized("NFC", text):
        return doc
    pieces: list[str] = []
    mapping = {0: 0}
    start, out_len = 0, 0
    for i in range(1, len(text) + 1):
        if i == len(text) or unicodedata.combining(text[i]) == 0:
            piece = unicodedata.normalize("NFC", text[start:i])
            pieces.append(piece)
            out_len += len(piece)
            mapping[i] = out_len
            start = i
    new_text = "".join(pieces)
    if new_text != unicodedata.normalize("NFC", text):
        return Rejected(doc.where, "the text is not NFC-normalized and cannot be normalized piecewise "
                                   "(Hangul jamo?); normalize the file (NFC) and its offsets first")
    spans: list[SourceSpan] = []
    for span in doc.spans:
        if span.start not in mapping or span.end not in mapping:
            return Rejected(doc.where, f"span [{span.start}, {span.end}) {span.label} starts or ends inside a "
                                       "combining character sequence (between a letter and its accent)")
        spans.append(SourceSpan(mapping[span.start], mapping[span.end], span.label, span.extra))
    # Spans keep their order, so relation indices stay valid.
    return ParsedDoc(where=doc.where, text=new_text, spans=spans, annotator=doc.annotator, fields=doc.fields,
                     origin=doc.origin, skipped=doc.skipped, notes=[*doc.notes, "text NFC-normalized"],
                     relations=list(doc.relations), relation_problems=list(doc.relation_problems))
