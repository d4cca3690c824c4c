"""What the report plots, read from the workspace as plain data (no matplotlib here).

Every reader streams its file and keeps only counts, so the report's memory does not grow with the corpus.
Files written by other commands are read leniently: a line that cannot be read is counted, not fatal, because a
report must still open when one part of the workspace is damaged.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

from newsner.annotations.store import NOT_LAYERS
from newsner.workspace import Workspace

_LEFTOVER = re.compile(r"^\.(.+)\.(?:tmp|old)-\d+$")
#: Layers that are not one annotator's work.
DERIVED_LAYERS = ("gold", "majority")


def layer_names(workspace: Workspace) -> list[str]:
    """The annotation layers (annotations/*.jsonl except the files that are not layers)."""
    from newsner.annotations.store import AnnotationStore

    return [x for x in AnnotationStore(workspace.annotations_dir).layers() if x not in NOT_LAYERS]


def export_folders(workspace: Workspace) -> list[Path]:
    """The exports under exports/ (folders with export.json), after recovering any interrupted swap.

    Hidden folders (``.hf.tmp-PID``, ``.hf.old-PID``) are an export's scratch space, never an export.
    """
    from newsner.export.swap import recover

    root = workspace.root / "exports"
    if not root.is_dir():
        return []
    names = {m.group(1) for p in root.iterdir() if (m := _LEFTOVER.match(p.name))}
    for name in sorted(names):
        recover(root / name)
    return sorted(p for p in root.iterdir() if not p.name.startswith(".") and (p / "export.json").is_file())


@dataclass
class ExportInfo:
    folder: str
    meta: dict[str, Any]
    #: split → label → entities
    entities: dict[str, dict[str, int]]
    #: alignment.jsonl: kind → spans
    problems: Counter[str] = field(default_factory=Counter)
    unreadable_lines: int = 0


def read_exports(workspace: Workspace) -> list[ExportInfo]:
    out = []
    for folder in export_folders(workspace):
        try:
            meta = json.loads((folder / "export.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if not isinstance(meta, dict):
            continue
        splits = meta.get("splits", {}) if isinstance(meta.get("splits"), dict) else {}
        entities = {s: {str(k): int(v) for k, v in (st.get("entities") or {}).items()}
                    for s, st in splits.items() if isinstance(st, dict)}
        info = ExportInfo(str(folder.relative_to(workspace.root)), meta, entities)
        report = folder / "alignment.jsonl"
        if report.is_file():
            with open(report, "rb") as fh:
                for raw in fh:
                    try:
                        info.problems[str(orjson.loads(raw).get("kind", "?"))] += 1
                    except (orjson.JSONDecodeError, AttributeError):
                        info.unreadable_lines += 1
        out.append(info)
    return out


def _record_day(obj: dict[str, Any], fallback: str) -> str:
    """The day a record was made: pulled_at (doccano), another ISO time in its origin, else `fallback`."""
    origin = obj.get("origin")
    if isinstance(origin, dict):
        for key in ("pulled_at", "adjudicated_at", "imported_at", "created_at", "updated_at"):
            value = origin.get(key)
            if isinstance(value, str) and re.match(r"\d{4}-\d{2}-\d{2}", value):
                return value[:10]
    return fallback


@dataclass
class Activity:
    #: annotator → day (YYYY-MM-DD) → documents first recorded that day
    per_day: dict[str, Counter[str]]
    #: annotator → doc ids (only kept for documents some round selected)
    round_docs: dict[str, set[str]]
    #: days that came from file times, not from the records
    from_file_time: set[str]


def read_activity(workspace: Workspace, wanted: set[str]) -> Activity:
    """Documents per annotator per day, from each annotator layer's records (confirmed or not).

    `wanted`: doc ids whose annotators the per-round plot needs (the ids of every round).
    """
    from newsner.annotations.store import AnnotationStore

    store = AnnotationStore(workspace.annotations_dir)
    per_day: dict[str, Counter[str]] = {}
    round_docs: dict[str, set[str]] = defaultdict(set)
    from_file: set[str] = set()
    for layer in layer_names(workspace):
        if layer in DERIVED_LAYERS:
            continue
        path = store.path(layer)
        mtime = datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc).strftime("%Y-%m-%d")
        days: Counter[str] = Counter()
        with open(path, "rb") as fh:
            for raw in fh:
                try:
                    obj = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    continue
                if not isinstance(obj, dict):
                    continue
                day = _record_day(obj, mtime)
                if day == mtime and not (isinstance(obj.get("origin"), dict) and "pulled_at" in obj["origin"]):
                    from_file.add(day)
                days[day] += 1
                doc_id = obj.get("doc_id")
                if isinstance(doc_id, str) and doc_id in wanted:
                    round_docs[layer].add(doc_id)
        if days:
            per_day[layer] = days
    return Activity(per_day, dict(round_docs), from_file)


def read_rounds(workspace: Workspace) -> list[dict[str, Any]]:
    """annotations/rounds.jsonl (written by `doccano push --select`), one dict per round, in file order.

    Read by `newsner.rounds.record.load_rounds`, the module that writes it: a damaged line stops the report with its
    file:line instead of silently drawing fewer rounds."""
    from newsner.rounds.record import load_rounds

    return [r.to_dict() for r in load_rounds(workspace)]


@dataclass
class Curve:
    model: str
    points: list[dict[str, Any]]
    verdict: str


def read_curves(workspace: Workspace) -> list[Curve]:
    """models/*/curve.json (written by `train --curve`)."""
    out = []
    for path in sorted(workspace.root.glob("models/*/curve.json")):
        try:
            obj = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        points = [p for p in obj.get("points", []) if isinstance(p, dict) and isinstance(p.get("f1"), dict)]
        if points:
            out.append(Curve(path.parent.name, points, str(obj.get("verdict", ""))))
    return out


@dataclass
class AgreementMatrix:
    annotators: list[str]
    #: (a, b) → (F1, documents both annotated); F1 is NaN where it is undefined (shared documents, no span)
    pairs: dict[tuple[str, str], tuple[float, int]]


def read_agreement(workspace: Workspace, annotators: list[str]) -> AgreementMatrix | None:
    """Pairwise overall entity F1 of the annotator layers (`newsner.annotations.agreement`), or None if < 2."""
    if len(annotators) < 2:
        return None
    from newsner.annotations import agreement

    pairs: dict[tuple[str, str], tuple[float, int]] = {}
    for p in agreement(workspace, annotators, include_unconfirmed=True):
        f1 = p.overall.f1
        pairs[(p.a, p.b)] = (float("nan") if f1 is None else float(f1), int(p.documents))
    return AgreementMatrix(annotators, pairs)
