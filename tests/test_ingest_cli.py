"""`newsner ingest` through the CLI: exit codes, the summary, one stderr line per rejected input."""

from __future__ import annotations

import json
from pathlib import Path

from newsner.corpus.store import Corpus

RAW = Path(__file__).resolve().parents[1] / "corpus" / "raw"
STORY = ("Rebels said on Sunday they had taken control of the town of Ber-Ouzal after the army withdrew, a claim the "
         "army denied in a statement read on state television.")


def test_ingest_sample_then_again(cli, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    first = cli("ingest", str(RAW))
    assert first.exit_code == 0, first.output
    n = len(Corpus(workspace / "corpus"))
    assert n >= 10
    assert "ingested (new)" in first.stdout and f"│ {n:>8} │" in first.stdout.replace("\u2502", "│")
    assert first.stderr == ""
    again = cli("ingest", str(RAW))
    assert again.exit_code == 0
    assert "ingested (new)" in again.stdout and len(Corpus(workspace / "corpus")) == n


def test_rejected_inputs_exit_1_with_one_line_each(cli, workspace: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    inbox = tmp_path / "inbox"  # not tmp_path itself: that is the workspace, with annotations/labels.json
    inbox.mkdir()
    (inbox / "good.txt").write_text(STORY)
    (inbox / "empty.txt").write_text("")
    (inbox / "feed.jsonl").write_text(json.dumps({"text": STORY + " Later."}) + "\n{broken\n")
    (inbox / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    result = cli("ingest", str(inbox), str(inbox / "missing.html"))
    assert result.exit_code == 1
    note, *lines = result.stderr.strip().splitlines()
    assert note == f"note: skipped 1 file(s) of other types in the folders: {inbox / 'photo.jpg'}"
    assert sorted(lines) == sorted([
        f"{inbox / 'empty.txt'}: empty file",
        f"{inbox / 'missing.html'}: no such file or folder",
        next(line for line in lines if line.startswith(f"{inbox / 'feed.jsonl'}:2: invalid JSON")),
    ])
    assert "Traceback" not in result.output
    assert "rejected" in result.stdout and len(Corpus(workspace / "corpus")) == 2


def test_strict_writes_nothing(cli, workspace: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "good.txt").write_text(STORY)
    (tmp_path / "bad.html").write_bytes(b"%PDF-1.4 not a page")
    result = cli("ingest", "--strict", str(tmp_path))
    assert result.exit_code == 1
    assert f"{tmp_path / 'bad.html'}: binary file: a PDF document" in result.stderr
    assert "nothing was written" in result.stderr
    assert not (workspace / "corpus").exists()


def test_stdin_source_and_corpus_option(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "elsewhere"
    result = cli("ingest", "-", "--corpus", str(target), "--source", "Radio Kidal", input=STORY)
    assert result.exit_code == 0, result.output
    (article,) = list(Corpus(target))
    assert (article.text, article.source, article.provenance["path"]) == (STORY, "Radio Kidal", "<stdin>")


def test_max_size_and_text_column(cli, workspace: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    big = tmp_path / "big.txt"
    big.write_text(STORY * 100)
    result = cli("ingest", str(big), "--max-size", "0.01")
    assert result.exit_code == 1 and f"{big}: too large" in result.stderr and "--max-size" in result.stderr
    csv_path = tmp_path / "x.csv"
    csv_path.write_text(f'headline,story_body\nBer-Ouzal,"{STORY}"\n')
    assert cli("ingest", str(csv_path), "--text-column", "story_body").exit_code == 0
    assert [a.title for a in Corpus(workspace / "corpus")] == ["Ber-Ouzal"]


def test_bad_option_is_a_usage_error(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("ingest", str(RAW), "--jobs", "0")
    assert result.exit_code == 2 and "--jobs" in result.output
    assert cli("ingest").exit_code == 2


def test_cli_chunk_default_is_the_library_default() -> None:
    # the CLI spells the number out (importing the pipeline would slow every `newsner --help`): keep them equal
    import typer.main

    from newsner.cli import app
    from newsner.ingest.pipeline import DEFAULT_CHUNK

    ingest_cmd = typer.main.get_command(app).commands["ingest"]  # type: ignore[attr-defined]
    chunk = next(p for p in ingest_cmd.params if p.name == "chunk")
    assert chunk.default == DEFAULT_CHUNK
