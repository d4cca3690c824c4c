"""Near-duplicate detection: MinHash signatures over word shingles, LSH bands, and a check that links a pair.

Exact duplicates share an id (the id is derived from the normalized text) and are handled by the pipeline.
Near-duplicates — the same wire story under another header or footer, lightly edited, or quoted whole inside a
longer roundup page — are kept and point with `duplicate_of` at the first-seen article of their cluster, so
exports can keep a cluster on one side of a split. Clusters are flat: a near-duplicate of a near-duplicate points
at the cluster's first article.

Shingles are 5-word windows hashed with CRC-32 (stable across processes and runs, unlike `hash()`). Scripts
written without spaces (Chinese, Japanese, Thai) use character 5-grams instead, since their "words" are whole
clauses. The MinHash is computed here with numpy (seeded multiply-shift hashes, so signatures are identical in
every process and on every machine); nothing imports scipy.

Parameters (bench/bench_dedupe.py, on pairs built from the re3d conflict documents, both arrival orders):
- 126 permutations in 42 bands of 3 rows: a pair at Jaccard 0.5 shares a band with probability
  1 - (1 - 0.5³)⁴² = 0.996 (datasketch's choice for threshold 0.5, 32×4, gave 0.87, ~0.63 after its check);
- a candidate is linked when its estimated Jaccard is >= 0.35 (lightly edited wire copy sits at 0.4-0.6), or
  when at least half of the shorter text's shingles are in the longer one (containment, from the estimated
  Jaccard and the two shingle counts: a story quoted whole inside a roundup page);
- texts of 400+ shingles also get the keys of 200-shingle windows (14 bands): a story inside a long roundup
  shares a window even though their Jaccard is low. They look up all their keys, and are stored under their
  windows' and their first 14 bands' only (see WINDOW_STORE_MIN): 70 index rows for a 500-word article, not 98.
Measured: edited copies at Jaccard >= 0.5 found 315/315, at 0.3-0.5 155/187; stories quoted in roundups 66/68;
long (400+ words) copies at Jaccard >= 0.5 61/61, at 0.3-0.5 44/49, long stories in roundups 22/22; distinct
stories on the same conflict linked 0/2475, distinct long ones 0/297 (three CENTCOM daily releases filled in from
one template share half their shingles and are linked, as the Jaccard criterion says).
"""

from __future__ import annotations

import array
import re
import zlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

#: Word tokens as every ingest step counts them (on lower-cased text).
WORD = re.compile(r"\w+")

if TYPE_CHECKING:
    import numpy as np

#: Estimated Jaccard similarity at or above which a pair must be found (the recall target).
DEFAULT_THRESHOLD = 0.5
#: Estimated Jaccard at which a candidate pair is linked (below DEFAULT_THRESHOLD: estimates scatter by ±0.045).
LINK_JACCARD = 0.35
#: Share of the shorter text's shingles found in the longer one at which a pair is linked (story in a roundup).
LINK_CONTAINMENT = 0.5
#: Containment is only trusted for texts with at least this many shingles (a one-line blurb is in everything).
CONTAINMENT_MIN_SHINGLES = 40
#: Texts with at least this many shingles also get the band keys of windows of WINDOW shingles (every STRIDE):
#: a story quoted inside a long roundup page shares a window with it even though their Jaccard is low.
WINDOW_MIN = 400
#: A text this long is *stored* in the index under its window keys and its first WINDOW_BANDS full-text bands
#: only (it still looks up all of them): window bands are comparable with a text's first bands, so a shorter copy
#: or a story inside it meets one of its windows, and a longer text's windows meet its windows or its first bands.
#: 29 % fewer index rows for a 500-word article (70 instead of 98), +9 % ingest rate, the same recall in
#: bench/bench_dedupe.py; what it gives up is the chance hit of a low-Jaccard pair (J < 0.3) in bands 15-42.
WINDOW_STORE_MIN = 400
WINDOW = 200
STRIDE = 100
WINDOW_BLOCKS = WINDOW // STRIDE  # WINDOW is a multiple of STRIDE
#: Windows get the keys of their first WINDOW_BANDS bands only: a quarter of the index rows, and a window
#: inside a story still shares a band with it at Jaccard 0.6 with probability 1 - (1 - 0.6³)¹⁴ = 0.97.
WINDOW_BANDS = 14
BANDS = 42
ROWS = 3
NUM_PERM = BANDS * ROWS
SHINGLE = 5
SEED = 1

_MAX_HASH = (1 << 32) - 1
# Han, kana, Hangul, Thai, Lao, Khmer, Myanmar: scripts whose words are not separated by spaces
_NO_SPACE_SCRIPT = re.compile("[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
                              "\uac00-\ud7af\uf900-\ufaff]")
# word -> CRC-32: news vocabulary repeats, and a dict lookup is cheaper than encoding and hashing again.
# A pure function's memo: safe to share, bounded, never persisted.
_CRC_CACHE: dict[str | bytes, int] = {}
# clean.WORD (\w+) on ASCII text: letters, digits and "_" are word bytes, everything else separates words
_ASCII_WORD_BYTES = bytes(c if chr(c).isalnum() or c == 95 else 32 for c in range(128)) + b" " * 128
_CRC_CACHE_MAX = 500_000
_STATE: dict[str, Any] = {}
_U32 = next(code for code in "IL" if array.array(code).itemsize == 4)  # the array typecode of 32-bit unsigned


def _np() -> Any:
    """numpy and the permutations, built on first use (keeps numpy out of `newsner --help`)."""
    if not _STATE:
        import numpy

        gen = numpy.random.RandomState(SEED)
        _STATE["np"] = numpy
        _STATE["a"] = gen.randint(0, 1 << 31, size=NUM_PERM, dtype=numpy.uint32) * numpy.uint32(2) + numpy.uint32(1)
        _STATE["b"] = gen.randint(0, 1 << 31, size=NUM_PERM, dtype=numpy.uint32) * numpy.uint32(2)
        # band key = rows combined with odd 64-bit multipliers, plus the band number, so one SQL column holds all
        _STATE["mult"] = gen.randint(1, 1 << 62, size=ROWS, dtype=numpy.uint64) | numpy.uint64(1)
        _STATE["band_salt"] = numpy.arange(BANDS, dtype=numpy.uint64) * numpy.uint64(0x9E3779B97F4A7C15)
    return _STATE["np"]


def _word_hashes(text: str, words: list[str] | None = None) -> array.array[int]:
    """CRC-32 of each word, or of each character for scripts written without spaces (an array of uint32)."""
    sample = text[:600]
    tokens: list[str] | list[bytes]
    if not sample.isascii() and len(_NO_SPACE_SCRIPT.findall(sample)) * 3 > len(sample):
        # one character per token; the k-token windows below are then character k-grams
        tokens = [ch for ch in text.lower() if ch.isalnum()]
    elif words is not None:
        tokens = words
    else:
        low = text.lower()
        if low.isascii():
            # bytes.translate + split is ~6x faster than the regex and gives the same tokens for ASCII text;
            # CRC-32 of a bytes word = CRC-32 of the same str word encoded, so signatures do not change
            tokens = low.encode("ascii").translate(_ASCII_WORD_BYTES).split()
        else:
            tokens = WORD.findall(low)
    cache = _CRC_CACHE
    if len(cache) > _CRC_CACHE_MAX:
        cache.clear()
    hashes = list(map(cache.get, tokens))
    try:
        return array.array(_U32, hashes)  # type: ignore[arg-type]  # a word not hashed yet (None) raises here
    except TypeError:
        pass
    for i, h in enumerate(hashes):
        if h is None:
            w = tokens[i]
            hashes[i] = cache[w] = zlib.crc32(w if isinstance(w, bytes) else w.encode("utf-8"))
    return array.array(_U32, hashes)  # type: ignore[arg-type]


def shingle_hashes(text: str, k: int = SHINGLE, *, words: list[str] | None = None) -> np.ndarray:
    """32-bit hashes of the text's k-word windows (the whole text as one window when it is shorter).

    `words`: the text's lower-cased word tokens (clean.WORD), when the caller has them already.
    """
    npy = _np()
    h = npy.frombuffer(_word_hashes(text, words), dtype=npy.uint32)
    if len(h) == 0:
        return cast("np.ndarray", npy.array([zlib.crc32(text.encode("utf-8"))], dtype=npy.uint32))
    if len(h) < k:
        k = len(h)
    n = len(h) - k + 1
    acc = h[:n].copy()
    mix = npy.uint32(0x01000193)  # FNV prime: any odd multiplier spreads the words; products wrap at 32 bits
    for j in range(1, k):
        acc *= mix
        acc += h[j:n + j]
    return cast("np.ndarray", acc)  # repeated windows are harmless: a MinHash keeps minima


class Signature:
    """A MinHash signature (NUM_PERM values) and the number of distinct shingles it summarizes."""

    __slots__ = ("_keys", "_stored", "count", "values", "windows")

    def __init__(self, values: np.ndarray, count: int, windows: np.ndarray | None = None) -> None:
        self.values = values
        self.count = count
        # MinHash values of the text's windows (long texts only; one row per window), for candidates
        self.windows = windows
        self._keys: np.ndarray | None = None
        self._stored: np.ndarray | None = None

    @classmethod
    def of(cls, text: str, words: list[str] | None = None) -> Signature:
        npy = _np()
        sh = shingle_hashes(text, words=words)
        # in 32-bit arithmetic, in place: (a·x + b) mod 2^32 with a odd is a bijection of the (already CRC-mixed)
        # shingle hashes, and one uint32 temporary is ~10x cheaper than the 64-bit mod-prime family
        table = npy.multiply(sh[:, None], _STATE["a"])
        table += _STATE["b"]
        values = table.min(axis=0)
        windows = None
        n = len(sh)
        if n >= WINDOW_MIN:  # a window's MinHash is the minimum over its rows of the same table: nearly free
            # only the columns the window bands use; minima of STRIDE-row blocks first (one reduceat), then a
            # window (WINDOW_BLOCKS consecutive blocks) is the minimum of its blocks' minima
            cols = table[:, :WINDOW_BANDS * ROWS]
            blocks = npy.minimum.reduceat(cols, npy.arange(0, n, STRIDE), axis=0)
            aligned = (n - WINDOW) // STRIDE + 1  # windows starting at 0, STRIDE, 2·STRIDE ... that fit
            win = blocks[:aligned].copy()
            for k in range(1, WINDOW_BLOCKS):
                npy.minimum(win, blocks[k:aligned + k], out=win)
            if (n - WINDOW) % STRIDE:  # and the last WINDOW rows, so the end of the text is covered
                win = npy.concatenate([win, cols[n - WINDOW:].min(axis=0)[None, :]])
            windows = win
        # windows, not distinct shingles: news text rarely repeats 5 words, and np.unique costs a quarter of this
        return cls(values, int(n), windows)

    @classmethod
    def from_bytes(cls, data: bytes, count: int) -> Signature:
        npy = _np()
        return cls(npy.frombuffer(data, dtype=npy.uint32), count)

    def to_bytes(self) -> bytes:
        return bytes(self.values.tobytes())

    def digest(self) -> np.ndarray:
        return self.values

    def jaccard(self, other: Signature) -> float:
        return float((self.values == other.values).sum()) / NUM_PERM

    def containment(self, other: Signature, jaccard: float | None = None) -> float:
        """Estimated share of the smaller set's shingles found in the other set."""
        j = self.jaccard(other) if jaccard is None else jaccard
        smaller = min(self.count, other.count)
        if smaller == 0:
            return 0.0
        return min(1.0, j * (self.count + other.count) / ((1 + j) * smaller))

    def key_array(self) -> np.ndarray:
        """One 32-bit key per band, the band number mixed in; then those of the windows.

        These are the keys a new text looks up (int64, computed once)."""
        if self._keys is None:
            npy = _np()
            full = _key_rows(self.values[None, :], BANDS)[0]
            if self.windows is not None and len(self.windows):
                full = npy.concatenate([full, _key_rows(self.windows, WINDOW_BANDS).ravel()])
            self._keys = full
        return self._keys

    def stored_key_array(self) -> np.ndarray:
        """The keys an indexed text is found under: its full-text bands, or its windows' when it is long."""
        if self._stored is None:
            keys = self.key_array()
            long = self.count >= WINDOW_STORE_MIN and len(keys) > BANDS
            self._stored = _np().concatenate((keys[:WINDOW_BANDS], keys[BANDS:])) if long else keys[:BANDS]
        return self._stored

    def band_keys(self) -> list[int]:
        return cast("list[int]", self.key_array().tolist())

    def stored_keys(self) -> list[int]:
        return cast("list[int]", self.stored_key_array().tolist())


def _key_rows(values: np.ndarray, bands: int) -> np.ndarray:
    """Band keys of each row of MinHash values: (m, ≥ bands·ROWS) uint32 → (m, bands) int64 in [0, 2³²).

    32 bits, so the index stores a key and an article's position as one 63-bit integer (see newsner.corpus.index); two
    bands collide by chance with probability 2⁻³², and a collision only makes a candidate, which the link check
    then rejects."""
    npy = _np()
    v = values[:, :bands * ROWS].astype(npy.uint64).reshape(len(values), bands, ROWS)
    with npy.errstate(over="ignore"):
        keys = (v * _STATE["mult"]).sum(axis=2, dtype=npy.uint64) + _STATE["band_salt"][:bands]
    return cast("np.ndarray", (keys >> npy.uint64(32)).astype(npy.int64))


def linked_many(sig: Signature, values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """`linked(sig, other)` for many others at once: their MinHash values (m × NUM_PERM) and shingle counts."""
    npy = _np()
    j = (values == sig.values).sum(axis=1) / NUM_PERM
    smaller = npy.minimum(counts, sig.count)
    with npy.errstate(divide="ignore", invalid="ignore"):
        contained = npy.minimum(1.0, j * (counts + sig.count) / ((1 + j) * smaller))
    return cast("np.ndarray", (j >= LINK_JACCARD) | ((smaller >= CONTAINMENT_MIN_SHINGLES)
                                                      & (contained >= LINK_CONTAINMENT)))


def linked(a: Signature, b: Signature) -> bool:
    """Whether two signatures are near-duplicates (see the module docstring for the rule)."""
    j = a.jaccard(b)
    if j >= LINK_JACCARD:
        return True
    return (min(a.count, b.count) >= CONTAINMENT_MIN_SHINGLES
            and a.containment(b, j) >= LINK_CONTAINMENT)


class NearDuplicateIndex:
    """First-seen-wins clusters of near-duplicate texts, in memory (the corpus index keeps the same in SQLite)."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.threshold = threshold
        self._bands: dict[int, list[str]] = {}
        self._sigs: dict[str, Signature] = {}
        self._root: dict[str, str] = {}
        self._order: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._sigs)

    def __contains__(self, key: str) -> bool:
        return key in self._sigs

    def signature(self, text: str, words: list[str] | None = None) -> Signature:
        return Signature.of(text, words)

    def signatures(self, texts: Iterable[str]) -> list[Signature]:
        return [self.signature(t) for t in texts]

    def match(self, sig: Signature) -> str | None:
        """Root id of the earliest indexed article similar enough to `sig`, or None."""
        seen: set[str] = set()
        best: tuple[int, str] | None = None
        for band in sig.band_keys():
            for key in self._bands.get(band, ()):
                if key in seen:
                    continue
                seen.add(key)
                if linked(sig, self._sigs[key]):
                    root = self._root[key]
                    rank = self._order[root]
                    if best is None or rank < best[0]:
                        best = (rank, root)
        return best[1] if best else None

    def add(self, key: str, sig: Signature, duplicate_of: str | None = None) -> None:
        """Index an article; `duplicate_of` names its cluster root (None when it starts a cluster)."""
        if key in self._sigs:
            return
        root = self._root.get(duplicate_of, duplicate_of) if duplicate_of else key
        if root not in self._order:  # a root we have not seen (e.g. a hand-edited corpus): it ranks here
            self._order[root] = len(self._order)
        self._order.setdefault(key, len(self._order))
        self._root[key] = root
        self._sigs[key] = sig
        for band in sig.stored_keys():
            self._bands.setdefault(band, []).append(key)
