"""Archive scale: memory, incremental cost, plain-text rate and SIGKILL safety of `newsner ingest`.

    python bench/bench_scale.py                      # full size: 100,000 vs 10,000 articles, 5 kill trials
    python bench/bench_scale.py --large 20000 --small 2000 --kill-size 5000 --trials 3   # a quick run
    python bench/bench_scale.py --ray-only --ray-files 2000   # only the Ray-local vs local-engine line

Prints, each measured in this run against a baseline measured in the same run:
- peak RSS of `newsner ingest` on LARGE vs SMALL generated ~3 KB articles (target <= 1.3x);
- wall time of ingesting 100 new articles into the LARGE corpus vs into an empty one (target <= 2x);
- the plain-text ingest rate on one process, in articles/s (target >= 2,000);
- SIGKILL at random points of an ingest of KILL_SIZE articles, then a rerun: unparsable lines, index
  consistency and equality with an uninterrupted run (ingested_at aside);
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
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "newsner", "ingest", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.monotonic() - started, usage.ru_maxrss // 1024, proc.returncode


def corpus_lines(root: Path) -> tuple[list[dict], int]:
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

    def append(self, row: tuple[str, str, str]) -> None:  # type: ignore[override]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--kill-size", type=int, default=100_000)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ray-files", type=int, default=0, help="also compare --engine ray on N .txt files")
    parser.add_argument("--ray-only", action="store_true", help="only the Ray line")
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
