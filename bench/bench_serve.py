"""Benchmark doccano auto-labeling through `newsner serve` against calling the model server directly, in one run.

    .venv/bin/python bench/bench_serve.py [--articles 60]

Starts a throwaway local doccano and `newsner serve` (the shipped patterns) in a temporary workspace, pushes
--articles news-like articles, then, alternated, best of --repeat:
1. direct: POST /suggest to the model server for every article text (the model's own cost);
2. doccano: POST /v1/projects/{p}/auto-labeling?example={id} as an annotator for every example (what the
   editor does when the annotator opens a document with auto-labeling on; spans saved in their layer).
Prints both rates and the ratio (doccano's overhead per document); nothing is asserted.

    .venv/bin/python bench/bench_serve.py --stall [--shorts 20] [--budget 3]

Model server only (no doccano), issue 21: the time a short request takes on an idle server (the baseline), then
the same short requests sent while one 1,000,000-character text runs; prints both and their ratio.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import httpx

from newsner.doccano import sync
from newsner.doccano.autolabel import auto_label, configure_auto_labeling
from newsner.doccano.client import DoccanoClient
from newsner.doccano.server import LocalServer
from newsner.serve.process import ModelServer
from newsner.workspace import Workspace

SHORT = "Wagner fighters attacked Kidal on Tuesday, the army said."

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_sync import REPO, make_corpus  # noqa: E402


def stall(shorts: int, budget: float) -> None:
    """Short-request latency on an idle model server vs. while one 1,000,000-character text runs (same run)."""
    import threading

    with tempfile.TemporaryDirectory(prefix="bench-serve-stall-") as tmp:
        root = Path(tmp)
        (root / "annotations").mkdir()
        (root / "annotations" / "labels.json").write_bytes((REPO / "annotations" / "labels.json").read_bytes())
        model = ModelServer(Workspace.at(root), die_with_parent=True)
        try:
            url = model.up(budget=budget, timeout=300).url
            with httpx.Client(timeout=budget + 30, trust_env=False) as http:
                def one() -> tuple[float, bool]:
                    t = time.perf_counter()
                    body = http.post(f"{url}/suggest", json={"text": SHORT}).json()
                    return time.perf_counter() - t, bool(body["labels"])

                idle = [one() for _ in range(shorts)]
                long_done = threading.Event()

                def send_long() -> None:
                    with httpx.Client(timeout=budget + 60, trust_env=False) as other:
                        other.post(f"{url}/suggest", json={"text": ")" * 1_000_000})
                    long_done.set()

                threading.Thread(target=send_long, daemon=True).start()
                time.sleep(0.3)
                busy: list[tuple[float, bool]] = []
                while len(busy) < shorts and not long_done.is_set():
                    busy.append(one())
                long_done.wait(budget + 60)
        finally:
            model.down()
    def med(xs: list[float]) -> float:
        return sorted(xs)[len(xs) // 2]

    a, b = [t for t, _ in idle], [t for t, _ in busy]
    print(f"short requests, idle server:         {len(a):3d}, median {1000 * med(a):7.1f} ms, "
          f"max {1000 * max(a):7.1f} ms, {sum(not ok for _, ok in idle)} without suggestions")
    if b:
        print(f"short requests, 1,000,000 chars run: {len(b):3d}, median {1000 * med(b):7.1f} ms, "
              f"max {1000 * max(b):7.1f} ms, {sum(not ok for _, ok in busy)} without suggestions")
        print(f"ratio busy / idle (median):          {med(b) / med(a):8.2f}x")
    else:
        print("the long text finished before a short request was sent: raise --budget")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--stall", action="store_true", help="Model server only: short requests idle vs. busy.")
    parser.add_argument("--shorts", type=int, default=20)
    parser.add_argument("--budget", type=float, default=3.0)
    args = parser.parse_args()
    if args.stall:
        stall(args.shorts, args.budget)
        return
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        root = Path(tmp)
        (root / "annotations").mkdir()
        (root / "annotations" / "labels.json").write_bytes((REPO / "annotations" / "labels.json").read_bytes())
        ws = Workspace.at(root)
        articles, _ = make_corpus(args.articles)
        from newsner.corpus.store import Corpus

        corpus = Corpus(ws.corpus_dir)
        with corpus.lock():
            corpus.append(articles)
        doccano = LocalServer(ws, die_with_parent=True)
        model = ModelServer(ws, die_with_parent=True)
        try:
            doccano.up(timeout=180)
            served = model.up(timeout=120)
            conn = doccano.connection()
            assert conn is not None
            with DoccanoClient.login(conn.url, conn.username, conn.password) as admin:
                sync.push(ws, project="bench", client=admin)
                project = admin.find_project("bench")
                assert project is not None
                pid = int(project["id"])
                configure_auto_labeling(admin, pid, served.url, ws.label_schema())
                user = admin.create_user("bench-annotator", "Kidal-Sahel-Ledger-77")
                admin.add_member(pid, int(user["id"]), "annotator")
            with DoccanoClient.login(conn.url, "bench-annotator", "Kidal-Sahel-Ledger-77") as annotator, \
                    httpx.Client(timeout=30, trust_env=False) as http:
                examples = [int(e["id"]) for e in annotator.iter_examples(pid)]
                texts = [a.text for a in articles]
                direct, via = float("inf"), float("inf")
                for _ in range(args.repeat):
                    t = time.perf_counter()
                    for text in texts:
                        http.post(f"{served.url}/suggest", json={"text": text}).raise_for_status()
                    direct = min(direct, time.perf_counter() - t)
                    t = time.perf_counter()
                    for example in examples:
                        auto_label(annotator, pid, example)
                    via = min(via, time.perf_counter() - t)
                spans = sum(len(annotator.list_spans(pid, e)) for e in examples[:10])
        finally:
            model.down()
            doccano.down()
    n = len(texts)
    print(f"articles: {n}; spans saved on the first 10 examples: {spans}")
    print(f"direct POST /suggest:          {n / direct:8.1f} docs/s ({1000 * direct / n:.1f} ms/doc)")
    print(f"doccano auto-labeling request: {n / via:8.1f} docs/s ({1000 * via / n:.1f} ms/doc)")
    print(f"ratio doccano / direct time:   {via / direct:8.2f}x")


if __name__ == "__main__":
    main()
