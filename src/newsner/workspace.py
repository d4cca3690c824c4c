"""Where a workspace keeps things: corpus/, annotations/, models/, exports/ and the private .newsner/."""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from newsner.errors import WorkspaceError

if TYPE_CHECKING:
    from newsner.schema import LabelSchema


def _stat(path: Path) -> os.stat_result | None:
    """lstat-free stat (symlinks followed, as a write would); None when nothing is there."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return None  # a parent is a file; the caller reports that parent
    except PermissionError:
        raise WorkspaceError(f"{path}: cannot be reached (permission denied on a folder above it); make the "
                             "folders above it searchable for this user or choose another place", path=path) from None


def ensure_writable_dir(path: Path | str, purpose: str) -> Path:
    """Check, writing nothing, that `path` is a folder this process can create files in (or can create).

    Walks up to the first existing component: it must be a folder (not a file) that this user may write and
    search. Raises WorkspaceError naming the path, what it is for and what to do. Returns the absolute path.
    """
    target = Path(os.path.abspath(path))
    for probe in (target, *target.parents):
        st = _stat(probe)
        if st is None:
            continue
        if not stat.S_ISDIR(st.st_mode):
            raise WorkspaceError(
                f"{probe}: is a file, but newsner needs a folder there for {purpose}; move or rename that file "
                "(or choose another place with --workspace/--out)", path=probe)
        if not os.access(probe, os.W_OK | os.X_OK):
            what = "folder" if probe == target else f"folder (to create {target.relative_to(probe)} in it)"
            if _read_only_fs(probe):
                raise WorkspaceError(
                    f"{probe}: is on a read-only file system; newsner cannot write {purpose} there — choose "
                    "another place with --workspace/--out", path=probe)
            raise WorkspaceError(
                f"{probe}: {what} is not writable by this user, so newsner cannot write {purpose}; make it "
                f"writable (chmod u+w {probe}) or choose another place with --workspace/--out", path=probe)
        return target
    return target  # unreachable in practice: "/" always exists


def ensure_writable_file(path: Path | str, purpose: str) -> Path:
    """Check, writing nothing, that a file can be (re)placed at `path`: not a folder, its folder writable."""
    target = Path(os.path.abspath(path))
    st = _stat(target)
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise WorkspaceError(f"{target}: is a folder, but newsner writes {purpose} as a file there; choose "
                             "another file name", path=target)
    ensure_writable_dir(target.parent, purpose)
    return target


def _read_only_fs(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def blocking_file(path: Path | str) -> Path | None:
    """The first existing component of `path` (itself or a parent) that is not a folder, if any.

    Used to name the real culprit of ENOTDIR/EEXIST: writing annotations/x.jsonl fails because `annotations`
    is a file.
    """
    target = Path(os.path.abspath(path))
    for probe in reversed((target, *target.parents)):
        try:
            st = os.stat(probe)
        except OSError as exc:
            if exc.errno == errno.ENOTDIR:
                continue
            return None
        if not stat.S_ISDIR(st.st_mode):
            return probe
    return None


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

    @property
    def exports_dir(self) -> Path:
        return self.root / "exports"

    def ensure_writable(self, *places: tuple[Path, str]) -> None:
        """Pre-flight: every (folder, purpose) can be written; raises WorkspaceError before anything is written."""
        for path, purpose in places:
            ensure_writable_dir(path, purpose)

    def label_schema(self) -> LabelSchema:
        """The workspace's label schema; the packaged default when the workspace has none."""
        from newsner.schema import default_label_schema_path, load_label_schema

        path = self.labels_path if self.labels_path.exists() else default_label_schema_path()
        return load_label_schema(path)
