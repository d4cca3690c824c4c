"""`newsner --help` start-up time, against the floor of starting Python with typer loaded, in the same run.

    .venv/bin/python bench/bench_cli_startup.py [--repeat 7]

Prints the best of --repeat runs of each (the machine is shared; the best run is the least disturbed): the bare
interpreter, `import typer, rich.console` (what any Typer CLI pays), and `newsner --help` / `newsner export --help`
as a user runs them (console script, new process). Target: `newsner --help` <= 0.3 s.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time


def best(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    exe = shutil.which("newsner") or str((__import__("pathlib").Path(sys.executable).parent / "newsner"))
    floor = best([sys.executable, "-c", "pass"], args.repeat)
    typer_floor = best([sys.executable, "-c", "import typer, rich.console"], args.repeat)
    rows = [("python -c pass", floor), ("import typer, rich.console", typer_floor),
            ("newsner --help", best([exe, "--help"], args.repeat)),
            ("newsner export --help", best([exe, "export", "--help"], args.repeat)),
            ("newsner doccano --help", best([exe, "doccano", "--help"], args.repeat))]
    for name, t in rows:
        print(f"  {name:<26} {t:6.3f} s   {t / typer_floor:5.2f}x of typer's floor")
    print(f"  target: newsner --help <= 0.300 s -> {'met' if rows[2][1] <= 0.3 else 'NOT met'}")


if __name__ == "__main__":
    main()
