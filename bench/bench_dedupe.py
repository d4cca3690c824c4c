"""Near-duplicate recall and precision on pairs built from real conflict documents (../shared/data/re3d).

    python bench/bench_dedupe.py [--copies 10] [--seed 0]

- edited copies: each document (>= 80 words) with a new header and footer and random word edits (replace,
  delete, insert) at several rates; the pair's true Jaccard on 5-word shingles is computed exactly, and recall
  is reported for the pairs at Jaccard >= 0.5 (target >= 95 %) and, for information, 0.3-0.5;
- roundups: each document quoted whole inside a page of 2-4 other documents (containment 1.0);
- the same for long articles (three documents joined, 400+ words: past dedupe.WINDOW_MIN, so window keys are
  stored and looked up);
- precision: every pair of distinct documents (all about the Syria/Iraq conflict) and every roundup against
  the documents it does not quote must not be linked.
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
    from newsner.ingest.patterns import WORD

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    opts = parser.parse_args()
    for name, (hit, total) in measure(opts.copies, opts.seed).items():
        print(f"{name:<34} {hit:>5} / {total:<5} {100 * hit / max(total, 1):6.1f} %")


if __name__ == "__main__":
    main()
