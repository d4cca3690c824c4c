"""pre-annotate on Ray (local mode, 2 CPUs) vs the local engine on the same machine, and Ray's fixed start-up.

Usage: PYTHONPATH=src python bench/bench_preannotate_ray.py [--articles 2000]
Prints seconds for: Ray start-up (ray.init), local engine, Ray engine (warm Ray), the ratio ray/local, and the
corpus size from which Ray (start-up included) would pay off on this machine, extrapolated linearly.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from newsner._io import write_jsonl
from newsner.corpus.store import Corpus
from newsner.ingest.ray_engine import start
from newsner.model.patterns import default_patterns_path
from newsner.model.predict import Suggester, suggestion_records
from newsner.model.ray_predict import suggestion_records_ray
from newsner.schema import Article, default_label_schema_path, load_label_schema

TEXT = ("Wagner fighters attacked {town} on Friday, the army said. A spokesman for the rebels told AFP that at "
        "least {n} dead were counted near {town}. Mali's army retreated from Gao after the floods. ") * 4


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=2000)
    args = ap.parse_args()
    schema = load_label_schema(default_label_schema_path())
    patterns = default_patterns_path()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Corpus(Path(tmp) / "corpus", shard_size=250)
        with corpus.lock():
            corpus.append(Article.from_text(TEXT.format(town=f"Town{i}", n=i) + f" ({i})", source="bench")
                          for i in range(args.articles))
        sugg = Suggester.load(schema, patterns=patterns)
        t = time.perf_counter()
        write_jsonl(Path(tmp) / "local.jsonl", (r.to_dict() for r in suggestion_records(corpus, sugg)))
        local = time.perf_counter() - t
        t = time.perf_counter()
        start(num_cpus=2)
        startup = time.perf_counter() - t
        t = time.perf_counter()
        write_jsonl(Path(tmp) / "ray.jsonl", (r.to_dict() for r in suggestion_records_ray(
            corpus, sugg, schema, model_dir=None, patterns=patterns)))
        on_ray = time.perf_counter() - t
        same = (Path(tmp) / "ray.jsonl").read_bytes() == (Path(tmp) / "local.jsonl").read_bytes()
    per_local, per_ray = local / args.articles, on_ray / args.articles
    print(f"articles: {args.articles} (patterns suggester), same bytes: {same}")
    print(f"ray start-up (ray.init, 2 CPUs): {startup:.2f} s")
    print(f"local engine: {local:.2f} s ({args.articles / local:.0f}/s)")
    print(f"ray engine (warm): {on_ray:.2f} s ({args.articles / on_ray:.0f}/s)")
    print(f"ratio ray/local: {on_ray / local:.2f}")
    if per_ray < per_local:
        print(f"ray pays off (start-up included) from ~{startup / (per_local - per_ray):.0f} articles here")
    else:
        print("on this machine Ray does not pay off at any size: it pays off only with more CPUs than one process "
              "uses (a cluster), by roughly (workers' CPUs) × per-article speed")


if __name__ == "__main__":
    main()
