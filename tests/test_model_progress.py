"""`newsner train` (spaCy engine) is not silent when stderr is not a terminal: one line per evaluation."""

from __future__ import annotations

import json
from pathlib import Path

from newsner.workspace import Workspace
from tests.model_fixtures import write_docbin


def test_spacy_training_prints_a_line_per_evaluation_and_records_its_schema(cli, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    data = workspace / "exports" / "spacy"
    write_docbin(data / "train.spacy", 12)
    write_docbin(data / "validation.spacy", 4, offset=1)
    write_docbin(data / "test.spacy", 4, offset=2)
    done = cli("train", "--max-steps", "40")
    assert done.exit_code == 0, done.output
    lines = [line for line in done.stderr.splitlines() if line.startswith("step ")]
    assert [line.split(":")[0] for line in lines] == ["step 0", "step 20", "step 40"], done.stderr
    assert all("validation F1" in line and "loss" in line for line in lines)
    meta = json.loads((workspace / "models" / "baseline" / "newsner.json").read_text())
    version = Workspace.at(workspace).label_schema().version
    assert meta["engine"] == "spacy" and meta["label_schema_version"] == version and meta["base"] is None
    assert meta["export"]["path"] == str(data.resolve())
