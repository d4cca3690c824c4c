"""`newsner.json` beside a trained model: which engine, label schema and export it was trained on.

Written by `newsner train` (both engines) and checked whenever a model is loaded to suggest, select or evaluate:
a model trained under another label schema would put its integer ids on the wrong labels, so it is refused with
one line saying what to retrain, instead of suggesting LOCATION where it learned ACTOR.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from newsner._io import atomic_write_text, dumps, utc_now
from newsner.errors import ModelError
from newsner.schema import LabelSchema

META = "newsner.json"


def export_info(data_dir: Path) -> dict[str, Any]:
    """What identifies the export a model was trained on: its folder and export.json's time and schema."""
    info: dict[str, Any] = {"path": str(Path(data_dir).resolve())}
    try:
        summary = json.loads((Path(data_dir) / "export.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return info
    if isinstance(summary, dict):
        for key in ("format", "exported_at", "label_schema_version", "layer", "seed"):
            if key in summary:
                info[key] = summary[key]
    return info


def write_meta(folder: Path, *, engine: str, schema: LabelSchema, data_dir: Path, **extra: Any) -> None:
    meta = {"engine": engine, "label_schema_version": schema.version, "labels": schema.names,
            "export": export_info(data_dir), "trained_at": utc_now(), **extra}
    atomic_write_text(Path(folder) / META, dumps(meta) + "\n")


def read_meta(model_dir: Path) -> dict[str, Any] | None:
    """The model's newsner.json (in the folder, or its parent for spaCy's model-best), None when absent."""
    for folder in (Path(model_dir), Path(model_dir).parent):
        path = folder / META
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ModelError(f"{path}: unreadable ({exc}); retrain the model with `newsner train`") from None
            if not isinstance(data, dict):
                raise ModelError(f"{path}: not a newsner model record; retrain the model with `newsner train`")
            return data
    return None


def check_schema(model_dir: Path, meta: dict[str, Any] | None, schema: LabelSchema) -> None:
    """ModelError when the model was trained under another label schema than the workspace's."""
    if meta is None:
        return
    version, labels = meta.get("label_schema_version"), meta.get("labels")
    if version != schema.version or (labels is not None and list(labels) != schema.names):
        raise ModelError(f"{model_dir}: trained on label schema version {version} ({', '.join(labels or [])}); "
                         f"this workspace has version {schema.version} ({', '.join(schema.names)}); export again "
                         "and retrain it with `newsner train` before using it here")


def is_transformer_dir(model_dir: Path) -> bool:
    """A `newsner train --engine transformers` output (or any Hugging Face model folder: config.json, no spaCy
    config.cfg)."""
    model_dir = Path(model_dir)
    meta = model_dir / META
    if meta.is_file():
        try:
            return bool(json.loads(meta.read_text(encoding="utf-8")).get("engine") == "transformers")
        except (OSError, ValueError, AttributeError):
            return False
    return (model_dir / "config.json").is_file() and not (model_dir / "config.cfg").exists()
