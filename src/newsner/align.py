"""Character spans ↔ spaCy tokens, IOB2 tags, and the alignment report.

Tokens come from ``spacy.blank(language)`` (no model download): the article's language, English when the
article has none, spaCy's multi-language ``xx`` when spaCy has no tokenizer for it. Whitespace tokens (runs of
spaces, newlines) are never part of an example.

Misaligned spans — a span whose edges fall inside a token (``"U.S"`` of ``"U.S."``, ``"Mali"`` of
``"Mali-based"``) — are resolved by `resolution`:

- ``contract`` (default): keep the tokens entirely inside the span; when none is, the span is dropped.
- ``expand``: take every token the span touches.

Either way the span is listed in the report with the article id, its text and what became of it.

Overlapping spans (after alignment, at token level) follow one policy: **the longer span wins; on equal length
the earlier one; then the label earlier in the schema**. Every losing span is counted and named along with
the span that beat it. Two spans that end up on the same tokens with the same label are merged (counted as
duplicates). A label missing from the schema drops its span (named). Nothing leaves without a report line.

Sentences (``unit="sentence"``) follow the rules of spaCy's rule-based ``Sentencizer`` (a sentence ends after
``. ! ?`` and the other sentence-final characters once a non-punctuation token follows), plus a line break
always ends a sentence. A sentence boundary inside an entity is ignored (the two sentences stay together,
counted as ``sentence_boundaries_suppressed``). Units longer than ``max_tokens`` are cut, before an entity
where possible; an entity longer than the limit is split (named) and its second part starts with ``B-``.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from newsner.errors import InputError
from newsner.schema import Span

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

RESOLUTIONS = ("contract", "expand")
UNITS = ("sentence", "document", "window")
DEFAULT_LANGUAGE = "en"
DEFAULT_WINDOW = 128

#: Report counters, in the order the card and the CLI show them.
COUNTERS = (
    "spans", "exact", "contracted", "expanded", "dropped_misaligned", "dropped_overlap", "duplicates",
    "unknown_label", "entities_split", "sentence_boundaries_suppressed",
)


@functools.lru_cache(maxsize=32)
def blank_nlp(language: str | None) -> tuple[Language, str]:
    """A blank spaCy pipeline for `language` and the code actually used (``en`` for None, ``xx`` if unknown)."""
    import spacy

    code = (language or DEFAULT_LANGUAGE).lower().split("-")[0].split("_")[0]
    try:
        return spacy.blank(code), code
    except Exception:  # spaCy raises ImportError/ValueError/KeyError variants for unknown codes
        return spacy.blank("xx"), "xx"


@functools.lru_cache(maxsize=32)
def _punct_orths(nlp: Language) -> np.ndarray:
    from spacy.pipeline import Sentencizer

    return np.array(sorted(nlp.vocab.strings.add(c) for c in Sentencizer.default_punct_chars), dtype=np.uint64)


@dataclass
class Tokens:
    """The non-whitespace tokens of one text, with character offsets and sentence starts."""

    texts: list[str]
    starts: np.ndarray
    ends: np.ndarray
    #: Index of each token in the spaCy Doc (which also holds whitespace tokens).
    doc_index: np.ndarray
    sent_start: np.ndarray

    def __len__(self) -> int:
        return len(self.texts)


def tokenize(nlp: Language, text: str, doc: Doc | None = None) -> tuple[Doc, Tokens]:
    """Tokenize `text` (or use the given Doc of it) and compute sentence starts (see module docstring)."""
    from spacy.attrs import IDX, IS_PUNCT, IS_SPACE, LENGTH, ORTH

    if doc is None:
        doc = nlp.make_doc(text)
    n = len(doc)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return doc, Tokens([], empty, empty, empty, np.zeros(0, dtype=bool))
    arr = doc.to_array([IDX, LENGTH, IS_SPACE, IS_PUNCT, ORTH]).astype(np.uint64)
    idx = arr[:, 0].astype(np.int64)
    length = arr[:, 1].astype(np.int64)
    is_space = arr[:, 2].astype(bool)
    in_punct = np.isin(arr[:, 4], _punct_orths(nlp))
    punct_like = arr[:, 3].astype(bool) | in_punct

    # spaCy's Sentencizer: a token that is not punctuation starts a sentence when a sentence-final character
    # occurred since the previous non-punctuation token.
    marks = np.zeros(n, dtype=np.int64)
    non_p = np.flatnonzero(~punct_like)
    if len(non_p):
        ip_cs = np.concatenate(([0], np.cumsum(in_punct)))  # ip_cs[i] = in_punct count in [0, i)
        prev = np.concatenate(([-1], non_p[:-1]))
        seen = ip_cs[non_p] - ip_cs[prev + 1]
        marks[non_p[(seen > 0) & (non_p > 0)]] = 1
    # A line break always ends a sentence: the token after a whitespace token holding "\n" starts one.
    space_idx = np.flatnonzero(is_space)
    if len(space_idx):
        newline = [i for i in space_idx.tolist() if "\n" in text[idx[i]:idx[i] + length[i]]]
        after = np.array(newline, dtype=np.int64) + 1
        marks[after[after < n]] = 1

    keep = np.flatnonzero(~is_space)
    starts = idx[keep]
    ends = starts + length[keep]
    cs = np.cumsum(marks)
    prev_keep = np.concatenate(([-1], keep[:-1]))
    # A kept token starts a sentence when a mark falls after the previous kept token, up to and including it.
    sent_start = (cs[keep] - np.where(prev_keep >= 0, cs[np.maximum(prev_keep, 0)], 0)) > 0
    if len(keep):
        sent_start[0] = True
    texts = [text[s:e] for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]
    return doc, Tokens(texts, starts, ends, keep, sent_start)


# ---------------------------------------------------------------------------------------------- spans
@dataclass(frozen=True)
class TokenSpan:
    """An entity over tokens [start, end) of `Tokens` (non-whitespace token indices)."""

    start: int
    end: int
    label: str


@dataclass
class AlignmentIssue:
    """One span that did not go into the dataset as annotated."""

    doc_id: str
    label: str
    start: int
    end: int
    text: str
    kind: str
    resolution: str
    result: str | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"doc_id": self.doc_id, "label": self.label, "start": self.start, "end": self.end,
                "text": self.text, "kind": self.kind, "resolution": self.resolution, "result": self.result,
                "detail": self.detail}

    def __str__(self) -> str:
        result = f" → {self.result!r}" if self.result is not None else ""
        detail = f" ({self.detail})" if self.detail else ""
        return (f"article {self.doc_id}: {self.label} {self.text!r} [{self.start}, {self.end}) {self.kind}: "
                f"{self.resolution}{result}{detail}")


@dataclass
class Aligned:
    spans: list[TokenSpan]
    issues: list[AlignmentIssue] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)


def align_spans(tokens: Tokens, text: str, spans: Sequence[Span], *, doc_id: str, labels: Sequence[str],
                resolution: str = "contract") -> Aligned:
    """Map character spans onto tokens, resolve misaligned and overlapping ones, report everything.

    Raises:
        InputError: unknown `resolution`.
    """
    if resolution not in RESOLUTIONS:
        raise InputError(f"--resolution must be one of {', '.join(RESOLUTIONS)}, got {resolution!r}")
    out = Aligned([])
    counts = out.counts
    rank = {label: i for i, label in enumerate(labels)}
    candidates: list[tuple[TokenSpan, Span]] = []
    starts, ends = tokens.starts, tokens.ends
    for span in spans:
        counts["spans"] += 1
        if span.label not in rank:
            counts["unknown_label"] += 1
            out.issues.append(AlignmentIssue(doc_id, span.label, span.start, span.end, span.text, "unknown_label",
                                             "dropped", detail="label not in the schema; map or fix the layer"))
            continue
        i = int(np.searchsorted(starts, span.start, "left"))
        j = int(np.searchsorted(ends, span.end, "left"))
        if i < len(starts) and j < len(ends) and starts[i] == span.start and ends[j] == span.end and i <= j:
            counts["exact"] += 1
            candidates.append((TokenSpan(i, j + 1, span.label), span))
            continue
        if resolution == "contract":
            first = int(np.searchsorted(starts, span.start, "left"))
            last = int(np.searchsorted(ends, span.end, "right")) - 1
        else:
            first = int(np.searchsorted(ends, span.start, "right"))
            last = int(np.searchsorted(starts, span.end, "left")) - 1
        if first > last:
            counts["dropped_misaligned"] += 1
            why = ("no whole token inside the span" if resolution == "contract"
                   else "the span covers no token (whitespace only)")
            out.issues.append(AlignmentIssue(doc_id, span.label, span.start, span.end, span.text, "misaligned",
                                             "dropped", detail=why))
            continue
        new_text = text[int(starts[first]):int(ends[last])]
        kind = "contracted" if resolution == "contract" else "expanded"
        counts[kind] += 1
        out.issues.append(AlignmentIssue(doc_id, span.label, span.start, span.end, span.text, "misaligned", kind,
                                         result=new_text))
        candidates.append((TokenSpan(first, last + 1, span.label), span))

    # Overlap policy: longer wins, then earlier, then schema order.
    candidates.sort(key=lambda c: (-(c[0].end - c[0].start), c[0].start, rank[c[0].label]))
    taken = np.full(len(tokens), -1, dtype=np.int64)
    kept: list[tuple[TokenSpan, Span]] = []
    for ts, span in candidates:
        owners = taken[ts.start:ts.end]
        if (owners < 0).all():
            taken[ts.start:ts.end] = len(kept)
            kept.append((ts, span))
            continue
        winner_ts, winner = kept[int(owners[owners >= 0][0])]
        if winner_ts == ts:
            counts["duplicates"] += 1
            out.issues.append(AlignmentIssue(doc_id, span.label, span.start, span.end, span.text, "duplicate",
                                             "merged", detail=f"same tokens and label as {winner.text!r}"))
            continue
        counts["dropped_overlap"] += 1
        out.issues.append(AlignmentIssue(doc_id, span.label, span.start, span.end, span.text, "overlap", "dropped",
                                         detail=f"overlaps {winner.text!r} {winner.label}, which was kept"))
    out.spans = sorted((ts for ts, _ in kept), key=lambda t: t.start)
    return out


def tag_ids(n: int, spans: Sequence[TokenSpan], labels: Sequence[str]) -> np.ndarray:
    """IOB2 tag ids in `LabelSchema.bio_tags()` order: O=0, B-label_k = 1+2k, I-label_k = 2+2k."""
    rank = {label: i for i, label in enumerate(labels)}
    tags = np.zeros(n, dtype=np.int64)
    for s in spans:
        k = rank[s.label]
        tags[s.start] = 1 + 2 * k
        tags[s.start + 1:s.end] = 2 + 2 * k
    return tags


# ---------------------------------------------------------------------------------------------- units
def make_units(tokens: Tokens, spans: Sequence[TokenSpan], *, unit: str, max_tokens: int | None,
               doc_id: str, text: str) -> tuple[list[tuple[int, int]], list[AlignmentIssue], Counter[str]]:
    """Token ranges [a, b) of the examples of one article (see the module docstring for the rules).

    Raises:
        InputError: unknown `unit` or a `max_tokens` below 1.
    """
    if unit not in UNITS:
        raise InputError(f"--unit must be one of {', '.join(UNITS)}, got {unit!r}")
    if max_tokens is not None and max_tokens < 1:
        raise InputError(f"--max-tokens must be at least 1, got {max_tokens}")
    n = len(tokens)
    counts: Counter[str] = Counter()
    issues: list[AlignmentIssue] = []
    if n == 0:
        return [], issues, counts
    inside = np.zeros(n + 1, dtype=bool)  # inside[b]: a boundary before token b would cut an entity
    for s in spans:
        inside[s.start + 1:s.end] = True
    if unit == "document":
        ranges = [(0, n)]
    else:
        bounds = np.flatnonzero(tokens.sent_start)
        cut = inside[bounds]
        counts["sentence_boundaries_suppressed"] += int(cut.sum())
        bounds = bounds[~cut].tolist()
        ranges = list(zip(bounds, [*bounds[1:], n], strict=True))
        if unit == "window":
            window = max_tokens or DEFAULT_WINDOW
            packed: list[tuple[int, int]] = []
            for a, b in ranges:
                if packed and b - packed[-1][0] <= window:
                    packed[-1] = (packed[-1][0], b)
                else:
                    packed.append((a, b))
            ranges = packed
    cap = max_tokens or (DEFAULT_WINDOW if unit == "window" else None)
    if cap is None:
        return ranges, issues, counts
    limit = cap
    out: list[tuple[int, int]] = []
    split: set[TokenSpan] = set()
    for a, b in ranges:
        while b - a > limit:
            c = a + limit
            if inside[c]:
                # Move the cut back to the start of the entity it would split, when that leaves something.
                ent = next(s for s in spans if s.start < c < s.end)
                if ent.start > a:
                    c = ent.start
                elif ent not in split:
                    split.add(ent)
                    counts["entities_split"] += 1
                    s0, e0 = int(tokens.starts[ent.start]), int(tokens.ends[ent.end - 1])
                    issues.append(AlignmentIssue(doc_id, ent.label, s0, e0, text[s0:e0], "longer_than_max_tokens",
                                                 "split", detail=f"the entity has {ent.end - ent.start} tokens, "
                                                 f"--max-tokens is {limit}; the second part starts with B-"))
            out.append((a, c))
            a = c
        out.append((a, b))
    return out, issues, counts


def unit_tags(tags: np.ndarray, a: int, b: int) -> list[int]:
    """Tags of tokens [a, b); an entity cut at `a` restarts with B- so every example is valid IOB2."""
    part: list[int] = tags[a:b].tolist()
    if part and part[0] and part[0] % 2 == 0:
        part[0] -= 1  # I-X (even id) → B-X (the odd id before it)
    return part
