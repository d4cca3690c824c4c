"""spaCy v2 training JSON (``spacy convert`` output before v3): a list of documents, each with ``paragraphs`` of
``sentences`` of ``tokens`` (``orth``, ``ner`` in BILUO, e.g. ``U-PERSON``), and optionally the paragraph's ``raw``
text.

The text is the paragraph's ``raw`` when the file has it (each token is found in it in order); otherwise the
tokens joined by one space, sentences by a newline — the best a token list allows, and what `export conll` does
too. One paragraph becomes one document. A BILUO sequence that breaks the scheme is repaired like CoNLL's and
noted. Such files are recognised by `formats.doccano` (same ``.json`` suffix) and read here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from newsner.formats import ParsedDoc, Rejected, SourceSpan


def looks_like_spacy_v2(obj: Any) -> bool:
    """A list (or one object) of documents with ``paragraphs`` — spaCy v2's training JSON."""
    first = obj[0] if isinstance(obj, list) and obj else obj
    return isinstance(first, dict) and isinstance(first.get("paragraphs"), list) and not any(
        k in first for k in ("text", "data"))


def read_spacy_v2(path: Path, obj: Any) -> Iterator[ParsedDoc | Rejected]:
    from newsner.formats.conll import check_tag, decode

    docs = obj if isinstance(obj, list) else [obj]
    for d, doc in enumerate(docs, start=1):
        paragraphs = doc.get("paragraphs") if isinstance(doc, dict) else None
        if not isinstance(paragraphs, list):
            yield Rejected(f"{path}[{d}]", "a spaCy v2 document needs a 'paragraphs' list")
            continue
        for p, para in enumerate(paragraphs, start=1):
            where = f"{path}[{d}].paragraphs[{p}]"
            try:
                yield _paragraph(path, where, doc.get("id", d), para, check_tag, decode)
            except ValueError as exc:
                yield Rejected(where, str(exc))


def _paragraph(path: Path, where: str, doc_id: Any, para: Any, check_tag: Any, decode: Any) -> ParsedDoc:
    if not isinstance(para, dict) or not isinstance(para.get("sentences"), list):
        raise ValueError("a spaCy v2 paragraph needs a 'sentences' list")
    raw = para.get("raw") if isinstance(para.get("raw"), str) and para["raw"].strip() else None
    text_parts: list[str] = []
    pos = 0
    spans: list[SourceSpan] = []
    repairs = 0
    for s, sent in enumerate(para["sentences"], start=1):
        tokens = sent.get("tokens") if isinstance(sent, dict) else None
        if not isinstance(tokens, list) or not tokens:
            continue
        offsets: list[tuple[int, int]] = []
        tags: list[str] = []
        for t, tok in enumerate(tokens, start=1):
            orth = tok.get("orth") if isinstance(tok, dict) else None
            if not isinstance(orth, str) or not orth:
                raise ValueError(f"sentence {s} token {t}: no 'orth' text")
            if raw is not None:
                at = raw.find(orth, pos)
                if at < 0:
                    raise ValueError(f"sentence {s} token {t} {orth!r} is not in the paragraph's raw text")
            else:
                if text_parts:
                    text_parts.append("\n" if t == 1 else " ")
                    pos += 1
                at = pos
                text_parts.append(orth)
            offsets.append((at, at + len(orth)))
            pos = at + len(orth)
            tag = str(tok.get("ner", "O") or "O")
            tag = "O" if tag == "-" else tag
            problem = check_tag(tag, "bioes")
            if problem:
                raise ValueError(f"sentence {s} token {t}: {problem}")
            tags.append(tag)
        entities, fixed = decode(tags, "bioes")
        repairs += fixed
        spans += [SourceSpan(offsets[a][0], offsets[b - 1][1], label) for a, b, label in entities]
    text = raw if raw is not None else "".join(text_parts)
    if not text.strip():
        raise ValueError("the paragraph has no tokens")
    notes = [f"{repairs} BILUO tag(s) repaired"] if repairs else []
    return ParsedDoc(where=where, text=text, spans=spans, origin={"format": "spacy-v2", "file": str(path),
                                                                  "document": doc_id},
                     notes=[*notes, "read as spaCy v2 training JSON"])
