"""Choose which articles to annotate next: random, diverse or uncertain; deterministic per seed.

Memory stays flat whatever the corpus size: the corpus is streamed (record fields only, texts only for the
`uncertain` pool) and only bounded sets are kept:

- Every article gets a key = hash(seed, id); "random" takes the n smallest keys, so the answer depends on the seed
  and the corpus, never on shard order.
- Near-duplicate clusters (`duplicate_of`, else the article itself) are never picked twice in one round, and a
  cluster that already has an article in `exclude` (already in doccano) is skipped: annotating a near copy of a
  document someone has annotated teaches nothing. Each cluster is represented by its member with the smallest key.
- "diverse": a random pool (20 × n clusters) plus the smallest-key article of every (source, month) stratum, then
  a round-robin over sources and, within each source, over months, so a round spreads over sources first, then
  months, then clusters.
- "uncertain": the model (a `newsner train` output) scores a random pool of max(10 × n, 200) articles and the n
  least confident are chosen. Confidence comes from spaCy beam search over the ner model (see
  `newsner.model.predict`): each entity candidate the beam weighed has a probability p; the article's uncertainty is
  the sum over its candidates of min(p, 1 − p), i.e. the expected number of entity decisions the model gets wrong
  there, which is the expected number of corrections an annotator will make. It is a sum, not a mean, on purpose:
  an article with five doubtful entities teaches more than one with one. The pool keeps scoring cost bounded
  (scoring 100,000 articles with a beam would take hours on a CPU); the seed chooses the pool.
"""

from __future__ import annotations

import hashlib
import heapq
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsner.errors import InputError, ModelError
from newsner.rounds.record import STRATEGIES, Round
from newsner.workspace import Workspace

DIVERSE_POOL_FACTOR = 20
UNCERTAIN_POOL_FACTOR = 10
UNCERTAIN_POOL_MIN = 200


def key_of(seed: int, doc_id: str) -> int:
    """The article's place in the seed's random order (stable across runs and machines)."""
    return int.from_bytes(hashlib.blake2b(f"{seed}\0{doc_id}".encode(), digest_size=8).digest(), "big")


@dataclass(frozen=True)
class Candidate:
    key: int
    id: str
    cluster: str
    source: str
    month: str
    text: str = ""


class BestPerCluster:
    """The `capacity` clusters with the smallest keys, each by its smallest-key member; O(capacity) memory."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.by_cluster: dict[str, Candidate] = {}
        self._heap: list[tuple[int, str]] = []  # max-heap on key (negated); stale entries skipped lazily

    def _max(self) -> Candidate:
        while True:
            neg, cluster = self._heap[0]
            cand = self.by_cluster.get(cluster)
            if cand is not None and cand.key == -neg:
                return cand
            heapq.heappop(self._heap)

    def add(self, cand: Candidate) -> None:
        held = self.by_cluster.get(cand.cluster)
        if held is not None:
            if cand.key < held.key:
                self.by_cluster[cand.cluster] = cand
                heapq.heappush(self._heap, (-cand.key, cand.cluster))
            return
        if len(self.by_cluster) >= self.capacity:
            worst = self._max()
            if cand.key >= worst.key:
                return
            del self.by_cluster[worst.cluster]
        self.by_cluster[cand.cluster] = cand
        heapq.heappush(self._heap, (-cand.key, cand.cluster))
        if len(self._heap) > 4 * self.capacity + 16:  # drop stale entries now and then
            self._heap = [(-c.key, c.cluster) for c in self.by_cluster.values()]
            heapq.heapify(self._heap)

    def sorted(self) -> list[Candidate]:
        return sorted(self.by_cluster.values(), key=lambda c: c.key)


def _records(workspace: Workspace) -> Iterator[dict[str, Any]]:
    from newsner.corpus.store import Corpus

    corpus = Corpus(workspace.corpus_dir)
    corpus.require()
    for _, _, obj in corpus.iter_raw():
        if isinstance(obj, dict) and isinstance(obj.get("id"), str):
            yield obj


def _cluster(obj: dict[str, Any]) -> str:
    return str(obj.get("duplicate_of") or obj["id"])


def _excluded_clusters(workspace: Workspace, exclude: set[str]) -> set[str]:
    """Clusters that already have an article in `exclude` (one streaming pass; kept only when exclude is set)."""
    if not exclude:
        return set()
    clusters = set(exclude)
    for obj in _records(workspace):
        if obj["id"] in exclude:
            clusters.add(_cluster(obj))
    return clusters


def _candidates(workspace: Workspace, seed: int, exclude: set[str], *, with_text: bool = False,
                on_article: Callable[[Candidate], None] | None = None) -> Iterator[Candidate]:
    skip = _excluded_clusters(workspace, exclude)
    for obj in _records(workspace):
        doc_id = obj["id"]
        cluster = _cluster(obj)
        if doc_id in exclude or cluster in skip:
            continue
        yield Candidate(key_of(seed, doc_id), doc_id, cluster, obj.get("source") or "(unknown)",
                        (obj.get("published") or "")[:7] or "(undated)",
                        obj.get("text", "") if with_text else "")


def select_random(workspace: Workspace, n: int, seed: int, exclude: set[str]) -> list[str]:
    keep = BestPerCluster(n)
    for cand in _candidates(workspace, seed, exclude):
        keep.add(cand)
    return [c.id for c in keep.sorted()]


def spread(cands: list[Candidate], n: int, seed: int) -> list[str]:
    """Round-robin over sources (in a seeded order), each source taking its next month in turn."""
    by_source: dict[str, dict[str, list[Candidate]]] = {}
    for c in sorted(cands, key=lambda c: c.key):
        by_source.setdefault(c.source, {}).setdefault(c.month, []).append(c)
    sources = sorted(by_source, key=lambda s: key_of(seed, "source\0" + s))
    months = {s: sorted(by_source[s], key=lambda m: key_of(seed, "month\0" + m)) for s in sources}
    turn = dict.fromkeys(sources, 0)
    taken: list[str] = []
    clusters: set[str] = set()
    while len(taken) < n and sources:
        for source in list(sources):
            picked = False
            order = months[source]
            for _ in range(len(order)):
                month = order[turn[source] % len(order)]
                turn[source] += 1
                queue = by_source[source][month]
                while queue and queue[0].cluster in clusters:
                    queue.pop(0)
                if queue:
                    c = queue.pop(0)
                    taken.append(c.id)
                    clusters.add(c.cluster)
                    picked = True
                    break
            if not picked:
                sources.remove(source)
            if len(taken) >= n:
                break
    return taken


def select_diverse(workspace: Workspace, n: int, seed: int, exclude: set[str]) -> list[str]:
    pool = BestPerCluster(DIVERSE_POOL_FACTOR * n)
    strata: dict[tuple[str, str], Candidate] = {}  # one per (source, month): rare sources still get a turn
    for cand in _candidates(workspace, seed, exclude):
        pool.add(cand)
        held = strata.get((cand.source, cand.month))
        if held is None or cand.key < held.key:
            strata[(cand.source, cand.month)] = cand
    cands = {c.id: c for c in pool.sorted()}
    cands.update({c.id: c for c in strata.values()})
    return spread(list(cands.values()), n, seed)


def uncertainty(candidates: dict[Any, float]) -> float:
    """Expected number of wrong entity decisions: sum of min(p, 1 − p) over the beam's entity candidates."""
    return math.fsum(min(p, 1.0 - p) for p in candidates.values())


def select_uncertain(workspace: Workspace, n: int, seed: int, exclude: set[str], model_dir: Path,
                     *, progress: Callable[[int], None] | None = None) -> list[str]:
    from newsner.model.predict import Suggester

    suggester = Suggester.load(workspace.label_schema(), model_dir=model_dir, patterns=None)
    pool = BestPerCluster(max(UNCERTAIN_POOL_FACTOR * n, UNCERTAIN_POOL_MIN))
    for cand in _candidates(workspace, seed, exclude, with_text=True):
        pool.add(cand)
    cands = pool.sorted()
    scored: list[tuple[float, int, str]] = []
    for start in range(0, len(cands), 64):
        chunk = cands[start:start + 64]
        for c, s in zip(chunk, suggester.score([c.text for c in chunk]), strict=True):
            scored.append((-uncertainty(s.candidates), c.key, c.id))  # most uncertain first; key breaks ties
        if progress:
            progress(len(chunk))
    scored.sort()
    return [doc_id for _, _, doc_id in scored[:n]]


#: The most articles one round may ask for (far beyond any annotation round; the count is stored as a 64-bit
#: integer in rounds.jsonl and the push state).
MAX_SELECT = 10**9
#: Seeds are stored as 64-bit integers too.
SEED_RANGE = (-(2**63), 2**63 - 1)


def check_selection(n: int, strategy: str, seed: int, model_dir: Path | None) -> None:
    """Check a selection's options before any work (listing a project, reading the corpus): one InputError or
    ModelError naming the option and its range, never a traceback later."""
    if strategy not in STRATEGIES:
        raise InputError(f"--strategy: unknown strategy {strategy!r}; use one of {', '.join(STRATEGIES)}")
    if not 1 <= n <= MAX_SELECT:
        raise InputError(f"--select {n} is out of range: choose between 1 and {MAX_SELECT:,} articles")
    if not SEED_RANGE[0] <= seed <= SEED_RANGE[1]:
        raise InputError(f"--seed {seed} is out of range: a seed is a 64-bit integer ({SEED_RANGE[0]} to "
                         f"{SEED_RANGE[1]})")
    if model_dir is not None:
        if not Path(model_dir).is_dir():
            raise ModelError(f"--model {model_dir}: no such model folder (a `newsner train` output, e.g. "
                             "models/baseline/model-best)")
        if strategy != "uncertain":
            raise InputError(f"--model is used only by --strategy uncertain; the {strategy} strategy would ignore "
                             "it (drop --model, or add --strategy uncertain)")
    elif strategy == "uncertain":
        raise ModelError("the uncertain strategy needs a trained model: run `newsner export spacy --out "
                         "exports/spacy` and `newsner train --data exports/spacy`, then pass "
                         "--model models/baseline/model-best (or use --strategy random|diverse first)")


def select_articles(workspace: Workspace, n: int, strategy: str, seed: int, *, model_dir: Path | None = None,
                    exclude: set[str] | frozenset[str] = frozenset(), project: str | None = None,
                    progress: Callable[[int], None] | None = None) -> Round:
    """A Round (unnumbered; `newsner.rounds.record.record_round` numbers and records it) of up to n article ids.

    Deterministic for a given corpus, seed, exclude set (and model); never returns an id in `exclude`.
    `selected` < `requested` only when fewer eligible articles (clusters) are left.
    """
    check_selection(n, strategy, seed, model_dir)
    excluded = set(exclude)
    if strategy == "random":
        ids = select_random(workspace, n, seed, excluded)
    elif strategy == "diverse":
        ids = select_diverse(workspace, n, seed, excluded)
    else:
        assert model_dir is not None
        ids = select_uncertain(workspace, n, seed, excluded, Path(model_dir), progress=progress)
    model = None
    if model_dir is not None and strategy == "uncertain":
        path = Path(model_dir).resolve()
        # Recorded relative to the workspace when inside it ("models/baseline/model-best"), so rounds stay valid
        # when the workspace moves.
        model = str(path.relative_to(workspace.root)) if path.is_relative_to(workspace.root) else str(path)
    return Round(strategy=strategy, seed=seed, requested=n, doc_ids=ids, model=model, project=project)
