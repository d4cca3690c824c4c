"""An export never exits 0 with nothing to learn from, and what a crash during its folder swap leaves is
recovered by the next run (and by `newsner report`)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from newsner.errors import ExportError
from newsner.export import ExportOptions, export
from newsner.export.swap import recover
from newsner.report import build_report
from newsner.schema import Article
from newsner.workspace import Workspace
from tests.test_export import _record, _write

REPO = Path(__file__).resolve().parents[1]


def _small(root: Path, *, spans: bool = True, status: str = "confirmed") -> Workspace:
    ws = Workspace.at(root)
    arts = [Article.from_text(f"Report {i}: the army shelled Gao.", language="en") for i in range(6)]
    recs = [_record(a, "gold", [("the army", "ACTOR"), ("Gao", "LOCATION")] if spans else [], status=status)
            for a in arts]
    _write(ws, arts, {"gold": recs})
    return ws


def test_export_with_no_entity_fails_and_writes_nothing(workspace: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    ws = _small(workspace, spans=False)
    with pytest.raises(ExportError, match="no entity at all in 6 document"):
        export(ws, tmp_path / "hf", ExportOptions("hf"))
    assert not (tmp_path / "hf").exists() and not list(tmp_path.glob(".hf.*"))
    result = cli("export", "spacy", "--out", str(tmp_path / "sp"))
    assert result.exit_code == 1
    assert "no entity at all" in result.stderr and "--allow-empty" in result.stderr
    assert "Traceback" not in result.output
    assert cli("export", "spacy", "--out", str(tmp_path / "sp"), "--allow-empty").exit_code == 0


def test_export_with_no_confirmed_document_says_what_to_pass(workspace: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    _small(workspace, status="unconfirmed")
    result = cli("export", "conll", "--out", str(tmp_path / "c"))
    assert result.exit_code == 1
    assert "no confirmed document (6 unconfirmed)" in result.stderr and "--include-unconfirmed" in result.stderr
    assert not (tmp_path / "c").exists()
    assert cli("export", "conll", "--out", str(tmp_path / "c"), "--include-unconfirmed").exit_code == 0


def _killed_between_renames(ws: Workspace, out: Path) -> None:
    """Run an export in a child process that SIGKILLs itself right after the first rename of the swap."""
    script = textwrap.dedent(f"""
        import os, signal
        import newsner.export.swap as swap
        from pathlib import Path
        from newsner.export import ExportOptions, export
        from newsner.workspace import Workspace

        class KillingOs:
            def __getattr__(self, name):
                return getattr(os, name)
            def replace(self, src, dst):
                if Path(src).name.startswith(".{out.name}.tmp-"):
                    os.kill(os.getpid(), signal.SIGKILL)
                return os.replace(src, dst)

        swap.os = KillingOs()
        export(Workspace.at(Path({str(ws.root)!r})), Path({str(out)!r}), ExportOptions("hf"))
    """)
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}"}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == -9, proc.stderr


def test_a_kill_between_the_swap_renames_is_recovered(workspace: Path, cli) -> None:  # type: ignore[no-untyped-def]
    ws = _small(workspace)
    out = workspace / "exports" / "hf"
    export(ws, out, ExportOptions("hf"))
    _killed_between_renames(ws, out)
    # the state issue 13 describes: no exports/hf, only the old copy and a complete new one
    assert not out.exists()
    left = sorted(p.name.split("-")[0] for p in out.parent.iterdir())
    assert left == [".hf.old", ".hf.tmp"]
    # a reader (report) neither lists the hidden folders nor loses the export: it puts it back
    page = build_report(ws)
    assert ".hf.tmp" not in page and ".hf.old" not in page
    assert "exports/hf" in page and out.is_dir() and (out / "export.json").is_file()
    assert [p.name for p in out.parent.iterdir()] == ["hf"]
    from datasets import load_from_disk

    assert load_from_disk(str(out))["train"].num_rows > 0


def test_the_next_export_recovers_and_cleans_orphans(workspace: Path, cli) -> None:  # type: ignore[no-untyped-def]
    ws = _small(workspace)
    out = workspace / "exports" / "hf"
    export(ws, out, ExportOptions("hf"))
    _killed_between_renames(ws, out)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    orphan = out.parent / f".hf.tmp-{dead}"  # an export killed while writing: incomplete, no export.json
    (orphan / "train").mkdir(parents=True)
    result = cli("export", "hf", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "recovered:" in result.stderr and "restored from .hf.tmp-" in result.stderr
    assert sorted(p.name for p in out.parent.iterdir()) == ["hf"]
    assert recover(out) == []  # nothing left to do


def test_recover_leaves_a_running_export_alone(tmp_path: Path) -> None:
    out = tmp_path / "hf"
    running = tmp_path / f".hf.tmp-{os.getppid()}"  # our parent is alive: an export in progress
    running.mkdir()
    assert recover(out) == [] and running.is_dir()
