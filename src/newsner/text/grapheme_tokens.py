"""Grapheme clusters stay whole tokens: a flag, an emoji sequence or a letter with its combining mark is what a
reader sees as one character, so no export may cut it (issue 11: 🇲🇱 came out as two tokens).

`newsner.text.align.blank_nlp` wraps spaCy's tokenizer in `GraphemeTokenizer`; every tokenization export does goes
through it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from spacy.tokens import Doc

#: Characters that only occur inside a multi-code-point grapheme cluster (combining marks, variation
#: selectors, zero-width joiner, skin tones, regional indicators, keycap): a text without any needs no check.
_CLUSTER_PART = None


def _cluster_part() -> Any:
    global _CLUSTER_PART
    if _CLUSTER_PART is None:
        import regex

        _CLUSTER_PART = regex.compile(r"[\p{Grapheme_Extend}\p{Regional_Indicator}\p{Emoji_Modifier}\u200d"
                                      r"\p{Grapheme_Cluster_Break=SpacingMark}\p{Grapheme_Cluster_Break=Prepend}]")
    return _CLUSTER_PART


def split_clusters(text: str, token_starts: Sequence[int]) -> list[tuple[int, int]]:
    """(start, end) character ranges of the grapheme clusters of `text` that tokens starting at `token_starts`
    cut apart (a flag 🇲🇱 as two regional indicators, an emoji ZWJ sequence, a skin tone, a combining mark after
    punctuation), overlapping ranges joined. Empty for most texts after one regex search."""
    if text.isascii() or _cluster_part().search(text) is None:
        return []
    import regex

    starts = np.asarray(token_starts, dtype=np.int64)
    out: list[tuple[int, int]] = []
    for m in regex.finditer(r"\X", text):
        s, e = m.span()
        if e - s < 2 or m.group().isspace():
            continue
        # a token starting strictly inside the cluster cuts it
        if np.searchsorted(starts, s, side="right") < np.searchsorted(starts, e, side="left"):
            if out and s < out[-1][1]:
                out[-1] = (out[-1][0], max(e, out[-1][1]))
            else:
                out.append((s, e))
    return out


class GraphemeTokenizer:
    """spaCy's tokenizer, then every grapheme cluster it cut merged back into one token.

    A user-perceived character never straddles tokens: 🇲🇱 is one token in every export, not two regional
    indicators (issue 11), and spans can only begin or end between graphemes. Offsets do not change, only which
    tokens are joined; the merged token keeps the attributes of its first token, like `Doc.retokenize` does.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __call__(self, text: str) -> Doc:
        return merge_split_clusters(self.inner(text))

    def pipe(self, texts: Any, batch_size: int = 1000) -> Any:
        for doc in self.inner.pipe(texts, batch_size=batch_size):
            yield merge_split_clusters(doc)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def merge_split_clusters(doc: Doc) -> Doc:
    """`doc`, or a new Doc whose token boundaries never fall inside a grapheme cluster (see `split_clusters`).

    A token that runs past a cluster's edge is cut there first (``"🏽."`` → ``"🏽"``, ``"."``), then the pieces
    inside each cluster are joined, so the cluster becomes exactly one token and its neighbours keep theirs.
    """
    text = doc.text
    if text.isascii() or not len(doc):
        return doc
    from spacy.tokens import Doc as SpacyDoc

    toks = [(t.idx, t.idx + len(t.text), bool(t.whitespace_)) for t in doc]
    ranges = split_clusters(text, [a for a, _, _ in toks])
    if not ranges:
        return doc
    cuts = sorted({x for r in ranges for x in r})
    pieces: list[list[Any]] = []  # [start, end, trailing space]
    for a, b, ws in toks:
        inner = [c for c in cuts if a < c < b]
        bounds = [a, *inner, b]
        for k in range(len(bounds) - 1):
            pieces.append([bounds[k], bounds[k + 1], ws and k == len(bounds) - 2])
    merged: list[list[Any]] = []
    r = 0
    for piece in pieces:
        while r < len(ranges) and ranges[r][1] <= piece[0]:
            r += 1
        inside = r < len(ranges) and ranges[r][0] < piece[0] < ranges[r][1]
        if inside and merged and not merged[-1][2]:
            merged[-1][1], merged[-1][2] = piece[1], piece[2]
        else:
            merged.append(piece)
    return SpacyDoc(doc.vocab, words=[text[a:b] for a, b, _ in merged], spaces=[ws for _, _, ws in merged])
