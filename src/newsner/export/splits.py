"""Which split an article goes to: a stable hash of its near-duplicate cluster (see `split_of`)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from newsner.export.options import SPLITS

SMALL_EXPORT = 1000


def unit_hash(cluster: str, seed: int) -> float:
    digest = hashlib.sha256(f"{seed}:{cluster}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def small_corpus_splits(clusters: Iterable[str], seed: int, fractions: Sequence[float]) -> dict[str, str]:
    """Cluster → split for a small export: split_of's hash, then no split with a non-zero fraction left empty.

    With a handful of articles a hash alone easily leaves validation or test empty (10 clusters at 0.8/0.1/0.1:
    one time in three), and a baseline then has nothing to be scored on. An empty split takes the cluster whose
    hash lies nearest its interval from a split that has more than one; every other cluster stays where the hash
    put it, so adding articles moves nothing unless a split was empty. A cluster never straddles splits.
    """
    unique = sorted(set(clusters))
    u = {c: unit_hash(c, seed) for c in unique}
    out = {c: split_of(c, seed, fractions) for c in unique}
    bounds, cum = {}, 0.0
    for name, frac in zip(SPLITS, fractions, strict=True):
        bounds[name] = (cum, cum + frac)
        cum += frac
    for name, frac in zip(SPLITS, fractions, strict=True):
        if frac <= 0 or name in out.values():
            continue
        sizes = {n: list(out.values()).count(n) for n in SPLITS}
        donors = [c for c in unique if sizes[out[c]] > 1]
        if not donors:
            break  # fewer clusters than splits: nothing to spare
        lo, hi = bounds[name]
        nearest = min(donors, key=lambda c: (min(abs(u[c] - lo), abs(u[c] - hi)), c))
        out[nearest] = name
    return out


def split_of(cluster: str, seed: int, fractions: Sequence[float]) -> str:
    """The split of a near-duplicate cluster: a stable hash of (seed, cluster) against the fractions."""
    u = unit_hash(cluster, seed)
    cum = 0.0
    for name, frac in zip(SPLITS, fractions, strict=True):
        cum += frac
        if u < cum:
            return name
    return next(name for name, frac in reversed(list(zip(SPLITS, fractions, strict=True))) if frac > 0)
