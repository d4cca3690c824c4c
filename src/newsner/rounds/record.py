"""Annotation rounds: which articles were chosen for annotation, when, how and with which model.

annotations/rounds.jsonl holds one JSON object per round (written by `doccano push --select`, read by `report`):

    {"round": 1, "created_at": "2026-11-29T03:30:00Z", "strategy": "uncertain", "seed": 0, "requested": 50,
     "selected": 50, "model": "models/baseline/model-best", "project": "newsner", "doc_ids": [...]}

`record_round` numbers a round and appends it under a lock (annotations/.rounds.lock), rewriting the file
atomically, so two concurrent pushes get rounds N and N+1 and a crash never leaves half a line.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from newsner._io import atomic_open, dumps, flock_wait, read_jsonl, utc_now
from newsner.errors import InputError, SchemaError
from newsner.workspace import Workspace

STRATEGIES = ("random", "diverse", "uncertain")
ROUNDS_FILE = "rounds.jsonl"


@dataclass
class Round:
    """One selection of articles for annotation. `round` is 0 until `record_round` numbers it."""

    strategy: str
    seed: int
    requested: int
    doc_ids: list[str] = field(default_factory=list)
    model: str | None = None
    project: str | None = None
    round: int = 0
    created_at: str = field(default_factory=utc_now)

    @property
    def selected(self) -> int:
        return len(self.doc_ids)

    def to_dict(self) -> dict[str, Any]:
        return {"round": self.round, "created_at": self.created_at, "strategy": self.strategy, "seed": self.seed,
                "requested": self.requested, "selected": self.selected, "model": self.model,
                "project": self.project, "doc_ids": list(self.doc_ids)}

    @classmethod
    def from_dict(cls, data: Any, *, where: str = "round") -> Round:
        if not isinstance(data, dict):
            raise SchemaError(f"{where}: expected a JSON object, got {type(data).__name__}")
        try:
            r = cls(strategy=str(data["strategy"]), seed=int(data["seed"]), requested=int(data["requested"]),
                    doc_ids=[str(d) for d in data["doc_ids"]], model=data.get("model"),
                    project=data.get("project"), round=int(data["round"]), created_at=str(data["created_at"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise SchemaError(f"{where}: a round needs round, created_at, strategy, seed, requested and doc_ids "
                              f"({exc!r})") from None
        if r.strategy not in STRATEGIES:
            raise SchemaError(f"{where}: strategy must be one of {', '.join(STRATEGIES)}, got {r.strategy!r}")
        return r


def rounds_path(workspace: Workspace) -> Path:
    return workspace.annotations_dir / ROUNDS_FILE


def load_rounds(workspace: Workspace) -> list[Round]:
    """Every recorded round in file order; [] when none was recorded yet."""
    path = rounds_path(workspace)
    if not path.exists():
        return []
    out: list[Round] = []
    for lineno, obj in read_jsonl(path):
        try:
            out.append(Round.from_dict(obj, where=f"{path}:{lineno}"))
        except SchemaError as exc:
            raise InputError(f"{exc}; fix or remove that line") from None
    return out


@contextlib.contextmanager
def _locked(path: Path, *, timeout: float = 60.0) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        flock_wait(fd, timeout, lambda: InputError(f"{path}: another newsner process is recording a round "
                                                   f"(waited {timeout:.0f} s); try again"))
        yield
    finally:
        os.close(fd)  # closing releases the flock


def record_round(workspace: Workspace, round: Round) -> Round:  # noqa: A002 - the contract's name
    """Number `round` (last number + 1) and append it to annotations/rounds.jsonl; returns the numbered round.

    A selection that found nothing eligible is not a round: it is returned unnumbered (round 0) and nothing is
    written, so the report never counts an empty round.
    """
    if not round.doc_ids:
        return round
    path = rounds_path(workspace)
    with _locked(path.with_name(".rounds.lock")):
        existing = load_rounds(workspace)
        numbered = replace(round, round=max((r.round for r in existing), default=0) + 1)
        old = path.read_bytes() if path.exists() else b""
        with atomic_open(path, "wb") as fh:
            if old:
                fh.write(old if old.endswith(b"\n") else old + b"\n")
            fh.write((dumps(numbered.to_dict()) + "\n").encode("utf-8"))
    return numbered
