"""Two real processes importing into one annotation layer at once: neither run's records may be lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from newsner.annotations.store import AnnotationStore

TRIALS = 12
DOCS = 150

# Each process imports its own file into the layer `shared`; both start at the same wall-clock instant.
DRIVER = """
import sys, time
from pathlib import Path
from newsner.annotations import import_annotations
from newsner.workspace import Workspace
ws, path, start_at = Workspace.at(Path(sys.argv[1])), Path(sys.argv[2]), float(sys.argv[3])
while time.time() < start_at:
    time.sleep(0.0005)
import_annotations(ws, [path], fmt="doccano", annotator="shared")
"""


def _file(path: Path, tag: str, trial: int) -> Path:
    with path.open("w") as fh:
        for i in range(DOCS):
            text = f"Trial {trial} run {tag} document {i}: fighting near Gao."
            start = text.index("Gao")
            fh.write(json.dumps({"text": text, "label": [[start, start + 3, "LOCATION"]]}) + "\n")
    return path


def test_two_processes_importing_into_one_layer_lose_nothing(workspace: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    store = AnnotationStore(workspace / "annotations")
    expected = 0
    for trial in range(TRIALS):
        a = _file(tmp_path / f"a{trial}.jsonl", "a", trial)
        b = _file(tmp_path / f"b{trial}.jsonl", "b", trial)
        start_at = time.time() + 1.5  # both interpreters are up and waiting by then
        procs = [subprocess.Popen([sys.executable, "-c", DRIVER, str(workspace), str(f), str(start_at)], env=env,
                                  stderr=subprocess.PIPE) for f in (a, b)]
        for proc in procs:
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err.decode()
        expected += 2 * DOCS
        records = store.load("shared")
        assert len(records) == expected, f"trial {trial}: {expected - len(records)} record(s) lost"
