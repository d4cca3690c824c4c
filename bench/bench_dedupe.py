"""Near-duplicate recall and precision on pairs built from real conflict documents (../shared/data/re3d).

    python bench/bench_dedupe.py [--copies 10] [--seed 0] [--ingest]

- edited copies: each document (>= 80 words) with a new header and footer and random word edits (replace,
  delete, insert) at several rates; the pair's true Jaccard on 5-word shingles is computed exactly, and recall
  is reported for the pairs at Jaccard >= 0.5 (target >= 95 %) and, for information, 0.3-0.5;
- roundups: each document quoted whole inside a page of 2-4 other documents (containment 1.0);
- the same for long articles (three documents joined, 400+ words: past dedupe.WINDOW_MIN, so window keys are
  stored and looked up);
- precision: every pair of distinct documents (all about the Syria/Iraq conflict) and every roundup against
  the documents it does not quote must not be linked.

With --ingest, the same sets also go through `newsner.ingest` (the documents first, then every copy and roundup in
a shuffled order, in chunks of 100): how many copies end in the cluster of a document they copy or quote, in
another cluster, or in none. The pairs above measure the signatures and the link rule; this measures what the
corpus index makes of them (candidate lookup, the bounded band buckets, first seen wins). The copies' shared
header and footer link many copies of different documents to each other, so "another cluster" is large by
construction; compare the figures between versions, not with 0.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
DATA = Path(os.environ.get("NEWSNER_SHARED_DATA", ROOT.parent / "shared" / "data")) / "re3d"


def documents(data: Path = DATA) -> list[str]:
    docs = []
    for source in sorted(p for p in data.iterdir() if p.is_dir()):
        for line in (source / "documents.json").read_text(encoding="utf-8").splitlines():
            if line.strip():
                text = json.loads(line)["text"]
                if len(text.split()) >= 80:
                    docs.append(text)
    return docs


def shingles(text: str) -> set[tuple[str, ...]]:
    from newsner.corpus.signatures import WORD

    words = WORD.findall(text.lower())
    return {tuple(words[i:i + 5]) for i in range(max(1, len(words) - 4))}


def jaccard(a: str, b: str) -> float:
    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / len(sa | sb)


def edit(text: str, rate: float, rng: random.Random) -> str:
    words = text.split()
    out: list[str] = []
    for w in words:
        r = rng.random()
        if r < rate / 3:
            continue  # deleted
        if r < 2 * rate / 3:
            out.append(rng.choice(words))  # replaced
        else:
            out.append(w)
        if rng.random() < rate / 3:
            out.append(rng.choice(words))  # inserted
    return ("Republished from our partner wire service. " + " ".join(out)
            + " Subscribe to our newsletter for more reporting.")


def build(docs: list[str], copies: int, seed: int) -> tuple[list[tuple[str, str, float]], list[tuple[str, str]],
                                                             list[tuple[str, str]]]:
    rng = random.Random(seed)
    edited: list[tuple[str, str, float]] = []
    rates = [0.02, 0.05, 0.08, 0.1, 0.12, 0.15, 0.2, 0.25]
    for doc in docs:
        for c in range(copies):
            copy = edit(doc, rates[c % len(rates)], rng)
            edited.append((doc, copy, jaccard(doc, copy)))
    roundups: list[tuple[str, str]] = []
    unrelated: list[tuple[str, str]] = list(itertools.combinations(docs, 2))
    for n, doc in enumerate(docs):
        others = rng.sample([d for m, d in enumerate(docs) if m != n], rng.randint(2, 4))
        parts = [*others]
        parts.insert(rng.randint(0, len(parts)), doc)
        page = "Today's roundup.\n\n" + "\n\n".join(parts) + "\n\nThat was the news."
        roundups.append((doc, page))
        unrelated.extend((d, page) for d in rng.sample([d for d in docs if d not in parts], 3))
    return edited, roundups, unrelated


def long_documents(docs: list[str], seed: int) -> list[str]:
    """Articles of 400+ words (past dedupe.WINDOW_MIN, where window keys come in): three documents joined."""
    rng = random.Random(seed + 1)
    shuffled = rng.sample(docs, len(docs))
    return [" ".join(shuffled[i:i + 3]) for i in range(0, len(shuffled) - 2, 3)]


def measure(copies: int = 10, seed: int = 0, data: Path = DATA) -> dict[str, tuple[int, int]]:
    from newsner.corpus.signatures import Signature, linked

    docs = documents(data)
    edited, roundups, unrelated = build(docs, copies, seed)
    long_edited, long_roundups, long_unrelated = build(long_documents(docs, seed), max(copies // 2, 1), seed + 2)
    sig: dict[str, Signature] = {}

    def s(text: str) -> Signature:
        if text not in sig:
            sig[text] = Signature.of(text)
        return sig[text]

    def candidates(indexed: Signature, new: Signature) -> bool:  # LSH: a key the new text looks up is stored
        return bool(set(indexed.stored_keys()) & set(new.band_keys()))

    def found(a: str, b: str) -> bool:
        """Linked whichever of the two came first."""
        both_orders = candidates(s(a), s(b)) and candidates(s(b), s(a))
        return both_orders and linked(s(a), s(b))

    def true_containment(a: str, b: str) -> float:
        sa, sb = shingles(a), shingles(b)
        return len(sa & sb) / min(len(sa), len(sb))

    # the same template filled in on another day (CENTCOM's daily strike releases) shares half its shingles:
    # by the Jaccard criterion such pairs are near-duplicates, so they are counted apart from distinct stories
    templated = [(a, b) for a, b in unrelated if true_containment(a, b) >= 0.5]
    unrelated = [(a, b) for a, b in unrelated if true_containment(a, b) < 0.5]
    high = [(a, b) for a, b, j in edited if j >= 0.5]
    mid = [(a, b) for a, b, j in edited if 0.3 <= j < 0.5]
    long_high = [(a, b) for a, b, j in long_edited if j >= 0.5]
    long_mid = [(a, b) for a, b, j in long_edited if 0.3 <= j < 0.5]
    long_unrelated = [(a, b) for a, b in long_unrelated if true_containment(a, b) < 0.5]
    return {
        "edited copies, Jaccard >= 0.5": (sum(found(a, b) for a, b in high), len(high)),
        "edited copies, Jaccard 0.3-0.5": (sum(found(a, b) for a, b in mid), len(mid)),
        "story quoted whole in a roundup": (sum(found(a, b) for a, b in roundups), len(roundups)),
        "long (400+ words) copies, J >= 0.5": (sum(found(a, b) for a, b in long_high), len(long_high)),
        "long copies, J 0.3-0.5": (sum(found(a, b) for a, b in long_mid), len(long_mid)),
        "long story quoted in a roundup": (sum(found(a, b) for a, b in long_roundups), len(long_roundups)),
        "distinct long stories linked (false)": (sum(found(a, b) for a, b in long_unrelated), len(long_unrelated)),
        "distinct stories linked (false)": (sum(found(a, b) for a, b in unrelated), len(unrelated)),
        "templated releases, containment>=.5": (sum(found(a, b) for a, b in templated), len(templated)),
    }


def ingest_links(copies: int = 10, seed: int = 0, data: Path = DATA) -> dict[str, int]:
    """The sets through the real ingest: copies in their source's cluster, in another, in none."""
    import tempfile

    from newsner.corpus.store import Corpus
    from newsner.ingest import ingest

    docs = documents(data)
    edited, roundups, _ = build(docs, copies, seed)
    longs = long_documents(docs, seed)
    long_edited, long_roundups, _ = build(longs, max(copies // 2, 1), seed + 2)
    sources: dict[str, set[str]] = {}
    for doc, copy, _j in edited + long_edited:
        sources.setdefault(copy, set()).add(doc)
    for doc, page in roundups + long_roundups:
        sources.setdefault(page, set()).add(doc)
    rest = list(sources)
    random.Random(seed).shuffle(rest)
    lines = list(dict.fromkeys([*docs, *longs, *rest]))
    with tempfile.TemporaryDirectory(prefix="newsner-dedupe-") as tmp:
        feed = Path(tmp) / "feed.jsonl"
        feed.write_text("".join(json.dumps({"text": t, "language": "en"}) + "\n" for t in lines), encoding="utf-8")
        corpus = Corpus(Path(tmp) / "corpus")
        report = ingest([feed], corpus, chunk_size=100)
        got = [(a.id, a.duplicate_of) for a in corpus]
    if len(got) != len(lines):  # cleaning made two inputs one article: positions no longer match
        raise SystemExit(f"--ingest: {len(lines)} inputs became {len(got)} articles ({report.duplicates} repeated)")
    at = {aid: k for k, (aid, _) in enumerate(got)}

    def root(k: int) -> int:
        dup = got[k][1]
        return at.get(dup, k) if dup else k

    where = {t: k for k, t in enumerate(lines)}
    out = {"copies/roundups in a source's cluster": 0, "... in another cluster": 0, "... unlinked": 0}
    for text, srcs in sources.items():
        k = where[text]
        if got[k][1] is None:
            out["... unlinked"] += 1
        elif root(k) in {root(where[s]) for s in srcs}:
            out["copies/roundups in a source's cluster"] += 1
        else:
            out["... in another cluster"] += 1
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ingest", action="store_true", help="also run the sets through `newsner.ingest`")
    opts = parser.parse_args()
    for name, (hit, total) in measure(opts.copies, opts.seed).items():
        print(f"{name:<34} {hit:>5} / {total:<5} {100 * hit / max(total, 1):6.1f} %")
    if opts.ingest:
        print("\nthrough ingest (documents first, then copies and roundups shuffled, chunks of 100):")
        for name, n in ingest_links(opts.copies, opts.seed).items():
            print(f"{name:<38} {n:>5}")


if __name__ == "__main__":
    main()
