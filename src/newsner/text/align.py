"""Character spans ↔ spaCy tokens, IOB2 tags, and the alignment report.

Tokens come from ``spacy.blank(language)`` (no model download): the article's language, English when the
article has none, spaCy's multi-language ``xx`` when spaCy has no tokenizer for it. Whitespace tokens (runs of
spaces, newlines) are never part of an example.

Misaligned spans — a span whose edges fall inside a token (``"U.S"`` of ``"U.S."``, ``"Mali"`` of
``"Mali-based"``) — are resolved by `resolution`:

- ``contract`` (default): keep the tokens entirely inside the span; when none is, the span is dropped.
- ``expand``: take every token the span touches.

Either way the span is listed in the report with the article id, its text and what became of it. An edge that
falls inside a token only because invisible format characters are glued to the word (``"Mosul\u200e"``, Unicode
category Cf) is not misaligned: it snaps to the token's edge (counted as ``format_chars_snapped``).

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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

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
    "unknown_label", "text_mismatch", "entities_split", "sentence_boundaries_suppressed",
)


def import_spacy() -> Any:
    """The `spacy` module, imported without PyTorch when nothing in this process has imported PyTorch yet.

    spaCy's machine-learning library (thinc) imports PyTorch if it is installed, only to offer PyTorch layers;
    that costs a second of CPU at every start (issue 20: more than the tokenizing of 2,000 articles) and a blank
    pipeline never uses it. thinc then runs on its NumPy back end, as it does where PyTorch is not installed;
    `import torch` keeps working for whoever needs it later (the transformers engine imports it itself).
    """
    import sys

    if "spacy" in sys.modules or "torch" in sys.modules:
        import spacy

        return spacy
    sys.modules["torch"] = None  # type: ignore[assignment]  # `import torch` raises ImportError meanwhile
    try:
        import spacy
    finally:
        if "torch" in sys.modules and sys.modules["torch"] is None:
            del sys.modules["torch"]
    return spacy


@functools.lru_cache(maxsize=32)
def blank_nlp(language: str | None) -> tuple[Language, str]:
    """A blank spaCy pipeline for `language` and the code actually used (``en`` for None, ``xx`` if unknown).

    The vocabulary gets one extra lexeme flag, "is one of the Sentencizer's sentence-final characters", so
    sentence starts come out of `Doc.to_array` with the other attributes instead of a per-token Python loop.
    """
    spacy = import_spacy()
    code = (language or DEFAULT_LANGUAGE).lower().split("-")[0].split("_")[0]
    try:
        nlp = spacy.blank(code)
    except Exception:  # spaCy raises ImportError/ValueError/KeyError variants for unknown codes
        nlp, code = spacy.blank("xx"), "xx"
    from newsner.text.grapheme_tokens import GraphemeTokenizer, keep_flags_whole

    keep_flags_whole(nlp)
    nlp.tokenizer = GraphemeTokenizer(nlp.tokenizer)
    sent_flag(nlp)
    return nlp, code


_SENT_FLAG: dict[int, int] = {}


def sent_flag(nlp: Language) -> int:
    """The vocabulary's sentence-final-character flag (added on first use for pipelines not from blank_nlp)."""
    from spacy.pipeline import Sentencizer

    flag = _SENT_FLAG.get(id(nlp.vocab))
    if flag is None:
        punct = frozenset(Sentencizer.default_punct_chars)
        flag = _SENT_FLAG[id(nlp.vocab)] = nlp.vocab.add_flag(lambda text: text in punct)
    return flag


@dataclass
class Tokens:
    """The non-whitespace tokens of one text, with character offsets and sentence starts."""

    text: str
    starts: np.ndarray
    ends: np.ndarray
    #: Index of each token in the spaCy Doc (which also holds whitespace tokens).
    doc_index: np.ndarray
    sent_start: np.ndarray

    def __len__(self) -> int:
        return len(self.starts)

    @functools.cached_property
    def texts(self) -> list[str]:
        """The token strings (made on first use: the HF writer builds its Arrow column without them)."""
        text = self.text
        return [text[s:e] for s, e in zip(self.starts.tolist(), self.ends.tolist(), strict=True)]


def tokenize(nlp: Language, text: str, doc: Doc | None = None) -> tuple[Doc, Tokens]:
    """Tokenize `text` (or use the given Doc of it) and compute sentence starts (see module docstring).

    `nlp` must come from `blank_nlp` (it adds the sentence-final flag to the vocabulary). One sentence rule for
    single documents and batches: this is `tokenize_batch` on a batch of one.
    """
    if doc is None:
        doc = nlp.make_doc(text)
    return doc, tokenize_batch([doc], [text], [sent_flag(nlp)])[0]


def tokenize_batch(docs: Sequence[Doc], texts: Sequence[str], flags: Sequence[int]) -> list[Tokens]:
    """`tokenize` for many Docs at once: the same result, with the array work done once for the whole batch.

    A batch of articles costs a few dozen NumPy calls instead of a few dozen per article (export's hot path).
    `flags[i]` is the sentence-final flag of `docs[i]`'s vocabulary (`_sent_flag`).
    """
    from spacy.attrs import IDX, IS_PUNCT, IS_SPACE, LENGTH

    if not docs:
        return []
    arrays = [doc.to_array([IDX, LENGTH, IS_SPACE, IS_PUNCT, flag]) for doc, flag in zip(docs, flags, strict=True)]
    counts = np.array([len(doc) for doc in docs], dtype=np.int64)
    base = np.concatenate(([0], np.cumsum(counts)))
    total = int(base[-1])
    if total == 0:
        empty = np.zeros(0, dtype=np.int64)
        return [Tokens(text, empty, empty, empty, np.zeros(0, dtype=bool)) for text in texts]
    arr = np.concatenate([a.reshape(-1, 5) for a in arrays]).astype(np.int64)
    idx, length = arr[:, 0], arr[:, 1]
    is_space = arr[:, 2].astype(bool)
    in_punct = arr[:, 4].astype(bool)
    punct_like = arr[:, 3].astype(bool) | in_punct
    doc_of = np.repeat(np.arange(len(docs)), counts)
    first_of = base[doc_of]  # each token's document's first token

    marks = np.zeros(total, dtype=np.int64)
    non_p = np.flatnonzero(~punct_like)
    if len(non_p):
        ip_cs = np.concatenate(([0], np.cumsum(in_punct)))
        # the previous non-punctuation token, but never one of an earlier document (spaCy starts each Doc fresh)
        prev = np.maximum(np.concatenate(([-1], non_p[:-1])), first_of[non_p] - 1)
        seen = ip_cs[non_p] - ip_cs[prev + 1]
        marks[non_p[(seen > 0) & (non_p > first_of[non_p])]] = 1
    space_idx = np.flatnonzero(is_space)
    if len(space_idx):
        newline = [i for i, d, a, n in zip(space_idx.tolist(), doc_of[space_idx].tolist(), idx[space_idx].tolist(),
                                           length[space_idx].tolist(), strict=True) if "\n" in texts[d][a:a + n]]
        after = np.array(newline, dtype=np.int64) + 1
        after = after[(after < total)]
        after = after[doc_of[after] == doc_of[after - 1]]
        marks[after] = 1

    keep = np.flatnonzero(~is_space)
    starts = idx[keep]
    ends = starts + length[keep]
    cs = np.cumsum(marks)
    prev_keep = np.concatenate(([-1], keep[:-1]))
    sent_start = (cs[keep] - np.where(prev_keep >= 0, cs[np.maximum(prev_keep, 0)], 0)) > 0
    kept_base = np.searchsorted(keep, base)  # first kept token of each document, and the end
    sent_start[kept_base[:-1][kept_base[:-1] < len(keep)]] = True
    local = keep - first_of[keep]
    out = []
    for d, text in enumerate(texts):
        a, b = int(kept_base[d]), int(kept_base[d + 1])
        out.append(Tokens(text, starts[a:b], ends[a:b], local[a:b], sent_start[a:b]))
    return out


def utf8_token_array(tokens: Tokens) -> tuple[np.ndarray, np.ndarray]:
    """(offsets int32 [n+1], UTF-8 bytes) of the token strings, for an Arrow string array without Python strings.

    Token character offsets become byte offsets through the UTF-8 length of each code point; the tokens'
    bytes are gathered from the encoded text in one vectorized step.
    """
    text = tokens.text
    if text.isascii():
        raw = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
        bs, be = tokens.starts, tokens.ends
    else:
        cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        width = 1 + (cps >= 0x80).astype(np.int64) + (cps >= 0x800) + (cps >= 0x10000)
        cum = np.concatenate(([0], np.cumsum(width)))
        raw = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
        bs, be = cum[tokens.starts], cum[tokens.ends]
    lengths = be - bs
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    gather = np.repeat(bs - offsets[:-1], lengths) + np.arange(offsets[-1])
    return offsets.astype(np.int32), raw[gather]


# ---------------------------------------------------------------------------------------------- spans
class TokenSpan(NamedTuple):
    """An entity over tokens [start, end) of `Tokens` (non-whitespace token indices)."""

    start: int
    end: int
    label: str


#: TokenSpan from a (start, end, label) tuple without the generated __new__ (thousands per second).
_token_span = functools.partial(tuple.__new__, TokenSpan)


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


class Aligned:
    """The kept entities of one document (non-overlapping, by start), and the report of the others.

    The common case (every span exact) keeps the entities as arrays (token start, token end, label index) and
    builds `spans` only when asked, which saves per-span Python work on the export hot path.
    """

    def __init__(self, spans: list[TokenSpan] | None = None, *, labels: Sequence[str] = (),
                 arrays: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> None:
        self._spans = spans
        self._labels = list(labels)
        self.arrays = arrays
        self.issues: list[AlignmentIssue] = []
        self.counts: Counter[str] = Counter()

    @property
    def spans(self) -> list[TokenSpan]:
        if self._spans is None:
            if self.arrays is None:
                self._spans = []
            else:
                s, e, k = (a.tolist() for a in self.arrays)
                self._spans = [_token_span((a, b, self._labels[c])) for a, b, c in zip(s, e, k, strict=True)]
        return self._spans

    @spans.setter
    def spans(self, value: list[TokenSpan]) -> None:
        self._spans = value
        self.arrays = None

    def tags(self, n: int, labels: Sequence[str]) -> np.ndarray:
        """`tag_ids` of the kept entities."""
        if self.arrays is not None and self._spans is None:
            return _tags_from_arrays(n, *self.arrays)
        return tag_ids(n, self.spans, labels)


SpanLike = Span | tuple[int, int, str, str]


def align_spans(tokens: Tokens, text: str, spans: Sequence[SpanLike], *, doc_id: str, labels: Sequence[str],
                resolution: str = "contract") -> Aligned:
    """Map character spans onto tokens, resolve misaligned and overlapping ones, report everything.

    `spans` are Spans or (start, end, label, text) tuples. A span whose text is not the text at its offsets
    (a corrupt record) is dropped and named too.

    Raises:
        InputError: unknown `resolution`.
    """
    if resolution not in RESOLUTIONS:
        raise InputError(f"--resolution must be one of {', '.join(RESOLUTIONS)}, got {resolution!r}")
    out = Aligned(labels=labels)
    counts = out.counts
    issues = out.issues
    rank = {label: i for i, label in enumerate(labels)}
    items = [s if isinstance(s, tuple) else (s.start, s.end, s.label, s.text) for s in spans]
    counts["spans"] += len(items)
    if not items:
        return out
    n = len(tokens)
    starts, ends = tokens.starts, tokens.ends
    # One vectorized lookup for all spans; the loop below only reads plain ints.
    se = np.array([(it[0], it[1]) for it in items], dtype=np.int64)
    s_arr, e_arr = se[:, 0], se[:, 1]
    i_left = np.searchsorted(starts, s_arr, "left")
    j_left = np.searchsorted(ends, e_arr, "left")
    exact = ((i_left < n) & (j_left < n) & (starts[np.minimum(i_left, n - 1)] == s_arr)
             & (ends[np.minimum(j_left, n - 1)] == e_arr)) if n else np.zeros(len(items), dtype=bool)
    if resolution == "contract":
        first_arr, last_arr = i_left, np.searchsorted(ends, e_arr, "right") - 1
    else:
        first_arr, last_arr = np.searchsorted(ends, s_arr, "right"), np.searchsorted(starts, e_arr, "left") - 1
    kind = "contracted" if resolution == "contract" else "expanded"
    candidates: list[tuple[int, int, str, tuple[int, int, str, str]]] = []
    if exact.all() and (s_arr < e_arr).all():
        # The usual document: every span sits on token boundaries. With known labels, the recorded texts
        # matching, and no overlap, it is done in a few array operations.
        kinds_arr = np.array([rank.get(it[2], -1) for it in items], dtype=np.int64)
        if (kinds_arr >= 0).all() and all(text[s:e] == t for s, e, _, t in items):
            order = np.lexsort((j_left, i_left))
            tok_s, tok_e, kinds_arr = i_left[order], j_left[order] + 1, kinds_arr[order]
            if (tok_e[:-1] <= tok_s[1:]).all():
                counts["exact"] += len(items)
                out.arrays = (tok_s, tok_e, kinds_arr)
                return out
            counts["exact"] += len(items)
            candidates = [(i, j + 1, it[2], it) for i, j, it in zip(i_left.tolist(), j_left.tolist(), items,
                                                                     strict=True)]
            items = []
    for item, is_exact, i, j, first, last in zip(items, exact.tolist(), i_left.tolist(), j_left.tolist(),
                                                 first_arr.tolist(), last_arr.tolist(), strict=False):
        start, end, label, span_text = item
        if label not in rank:
            counts["unknown_label"] += 1
            issues.append(AlignmentIssue(doc_id, label, start, end, span_text, "unknown_label", "dropped",
                                         detail="label not in the schema; map or fix the layer"))
            continue
        if not (0 <= start < end <= len(text)) or text[start:end] != span_text:
            counts["text_mismatch"] += 1
            issues.append(AlignmentIssue(doc_id, label, start, end, span_text, "text_mismatch", "dropped",
                                         detail=f"the article reads {text[start:end]!r} there; run "
                                                "`newsner annotations validate`"))
            continue
        if not is_exact and n:
            snapped = _snap_format_chars(text, starts, ends, start, end, resolution)
            if snapped is not None:
                i, j, is_exact, first, last = snapped
                counts["format_chars_snapped"] += 1
        if is_exact:
            counts["exact"] += 1
            candidates.append((i, j + 1, label, item))
            continue
        if first > last:
            counts["dropped_misaligned"] += 1
            why = ("no whole token inside the span" if resolution == "contract"
                   else "the span covers no token (whitespace only)")
            issues.append(AlignmentIssue(doc_id, label, start, end, span_text, "misaligned", "dropped", detail=why))
            continue
        counts[kind] += 1
        issues.append(AlignmentIssue(doc_id, label, start, end, span_text, "misaligned", kind,
                                     result=text[int(starts[first]):int(ends[last])]))
        candidates.append((first, last + 1, label, item))

    # Overlap policy: longer wins, then earlier, then schema order. Most documents have no overlap at all:
    # one sweep over the spans by start proves it and skips the greedy pass.
    by_start = sorted(candidates)
    if all(a[1] <= b[0] for a, b in zip(by_start, by_start[1:], strict=False)):
        out.spans = [_token_span((a, b, label)) for a, b, label, _ in by_start]
        return out
    candidates.sort(key=lambda c: (-(c[1] - c[0]), c[0], rank[c[2]]))
    owner = [-1] * n
    kept: list[tuple[int, int, str, tuple[int, int, str, str]]] = []
    for cand in candidates:
        a, b, label, item = cand
        clash = next((o for o in owner[a:b] if o >= 0), -1)
        if clash < 0:
            owner[a:b] = [len(kept)] * (b - a)
            kept.append(cand)
            continue
        wa, wb, wlabel, witem = kept[clash]
        if (wa, wb, wlabel) == (a, b, label):
            counts["duplicates"] += 1
            issues.append(AlignmentIssue(doc_id, label, item[0], item[1], item[3], "duplicate", "merged",
                                         detail=f"same tokens and label as {witem[3]!r}"))
            continue
        counts["dropped_overlap"] += 1
        issues.append(AlignmentIssue(doc_id, label, item[0], item[1], item[3], "overlap", "dropped",
                                     detail=f"overlaps {witem[3]!r} {wlabel}, which was kept"))
    out.spans = sorted(_token_span((a, b, label)) for a, b, label, _ in kept)
    return out


def snap_edges(text: str, starts: np.ndarray, ends: np.ndarray, start: int, end: int) -> tuple[int, int]:
    """(start, end) with an edge that falls inside a token only because of invisible format characters moved to
    that token's edge.

    Publisher text glues left-to-right marks, zero-width spaces and the like (Unicode category Cf) to words:
    ``"Mosul\u200e"`` is one token, and an annotator's ``"Mosul"`` ends inside it. The edge snaps to the token's
    edge (the span reads the same) instead of the span being contracted to nothing and dropped (issue 18).
    """
    n = len(starts)
    k = int(np.searchsorted(ends, start, "right"))  # the token holding `start`, if it starts before it
    if k < n and starts[k] < start and _all_format(text, int(starts[k]), start):
        start = int(starts[k])
    m = int(np.searchsorted(starts, end, "left")) - 1  # the token holding `end`, if it ends after it
    if m >= 0 and ends[m] > end and _all_format(text, end, int(ends[m])):
        end = int(ends[m])
    return start, end


def _snap_format_chars(text: str, starts: np.ndarray, ends: np.ndarray, start: int, end: int, resolution: str
                       ) -> tuple[int, int, bool, int, int] | None:
    """`align_spans`' lookups (i, j, exact, first, last) for the edges `snap_edges` gives, or None when neither
    edge moved."""
    new_start, new_end = snap_edges(text, starts, ends, start, end)
    if (new_start, new_end) == (start, end):
        return None
    n = len(starts)
    i = int(np.searchsorted(starts, new_start, "left"))
    j = int(np.searchsorted(ends, new_end, "left"))
    exact = i < n and j < n and starts[i] == new_start and ends[j] == new_end
    if resolution == "contract":
        first, last = i, int(np.searchsorted(ends, new_end, "right")) - 1
    else:
        first, last = int(np.searchsorted(ends, new_start, "right")), int(np.searchsorted(starts, new_end, "left")) - 1
    return i, j, bool(exact), first, last


def _all_format(text: str, a: int, b: int) -> bool:
    """Whether text[a:b] is only format characters (Cf: U+200B-F, U+202A-E, U+2060-4, U+2066-9, U+FEFF …)."""
    import unicodedata

    return all(unicodedata.category(c) == "Cf" for c in text[a:b])


def _tags_from_arrays(n: int, starts: np.ndarray, ends: np.ndarray, kinds: np.ndarray) -> np.ndarray:
    tags = np.zeros(n, dtype=np.int64)
    if len(starts):
        lengths = ends - starts
        offsets = np.cumsum(lengths) - lengths
        positions = np.repeat(starts - offsets, lengths) + np.arange(int(lengths.sum()))
        tags[positions] = np.repeat(2 + 2 * kinds, lengths)
        tags[starts] = 1 + 2 * kinds
    return tags


def tag_ids(n: int, spans: Sequence[TokenSpan], labels: Sequence[str]) -> np.ndarray:
    """IOB2 tag ids in `LabelSchema.bio_tags()` order: O=0, B-label_k = 1+2k, I-label_k = 2+2k."""
    if not spans:
        return np.zeros(n, dtype=np.int64)
    rank = {label: i for i, label in enumerate(labels)}
    # One scatter for all spans (they do not overlap): every token gets I-k, then each first token B-k.
    arr = np.array([(s[0], s[1], rank[s[2]]) for s in spans], dtype=np.int64)
    return _tags_from_arrays(n, arr[:, 0], arr[:, 1], arr[:, 2])


# ---------------------------------------------------------------------------------------------- units
def make_units(tokens: Tokens, spans: Sequence[TokenSpan] | Aligned, *, unit: str, max_tokens: int | None,
               doc_id: str, text: str, tags: np.ndarray | None = None
               ) -> tuple[list[tuple[int, int]], list[AlignmentIssue], Counter[str]]:
    """Token ranges [a, b) of the examples of one article (see the module docstring for the rules).

    `tags` (from `tag_ids` for the same spans) saves recomputing where entities are; `spans` may be the
    `Aligned` result itself, whose span list is then built only if a cut needs it.

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
    # inside[b]: a boundary before token b would cut an entity, i.e. token b continues one (an I- tag)
    def span_list() -> Sequence[TokenSpan]:
        return spans.spans if isinstance(spans, Aligned) else spans

    if tags is None:
        tags = tag_ids(n, span_list(), [s.label for s in span_list()])
    inside = np.zeros(n + 1, dtype=bool)
    inside[:n] = (tags > 0) & (tags % 2 == 0)
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
                ent = next(s for s in span_list() if s.start < c < s.end)
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
