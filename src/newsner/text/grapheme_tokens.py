"""Grapheme clusters stay whole tokens: a flag, an emoji sequence or a letter with its combining mark is what a
reader sees as one character, so no export may cut it (issue 11: 🇲🇱 came out as two tokens).

`newsner.text.align.blank_nlp` wraps spaCy's tokenizer in `GraphemeTokenizer`; every tokenization export does goes
through it, so the common case — no cluster cut — costs one regex search and one array of token starts, never
a Python object per token (issue 20: the tokenizer wrapper had made export slower than the script it replaces).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from spacy.tokens import Doc

_PATTERNS: dict[str, Any] = {}


def _pattern(name: str) -> Any:
    """The compiled regexes (the `regex` module, for its grapheme properties), compiled on first use."""
    if not _PATTERNS:
        import regex

        gcb = "\\p{{Grapheme_Cluster_Break={}}}".format
        # A character that may sit inside a cluster rather than begin one: a combining mark, a spacing mark,
        # ZWJ, a skin tone, a regional indicator (the second of a flag), a Hangul vowel or final jamo — or any
        # character after one that joins the next (a prepended mark, ZWJ, a Hangul leading jamo). A token
        # starting anywhere else starts a cluster.
        cont = "".join(gcb(k) for k in ("Extend", "SpacingMark", "ZWJ", "Regional_Indicator", "V", "T"))
        joiner = "".join(gcb(k) for k in ("Prepend", "ZWJ", "L"))
        _PATTERNS["continues"] = regex.compile(rf"[{cont}\p{{Emoji_Modifier}}]")
        _PATTERNS["joins"] = regex.compile(rf"[{joiner}]")
        _PATTERNS["prepend"] = regex.compile(rf"[{gcb('Prepend')}]")
        _PATTERNS["cluster"] = regex.compile(r"\X")
    return _PATTERNS[name]


def _safe_start(text: str, p: int) -> int:
    """A position at or before `p` where a grapheme cluster certainly begins, close to `p`.

    A cluster always begins after a line feed (Unicode's rule GB4) and before an ASCII space that does not
    follow a prepended mark (no rule joins a space to what precedes it), so `\\X` can start matching there.
    """
    floor = text.rfind("\n", 0, p) + 1
    i = p
    while True:
        i = text.rfind(" ", floor, i)
        if i <= floor:
            return floor
        if _pattern("prepend").match(text, i - 1) is None:
            return i


def _cluster_at(text: str, p: int) -> tuple[int, int]:
    """(start, end) of the grapheme cluster holding the character at `p`."""
    for m in _pattern("cluster").finditer(text, _safe_start(text, p)):
        if m.end() > p:
            return int(m.start()), int(m.end())
    return p, p + 1  # pragma: no cover - every character belongs to a cluster


#: Below this code point no character continues a cluster or joins the next one (combining marks begin at U+0300,
#: prepended marks at U+0600): most news text is checked with one array comparison.
_FIRST_JOINING = 0x300
_CHAR_KIND: dict[str, tuple[bool, bool]] = {}  # char → (may continue a cluster, joins the next character)


def _kind(ch: str) -> tuple[bool, bool]:
    kind = _CHAR_KIND.get(ch)
    if kind is None:
        kind = _CHAR_KIND[ch] = (_pattern("continues").match(ch) is not None, _pattern("joins").match(ch) is not None)
    return kind


def _is_regional(ch: str) -> bool:
    return "\U0001F1E6" <= ch <= "\U0001F1FF"


def _may_cut(text: str, p: int) -> bool:
    """Whether a token starting at `p` (> 0) may be inside a cluster: the character there may continue one, or
    the one before joins the next. A regional indicator after anything else begins a flag."""
    here, before = text[p], text[p - 1]
    if _kind(here)[0] and (not _is_regional(here) or _is_regional(before)):
        return True
    return _kind(before)[1]


def _cut_clusters(text: str, positions: Sequence[int]) -> list[tuple[int, int]]:
    """The clusters that tokens starting at `positions` (ascending, each > 0) cut, checked with `\\X`."""
    out: list[tuple[int, int]] = []
    for p in positions:
        if not _may_cut(text, p):
            continue
        if out and out[-1][0] < p < out[-1][1]:
            continue  # a further cut of a cluster already found
        s, e = _cluster_at(text, p)
        if s < p and not text[s:e].isspace():  # CR LF is one cluster but whitespace is never a token
            out.append((s, e))
    return out


def split_clusters(text: str, token_starts: Sequence[int] | np.ndarray) -> list[tuple[int, int]]:
    """(start, end) character ranges of the grapheme clusters of `text` that tokens starting at `token_starts`
    cut apart (a flag 🇲🇱 as two regional indicators, an emoji ZWJ sequence, a skin tone, a combining mark after
    punctuation), in text order.

    Only a token starting at a character that may continue a cluster, or right after one that joins the next,
    can cut one; those few are found with array operations over the token starts, and only they are checked
    against Unicode's cluster rules (`\\X`).
    """
    if text.isascii():
        return []
    starts = np.asarray(token_starts, dtype=np.int64)
    starts = starts[starts > 0]
    if not len(starts):
        return []
    cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    maybe = starts[(cps[starts] >= _FIRST_JOINING) | (cps[starts - 1] >= _FIRST_JOINING)]
    return _cut_clusters(text, maybe.tolist())


def _suspects(text: str) -> list[int] | None:
    """Positions where a token start would cut a cluster, from the text alone (token starts unknown), or None
    when there are too many to look each up (a script written with combining marks: use the token array)."""
    cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    high = np.flatnonzero(cps >= _FIRST_JOINING)
    if len(high) > _FEW:
        return None
    found: set[int] = set()
    for q in high.tolist():
        for p in (q, q + 1):
            if 0 < p < len(text) and _may_cut(text, p):
                found.add(p)
    return sorted(found)


#: Up to this many characters from U+0300 on, the tokens at them are looked up one by one (a binary search over
#: the Doc) instead of reading every token's offset into an array.
_FEW = 32


def _starts_token(doc: Doc, p: int) -> bool:
    """Whether a token of `doc` starts at character `p` (binary search over the tokens' offsets)."""
    lo, hi = 0, len(doc)
    while lo < hi:
        mid = (lo + hi) // 2
        if doc[mid].idx < p:
            lo = mid + 1
        else:
            hi = mid
    return lo < len(doc) and doc[lo].idx == p


#: Two regional indicators: a flag (🇲🇱), the grapheme cluster news text carries most.
_FLAG = "[\U0001F1E6-\U0001F1FF]{2}"


def keep_flags_whole(nlp: Any) -> None:
    """Teach the pipeline's tokenizer that a flag is one prefix or suffix, not two symbols.

    spaCy splits 🇲🇱 into 🇲 + 🇱 as it splits any symbol off a word; merging them back afterwards costs more than
    tokenizing (issue 20). With the flag as one affix the tokens come out whole and cached; `GraphemeTokenizer`
    still merges whatever else is cut (an odd run of indicators, emoji sequences, combining marks).
    """
    import re

    tokenizer = nlp.tokenizer
    changes = {}
    for attr, flag in (("prefix_search", f"^{_FLAG}"), ("suffix_search", f"{_FLAG}$")):
        pattern = getattr(getattr(tokenizer, attr, None), "__self__", None)  # the language's compiled affixes
        if isinstance(pattern, re.Pattern) and isinstance(pattern.pattern, str):
            changes[attr] = re.compile(f"{flag}|{pattern.pattern}", pattern.flags).search
    if changes:
        # Each setter reloads the thousands of special cases (a tenth of a second): set them with none loaded,
        # then load them once.
        rules = tokenizer.rules
        tokenizer.rules = {}
        for attr, search in changes.items():
            setattr(tokenizer, attr, search)
        tokenizer.rules = rules


class GraphemeTokenizer:
    """spaCy's tokenizer, then every grapheme cluster it cut merged back into one token.

    A user-perceived character never straddles tokens: 🇲🇱 is one token in every export, not two regional
    indicators (issue 11), and spans can only begin or end between graphemes. Offsets do not change, only which
    tokens are joined; the merged token keeps the attributes of its first token, like `Doc.retokenize` does.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __call__(self, text: str) -> Doc:
        return merge_split_clusters(self.inner(text), text)

    def pipe(self, texts: Any, batch_size: int = 1000) -> Any:
        for doc in self.inner.pipe(texts, batch_size=batch_size):
            yield merge_split_clusters(doc)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def merge_split_clusters(doc: Doc, text: str | None = None) -> Doc:
    """`doc` with no token boundary inside a grapheme cluster (see `split_clusters`).

    The usual cut — a cluster spread over whole tokens, like 🇲🇱 as 🇲 + 🇱 — is merged in place
    (`Doc.retokenize`). A token that runs past a cluster's edge (``"🏽."``) is rare; the Doc is then rebuilt with
    that token cut at the edge first, so the cluster becomes exactly one token and its neighbours keep theirs.
    `text` is the Doc's text when the caller has it (`Doc.text` joins every token in Python).
    """
    if text is None:
        text = doc.text
    if text.isascii() or not len(doc):
        return doc
    from spacy.attrs import IDX, LENGTH

    suspects = _suspects(text)
    if suspects is not None:  # the usual non-ASCII text: a few accents, a flag, an emoji
        ranges = _cut_clusters(text, [p for p in suspects if _starts_token(doc, p)])
        if not ranges:
            return doc
    arr = doc.to_array([IDX, LENGTH]).astype(np.int64)
    starts = arr[:, 0]
    if suspects is None:
        ranges = split_clusters(text, starts)
        if not ranges:
            return doc
    ends = starts + arr[:, 1]
    spans: list[tuple[int, int]] = []
    for s, e in ranges:
        i = int(np.searchsorted(ends, s, side="right"))  # first token ending after the cluster's start
        j = int(np.searchsorted(starts, e, side="left"))  # tokens [i, j) touch the cluster
        if i >= j or starts[i] != s or ends[j - 1] != e or not all(
                t.whitespace_ == "" for t in doc[i:j - 1]):
            return _rebuild(doc, ranges)
        spans.append((i, j))
    with doc.retokenize() as retokenizer:
        for i, j in spans:
            retokenizer.merge(doc[i:j])
    return doc


def _rebuild(doc: Doc, ranges: list[tuple[int, int]]) -> Doc:
    """A new Doc whose tokens are cut at the edges of `ranges`, the pieces inside each range joined."""
    from spacy.tokens import Doc as SpacyDoc

    text = doc.text
    toks = [(t.idx, t.idx + len(t.text), bool(t.whitespace_)) for t in doc]
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
