"""One chunk of new articles linked to their near-duplicate clusters: against the index, and within the chunk.

A new article's candidates are the articles stored under one of its LSH band keys (newsner.corpus.signatures):
committed ones, found in the index's band tables, and earlier ones of the same chunk. Of the candidates that pass
the link check, the one whose cluster started earliest wins (first seen wins), exactly as if the articles were
added one by one: where a chunk boundary falls never changes a link.

Bounded whatever the input (issue 20): a band key's bucket holds at most REPRESENTATIVES articles per cluster —
its representatives for that key, the first members that brought the key — and at most BUCKET_CLUSTERS rows. A
member of a cluster is stored only under the keys its cluster does not have often enough yet; a key shared by
more clusters than that is a template (agency boilerplate, an automated report's fixed sentences), not news:
later articles are not stored under it. So one new article is compared with at most (its keys × BUCKET_CLUSTERS)
representatives, however many copies and look-alikes the archive holds, and a chunk's work and memory stay those
of one chunk. Two representatives, not one: a cluster can hold articles that are near-duplicates of its root but
not of each other (a roundup and the stories it quotes), and a copy of one of them must still meet it.

Everything that costs per key is done with numpy or one SQL statement per chunk: the committed band rows of the
chunk's distinct keys come back as one array; the rest is a loop over the chunk's articles in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from newsner.corpus.index import SEQ_BITS, SEQ_MASK
from newsner.corpus.signatures import Signature, linked_many
from newsner.schema import Article

if TYPE_CHECKING:
    from newsner.corpus.index import CorpusIndex, Row

_SQL_BATCH = 500
#: Rows a band key's bucket holds at most (REPRESENTATIVES per cluster); a key shared by more is a template.
#: Syndication keeps a bucket at one cluster (its copies share its representatives' rows); distinct stories on
#: one conflict share a band by chance with a handful of others (bench/bench_dedupe.py); 16 leaves room for both
#: and bounds the work.
BUCKET_CLUSTERS = 16
#: Articles of one cluster a bucket keeps (its representatives for that key): a cluster can hold stories that are
#: near-duplicates of its root but not of each other (a roundup and the stories it quotes), so one is too few.
REPRESENTATIVES = 2


class Chunk:
    """The articles of one commit: `link` sets their `duplicate_of` and decides the band keys each is stored
    under, `add` collects their rows, `flush` inserts them (with those keys) into the index in bulk."""

    def __init__(self, idx: CorpusIndex) -> None:
        self.idx = idx
        self.seq = idx.next_seq()
        self.rows: list[tuple[int, Row, str]] = []
        self._rank: dict[str, tuple[int, str]] = {}  # article id -> (position of its cluster root, root)
        self._keys: dict[str, Any] = {}  # article id -> the band keys it is stored under (bucket rule applied)

    def link(self, articles: Sequence[Article], sigs: Sequence[Signature], *, link: bool = True) -> None:
        """Set `duplicate_of` of each article that has none (with `link`) to the root of the earliest cluster it
        links to, and choose the keys each article is stored under. Articles are taken in order."""
        import numpy as np

        n = len(articles)
        if n == 0:
            return
        query = [s.key_array() for s in sigs]
        stored = [s.stored_key_array() for s in sigs]
        committed = _Committed(self.idx, np.concatenate(query))
        # Only a key that another article of the chunk also has can make an in-chunk candidate or share a bucket
        # with one, and only a key with committed rows a committed one: every other key is stored as it is,
        # without a look (in a chunk of distinct stories, nearly all of them)
        shared = _shared(query)
        contested = _distinct(np.concatenate([shared, committed.keys]))
        q_shared = _split(query, shared)
        s_hot = _split(stored, contested)
        values = np.stack([s.values for s in sigs])
        counts = np.array([s.count for s in sigs])
        bucket: dict[int, list[int]] = {}  # shared key -> chunk positions stored under it (this chunk)
        sizes: dict[int, int] = {}  # key -> rows this chunk added to its bucket
        members: dict[int, int] = {}  # pair code (see _pair) -> rows this chunk added for that key and cluster
        for j, (article, sig) in enumerate(zip(articles, sigs, strict=True)):
            if link and article.duplicate_of is None:
                best: tuple[int, str] | None = None
                pos = committed.candidates(query[j])
                if len(pos):
                    ok = linked_many(sig, committed.values[pos], committed.counts[pos])
                    for p in pos[ok].tolist():
                        if best is None or committed.rank[p] < best:
                            best = committed.rank[p]
                if len(shared):
                    mine = sorted({i for k in query[j][q_shared[j]].tolist() for i in bucket.get(k, ())})
                    if mine:
                        cand = np.array(mine)
                        for i in cand[linked_many(sig, values[cand], counts[cand])].tolist():
                            if best is None or self._rank[articles[i].id] < best:
                                best = self._rank[articles[i].id]
                article.duplicate_of = best[1] if best else None
                if best:
                    self._rank.setdefault(best[1], best)  # its root's rank, known now (no SQL lookup below)
            rank = self._rank_of(article, self.seq + j)
            self._rank[article.id] = rank
            keys = stored[j]
            if not len(contested) or not s_hot[j].any():
                self._keys[article.id] = keys
                continue
            hot = s_hot[j]
            cand_keys = keys[hot]
            theirs, there = committed.buckets(cand_keys, rank[0] if rank[0] < self.seq else None)
            chosen = []
            for key, size, member, code in zip(cand_keys.tolist(), theirs.tolist(), there.tolist(),
                                               _pair(cand_keys, rank[0]).tolist(), strict=True):
                size += sizes.get(key, 0)
                mine = member + members.get(code, 0)
                if size >= BUCKET_CLUSTERS or mine >= REPRESENTATIVES:
                    continue  # a template key, or one this cluster is stored under often enough already
                chosen.append(key)
                sizes[key] = sizes.get(key, 0) + 1
                members[code] = mine + 1
                bucket.setdefault(key, []).append(j)
            self._keys[article.id] = np.concatenate([keys[~hot], np.array(chosen, dtype=np.int64)])

    def add(self, row: Row) -> None:
        seq = self.seq
        self.seq += 1
        rank = self._rank.get(row.article.id) or self._rank_of(row.article, seq)
        self._rank[row.article.id] = rank
        row.keys = self._keys.get(row.article.id)
        self.rows.append((seq, row, rank[1]))

    def flush(self) -> None:
        self.idx.insert_many(self.rows)

    def _rank_of(self, article: Article, seq: int) -> tuple[int, str]:
        dup = article.duplicate_of
        if not dup:
            return (seq, article.id)
        return self._rank.get(dup) or self.idx.root_rank(dup)


def plan_rows(idx: CorpusIndex, rows: Sequence[tuple[int, Row, str]]) -> None:
    """Set the band keys of rows about to be inserted in this order (an index rebuild), by the bucket rule."""
    if not rows:
        return
    chunk = Chunk(idx)
    chunk.seq = rows[0][0]
    chunk.link([r.article for _, r, _ in rows], [r.sig for _, r, _ in rows], link=False)
    for _, row, _ in rows:
        row.keys = chunk._keys.get(row.article.id)


class _Committed:
    """The committed band rows of a chunk's keys (one SQL statement), and the candidates' signatures and ranks."""

    def __init__(self, idx: CorpusIndex, keys: Any) -> None:
        import numpy as np

        ordered = np.sort(keys)
        distinct = _distinct(ordered)
        row_keys, row_seqs = idx.band_rows(distinct)  # sorted by key, then seq
        seqs = _distinct(row_seqs)
        self.values, self.counts, self.rank = _fetch(idx, seqs.tolist())
        self.pos = np.searchsorted(seqs, row_seqs)  # row -> position in the fetched arrays
        starts = np.flatnonzero(np.concatenate(([True], row_keys[1:] != row_keys[:-1]))) if len(row_keys) else \
            np.empty(0, dtype=np.intp)
        self.keys = row_keys[starts]  # the distinct keys with committed rows, sorted
        self.starts = starts
        self.ends = np.append(starts[1:], len(row_keys)).astype(np.intp)
        root_seq = np.array([r[0] for r in self.rank], dtype=np.int64)
        self.pairs = np.sort(_pair(row_keys, root_seq[self.pos]))  # (key, cluster) of every committed row
        self._empty = np.empty(0, dtype=np.intp)

    def buckets(self, keys: Any, root_seq: int | None) -> tuple[Any, Any]:
        """Per key of `keys`: the committed rows of its bucket, and how many of them are of the cluster at
        `root_seq` (None: a cluster this chunk started, in no committed bucket)."""
        import numpy as np

        if not len(self.keys):
            return np.zeros(len(keys), dtype=np.int64), np.zeros(len(keys), dtype=np.int64)
        at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        sizes = np.where(self.keys[at] == keys, self.ends[at] - self.starts[at], 0)
        if root_seq is None:
            return sizes, np.zeros(len(keys), dtype=np.int64)
        codes = _pair(keys, root_seq)
        return sizes, np.searchsorted(self.pairs, codes, "right") - np.searchsorted(self.pairs, codes, "left")

    def candidates(self, keys: Any) -> Any:
        """Fetched-array positions of the committed articles stored under any of `keys` (numpy, vectorized)."""
        import numpy as np

        if not len(self.keys):
            return self._empty
        at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        at = at[self.keys[at] == keys]
        if not len(at):
            return self._empty
        starts, lengths = self.starts[at], self.ends[at] - self.starts[at]
        offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
        return self.pos[np.arange(lengths.sum()) + offsets]  # an article met under two keys comes twice: harmless


def _split(keys: list[Any], contested: Any) -> list[Any]:
    """Per array of `keys`: a mask of its keys in `contested` (one membership test for the whole chunk)."""
    import numpy as np

    if not len(contested):
        return []
    flat = np.concatenate(keys)
    mask = np.isin(flat, contested)
    ends = np.cumsum([len(k) for k in keys]).tolist()
    return [mask[a:b] for a, b in zip([0, *ends[:-1]], ends, strict=True)]


def _pair(keys: Any, root_seq: Any) -> Any:
    """(band key, cluster) as one integer: the key's 32 bits above the position of the cluster's root."""
    return (keys << SEQ_BITS) | (root_seq & SEQ_MASK)  # a dangling root (-1) is one cluster of its own


def _shared(keys: list[Any]) -> Any:
    """The keys (sorted) that more than one article of the chunk looks up."""
    import numpy as np

    flat = np.concatenate(keys)
    owner = np.repeat(np.arange(len(keys)), [len(k) for k in keys])
    order = np.lexsort((owner, flat))
    k, o = flat[order], owner[order]
    # sorted by key, then owner: two owners of one key always meet in an adjacent pair
    return _distinct(k[1:][(k[1:] == k[:-1]) & (o[1:] != o[:-1])])


def _distinct(values: Any) -> Any:
    """np.unique by sorting (numpy 2's hashing unique is several times slower on these int64 arrays)."""
    import numpy as np

    ordered = np.sort(values)
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))] if len(ordered) else ordered


def _fetch(idx: CorpusIndex, seqs: list[int]) -> tuple[Any, Any, list[tuple[int, str]]]:
    """(MinHash values, shingle counts, cluster rank) of the articles at `seqs`, in that order."""
    import numpy as np

    from newsner.corpus.signatures import NUM_PERM

    values = np.empty((len(seqs), NUM_PERM), dtype=np.uint32)
    counts = np.empty(len(seqs), dtype=np.int64)
    rank: list[tuple[int, str]] = [(-1, "")] * len(seqs)
    where = {s: i for i, s in enumerate(seqs)}
    for i in range(0, len(seqs), _SQL_BATCH):
        part = seqs[i:i + _SQL_BATCH]
        marks = ",".join("?" * len(part))
        for seq, root, blob, count, root_seq in idx.conn.execute(
                f"SELECT a.seq, a.root, a.sig, a.shingles, r.seq FROM articles a LEFT JOIN articles r "
                f"ON r.id = a.root WHERE a.seq IN ({marks})", part):
            p = where[seq]
            values[p] = np.frombuffer(blob, dtype=np.uint32)
            counts[p] = count
            rank[p] = (root_seq if root_seq is not None else -1, root)  # a dangling root (hand edit) ranks first
    return values, counts, rank
