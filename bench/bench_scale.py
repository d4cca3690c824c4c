"""Archive scale: memory, incremental cost, plain-text rate and SIGKILL safety of `newsner ingest`.

    python bench/bench_scale.py                      # full size: 100,000 vs 10,000 articles, 5 kill trials
    python bench/bench_scale.py --large 20000 --small 2000 --kill-size 5000 --trials 3   # a quick run
    python bench/bench_scale.py --ray-only --ray-files 2000   # only the Ray-local vs local-engine line
    python bench/bench_scale.py --templated-only             # only the templated-archive lines (issue 20 §2)

Prints, each measured in this run against a baseline measured in the same run:
- peak RSS of `newsner ingest` on LARGE vs SMALL generated ~3 KB articles (target <= 1.3x);
- wall time of ingesting 100 new articles into the LARGE corpus vs into an empty one (target <= 2x);
- the plain-text ingest rate on one process, in articles/s (target >= 2,000);
- SIGKILL at random points of an ingest of KILL_SIZE articles, then a rerun: unparsable lines, index
  consistency and equality with an uninterrupted run (ingested_at aside);
- templated archives (../shared/bench/gen_corpus.py + templated.py: 2,000 conflict articles and 9 copies of each
  with its sentences shuffled, every one sharing many 5-word shingles with many others): the rate on 20,000
  (target >= 1,000 articles/s) and the peak RSS of 20,000 vs 2,000 (target <= 1.3x); realistic syndication (the
  same 2,000 stories, each with 9 lightly edited copies) for comparison, whose rate should stay flat; the
  near-duplicates each run found. CPU seconds are printed beside wall time (other processes share the machine);
- with --ray-files N: N generated .txt files ingested by the local engine and by `--engine ray` (local Ray,
  2 CPUs), the ratio, and Ray's fixed start-up cost (so a user sees from what size Ray pays off).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SRC = Path(__file__).resolve().parents[1] / "src"
VOCAB = [f"{a}{b}" for a in ("ka", "mo", "tu", "ri", "se", "la", "po", "ni", "de", "ga", "bo", "fe")
         for b in ("ran", "li", "so", "ten", "vo", "mi", "da", "rek", "nu", "pa", "zo", "ki", "ma", "te")]


def generate(path: Path, n: int, *, seed: int, start: int = 0) -> None:
    """n distinct ~3 KB articles as JSONL (random sentences: no two share a 5-word shingle by chance)."""
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(start, start + n):
            words = rng.choices(VOCAB, k=480)
            sentences = [" ".join(words[k:k + 12]).capitalize() + "." for k in range(0, 480, 12)]
            fh.write(json.dumps({"title": f"Dispatch {i}", "text": f"Dispatch {i}. " + " ".join(sentences),
                                 "source": "Bench Wire", "language": "en", "published": "2024-05-01"}) + "\n")


def run_ingest(args: list[str], *, env: dict[str, str]) -> tuple[float, int, int]:
    """(seconds, peak RSS in MB, exit code) of one `newsner ingest` process."""
    seconds, rss, code, _ = run_ingest_cpu(args, env=env)
    return seconds, rss, code


def run_ingest_cpu(args: list[str], *, env: dict[str, str]) -> tuple[float, int, int, float]:
    """(seconds, peak RSS in MB, exit code, CPU seconds: user + system) of one `newsner ingest` process."""
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "newsner", "ingest", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.monotonic() - started, usage.ru_maxrss // 1024, proc.returncode, usage.ru_utime + usage.ru_stime


def corpus_lines(root: Path) -> tuple[list[dict[str, Any]], int]:
    """Records (ingested_at removed) and the number of unparsable lines."""
    out, bad = [], 0
    for shard in sorted(root.glob("articles-*.jsonl")):
        for line in shard.read_bytes().splitlines():
            try:
                obj = json.loads(line)
            except ValueError:
                bad += 1
                continue
            obj.get("provenance", {}).pop("ingested_at", None)
            out.append(obj)
    return out, bad


def index_consistent(root: Path, expected: int) -> bool:
    sys.path.insert(0, str(SRC))
    from newsner.corpus.index import CorpusIndex
    from newsner.corpus.store import Corpus

    idx = CorpusIndex(root)
    try:
        fresh = not idx.problems(Corpus(root).shard_paths()) and idx.count() == expected
    finally:
        idx.close()
    return fresh and not Corpus(root).validate()


class _Rows(list):  # type: ignore[type-arg]
    """The result rows, each printed as soon as it is measured (a long run shows its figures as it goes)."""

    def append(self, row: tuple[str, str, str]) -> None:
        print("  ".join(row), flush=True)
        super().append(row)

    def extend(self, rows: list[tuple[str, str, str]]) -> None:  # type: ignore[override]
        for row in rows:
            self.append(row)


def bench_ray(work: Path, files: int, seed: int) -> list[tuple[str, str, str]]:
    sys.path.insert(0, str(SRC))
    from newsner.corpus.store import Corpus
    from newsner.ingest import ingest
    from newsner.ingest.ray_engine import start

    folder = work / "ray-in"
    folder.mkdir()
    feed = work / "ray.jsonl"
    generate(feed, files, seed=seed + 7, start=20_000_000)
    for n, line in enumerate(feed.read_text(encoding="utf-8").splitlines()):
        record = json.loads(line)
        (folder / f"a{n:06d}.txt").write_text(record["title"] + "\n\n" + record["text"], encoding="utf-8")
    t = time.monotonic()
    ingest([folder], Corpus(work / "ray-local"))
    local = time.monotonic() - t
    t = time.monotonic()
    ray = start(num_cpus=2)
    ray.data.range(2).map_batches(lambda b: b).take_all()  # a first task: workers started
    startup = time.monotonic() - t
    t = time.monotonic()
    ingest([folder], Corpus(work / "ray-ray"), engine="ray")
    on_ray = time.monotonic() - t
    ray.shutdown()
    return [(f"{files:,} .txt files: Ray local (2 CPUs) vs local engine", f"{on_ray:.1f} s vs {local:.1f} s",
             f"{on_ray / local:.2f}x, plus {startup:.1f} s to start Ray once")]


def syndicate(gen: Path, out: Path, copies: int, seed: int) -> None:
    """Realistic syndication: each article of `gen` and `copies` - 1 lightly edited copies of it (another header
    and footer, 1-4 % of the words replaced, dropped or repeated), in rounds like templated.py's."""
    rng = random.Random(seed)
    texts = [json.loads(line)["text"] for line in gen.read_text(encoding="utf-8").splitlines() if line.strip()]
    outlets = ["Sahel Monitor", "Wire Desk", "Bamako Daily", "Gao Post", "Desert Times", "Niger Echo", "Mopti FM"]
    with open(out, "w", encoding="utf-8") as fh:
        for k in range(copies):
            for i, text in enumerate(texts):
                if k:
                    rate = rng.uniform(0.01, 0.04)
                    words = [w for w in text.split() if rng.random() >= rate / 3]
                    for _ in range(int(len(words) * rate / 3)):
                        words[rng.randrange(len(words))] = rng.choice(words)
                    text = f"({outlets[k % 7]}) " + " ".join(words) + f" Reporting by {outlets[(k + i) % 7]}."
                fh.write(json.dumps({"title": f"Story {k}-{i}", "text": text, "source": outlets[k % 7],
                                     "published": "2025-04-0%d" % (1 + i % 9)}, ensure_ascii=False) + "\n")


def near_duplicates(root: Path) -> int:
    return sum(1 for shard in root.glob("articles-*.jsonl") for line in shard.read_bytes().splitlines()
               if json.loads(line).get("duplicate_of"))


def bench_templated(work: Path, total: int, *, env: dict[str, str]) -> list[tuple[str, str, str]]:
    """Issue 20 §2: the templated archive (and realistic syndication) at `total` articles vs a tenth of it."""
    shared = Path(os.environ.get("NEWSNER_SHARED_BENCH", SRC.parents[1] / "shared" / "bench"))
    stories = max(total // 10, 1)
    gen, templated = work / "gen.jsonl", work / "templated.jsonl"
    subprocess.run([sys.executable, str(shared / "gen_corpus.py"), str(stories), str(gen), "--seed", "7"], check=True)
    subprocess.run([sys.executable, str(shared / "templated.py"), str(gen), str(templated)], check=True)
    syndicated = work / "syndicated.jsonl"
    syndicate(gen, syndicated, 10, seed=7)
    rows: list[tuple[str, str, str]] = []
    measured: dict[str, tuple[float, int, float, int]] = {}
    for name, feed in (("templated", templated), ("syndicated", syndicated)):
        small = work / f"{name}-small.jsonl"
        with open(feed, encoding="utf-8") as src, open(small, "w", encoding="utf-8") as dst:
            dst.writelines(line for _, line in zip(range(stories), src, strict=False))
        for label, path in (("small", small), ("large", feed)):
            target = work / f"c-{name}-{label}"
            seconds, rss, code, cpu = run_ingest_cpu([str(path), "--corpus", str(target)], env=env)
            assert code == 0, f"ingest of {path.name} failed"
            measured[f"{name}-{label}"] = (seconds, rss, cpu, near_duplicates(target))
            shutil.rmtree(target)
        s_small, rss_small, cpu_small, nd_small = measured[f"{name}-small"]
        s_large, rss_large, cpu_large, nd_large = measured[f"{name}-large"]
        verdict = "target >= 1,000 articles/s, RSS <= 1.3x" if name == "templated" else "for comparison: flat"
        rows.append((f"{name} {total:,} vs {stories:,} articles",
                     f"{total / s_large:,.0f} articles/s ({s_large:.1f} s, {cpu_large:.1f} s CPU: "
                     f"{total / cpu_large:,.0f}/CPU-s; {stories:,}: {stories / s_small:,.0f}/s); peak RSS "
                     f"{rss_large} MB vs {rss_small} MB = {rss_large / rss_small:.2f}x; near-duplicates "
                     f"{nd_large:,} / {nd_small:,}", verdict))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--kill-size", type=int, default=100_000)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ray-files", type=int, default=0, help="also compare --engine ray on N .txt files")
    parser.add_argument("--ray-only", action="store_true", help="only the Ray line")
    parser.add_argument("--templated", type=int, default=20_000,
                        help="articles of the templated-archive lines (0: skip them)")
    parser.add_argument("--templated-only", action="store_true", help="only the templated-archive lines")
    opts = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    work = Path(tempfile.mkdtemp(prefix="newsner-scale-"))
    rows = _Rows()
    if opts.ray_only:
        try:
            rows.extend(bench_ray(work, opts.ray_files or 2000, opts.seed))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return
    if opts.templated_only:
        try:
            rows.extend(bench_templated(work, opts.templated or 20_000, env=env))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return
    try:
        big, small, extra = work / "large.jsonl", work / "small.jsonl", work / "extra.jsonl"
        t = time.monotonic()
        generate(big, max(opts.large, opts.kill_size), seed=opts.seed)
        generate(extra, 100, seed=opts.seed + 1, start=10_000_000)
        with open(big, encoding="utf-8") as src, open(small, "w", encoding="utf-8") as dst:
            for _, line in zip(range(opts.small), src, strict=False):
                dst.write(line)
        if opts.large < max(opts.large, opts.kill_size):
            large_only = work / "large-only.jsonl"
            with open(big, encoding="utf-8") as src, open(large_only, "w", encoding="utf-8") as dst:
                for _, line in zip(range(opts.large), src, strict=False):
                    dst.write(line)
        else:
            large_only = big
        print(f"generated inputs in {time.monotonic() - t:.0f} s ({big.stat().st_size / 1e6:.0f} MB)", flush=True)

        s_small, rss_small, _ = run_ingest([str(small), "--corpus", str(work / "c-small")], env=env)
        s_large, rss_large, code = run_ingest([str(large_only), "--corpus", str(work / "c-large")], env=env)
        assert code == 0, "large ingest failed"
        rows.append((f"peak RSS {opts.large:,} vs {opts.small:,} articles", f"{rss_large} MB vs {rss_small} MB",
                     f"{rss_large / rss_small:.2f}x (target <= 1.3x)"))
        rows.append(("ingest rate, one process, JSONL",
                     f"{opts.large / s_large:,.0f} articles/s ({opts.large:,} in {s_large:.1f} s)",
                     "target >= 2,000 articles/s"))
        s_empty, _, _ = run_ingest([str(extra), "--corpus", str(work / "c-empty")], env=env)
        s_into, _, _ = run_ingest([str(extra), "--corpus", str(work / "c-large")], env=env)
        rows.append((f"100 new articles into {opts.large:,} vs into an empty corpus",
                     f"{s_into:.2f} s vs {s_empty:.2f} s", f"{s_into / s_empty:.2f}x (target <= 2x)"))
        print(f"measured memory, rate and incremental cost; killing {opts.trials} ingests", flush=True)

        kill_input = big if opts.kill_size == max(opts.large, opts.kill_size) else work / "kill.jsonl"
        if kill_input != big:
            with open(big, encoding="utf-8") as src, open(kill_input, "w", encoding="utf-8") as dst:
                for _, line in zip(range(opts.kill_size), src, strict=False):
                    dst.write(line)
        reference = work / "c-reference"
        s_ref, _, _ = run_ingest([str(kill_input), "--corpus", str(reference)], env=env)
        ref_lines, _ = corpus_lines(reference)
        rng = random.Random(opts.seed)
        identical = 0
        unparsable = 0
        consistent = 0
        for trial in range(opts.trials):
            target = work / f"c-kill-{trial}"
            proc = subprocess.Popen([sys.executable, "-m", "newsner", "ingest", str(kill_input), "--corpus",
                                     str(target)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.1, 0.9) * s_ref)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            _, bad = corpus_lines(target)
            unparsable += bad
            _, _, code = run_ingest([str(kill_input), "--corpus", str(target)], env=env)
            lines, bad = corpus_lines(target)
            unparsable += bad
            consistent += index_consistent(target, len(ref_lines))
            identical += code == 0 and lines == ref_lines
            shutil.rmtree(target)
        rows.append((f"SIGKILL at random points of a {opts.kill_size:,}-article ingest, then rerun",
                     f"{opts.trials} trials: {unparsable} unparsable line(s), index consistent in {consistent}, "
                     f"identical to the uninterrupted run in {identical}", "target: 0 / all / all"))
        if opts.templated:
            rows.extend(bench_templated(work, opts.templated, env=env))
        if opts.ray_files:
            rows.extend(bench_ray(work, opts.ray_files, opts.seed))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("\nsummary:")
    width = max(len(r[0]) for r in rows)
    for name, value, verdict in rows:
        print(f"{name:<{width}}  {value}  {verdict}")


if __name__ == "__main__":
    main()
