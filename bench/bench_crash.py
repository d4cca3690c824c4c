"""Crash-and-race runner (issue 13): SIGKILL newsner at random points and run writers concurrently, then check
that nothing was lost.

Trials (each repeated --trials times, on local files only, in a temporary folder):
  kill-ingest    SIGKILL `ingest` of a large generated JSONL at a random moment, rerun it to completion
  kill-import    SIGKILL `annotations import` at a random moment, rerun it
  kill-export    SIGKILL `export hf` at a random moment, rerun it
  race-import    two `annotations import` runs into ONE layer at once (articles already in the corpus)
  race-ingest    two `ingest` runs into one corpus at once
  index-*        the corpus index damaged or bypassed (issue 21), on a corpus of 2 full shards + 1 partial:
                 index-garbage (garbage after its first page), index-stray (a shard copied to articles-old.jsonl),
                 index-renamed (the last full shard renamed to a later number), index-numbers (shards renamed to
                 99998, 99999, 100000), index-kill-hand (SIGKILL an ingest, then a line appended by hand),
                 index-reader (`corpus stats` again and again while an ingest runs: seconds it waited, wrong counts);
                 each then runs stats, validate and ingest, and counts tracebacks and records lost
  server-stall   a model server (127.0.0.1) sent one 1,000,000-character text, and short requests and bad bodies
                 while it runs: every short one must get suggestions within 2 s (the seconds waited are printed)

After each trial (and the reruns of any run that was killed or failed) it checks: every JSONL line parses, no
duplicate ids, the records of both concurrent runs are present, the final state equals the state of an
uninterrupted run (timestamps aside), and no temp file (.*.tmp, .hf.tmp-*, .hf.old-*) is left behind.

Prints a table of trial kind × outcome and what was lost; exit code 1 if anything was lost or left over.

    python bench/bench_crash.py                       # 10 trials of each kind
    python bench/bench_crash.py --trials 3 --articles 600 --records 150 --only kill-ingest,race-import
    python bench/bench_crash.py --only race-import --race-trials 60   # the layer race is rare per trial
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

INDEX_KINDS = ("index-garbage", "index-stray", "index-renamed", "index-numbers", "index-kill-hand",
               "index-reader")
KINDS = ("kill-ingest", "kill-import", "kill-export", "race-import", "race-ingest", "server-stall", *INDEX_KINDS)
SHARD_NAME = re.compile(r"articles-[0-9]+\.jsonl")
WORDS = ("army", "militia", "convoy", "village", "police", "rebels", "market", "border", "airstrike", "governor",
         "spokesman", "residents", "clashes", "district", "ministry", "protesters", "checkpoint", "refugees",
         "soldiers", "officials", "bridge", "hospital", "curfew", "ceasefire", "negotiators", "witnesses")
PLACES = ("Gao", "Bamako", "Kidal", "Menaka", "Niamey", "Timbuktu", "Mopti", "Agadez", "Tillaberi", "Diffa")


# ------------------------------------------------------------------------------------------------ data
def article_text(rng: random.Random, i: int) -> str:
    """A unique, plausible ~80-word article (unique serial number, so no two are near-duplicates by design)."""
    place = PLACES[i % len(PLACES)]
    body = " ".join(rng.choice(WORDS) for _ in range(70))
    return f"Report {i} from {place}: {body} said the report number {i * 7919 % 100003}."


def write_ingest_input(path: Path, n: int, seed: int, start: int = 0) -> None:
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(start, start + n):
            fh.write(json.dumps({"title": f"Report {i}", "text": article_text(rng, i)}) + "\n")


def write_import_input(path: Path, n: int, seed: int, start: int = 0) -> None:
    """doccano JSONL: each record labels the place as LOCATION."""
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(start, start + n):
            text = article_text(rng, i)
            place = PLACES[i % len(PLACES)]
            s = text.index(place)
            fh.write(json.dumps({"text": text, "label": [[s, s + len(place), "LOCATION"]]}) + "\n")


# ------------------------------------------------------------------------------------------------ running
@dataclass
class Runner:
    python: str
    timeout: float

    def cmd(self, ws: Path, *args: str) -> list[str]:
        return [self.python, "-m", "newsner", "--workspace", str(ws), *args]

    def run(self, ws: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.cmd(ws, *args), capture_output=True, text=True, timeout=self.timeout,
                              cwd=ws.parent)

    def start(self, ws: Path, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(self.cmd(ws, *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                cwd=ws.parent)

    def timed(self, ws: Path, *args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
        t0 = time.monotonic()
        done = self.run(ws, *args)
        return time.monotonic() - t0, done


def kill_at(proc: subprocess.Popen[str], delay: float) -> bool:
    """SIGKILL `proc` after `delay` seconds; True if it was still running (i.e. really killed)."""
    try:
        proc.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return True


def must(done: subprocess.CompletedProcess[str], what: str) -> None:
    if done.returncode not in (0,):
        raise RuntimeError(f"{what} failed (exit {done.returncode}): {done.stderr.strip()[-500:]}")


# ------------------------------------------------------------------------------------------------ checks
def _strip_times(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _strip_times(v) for k, v in obj.items() if not k.endswith("_at")}
    if isinstance(obj, list):
        return [_strip_times(v) for v in obj]
    return obj


@dataclass
class Check:
    problems: list[str] = field(default_factory=list)
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # file group → records


def read_jsonl_checked(path: Path, check: Check) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    with open(path, "rb") as fh:
        for n, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            if not raw.endswith(b"\n"):
                check.problems.append(f"{path.name}:{n}: last line has no newline (cut off)")
            try:
                out.append(json.loads(raw))
            except ValueError:
                check.problems.append(f"{path.name}:{n}: unparsable JSON line")
    return out


def leftovers(ws: Path) -> list[str]:
    found = []
    for root, dirs, files in os.walk(ws):
        for name in (*dirs, *files):
            if name.endswith(".tmp") or ".tmp-" in name or ".old-" in name:
                found.append(os.path.relpath(os.path.join(root, name), ws))
    return sorted(found)


def inspect_workspace(ws: Path) -> Check:
    """Parse every corpus shard and annotation layer; duplicate ids and broken lines become problems."""
    check = Check()
    articles: list[dict[str, Any]] = []
    for shard in sorted((ws / "corpus").glob("articles-*.jsonl")):
        if SHARD_NAME.fullmatch(shard.name):  # a stray copy (articles-old.jsonl) is not part of the corpus
            articles.extend(read_jsonl_checked(shard, check))
    dup = [i for i, n in Counter(a.get("id") for a in articles).items() if n > 1]
    if dup:
        check.problems.append(f"corpus: {len(dup)} duplicate id(s), e.g. {dup[0]}")
    check.records["corpus"] = articles
    for layer in sorted((ws / "annotations").glob("*.jsonl")) if (ws / "annotations").is_dir() else []:
        recs = read_jsonl_checked(layer, check)
        dup = [i for i, n in Counter(r.get("doc_id") for r in recs).items() if n > 1]
        if dup:
            check.problems.append(f"layer {layer.stem}: {len(dup)} duplicate doc_id(s)")
        check.records[f"layer {layer.stem}"] = recs
    return check


def canonical(records: list[dict[str, Any]], key: str) -> dict[str, str]:
    """id → a stable string of the record without timestamps (and without per-run provenance)."""
    out = {}
    for r in records:
        r = _strip_times(r)
        if isinstance(r.get("provenance"), dict):  # which file/line a record came from differs between runs
            r["provenance"] = {k: v for k, v in r["provenance"].items() if k not in ("path", "line")}
        if isinstance(r.get("origin"), dict):
            r["origin"] = {k: v for k, v in r["origin"].items() if k not in ("file", "line")}
        out[str(r.get(key))] = json.dumps(r, sort_keys=True)
    return out


def compare(got: Check, want: Check, *, loose: bool = False) -> list[str]:
    """What `got` lacks or has different from `want` (the uninterrupted run), as lines."""
    lost: list[str] = []
    for group, want_recs in want.records.items():
        key = "id" if group == "corpus" else "doc_id"
        g = canonical(got.records.get(group, []), key)
        w = canonical(want_recs, key)
        missing = w.keys() - g.keys()
        extra = g.keys() - w.keys()
        if missing:
            lost.append(f"{group}: {len(missing)} of {len(w)} record(s) missing")
        if extra:
            lost.append(f"{group}: {len(extra)} unexpected record(s)")
        if not loose:
            differ = sum(1 for k in w.keys() & g.keys() if w[k] != g[k])
            if differ:
                lost.append(f"{group}: {differ} record(s) differ from the uninterrupted run")
    return lost


def export_digest(out: Path) -> dict[str, Any]:
    """Split → rows of an HF export (loaded with datasets), or a note when it cannot be loaded."""
    from datasets import load_from_disk  # heavy: only for kill-export trials

    if not out.is_dir():
        return {"error": f"{out.name} missing"}
    try:
        dd = load_from_disk(str(out))
    except Exception as exc:  # noqa: BLE001  (any load failure is a finding, reported as such)
        return {"error": f"{out.name} does not load: {type(exc).__name__}: {exc}"}
    return {split: hashlib.sha256(json.dumps(dd[split].to_list(), sort_keys=True).encode()).hexdigest()
            for split in sorted(dd)}


# ------------------------------------------------------------------------------------------------ trials
@dataclass
class Outcome:
    kind: str
    trial: int
    killed: bool = False
    exits: str = ""
    lost: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)  # temp files after the rerun
    error: str = ""
    tracebacks: int = 0  # index-* trials: commands that ended in a traceback
    waited: float = 0.0  # index-reader: the longest a `corpus stats` took while an ingest ran

    @property
    def ok(self) -> bool:
        return not self.lost and not self.left and not self.error


@dataclass
class Bench:
    runner: Runner
    work: Path
    args: argparse.Namespace
    rng: random.Random
    refs: dict[str, Any] = field(default_factory=dict)

    def fresh(self, name: str, template: Path | None = None) -> Path:
        ws = self.work / name
        if ws.exists():
            shutil.rmtree(ws)
        if template is not None:
            shutil.copytree(template, ws, symlinks=True)
        else:
            ws.mkdir(parents=True)
        return ws

    # ---- references (uninterrupted runs), measured once
    def prepare(self) -> None:
        a = self.args
        inputs = self.work / "inputs"
        inputs.mkdir(exist_ok=True)
        write_ingest_input(inputs / "big.jsonl", a.articles, seed=1)
        write_ingest_input(inputs / "left.jsonl", a.articles // 2, seed=2, start=10_000_000)
        write_ingest_input(inputs / "right.jsonl", a.articles // 2, seed=3, start=20_000_000)
        write_import_input(inputs / "imp.jsonl", a.records, seed=4, start=30_000_000)
        write_import_input(inputs / "imp_a.jsonl", a.records, seed=5, start=40_000_000)
        write_import_input(inputs / "imp_b.jsonl", a.records, seed=6, start=50_000_000)
        self.inputs = inputs
        t0 = time.monotonic()
        self.runner.run(self.work, "--help")
        self.startup = time.monotonic() - t0

    def reference(self, kind: str) -> tuple[float, Any]:
        if kind in self.refs:
            return self.refs[kind]  # type: ignore[no-any-return]
        if kind.startswith("index-"):
            return index_reference(self, kind)
        i = self.inputs
        if kind == "kill-ingest":
            ws = self.fresh("ref-ingest")
            t, done = self.runner.timed(ws, "ingest", str(i / "big.jsonl"))
            must(done, "reference ingest")
            ref: Any = inspect_workspace(ws)
        elif kind == "kill-import":
            ws = self.fresh("ref-import")
            t, done = self.runner.timed(ws, "annotations", "import", str(i / "imp.jsonl"), "--annotator", "alice")
            must(done, "reference import")
            ref = inspect_workspace(ws)
        elif kind == "kill-export":
            base = self.fresh("export-base")
            must(self.runner.run(base, "annotations", "import", str(i / "imp.jsonl"), "--annotator", "alice"),
                 "import for export")
            ws = self.fresh("ref-export", base)
            t, done = self.runner.timed(ws, "export", "hf", "--out", str(ws / "exports" / "hf"), "--layer", "alice")
            must(done, "reference export")
            ref = export_digest(ws / "exports" / "hf")
        elif kind == "race-import":
            # Articles already in the corpus (the case): seed the corpus through a throwaway layer.
            base = self.fresh("race-import-base")
            for f in ("imp_a.jsonl", "imp_b.jsonl"):
                must(self.runner.run(base, "annotations", "import", str(i / f), "--annotator", "seed"), "seed import")
            ws = self.fresh("ref-race-import", base)
            t = 0.0
            for f in ("imp_a.jsonl", "imp_b.jsonl"):
                dt, done = self.runner.timed(ws, "annotations", "import", str(i / f), "--annotator", "alice")
                must(done, "reference sequential import")
                t += dt
            ref = inspect_workspace(ws)
        else:  # race-ingest
            ws = self.fresh("ref-race-ingest")
            t = 0.0
            for f in ("left.jsonl", "right.jsonl"):
                dt, done = self.runner.timed(ws, "ingest", str(i / f))
                must(done, "reference sequential ingest")
                t += dt
            ref = inspect_workspace(ws)
        self.refs[kind] = (t, ref)
        return t, ref

    def trial(self, kind: str, n: int) -> Outcome:
        if kind.startswith("index-"):
            return index_trial(self, kind, n)
        out = Outcome(kind, n)
        seconds, ref = self.reference(kind)
        i = self.inputs
        # Kill between the end of start-up (imports) and the end of an uninterrupted run: that is where writes are.
        delay = self.rng.uniform(min(self.startup, seconds * 0.5), max(0.1, seconds * 0.9))
        if kind.startswith("kill-"):
            if kind == "kill-export":
                ws = self.fresh("trial", self.work / "export-base")
                args: tuple[str, ...] = ("export", "hf", "--out", str(ws / "exports" / "hf"), "--layer", "alice")
            elif kind == "kill-ingest":
                ws = self.fresh("trial")
                args = ("ingest", str(i / "big.jsonl"))
            else:
                ws = self.fresh("trial")
                args = ("annotations", "import", str(i / "imp.jsonl"), "--annotator", "alice")
            # A run that finished before its kill moment proves nothing: retry sooner (at most 4 times).
            for _attempt in range(4):
                out.killed = kill_at(self.runner.start(ws, *args), delay)
                if out.killed:
                    break
                ws = self.fresh("trial", self.work / "export-base" if kind == "kill-export" else None)
                delay *= 0.6
            after_kill = inspect_workspace(ws)
            out.lost += [f"right after the kill: {p}" for p in after_kill.problems]
            done = self.runner.run(ws, *args)  # the rerun must finish the job
            out.exits = f"{'killed' if out.killed else 'finished'} at {delay:.2f}s, rerun {done.returncode}"
            if done.returncode != 0:
                out.error = f"rerun exit {done.returncode}: {done.stderr.strip().splitlines()[-1:]}"
            if kind == "kill-export":
                got = export_digest(ws / "exports" / "hf")
                if got != ref:
                    out.lost.append(f"export differs from the uninterrupted run: {got.get('error', 'other rows')}")
            else:
                got_ws = inspect_workspace(ws)
                out.lost += got_ws.problems + compare(got_ws, ref)
        else:
            if kind == "race-import":
                ws = self.fresh("trial", self.work / "race-import-base")
                arg_sets: list[tuple[str, ...]] = [("annotations", "import", str(i / f), "--annotator", "alice")
                            for f in ("imp_a.jsonl", "imp_b.jsonl")]
            else:
                ws = self.fresh("trial")
                arg_sets = [("ingest", str(i / f)) for f in ("left.jsonl", "right.jsonl")]
            # The second writer starts a random moment later, so the two runs' read-modify-write windows meet
            # at different points from trial to trial (two exact-same-time starts are serialised by the corpus lock).
            procs = [self.runner.start(ws, *arg_sets[0])]
            time.sleep(self.rng.uniform(0, self.args.stagger))
            procs.append(self.runner.start(ws, *arg_sets[1]))
            codes = [p.wait(timeout=self.runner.timeout) for p in procs]
            for p in procs:
                p.communicate()
            out.exits = "exits " + "/".join(map(str, codes))
            got_ws = inspect_workspace(ws)
            silent = compare(got_ws, ref, loose=True)
            if silent and all(c == 0 for c in codes):
                out.lost += [f"both runs exited 0 but {s}" for s in silent]
            for a, c in zip(arg_sets, codes, strict=True):  # a run that failed loudly is rerun, like a user would
                if c != 0:
                    done = self.runner.run(ws, *a)
                    out.exits += f", rerun {done.returncode}"
            got_ws = inspect_workspace(ws)
            out.lost += got_ws.problems + compare(got_ws, ref, loose=kind == "race-ingest")
            out.lost = list(dict.fromkeys(out.lost))
        out.left = leftovers(ws)
        return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=10, help="Trials of each kind (default 10).")
    ap.add_argument("--race-trials", type=int, default=None,
                    help="Trials of each race kind (default: --trials); races are rare, so more catch more.")
    ap.add_argument("--stagger", type=float, default=0.5,
                    help="Race trials: the second run starts up to this many seconds after the first.")
    ap.add_argument("--articles", type=int, default=4000, help="Articles in the generated ingest input.")
    ap.add_argument("--records", type=int, default=400, help="Records per generated import file.")
    ap.add_argument("--index-articles", type=int, default=10_500,
                    help="Articles of the index-* trials' corpus (10,500: two full shards of 5,000 and one partial).")
    ap.add_argument("--only", default=",".join(KINDS), help=f"Comma-separated kinds: {', '.join(KINDS)}.")
    ap.add_argument("--seed", type=int, default=0, help="Seed of the random kill moments.")
    ap.add_argument("--timeout", type=float, default=600, help="Seconds one newsner run may take.")
    ap.add_argument("--budget", type=float, default=1800, help="Stop starting new trials after this many seconds.")
    ap.add_argument("--keep", action="store_true", help="Keep the temporary folder (its path is printed).")
    a = ap.parse_args(argv)
    kinds = [k.strip() for k in a.only.split(",") if k.strip()]
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        ap.error(f"unknown kind(s) {', '.join(bad)}; choose from {', '.join(KINDS)}")
    work = Path(tempfile.mkdtemp(prefix="newsner-crash-"))
    bench = Bench(Runner(sys.executable, a.timeout), work, a, random.Random(a.seed))
    started = time.monotonic()
    outcomes: list[Outcome] = []
    try:
        bench.prepare()
        for kind in kinds:
            if kind == "server-stall":  # not a file-writing trial: its own runner (figures on stdout)
                outcomes += server_stall(bench.runner, work, a.trials, deadline=started + a.budget)
                continue
            t, _ = bench.reference(kind)
            count = a.race_trials if kind.startswith("race-") and a.race_trials is not None else a.trials
            print(f"{kind}: uninterrupted run {t:.2f} s; {count} trial(s)", file=sys.stderr, flush=True)
            for n in range(1, count + 1):
                if time.monotonic() - started > a.budget:
                    print(f"time budget of {a.budget:.0f} s used up; stopping", file=sys.stderr)
                    break
                try:
                    o = bench.trial(kind, n)
                except (RuntimeError, subprocess.TimeoutExpired) as exc:
                    o = Outcome(kind, n, error=str(exc)[:200])
                outcomes.append(o)
                mark = "ok" if o.ok else "LOST" if o.lost else "LEFTOVER" if o.left else "ERROR"
                print(f"  {kind} #{n}: {mark}  {o.exits}", file=sys.stderr, flush=True)
    finally:
        if a.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return report(outcomes, time.monotonic() - started)


def report(outcomes: list[Outcome], seconds: float) -> int:
    print(f"\n{'trial':<13} {'runs':>4} {'ok':>4} {'lost':>4} {'leftover':>8} {'error':>5}  killed")
    for kind in dict.fromkeys(o.kind for o in outcomes):
        mine = [o for o in outcomes if o.kind == kind]
        print(f"{kind:<13} {len(mine):>4} {sum(o.ok for o in mine):>4} {sum(bool(o.lost) for o in mine):>4} "
              f"{sum(bool(o.left) for o in mine):>8} {sum(bool(o.error) for o in mine):>5}  "
              f"{sum(o.killed for o in mine)}")
    bad = [o for o in outcomes if not o.ok]
    if bad:
        print("\nwhat was lost or left behind:")
        for o in bad:
            for line in o.lost:
                print(f"  {o.kind} #{o.trial}: LOST {line}   ({o.exits})")
            if o.left:
                shown = ", ".join(o.left[:3]) + (f" and {len(o.left) - 3} more" if len(o.left) > 3 else "")
                print(f"  {o.kind} #{o.trial}: LEFTOVER after the rerun: {shown}")
            if o.error:
                print(f"  {o.kind} #{o.trial}: ERROR {o.error}")
    index_figures(outcomes)
    total_lost = sum(bool(o.lost) for o in outcomes)
    print(f"\n{len(outcomes)} trial(s) in {seconds:.0f} s: {total_lost} with something lost, "
          f"{sum(bool(o.left) for o in outcomes)} with leftovers, {sum(bool(o.error) for o in outcomes)} errors")
    return 1 if bad else 0


# ------------------------------------------------------------------------------------------------ server stall
# Issue 21: one 1,000,000-character text kept the model server's one suggestion thread busy for 645 s after its
# budget; every short request in that time was answered empty, and `serve status` said healthy.
SHORT_TEXT = "Wagner fighters attacked Kidal on Tuesday, the army said."
STALL_LONG = ("parens", "words", "cjk", "emoji")  # the long request of trial n is STALL_LONG[n % 4]


def stall_text(kind: str) -> str:
    """1,000,000 characters (the server's limit) that are slow to suggest, each in its own way."""
    unit = {"parens": ")", "words": SHORT_TEXT + " ", "cjk": "瓦格纳武装人员周二袭击了基达尔。", "emoji": "👍🏽"}[kind]
    return (unit * (1_000_000 // len(unit) + 1))[:1_000_000]


@dataclass
class StallFigures:
    shorts: int = 0  # short requests sent while the long one was in flight
    empty: int = 0  # ... answered without suggestions
    waits: list[float] = field(default_factory=list)  # seconds each short request waited
    tracebacks: int = 0


def _raw_status(url: str, head: bytes, chunks: int = 0) -> str:
    """Status line of a raw request: headers, then `chunks` 1 MB chunks of a chunked body that never ends."""
    import socket

    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(head)
        try:
            for _ in range(chunks):
                conn.sendall(b"100000\r\n" + b"a" * 0x100000 + b"\r\n")
        except OSError:  # the server stopped reading: what it should do
            pass
        try:
            return conn.recv(200).split(b"\r\n", 1)[0].decode("latin-1")
        except OSError as exc:
            return f"no answer ({type(exc).__name__})"


def stall_trial(runner: Runner, work: Path, n: int, figures: StallFigures, *, budget: float, shorts: int,
                ) -> Outcome:
    import threading

    import httpx

    kind = STALL_LONG[n % len(STALL_LONG)]
    out = Outcome("server-stall", n)
    ws = work / f"stall-{n}"
    shutil.rmtree(ws, ignore_errors=True)
    (ws / "annotations").mkdir(parents=True)
    shutil.copy(Path(__file__).resolve().parents[1] / "annotations" / "labels.json", ws / "annotations")
    must(runner.run(ws, "serve", "up", "--budget", f"{budget:g}"), "serve up")
    try:
        url = json.loads((ws / ".newsner" / "serve" / "pids.json").read_text())["url"]
        long_answer: dict[str, Any] = {}

        def send_long() -> None:
            t0 = time.monotonic()
            try:
                with httpx.Client(timeout=budget + 60, trust_env=False) as http:
                    long_answer.update(http.post(f"{url}/suggest", json={"text": stall_text(kind)}).json())
            except (httpx.HTTPError, ValueError) as exc:
                long_answer["error"] = type(exc).__name__
            long_answer["seconds"] = time.monotonic() - t0

        thread = threading.Thread(target=send_long, daemon=True)
        thread.start()
        time.sleep(0.3)  # the long text is with the worker now
        with httpx.Client(timeout=budget + 30, trust_env=False) as http:
            for i in range(shorts):
                if not thread.is_alive():
                    break
                t0 = time.monotonic()
                try:
                    body = http.post(f"{url}/suggest", json={"text": SHORT_TEXT}).json()
                except (httpx.HTTPError, ValueError) as exc:
                    body = {"error": type(exc).__name__}
                waited = time.monotonic() - t0
                figures.shorts += 1
                figures.waits.append(waited)
                if not body.get("labels"):
                    figures.empty += 1
                    out.lost.append(f"short request {i + 1} ({kind}) answered without suggestions after "
                                    f"{waited:.1f} s: {body.get('error') or 'timed_out'}")
                elif waited > 2.0:
                    out.lost.append(f"short request {i + 1} ({kind}) waited {waited:.1f} s")
            thread.join(timeout=budget + 70)
            # Bad input the same server must refuse in one line each, without reading what it does not need.
            bad: dict[str, object] = {
                "nested": http.post(f"{url}/suggest", content=b"[" * 100_000 + b"]" * 100_000).status_code,
                "surrogate": http.post(f"{url}/suggest", content=b'{"text": "Kidal \\ud83d"}').status_code}
        post = b"POST /suggest HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        bad["60 MB"] = _raw_status(url, post + b"Content-Length: 60000000\r\n\r\n")
        bad["chunked"] = _raw_status(url, post + b"Transfer-Encoding: chunked\r\n\r\n", chunks=40)
        for what, want in (("nested", 400), ("surrogate", 400), ("60 MB", 413), ("chunked", 413)):
            if str(want) not in str(bad[what]):
                out.lost.append(f"{what} body answered {bad[what]}, not {want}")
        status = runner.run(ws, "serve", "status")
        if status.returncode != 0:
            out.lost.append(f"serve status after the long request: {status.stdout.strip()}")
        out.exits = (f"long {kind} {long_answer.get('seconds', 0):.1f}s "
                     f"{'timed out' if long_answer.get('timed_out') else long_answer.get('error', 'answered')}, "
                     f"shorts max {max(figures.waits[-shorts:], default=0):.2f}s")
        if thread.is_alive():
            out.error = f"the long request ({kind}) got no answer within {budget + 70:.0f} s"
    finally:
        runner.run(ws, "serve", "down")
    log = (ws / ".newsner" / "serve" / "serve.log").read_text(errors="replace")
    figures.tracebacks += log.count("Traceback")
    if "Traceback" in log:
        out.lost.append(f"{log.count('Traceback')} traceback(s) in serve.log")
    out.left = [p for p in ("pids.json",) if (ws / ".newsner" / "serve" / p).exists()]
    return out


def server_stall(runner: Runner, work: Path, trials: int, *, budget: float = 2.0, shorts: int = 10,
                 deadline: float = float("inf")) -> list[Outcome]:
    """`trials` model servers (127.0.0.1, shipped patterns), each sent one long request and, while it runs,
    `shorts` short ones and four bad bodies; prints the seconds any short request waited."""
    figures = StallFigures()
    outcomes = []
    for n in range(1, trials + 1):
        if time.monotonic() > deadline:
            print("time budget used up; stopping", file=sys.stderr)
            break
        try:
            o = stall_trial(runner, work, n, figures, budget=budget, shorts=shorts)
        except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
            o = Outcome("server-stall", n, error=str(exc)[:200])
        outcomes.append(o)
        print(f"  server-stall #{n}: {'ok' if o.ok else 'LOST' if o.lost else 'ERROR'}  {o.exits}",
              file=sys.stderr, flush=True)
    waits = sorted(figures.waits)
    if waits:
        print(f"server-stall: {len(outcomes)} trial(s), {figures.tracebacks} traceback(s); {figures.shorts} short "
              f"request(s) while a 1,000,000-character one ran (budget {budget:g} s): {figures.empty} without "
              f"suggestions, waited median {waits[len(waits) // 2]:.2f} s, max {waits[-1]:.2f} s", flush=True)
    return outcomes


# ------------------------------------------------------------------------------------ index-damage trials
# Issue 21: a damaged, bypassed or busy corpus index must never cost a record or end in a traceback.
def index_reference(bench: Bench, kind: str) -> tuple[float, Any]:
    """The corpus every index-* trial starts from (2 full shards + 1 partial), ingested once; its ids."""
    if "index" not in bench.refs:
        a = bench.args
        write_ingest_input(bench.inputs / "index.jsonl", a.index_articles, seed=7, start=60_000_000)
        write_ingest_input(bench.inputs / "index-more.jsonl", 300, seed=8, start=70_000_000)
        write_ingest_input(bench.inputs / "index-long.jsonl", a.articles, seed=9, start=80_000_000)
        ws = bench.fresh("index-base")
        t, done = bench.runner.timed(ws, "ingest", str(bench.inputs / "index.jsonl"))
        must(done, "index base ingest")
        bench.refs["index"] = (t, _ids(ws))
        t0 = time.monotonic()
        bench.refs["index-long"] = _ids_of(bench, "index-long.jsonl")
        bench.refs["index-long-seconds"] = time.monotonic() - t0
        bench.refs["index-more"] = _ids_of(bench, "index-more.jsonl")
    t, ids = bench.refs["index"]
    return t, ids


def _ids(ws: Path) -> set[str]:
    return {str(r["id"]) for r in inspect_workspace(ws).records["corpus"]}


def _ids_of(bench: Bench, feed: str) -> set[str]:
    ws = bench.fresh(f"ref-{feed}")
    must(bench.runner.run(ws, "ingest", str(bench.inputs / feed)), f"reference ingest of {feed}")
    return _ids(ws)


def _shards(ws: Path) -> list[Path]:
    found = [p for p in (ws / "corpus").glob("articles-*.jsonl") if SHARD_NAME.fullmatch(p.name)]
    return sorted(found, key=lambda p: int(p.stem.split("-")[1]))


def _garble(ws: Path, rng: random.Random) -> None:
    index = ws / "corpus" / ".index.sqlite3"
    data = index.read_bytes()
    index.write_bytes(data[:4096] + rng.randbytes(max(len(data) - 4096, 4096)))


def _rename_numbers(ws: Path, rng: random.Random) -> None:
    for shard, number in zip(_shards(ws), (99998, 99999, 100000), strict=False):
        shard.rename(shard.parent / f"articles-{number:05d}.jsonl")


def _rename_full(ws: Path, rng: random.Random) -> None:
    shards = _shards(ws)
    later = rng.choice([len(shards) + rng.randint(0, 50), 100_000 + rng.randint(0, 9)])
    shards[-2].rename(shards[-2].parent / f"articles-{later:05d}.jsonl")


def _stray(ws: Path, rng: random.Random) -> None:
    shutil.copy(rng.choice(_shards(ws)), ws / "corpus" / "articles-old.jsonl")


_DAMAGE = {"index-garbage": _garble, "index-stray": _stray, "index-renamed": _rename_full,
           "index-numbers": _rename_numbers}


def _run_checked(bench: Bench, ws: Path, out: Outcome, *args: str) -> subprocess.CompletedProcess[str]:
    """Run one command; a traceback, a failure or more than one note line is a finding."""
    done = bench.runner.run(ws, *args)
    what = " ".join(args[:2])
    if "Traceback" in done.stderr or "Traceback" in done.stdout:
        out.tracebacks += 1
        out.error = out.error or f"{what}: traceback ({done.stderr.strip().splitlines()[-1:]})"
    elif done.returncode != 0:
        out.error = out.error or f"{what}: exit {done.returncode}: {done.stderr.strip().splitlines()[-1:]}"
    notes = [ln for ln in done.stderr.splitlines() if ln.startswith("note:")]
    if len(notes) > 1:
        out.lost.append(f"{what}: {len(notes)} note lines, not one")
    return done


def _stats_counts(done: subprocess.CompletedProcess[str]) -> tuple[int, int] | None:
    m = re.search(r"(\d+) articles in (\d+) shard", done.stdout)
    return (int(m.group(1)), int(m.group(2))) if m else None


def _hand_line(ws: Path, n: int) -> str:
    """Append one valid article to the last shard, as a person would with an editor; returns its id."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from newsner.schema import Article

    article = Article.from_text(f"Added by hand after the crash, trial {n}, by the night desk.", source="desk")
    with open(_shards(ws)[-1], "a", encoding="utf-8") as fh:
        fh.write(json.dumps(article.to_dict()) + "\n")
    return article.id


def index_trial(bench: Bench, kind: str, n: int) -> Outcome:
    out = Outcome(kind, n)
    _, base_ids = index_reference(bench, kind)
    rng, inputs = bench.rng, bench.inputs
    ws = bench.fresh("trial", bench.work / "index-base")
    expected = set(base_ids)
    if kind in _DAMAGE:
        _DAMAGE[kind](ws, rng)
        out.exits = "damaged"
    elif kind == "index-kill-hand":
        delay = rng.uniform(bench.startup, max(bench.startup, 0.9 * bench.refs["index-long-seconds"]))
        out.killed = kill_at(bench.runner.start(ws, "ingest", str(inputs / "index-long.jsonl")), delay)
        expected.add(_hand_line(ws, n))
        out.exits = f"{'killed' if out.killed else 'finished'} at {delay:.2f}s, then a line by hand"
        _run_checked(bench, ws, out, "corpus", "stats")
        _run_checked(bench, ws, out, "ingest", str(inputs / "index-long.jsonl"))
        expected |= bench.refs["index-long"]
    elif kind == "index-reader":
        proc = bench.runner.start(ws, "ingest", str(inputs / "index-long.jsonl"))
        wrong = 0
        while proc.poll() is None:
            t0 = time.monotonic()
            answer = _run_checked(bench, ws, out, "corpus", "stats")
            out.waited = max(out.waited, time.monotonic() - t0)
            counts = _stats_counts(answer)
            # shards fill to 5,000 in order: N committed articles are in ceil(N / 5000) shards
            if counts is None or counts[1] != -(-counts[0] // 5000) or counts[0] < len(base_ids):
                wrong += 1
        proc.communicate()
        if wrong:
            out.lost.append(f"{wrong} `corpus stats` answer(s) during the ingest counted wrong")
        expected |= bench.refs["index-long"]
        out.exits = f"ingest exit {proc.returncode}, longest stats {out.waited:.1f}s"
    done: subprocess.CompletedProcess[str] | None = None
    for args in (("corpus", "stats"), ("corpus", "validate"), ("ingest", str(inputs / "index-more.jsonl")),
                 ("corpus", "stats")):
        done = _run_checked(bench, ws, out, *args)
    expected |= bench.refs["index-more"]
    got = inspect_workspace(ws)
    ids = {str(r["id"]) for r in got.records["corpus"]}
    out.lost += got.problems
    if expected - ids:
        out.lost.append(f"corpus: {len(expected - ids)} of {len(expected)} record(s) missing")
    counts = _stats_counts(done) if done is not None else None
    if counts != (len(ids), len(_shards(ws))):
        out.lost.append(f"corpus stats says {counts}, the shards hold {len(ids)} articles in {len(_shards(ws))}")
    out.left = leftovers(ws)
    return out


def index_figures(outcomes: list[Outcome]) -> None:
    mine = [o for o in outcomes if o.kind.startswith("index-")]
    if mine:
        waited = max((o.waited for o in mine if o.kind == "index-reader"), default=0.0)
        print(f"index-damage trials: {len(mine)}, tracebacks {sum(o.tracebacks for o in mine)}, trials with records "
              f"lost {sum(any('missing' in x for x in o.lost) for o in mine)}, longest `corpus stats` during an "
              f"ingest {waited:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
