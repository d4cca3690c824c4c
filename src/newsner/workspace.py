"""Where a workspace keeps things: corpus/, annotations/, models/, exports/ and the private .newsner/."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from newsner.schema import LabelSchema


@dataclass(frozen=True)
class Workspace:
    root: Path

    @classmethod
    def at(cls, root: Path | str | None = None) -> Workspace:
        return cls(Path(root or ".").resolve())

    @property
    def corpus_dir(self) -> Path:
        return self.root / "corpus"

    @property
    def annotations_dir(self) -> Path:
        return self.root / "annotations"

    @property
    def labels_path(self) -> Path:
        return self.annotations_dir / "labels.json"

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    @property
    def state_dir(self) -> Path:
        """Private state (doccano server, credentials, caches); never committed."""
        return self.root / ".newsner"

    def label_schema(self) -> LabelSchema:
        """The workspace's label schema; the packaged default when the workspace has none."""
        from newsner.schema import default_label_schema_path, load_label_schema

        path = self.labels_path if self.labels_path.exists() else default_label_schema_path()
        return load_label_schema(path)
