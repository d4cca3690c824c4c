"""Benchmark doccano auto-labeling through `newsner serve` against calling the model server directly, in one run.

    .venv/bin/python bench/bench_serve.py [--articles 60]

Starts a throwaway local doccano and `newsner serve` (the shipped patterns) in a temporary workspace, pushes
--articles news-like articles, then, alternated, best of --repeat:
1. direct: POST /suggest to the model server for every article text (the model's own cost);
2. doccano: POST /v1/projects/{p}/auto-labeling?example={id} as an annotator for every example (what the
   editor does when the annotator opens a document with auto-labeling on; spans saved in their layer).
Prints both rates and the ratio (doccano's overhead per document); nothing is asserted.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_sync import REPO, make_corpus  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
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
