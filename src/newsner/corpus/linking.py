"""One chunk of new articles linked to their near-duplicate clusters: against the index, and within the chunk.

A new article's candidates are the articles that share an LSH band key with it (newsner.corpus.signatures): committed
ones, found in the index's band tables, and earlier ones of the same chunk. Of the candidates that pass the link
check, the one whose cluster started earliest wins (first seen wins), exactly as if the articles were added one
by one: where a chunk boundary falls never changes a link.

Everything that costs per key is done with numpy over the whole chunk (~100 keys an article): the committed
band rows are fetched in one SQL statement driven by a JSON array of the chunk's distinct keys (SQLite parses it
in C; no temporary table), and in-chunk collisions come from one sort and binary searches. Python then loops only
over the articles that have candidates at all — in a corpus of distinct stories, almost none.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from newsner.corpus.signatures import Signature, linked_many
from newsner.schema import Article

if TYPE_CHECKING:
    from newsner.corpus.index import CorpusIndex, Row

_SQL_BATCH = 500


class Chunk:
    """The articles of one commit: `link` sets their `duplicate_of`, `add` collects their rows, `flush` inserts
    them (with their band keys) into the index in bulk."""

    def __init__(self, idx: CorpusIndex) -> None:
        self.idx = idx
        self.seq = idx.next_seq()
        self.rows: list[tuple[int, Row, str]] = []
        self._rank: dict[str, tuple[int, str]] = {}  # article id -> (position of its cluster root, root)
        self._root_rank: dict[str, tuple[int, str]] = {}  # committed root -> its rank (memo of SQL lookups)
        self._cands: dict[int, tuple[str, Signature]] = {}  # committed seq -> (cluster root, signature)

    def link(self, articles: Sequence[Article], sigs: Sequence[Signature]) -> None:
        """Set `duplicate_of` of each article that has none to the root of the earliest cluster it links to."""
        import numpy as np

        n = len(articles)
        if n == 0:
            return
        query = [s.key_array() for s in sigs]
        stored = [s.stored_key_array() for s in sigs]
        q_keys = np.concatenate(query)
        q_owner = np.repeat(np.arange(n), [len(k) for k in query])
        committed = self._committed_candidates(q_keys, q_owner)
        earlier = _earlier_candidates(q_keys, q_owner, stored)
        values = np.stack([s.values for s in sigs])
        counts = np.array([s.count for s in sigs])
        base = self.seq
        for j, (article, sig) in enumerate(zip(articles, sigs, strict=True)):
            if article.duplicate_of is None:
                best: tuple[int, str] | None = None
                seqs = committed.get(j)
                if seqs:
                    best = self._best_committed(sig, seqs)
                mine = earlier.get(j)
                if mine:
                    cand = np.array(sorted(mine))
                    for i in cand[linked_many(sig, values[cand], counts[cand])].tolist():
                        if best is None or self._rank[articles[i].id] < best:
                            best = self._rank[articles[i].id]
                article.duplicate_of = best[1] if best else None
            self._rank[article.id] = self._rank_of(article, base + j)

    def add(self, row: Row) -> None:
        seq = self.seq
        self.seq += 1
        rank = self._rank.get(row.article.id) or self._rank_of(row.article, seq)
        self._rank[row.article.id] = rank
        self.rows.append((seq, row, rank[1]))

    def flush(self) -> None:
        self.idx.insert_many(self.rows)

    # --------------------------------------------------------------------------------------------- helpers
    def _rank_of(self, article: Article, seq: int) -> tuple[int, str]:
        dup = article.duplicate_of
        if not dup:
            return (seq, article.id)
        return self._rank.get(dup) or self.idx.root_rank(dup)

    def _committed_candidates(self, q_keys: Any, q_owner: Any) -> dict[int, set[int]]:
        """chunk position -> seqs of committed articles sharing a band key with it (one SQL join)."""
        import numpy as np

        ordered = np.sort(q_keys)
        distinct = ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]  # np.unique, without its hashing
        rows = self.idx.band_hits(distinct)
        if not rows:
            return {}
        by_key: dict[int, list[int]] = {}
        for key, seq in rows:
            by_key.setdefault(key, []).append(seq)
        hit = np.isin(q_keys, np.fromiter(by_key, dtype=np.int64, count=len(by_key)))
        out: dict[int, set[int]] = {}
        for key, owner in zip(q_keys[hit].tolist(), q_owner[hit].tolist(), strict=True):
            out.setdefault(owner, set()).update(by_key[key])
        self._fetch(sorted({seq for seqs in out.values() for seq in seqs}))
        return out

    def _fetch(self, seqs: list[int]) -> None:
    
        self._cands.clear()
        for i in range(0, len(seqs), _SQL_BATCH):
            part = seqs[i:i + _SQL_BATCH]
            marks = ",".join("?" * len(part))
            for seq, root, blob, count in self.idx.conn.execute(
                    f"SELECT seq, root, sig, shingles FROM articles WHERE seq IN ({marks})", part):
                self._cands[seq] = (root, Signature.from_bytes(blob, count))

    def _best_committed(self, sig: Signature, seqs: set[int]) -> tuple[int, str] | None:
        import numpy as np

        order = sorted(seqs)
        cands = [self._cands[s] for s in order]
        ok = linked_many(sig, np.stack([c[1].values for c in cands]), np.array([c[1].count for c in cands]))
        roots = sorted({cands[k][0] for k in np.flatnonzero(ok).tolist()})
        if not roots:
            return None
        missing = [r for r in roots if r not in self._root_rank]
        if missing:
            found = dict((rid, (seq, rid)) for seq, rid in self.idx._seqs(missing))
            for r in missing:
                self._root_rank[r] = found.get(r, (-1, r))  # a dangling root (hand-edited corpus) ranks first
        return min(self._root_rank[r] for r in roots)


def _earlier_candidates(q_keys: Any, q_owner: Any, stored: list[Any]) -> dict[int, set[int]]:
    """chunk position j -> positions i < j whose stored keys share a key with j's query keys."""
    import numpy as np

    s_keys = np.concatenate(stored)
    s_owner = np.repeat(np.arange(len(stored)), [len(k) for k in stored])
    order = np.argsort(s_keys, kind="stable")  # stable: owners stay ascending within one key
    s_keys, s_owner = s_keys[order], s_owner[order]
    # sorted needles: the binary searches walk the array in order (~3x faster than in arrival order)
    q_order = np.argsort(q_keys)
    left = np.empty(len(q_keys), dtype=np.intp)
    right = np.empty(len(q_keys), dtype=np.intp)
    left[q_order] = np.searchsorted(s_keys, q_keys[q_order], "left")
    right[q_order] = np.searchsorted(s_keys, q_keys[q_order], "right")
    width = right - left
    first = s_owner[np.minimum(left, len(s_owner) - 1)]
    # a key stored by an earlier article: its first owner is earlier than the one asking
    hit = (width > 0) & (first < q_owner)
    out: dict[int, set[int]] = {}
    for p in np.flatnonzero(hit).tolist():
        j = int(q_owner[p])
        mine = out.setdefault(j, set())
        for i in s_owner[left[p]:right[p]].tolist():
            if i >= j:
                break
            mine.add(i)
    return out
