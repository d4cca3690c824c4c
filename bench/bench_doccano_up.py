"""Benchmark: how long `newsner doccano up` takes until doccano's API and celery worker are ready.

    .venv/bin/python bench/bench_doccano_up.py [--warm-runs 3]

Phases, each a real `newsner --workspace WS doccano up` subprocess (Python start-up included):
    baseline  a new workspace with no cached template: migrations + admin + start (what a first-ever run costs,
              about what `doccano init` + `doccano createuser` + starting the server cost by hand)
    cold      a new workspace, the migrated template cached beside the venv: copy + admin + start
    warm      the same workspace again after `down`: the database exists, only the start (target <= 5 s)
    running   `up` while it already runs
Ratios are against the baseline measured in the same run. Needs the doccano venv (NEWSNER_DOCCANO_VENV or
.newsner/venv-doccano; `newsner doccano install` builds it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WARM_TARGET = 5.0


def newsner(ws: Path, *args: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "newsner", "--workspace", str(ws), "doccano", *args],
                            capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"`newsner doccano {' '.join(args)}` failed:\n{result.stdout}{result.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warm-runs", type=int, default=3)
    opts = parser.parse_args()
    env = dict(os.environ)
    env.setdefault("NEWSNER_DOCCANO_VENV", str(REPO / ".newsner" / "venv-doccano"))
    env.pop("NEWSNER_DOCCANO_URL", None)
    if not (Path(env["NEWSNER_DOCCANO_VENV"]) / "bin" / "gunicorn").exists():
        sys.exit(f"no doccano venv at {env['NEWSNER_DOCCANO_VENV']}: run `newsner doccano install` first")

    rows: list[tuple[str, float]] = []
    downs: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-doccano-") as tmp:
        root = Path(tmp)
        # baseline: nothing cached anywhere (an empty template folder)
        base_ws = root / "baseline"
        base_ws.mkdir()
        base_env = {**env, "NEWSNER_DOCCANO_TEMPLATE_DIR": str(root / "no-templates")}
        try:
            rows.append(("baseline (new workspace, no template)", newsner(base_ws, "up", env=base_env)))
        finally:
            downs.append(newsner(base_ws, "down", env=base_env))

        # cold with the template; make sure one exists first (the default folder beside the venv)
        prime = root / "prime"
        prime.mkdir()
        newsner(prime, "up", env=env)
        newsner(prime, "down", env=env)
        ws = root / "ws"
        ws.mkdir()
        try:
            rows.append(("cold (new workspace, template cached)", newsner(ws, "up", env=env)))
            rows.append(("running (up while it runs)", newsner(ws, "up", env=env)))
            downs.append(newsner(ws, "down", env=env))
            warm = []
            for _ in range(max(1, opts.warm_runs)):
                warm.append(newsner(ws, "up", env=env))
                downs.append(newsner(ws, "down", env=env))
            rows.append((f"warm (existing workspace, median of {len(warm)})", statistics.median(warm)))
        finally:
            newsner(ws, "down", env=env)

    baseline = rows[0][1]
    print(f"newsner doccano up — wall time until API + worker ready ({os.cpu_count()} CPUs)")
    print(f"{'phase':<48}{'seconds':>9}{'vs baseline':>13}")
    for name, seconds in rows:
        print(f"{name:<48}{seconds:>9.2f}{seconds / baseline:>12.2f}x")
    print(f"{'down (median)':<48}{statistics.median(downs):>9.2f}")
    warm_s = rows[-1][1]
    verdict = "meets" if warm_s <= WARM_TARGET else "MISSES"
    print(f"warm start {warm_s:.2f} s {verdict} the target of <= {WARM_TARGET:.0f} s")


if __name__ == "__main__":
    main()
