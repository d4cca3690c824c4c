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
    """The exports under exports/ (folders with export.json), after recovering any interrupted swap, then the
    exports written elsewhere with ``--out`` that `newsner export` recorded (`newsner.export.card.recorded_exports`)
    and that still exist.

    Hidden folders (``.hf.tmp-PID``, ``.hf.old-PID``) are an export's scratch space, never an export.
    """
    from newsner.export.card import recorded_exports
    from newsner.export.swap import recover

    found: list[Path] = []
    root = workspace.root / "exports"
    if root.is_dir():
        names = {m.group(1) for p in root.iterdir() if (m := _LEFTOVER.match(p.name))}
        for name in sorted(names):
            recover(root / name)
        found = sorted(p for p in root.iterdir() if not p.name.startswith(".") and (p / "export.json").is_file())
    seen = {p.resolve() for p in found}
    for path in recorded_exports(workspace):
        if path.resolve() not in seen and (path / "export.json").is_file():
            seen.add(path.resolve())
            found.append(path)
    return found


def _shown(workspace: Workspace, path: Path) -> str:
    """A path as the report shows it: relative to the workspace when inside it, else absolute."""
    try:
        return str(path.resolve().relative_to(workspace.root.resolve()))
    except ValueError:
        return str(path.resolve())


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
        info = ExportInfo(_shown(workspace, folder), meta, entities)
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
    #: annotator → day (YYYY-MM-DD) → documents first recorded that day (confirmed records only)
    per_day: dict[str, Counter[str]]
    #: annotator → doc ids (only kept for documents some round selected)
    round_docs: dict[str, set[str]]
    #: days that came from file times, not from the records
    from_file_time: set[str]
    #: layer → unconfirmed records left out (suggestions, documents opened with auto-labeling on, not confirmed)
    unconfirmed: Counter[str] = field(default_factory=Counter)
    #: layers with no confirmed record: not annotators (the pushing account's suggestion layer, say)
    not_annotators: list[str] = field(default_factory=list)


def read_activity(workspace: Workspace, wanted: set[str]) -> Activity:
    """Documents per annotator per day, from each annotator layer's confirmed records.

    An unconfirmed record is not an annotator's work: the pushing account's pre-annotations land in its layer
    unconfirmed, and opening a document with auto-labeling on creates an unconfirmed record with the suggested
    spans; nor is a record pre-annotate made (``origin.suggester``), even imported as confirmed. A layer with
    none of a person's confirmed work is not an annotator (`Activity.not_annotators`).

    `wanted`: doc ids whose annotators the per-round plot needs (the ids of every round).
    """
    from newsner.annotations.store import AnnotationStore

    store = AnnotationStore(workspace.annotations_dir)
    per_day: dict[str, Counter[str]] = {}
    round_docs: dict[str, set[str]] = defaultdict(set)
    from_file: set[str] = set()
    unconfirmed: Counter[str] = Counter()
    not_annotators: list[str] = []
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
                origin = obj.get("origin")
                if obj.get("status") != "confirmed" or (isinstance(origin, dict) and "suggester" in origin):
                    unconfirmed[layer] += 1  # a suggestion (pre-annotate marks its records), not a person's work
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
        else:
            not_annotators.append(layer)
    return Activity(per_day, dict(round_docs), from_file, unconfirmed, not_annotators)


def annotator_layers(workspace: Workspace) -> list[str]:
    """The layers that are annotators' work: not derived (gold, majority), with at least one confirmed record."""
    return sorted(read_activity(workspace, set()).per_day)


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
    #: the verdict as the report states it: recomputed from the points and the recorded evidence, never copied
    #: from the file (an older curve.json said "more annotation still helps" from a 2-example test split)
    verdict: str
    #: the split the F1 was measured on ("test", "validation"), or None when the file does not say
    split: str | None = None
    #: the export's example unit ("sentence", "document", "window"), or None when the file does not say
    unit: str | None = None
    evidence: dict[str, Any] | None = None


def _curve_split(obj: dict[str, Any]) -> str | None:
    split = obj.get("split")
    if isinstance(split, str) and split:
        return split
    from newsner.model.curve import split_of

    evaluated = obj.get("evaluated_on")  # older files: the DocBin scored, e.g. exports/spacy/test.spacy
    return split_of(evaluated) if isinstance(evaluated, str) else None


def _curve_verdict(points: list[dict[str, Any]], evidence: dict[str, Any] | None) -> str:
    from newsner.model.curve import Evidence, verdict

    try:
        series = sorted((float(p.get("fraction", 0)), float(p["f1"]["overall"])) for p in points)
    except (KeyError, TypeError, ValueError):
        return "no verdict: the curve has no overall F1 per point"
    ev = None
    if isinstance(evidence, dict):
        try:
            ci = evidence.get("ci95")
            ev = Evidence(int(evidence["eval_examples"]), int(evidence["eval_entities"]), float(evidence["delta"]),
                          (float(ci[0]), float(ci[1])) if isinstance(ci, list) and len(ci) == 2 else None,
                          int(evidence.get("seeds", 1)))
        except (KeyError, TypeError, ValueError):
            ev = None
    return verdict(series, ev)


def read_curves(workspace: Workspace) -> list[Curve]:
    """models/*/curve.json (written by `train --curve`)."""
    out = []
    for path in sorted(workspace.root.glob("models/*/curve.json")):
        try:
            obj = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if not isinstance(obj, dict):
            continue
        points = [p for p in obj.get("points", []) if isinstance(p, dict) and isinstance(p.get("f1"), dict)]
        evidence = obj.get("evidence") if isinstance(obj.get("evidence"), dict) else None
        unit = obj.get("unit") if isinstance(obj.get("unit"), str) else None
        if points:
            out.append(Curve(path.parent.name, points, _curve_verdict(points, evidence), _curve_split(obj), unit,
                             evidence))
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
    for p in agreement(workspace, annotators, include_unconfirmed=False):  # unconfirmed: suggestions, not work
        f1 = p.overall.f1
        pairs[(p.a, p.b)] = (float("nan") if f1 is None else float(f1), int(p.documents))
    return AgreementMatrix(annotators, pairs)
