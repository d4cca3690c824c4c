"""Which split an article goes to: a stable hash of its near-duplicate cluster, then the fewest whole-cluster moves
so that every label with examples is in train and no split is left empty.

The hash (`split_of`) decides almost everything: a document's split never changes when others are added, and a
cluster never straddles splits. Two repairs move *whole clusters* only, deterministically for a given seed:

1. Label coverage: a label that has examples but none in train would make a model score it 0 with no word of
   why (issue 11: all 15 LOCATION entities landed in test). For each such label (schema order) the cluster
   carrying it whose hash lies nearest the train interval moves to train.
2. Small exports (below `SMALL_EXPORT` clusters): a split with a non-zero fraction that is empty takes the
   nearest cluster from a split that has more than one — never a cluster that is the only train example of a
   label.

Repair 1 runs in one streaming pass keeping one candidate per label (memory does not grow with the corpus);
repair 2 needs the cluster list, which small exports have anyway.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

from newsner.export.options import SPLITS

SMALL_EXPORT = 1000


def unit_hash(cluster: str, seed: int) -> float:
    digest = hashlib.sha256(f"{seed}:{cluster}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def split_of(cluster: str, seed: int, fractions: Sequence[float]) -> str:
    """The split of a near-duplicate cluster: a stable hash of (seed, cluster) against the fractions."""
    u = unit_hash(cluster, seed)
    cum = 0.0
    for name, frac in zip(SPLITS, fractions, strict=True):
        cum += frac
        if u < cum:
            return name
    return next(name for name, frac in reversed(list(zip(SPLITS, fractions, strict=True))) if frac > 0)


@dataclass(frozen=True)
class ClusterMove:
    """One cluster moved away from the split its hash gave it, and why."""

    cluster: str
    from_split: str
    to_split: str
    #: The label this move brought into train, or None when the move filled an empty split.
    label: str | None

    def __str__(self) -> str:
        why = (f"so that {self.label} has training examples" if self.label
               else f"so that {self.to_split} is not empty")
        return f"cluster {self.cluster} moved from {self.from_split} to {self.to_split} {why}"


@dataclass
class SplitPlan:
    """The hash plus the moves; `split` answers for any cluster."""

    seed: int
    fractions: tuple[float, float, float]
    overrides: dict[str, str] = field(default_factory=dict)
    moves: list[ClusterMove] = field(default_factory=list)

    def split(self, cluster: str) -> str:
        return self.overrides.get(cluster) or split_of(cluster, self.seed, self.fractions)


def plan_splits(clusters: Iterable[tuple[str, Collection[str]]], seed: int, fractions: Sequence[float], *,
                label_order: Sequence[str] = (), small: bool = True) -> SplitPlan:
    """The split plan of an export from (cluster, labels of one of its documents) pairs, in any order.

    A cluster may appear once per document. With ``small`` the clusters are also kept (for repair 2); otherwise
    only one candidate per label is, so memory stays flat however large the export.
    """
    fr = (float(fractions[0]), float(fractions[1]), float(fractions[2]))
    plan = SplitPlan(seed, fr)
    in_train: set[str] = set()
    #: label → (hash, cluster, labels of that document, split): the non-train cluster nearest the train interval.
    candidate: dict[str, tuple[float, str, frozenset[str], str]] = {}
    labels_of: dict[str, set[str]] = {}
    for cluster, labels in clusters:
        if small:
            labels_of.setdefault(cluster, set()).update(labels)
        if not labels:
            continue
        split = split_of(cluster, seed, fr)
        if split == "train":
            in_train.update(labels)
            continue
        u = unit_hash(cluster, seed)
        for label in labels:
            best = candidate.get(label)
            if best is None or (u, cluster) < best[:2]:
                candidate[label] = (u, cluster, frozenset(labels), split)
    if fr[0] > 0:
        order = list(label_order) + sorted(set(candidate) - set(label_order))
        for label in order:
            if label in in_train or label not in candidate:
                continue
            _, cluster, labels, split = candidate[label]
            if cluster in plan.overrides:  # already moved for an earlier label; its other documents count too
                in_train.add(label)
                continue
            plan.overrides[cluster] = "train"
            plan.moves.append(ClusterMove(cluster, split, "train", label))
            in_train.update(labels)
            if small:
                in_train.update(labels_of.get(cluster, ()))
    if small:
        _fill_empty_splits(plan, labels_of)
    return plan


def _fill_empty_splits(plan: SplitPlan, labels_of: dict[str, set[str]]) -> None:
    """Repair 2: no split with a non-zero fraction left empty, taking the nearest spare cluster for each.

    With a handful of articles a hash alone easily leaves validation or test empty (10 clusters at 0.8/0.1/0.1:
    one time in three), and a baseline then has nothing to be scored on.
    """
    unique = sorted(labels_of)
    if not unique:
        return
    u = {c: unit_hash(c, plan.seed) for c in unique}
    out = {c: plan.split(c) for c in unique}
    bounds, cum = {}, 0.0
    for name, frac in zip(SPLITS, plan.fractions, strict=True):
        bounds[name] = (cum, cum + frac)
        cum += frac
    for name, frac in zip(SPLITS, plan.fractions, strict=True):
        if frac <= 0 or name in out.values():
            continue
        sizes = {n: list(out.values()).count(n) for n in SPLITS}
        carriers: dict[str, list[str]] = {}
        for c in unique:
            if out[c] == "train":
                for label in labels_of[c]:
                    carriers.setdefault(label, []).append(c)
        pinned = {cs[0] for cs in carriers.values() if len(cs) == 1}
        donors = [c for c in unique if sizes[out[c]] > 1 and c not in pinned]
        if not donors:
            break  # fewer clusters than splits: nothing to spare
        lo, hi = bounds[name]
        nearest = min(donors, key=lambda c: (min(abs(u[c] - lo), abs(u[c] - hi)), c))
        plan.moves.append(ClusterMove(nearest, out[nearest], name, None))
        out[nearest] = name
        plan.overrides[nearest] = name


def small_corpus_splits(clusters: Iterable[str], seed: int, fractions: Sequence[float]) -> dict[str, str]:
    """Cluster → split for a small export without labels: the hash, then no split left empty (repair 2)."""
    unique = sorted(set(clusters))
    plan = plan_splits(((c, ()) for c in unique), seed, fractions)
    return {c: plan.split(c) for c in unique}


def label_warnings(entities: dict[str, dict[str, int]], labels: Sequence[str]) -> list[str]:
    """One line per label a model cannot learn or be scored on, from entities per split per label."""
    out = []
    for label in labels:
        per = {s: entities.get(s, {}).get(label, 0) for s in SPLITS}
        total = sum(per.values())
        if total == 0:
            out.append(f"label {label} has no examples at all: a model trained on this export will never "
                       "predict it (annotate some, or drop it from annotations/labels.json)")
        elif per["train"] == 0:
            out.append(f"label {label} has no training examples ({total} in validation/test): a model will score "
                       "0 on it (give train a non-zero fraction with --splits)")
    return out
