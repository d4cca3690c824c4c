"""Shared fixtures: paths to ../shared/data, a fresh workspace, and the CLI runner."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("NEWSNER_SHARED_DATA", REPO.parent / "shared" / "data"))

pytest_plugins = ["tests.fixtures.doccano", "tests.fixtures.ray"]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Third-party test material (../shared/data); CI always has it beside the checkout."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"test material not found at {SHARED_DATA} (set NEWSNER_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An empty workspace with the shipped label schema."""
    (tmp_path / "annotations").mkdir()
    shutil.copy(REPO / "annotations" / "labels.json", tmp_path / "annotations" / "labels.json")
    return tmp_path


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def cli(runner: CliRunner, workspace: Path):  # type: ignore[no-untyped-def]
    """Run `newsner --workspace WS ARGS...` in-process; returns the click Result."""
    from newsner.cli import app

    def invoke(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(app, ["--workspace", str(workspace), *args], input=input)

    return invoke
