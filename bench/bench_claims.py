"""Benchmark `newsner export claims` against reading the same corpus and gold layer alone.

    .venv/bin/python bench/bench_claims.py            # N=5,000 articles, 4 claims each
    .venv/bin/python bench/bench_claims.py --n 20000

Builds N articles (the seed's four-claim paragraph with a varying number, so every text and id differs) with a
gold record each (spans and CLAIMED_BY relations) in a temporary workspace, then times, in this process:

1. baseline: iterating the corpus and the gold layer (parsing and validating every record), nothing else;
2. ``export_claims`` to Parquet (reads both, links, normalizes, writes) and to CSV.

Prints articles/s for each and the ratio export / baseline (the cost of linking + normalizing + writing).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[1] / "src"))

from newsner.annotations.store import AnnotationStore  # noqa: E402
from newsner.claims.table import export_claims  # noqa: E402
from newsner.corpus.store import Corpus  # noqa: E402
from newsner.model.relations import with_suggested_relations  # noqa: E402
from newsner.schema import AnnotationRecord, Article, Span  # noqa: E402
from newsner.workspace import Workspace  # noqa: E402

PARAGRAPH = ('"The Malian army has retreated," a local politician told AFP, citing at least {k} dead in a '
             'provisional toll.\n\nA former UN mission worker in Kidal said: "At least {j} Wagner fighters were '
             'killed." Mossa Ag Inzoma claimed that "dozens and dozens" of Wagner fighters had been killed. '
             'The area remains calm, the army said, adding that "five terrorist targets had been dealt with."')
MARKS = [("a local politician", "CLAIM_SOURCE"), ("AFP", "CLAIM_SOURCE"), ("at least {k} dead", "CASUALTY"),
         ("A former UN mission worker", "CLAIM_SOURCE"), ("Kidal", "LOCATION"), ("At least {j}", "CASUALTY"),
         ("Wagner", "ACTOR"), ("Mossa Ag Inzoma", "CLAIM_SOURCE"), ("dozens and dozens", "CASUALTY"),
         ("army said", "CLAIM_SOURCE"), ("five terrorist targets", "CASUALTY")]


def build(root: Path, n: int) -> None:
    articles, records = [], []
    for i in range(n):
        text = PARAGRAPH.format(k=17 + i, j=15 + i % 7)
        article = Article.from_text(text, title=f"article {i}", published="2024-07-29", language="en")
        spans, cursor = [], 0
        for needle, label in MARKS:
            needle = needle.format(k=17 + i, j=15 + i % 7).removesuffix(" said")
            start = text.index(needle, cursor)
            spans.append(Span(start, start + len(needle), label, needle))
            cursor = start + 1
        rec = AnnotationRecord(article.id, article.text_sha256, "gold", spans=spans, status="confirmed")
        articles.append(article)
        records.append(with_suggested_relations(rec, text))
    Corpus(root / "corpus").append(articles)
    AnnotationStore(root / "annotations").write_layer("gold", sorted(records, key=lambda r: r.doc_id))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        build(root, args.n)
        ws = Workspace.at(root)
        t0 = time.perf_counter()
        n_articles = sum(1 for _ in Corpus(ws.corpus_dir))
        n_records = sum(1 for _ in AnnotationStore(ws.annotations_dir).read("gold"))
        base = time.perf_counter() - t0
        assert n_articles == n_records == args.n
        print(f"baseline (read corpus + gold layer): {args.n / base:,.0f} articles/s")
        for suffix in (".parquet", ".csv"):
            t0 = time.perf_counter()
            result = export_claims(ws, root / f"claims{suffix}")
            took = time.perf_counter() - t0
            assert result.claims == 4 * args.n and not result.problems, result.problems[:3]
            print(f"export claims {suffix[1:]:8}: {args.n / took:,.0f} articles/s, {result.claims} claims, "
                  f"{result.unattributed} unattributed — {base / took:.2f}× the baseline's throughput")


if __name__ == "__main__":
    main()
