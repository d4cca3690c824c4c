from __future__ import annotations

import json

from newsner.cli import app


def test_every_command_has_help_with_an_example_and_is_in_the_readme(runner) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    import typer.main

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    group = typer.main.get_command(app)

    def walk(cmd, path):  # type: ignore[no-untyped-def]
        if hasattr(cmd, "commands"):
            # groups too: `newsner doccano --help` is where a new user looks first
            assert cmd.help and "Example:" in cmd.help, f"`newsner {' '.join(path)}` (group) needs an Example:"
            for name, child in cmd.commands.items():
                yield from walk(child, [*path, name])
        else:
            yield path, cmd

    commands = list(walk(group, []))
    assert commands
    for path, cmd in commands:
        assert cmd.help and "Example:" in cmd.help, f"`newsner {' '.join(path)}` needs help with an Example:"
        assert f"newsner {path[0]}" in readme, f"`newsner {' '.join(path)}` is not in README.md"
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, result.output


def test_labels_show_json(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("labels", "show", "--json")
    assert result.exit_code == 0
    assert [lb["name"] for lb in json.loads(result.stdout)["labels"]] == [
        "ACTOR", "LOCATION", "CASUALTY", "CLAIM_SOURCE"]


def test_library_errors_become_one_line_without_traceback(cli, workspace) -> None:  # type: ignore[no-untyped-def]
    (workspace / "annotations" / "labels.json").write_text("{broken")
    result = cli("labels", "show")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and "labels.json:1: not valid JSON" in result.stderr
    assert "Traceback" not in result.output
    missing = cli("corpus", "stats")
    assert missing.exit_code == 1 and "newsner ingest" in missing.stderr


def test_labels_show_lists_relation_types(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("labels", "show")
    assert result.exit_code == 0, result.output
    assert "label schema version 2" in result.stdout
    assert "CLAIMED_BY" in result.stdout and "CASUALTY → CLAIM_SOURCE" in result.stdout
    data = json.loads(cli("labels", "show", "--json").stdout)
    assert [r["name"] for r in data["relations"]][0] == "CLAIMED_BY"


def test_help_loads_no_heavy_library() -> None:
    """`newsner --help` (and every group's) stays quick: the ML, HTML, plotting and cluster libraries load only
    when a command runs. The time itself is measured in bench/bench_cli_startup.py, not here."""
    import subprocess
    import sys

    heavy = ("datasets", "spacy", "scipy", "sklearn", "trafilatura", "matplotlib", "ray", "pyarrow", "torch",
             "py3langid", "text_to_num", "starlette", "uvicorn", "krippendorff", "nervaluate", "datasketch")
    code = ("import sys\nfrom typer.testing import CliRunner\nfrom newsner.cli import app\n"
            "for args in ([], ['ingest'], ['export'], ['annotations'], ['doccano'], ['serve'], ['corpus']):\n"
            "    CliRunner().invoke(app, [*args, '--help'])\n"
            f"print(' '.join(sorted(m for m in {heavy!r} if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
