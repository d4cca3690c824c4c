"""Ingest throughput, measured against baselines in the same run.

    .venv/bin/python bench/bench_ingest.py [--articles 4000] [--html-copies 4] [--repeat 3]

1. text/JSONL: `ingest()` of N generated articles (real sentences from the sample corpus, the seed and the
   English test pages, shuffled into new articles; one JSONL file, the same file with a declared language, and
   N/4 .txt files) into an empty corpus: articles per second (bench/bench_scale.py holds the 2,000/s target, on
   one-paragraph records that declare their language), and the ratio to a bare loop that only reads, parses and
   writes the same records as JSONL (no cleaning, no hashing, no dedupe).
2. HTML: `ingest()` of real pages (../shared/data/html and corpus/raw, each copied K times with a marker
   paragraph so the copies are distinct) with --jobs 1 and --jobs 2, against `trafilatura.extract` alone on the
   same files' bytes, one after another, in this process. Ratio = extractor-alone time / ingest time
   (targets: >= 0.8 with one process, >= 1.5 with --jobs 2). Two extractor baselines are printed: extract()
   with its defaults (text only, comments included), and extract() asked for what ingest needs (metadata:
   title, date, author, site, URL; comments excluded). Metadata extraction alone costs trafilatura about a
   third more time; the second ratio is the overhead of newsner itself.
3. HTML, whole processes (issue 20's table): `newsner ingest DIR --jobs 1` into an empty workspace against one
   process running a loop of `trafilatura.extract` over the same files (defaults, then with the metadata ingest
   needs), CPU time (user + system) of each child, start-up included (imports, the language model). Median of
   --repeat interleaved runs.
Each in-process figure is the best of --repeat runs (the machine is shared; the best run is the least disturbed).

    .venv/bin/python bench/bench_ingest.py --html-only --html-copies 5 --repeat 3   # the HTML rows only
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import trafilatura

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from newsner.corpus.store import Corpus  # noqa: E402
from newsner.ingest import ingest  # noqa: E402
from newsner.ingest.html import _DATE_PARAMS  # noqa: E402

SHARED = Path(os.environ.get("NEWSNER_SHARED_DATA", REPO.parent / "shared" / "data"))


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def sentence_pool() -> list[str]:
    """Sentences of real, cleaned article text: the sample corpus, the seed and the English test pages."""
    from newsner.ingest.drafts import InputFile, ReadOptions
    from newsner.ingest.readers import read_file

    paths = sorted((REPO / "corpus" / "raw").glob("*.txt")) + sorted((SHARED / "seed").glob("*.txt"))
    paths += [SHARED / "html" / "pathological" / "postlight__nymag.com.html"]
    paths += sorted((SHARED / "html" / "public_domain").glob("postlight__*.html"))
    pool: list[str] = []
    for path in paths:
        kind = "html" if path.suffix == ".html" else "txt"
        for draft in read_file(InputFile(str(path), path, kind, path.stat().st_size), ReadOptions(10**7)).drafts:
            pool += [s.strip() for s in re.split(r"(?<=[.!?])\s+", draft.text) if len(s.split()) >= 6]
    return pool


def make_article(rng: random.Random, pool: list[str], i: int) -> str:
    """A ~500-word article: a headline and 6-9 paragraphs of 2-4 real sentences drawn from the pool."""
    paragraphs = [" ".join(rng.sample(pool, rng.randint(2, 4))) for _ in range(rng.randint(6, 9))]
    return f"Report {i}: fighting in the north\n\n" + "\n\n".join(paragraphs)


def bench_text(n: int, repeat: int, work: Path) -> list[tuple[str, str]]:
    rng = random.Random(7)
    pool = sentence_pool()
    texts = [make_article(rng, pool, i) for i in range(n)]
    jsonl = work / "feed.jsonl"
    jsonl.write_text("".join(json.dumps({"text": t, "source": "bench", "n": i}) + "\n" for i, t in enumerate(texts)))
    declared = work / "declared.jsonl"  # the same records declaring their language: no detection
    declared.write_text("".join(json.dumps({"text": t, "source": "bench", "n": i, "language": "en"}) + "\n"
                                for i, t in enumerate(texts)))
    txt_dir = work / "txt"
    txt_dir.mkdir()
    n_txt = n // 4
    for i, t in enumerate(texts[:n_txt]):
        (txt_dir / f"{i:05d}.txt").write_text(t, encoding="utf-8")

    def fresh() -> Corpus:
        root = work / "corpus"
        shutil.rmtree(root, ignore_errors=True)
        return Corpus(root)

    def run_jsonl() -> None:
        report = ingest([str(jsonl)], fresh())
        assert report.ingested == n and not report.rejected, report

    def run_declared() -> None:
        report = ingest([str(declared)], fresh())
        assert report.ingested == n and not report.rejected, report

    def run_txt() -> None:
        report = ingest([str(txt_dir)], fresh())
        assert report.ingested == n_txt and not report.rejected

    def bare() -> None:  # the floor: read, parse, write JSONL
        out = work / "bare.jsonl"
        with open(jsonl, "rb") as src, open(out, "wb") as dst:
            for line in src:
                dst.write(orjson.dumps(orjson.loads(line)) + b"\n")

    t_jsonl = best_of(repeat, run_jsonl)
    t_declared = best_of(repeat, run_declared)
    t_txt = best_of(repeat, run_txt)
    t_bare = best_of(repeat, bare)
    return [
        ("JSONL ingest", f"{n / t_jsonl:,.0f} articles/s ({n} articles, {t_jsonl:.2f} s)"),
        ("JSONL ingest, language declared", f"{n / t_declared:,.0f} articles/s (no language detection: py3langid "
                                            f"costs {(t_jsonl - t_declared) / n * 1e6:.0f} µs an article)"),
        (".txt ingest", f"{n_txt / t_txt:,.0f} articles/s ({n_txt} files, {t_txt:.2f} s)"),
        ("bare read+parse+write", f"{n / t_bare:,.0f} records/s; JSONL ingest runs at {t_bare / t_jsonl:.2f}x of it"),
    ]


def bench_html(copies: int, repeat: int, work: Path) -> list[tuple[str, str]]:
    pages = sorted((SHARED / "html").glob("*/*.html")) + sorted((REPO / "corpus" / "raw").glob("*.html"))
    html_dir = work / "html"
    html_dir.mkdir()
    files = []
    for k in range(copies):
        for n, page in enumerate(pages):
            data = page.read_bytes()
            marker = f"<p>Copy {k} of page {n}: archived for the benchmark.</p>".encode()
            data = data.replace(b"</body>", marker + b"</body>", 1)
            path = html_dir / f"{k:02d}-{n:02d}.html"
            path.write_bytes(data)
            files.append(path)
    blobs = [p.read_bytes() for p in files]

    def extractor_alone() -> None:
        for blob in blobs:
            trafilatura.extract(blob)

    def extractor_same_work() -> None:  # what ingest asks of trafilatura: metadata too, no comments
        for blob in blobs:
            trafilatura.extract(blob, with_metadata=True, include_comments=False, date_extraction_params=_DATE_PARAMS)

    def run(jobs: int) -> Callable[[], None]:
        def go() -> None:
            root = work / f"corpus-html-{jobs}"
            shutil.rmtree(root, ignore_errors=True)
            ingest([str(html_dir)], Corpus(root), jobs=jobs)
        return go

    total_mb = sum(len(b) for b in blobs) / 1e6
    t_base = best_of(repeat, extractor_alone)
    t_same = best_of(repeat, extractor_same_work)
    t1 = best_of(repeat, run(1))
    t2 = best_of(repeat, run(2))
    return [
        ("HTML pages", f"{len(files)} pages, {total_mb:.1f} MB"),
        ("trafilatura.extract alone", f"{t_base:.2f} s ({len(files) / t_base:.1f} pages/s), its defaults"),
        ("  ... with metadata", f"{t_same:.2f} s: with_metadata=True, no comments (what ingest needs): "
                                f"{t_base / t_same:.2f}x of the defaults"),
        ("ingest --jobs 1", f"{t1:.2f} s: {t_base / t1:.2f}x extract() defaults, {t_same / t1:.2f}x extract() with "
                            "metadata (target >= 0.8x)"),
        ("ingest --jobs 2", f"{t2:.2f} s: {t_base / t2:.2f}x extract() defaults, {t_same / t2:.2f}x extract() with "
                            "metadata (target >= 1.5x)"),
    ]


_EXTRACT_LOOP = """
import sys
from pathlib import Path
import trafilatura
kwargs = dict(with_metadata=True, include_comments=False, date_extraction_params={params}) if sys.argv[2] == "meta" \\
    else {{}}
for path in sorted(Path(sys.argv[1]).glob("*.html")):
    trafilatura.extract(path.read_bytes(), **kwargs)
"""


def _cpu_of(cmd: list[str], cwd: Path, ok: tuple[int, ...] = (0,)) -> float:
    """CPU seconds (user + system) of one child process run to completion (exit code in `ok`)."""
    import subprocess

    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) not in ok:
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err[-2000:]}")
    return usage.ru_utime + usage.ru_stime


def bench_html_processes(repeat: int, work: Path) -> list[tuple[str, str]]:
    """`newsner ingest DIR --jobs 1` against a process looping over extract(), whole processes, CPU time."""
    import statistics

    html_dir = work / "html"
    n = len(list(html_dir.glob("*.html")))
    loop = work / "extract_loop.py"
    loop.write_text(_EXTRACT_LOOP.format(params=repr(_DATE_PARAMS)))
    newsner = Path(sys.executable).with_name("newsner")
    times: dict[str, list[float]] = {"extract": [], "meta": [], "ingest": []}
    for _ in range(repeat):  # interleaved: a change in the machine's load hits all three alike
        times["extract"].append(_cpu_of([sys.executable, str(loop), str(html_dir), "defaults"], work))
        times["meta"].append(_cpu_of([sys.executable, str(loop), str(html_dir), "meta"], work))
        ws = work / "ws-process"
        shutil.rmtree(ws, ignore_errors=True)
        ws.mkdir()
        # exit code 1: some pages are no articles (a redirect, an index page), reported as rejected
        times["ingest"].append(_cpu_of([str(newsner), "ingest", str(html_dir), "--jobs", "1"], ws, ok=(0, 1)))
    base, meta, ours = (statistics.median(times[k]) for k in ("extract", "meta", "ingest"))
    return [
        ("processes: extract() loop", f"{base:.2f} s CPU ({n} pages, median of {repeat}), its defaults"),
        ("  ... with metadata", f"{meta:.2f} s CPU: {base / meta:.2f}x of the defaults"),
        ("processes: newsner ingest -j1", f"{ours:.2f} s CPU: {base / ours:.2f}x extract() defaults (target >= 0.8x), "
                                          f"{meta / ours:.2f}x extract() with metadata"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=4000)
    parser.add_argument("--html-copies", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--html-only", action="store_true", help="skip the text/JSONL rows")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="newsner-bench-") as tmp:
        rows = [] if args.html_only else bench_text(args.articles, args.repeat, Path(tmp))
        rows += bench_html(args.html_copies, args.repeat, Path(tmp))
        rows += bench_html_processes(args.repeat, Path(tmp))
    width = max(len(name) for name, _ in rows)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"newsner ingest benchmark ({os.cpu_count()} CPUs, load average {load}, python {sys.version.split()[0]})")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")


if __name__ == "__main__":
    main()
