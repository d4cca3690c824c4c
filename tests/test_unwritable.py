"""Unwritable places (issue 13 item 4): one line naming the path and the fix, exit 1, no traceback, nothing written.

Run through the CLI in a subprocess as an unprivileged user (uid/gid 65534), because root ignores permissions.
These tests need root (to switch user) and `setpriv`; elsewhere they are skipped.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import site
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
NOBODY = 65534
SETPRIV = shutil.which("setpriv")

ARTICLES = [
    {"text": "Fighters attacked Gao on Monday, the army said in a statement.",
     "label": [[0, 8, "ACTOR"], [18, 21, "LOCATION"]]},
    {"text": "Police in Bamako arrested two men on Tuesday, a spokesman said.", "label": [[10, 16, "LOCATION"]]},
    {"text": "Rebels seized the town of Kidal after clashes, residents told reporters.",
     "label": [[0, 6, "ACTOR"], [26, 31, "LOCATION"]]},
]


def _python_for_nobody() -> list[str] | None:
    """An interpreter command the unprivileged user can run with this venv's packages, or None.

    The venv's own python may live under /root (unreadable to others); then the system python of the same
    version runs with the venv's site-packages on PYTHONPATH.
    """
    candidates = [sys.executable, f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"]
    for exe in candidates:
        if not os.path.exists(exe):
            continue
        probe = subprocess.run([SETPRIV or "setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                                exe, "-c", "import newsner.cli, typer"],
                               env=_env(), capture_output=True, text=True, timeout=60)
        if probe.returncode == 0:
            return [exe]
    return None


def _env() -> dict[str, str]:
    paths = [str(SRC), *site.getsitepackages()]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HOME", "NEWSNER_WORKSPACE")}
    env.update(PYTHONPATH=os.pathsep.join(paths), HOME="/tmp", PYTHONDONTWRITEBYTECODE="1", COLUMNS="200")
    return env


@pytest.fixture(scope="module")
def nobody_python() -> list[str]:
    if os.geteuid() != 0 or SETPRIV is None:
        pytest.skip("needs root and setpriv to run the CLI as an unprivileged user")
    if not os.access(SRC, os.R_OK) or not (os.stat(SRC).st_mode & stat.S_IROTH):
        pytest.skip(f"{SRC} is not readable by other users")
    python = _python_for_nobody()
    if python is None:
        pytest.skip("no python interpreter runnable by uid 65534 with this environment's packages")
    return python


def run_as_nobody(python: list[str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert SETPRIV is not None
    return subprocess.run([SETPRIV, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                           *python, "-m", "newsner", *args],
                          cwd=cwd, env=_env(), capture_output=True, text=True, timeout=300)


def run_as_root(*args: str, cwd: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "newsner", *args], cwd=cwd, env=_env(), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def template(nobody_python: list[str]) -> Iterator[Path]:
    """A workspace with a corpus, two annotator layers and gold (built once, copied per test)."""
    import json

    base = Path(tempfile.mkdtemp(prefix="newsner-unwritable-"))
    ws = base / "ws"
    ws.mkdir()
    (ws / "annotations").mkdir()
    shutil.copy(REPO / "annotations" / "labels.json", ws / "annotations" / "labels.json")
    data = base / "alice.jsonl"
    data.write_text("".join(json.dumps(a) + "\n" for a in ARTICLES), encoding="utf-8")
    for who in ("alice", "bob"):
        run_as_root("--workspace", str(ws), "annotations", "import", str(data), "--annotator", who, cwd=base)
    run_as_root("--workspace", str(ws), "annotations", "adjudicate", cwd=base)
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def place(template: Path) -> Iterator[Path]:
    """A copy of the template owned by uid 65534 in a folder it can reach (pytest's tmp_path is 0700 root)."""
    base = Path(tempfile.mkdtemp(prefix="newsner-unwritable-"))
    os.chmod(base, 0o755)
    shutil.copytree(template, base, dirs_exist_ok=True)
    for root, dirs, files in os.walk(base):
        for name in (*dirs, *files):
            os.chown(os.path.join(root, name), NOBODY, NOBODY)
    os.chown(base, NOBODY, NOBODY)
    (base / "new.txt").write_text("Gunmen attacked a convoy near Menaka on Friday, officials said.\n",
                                  encoding="utf-8")
    yield base
    for root, dirs, _files in os.walk(base):  # read-only folders cannot be removed from otherwise
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o755)
    shutil.rmtree(base, ignore_errors=True)


def snapshot(root: Path) -> dict[str, str]:
    """Every file and folder under root (hidden ones too) → content hash ('dir' for folders)."""
    out: dict[str, str] = {}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs:
            out[os.path.relpath(os.path.join(dirpath, name), root)] = "dir"
        for name in files:
            path = os.path.join(dirpath, name)
            out[os.path.relpath(path, root)] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return out


def assert_one_clean_line(done: subprocess.CompletedProcess[str], *, names: Path) -> None:
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: ")
    assert str(names) in lines[0], (str(names), lines[0])


def readonly(path: Path) -> None:
    os.chmod(path, 0o555)


def test_ingest_into_read_only_workspace(nobody_python: list[str], place: Path) -> None:
    ws = place / "ws"
    shutil.rmtree(ws / "corpus")
    readonly(ws)
    before = snapshot(place)
    done = run_as_nobody(nobody_python, "--workspace", str(ws), "ingest", str(place / "new.txt"), cwd=place)
    assert_one_clean_line(done, names=ws)
    assert "writable" in done.stderr
    assert snapshot(place) == before


def test_ingest_with_corpus_lock_owned_by_someone_else(nobody_python: list[str], place: Path) -> None:
    """The corpus folder is writable but its .lock is root's 0644: the raw PermissionError of issue 13."""
    ws = place / "ws"
    lock = ws / "corpus" / ".lock"
    lock.touch()
    os.chown(lock, 0, 0)
    os.chmod(lock, 0o644)
    before = snapshot(place)
    done = run_as_nobody(nobody_python, "--workspace", str(ws), "ingest", str(place / "new.txt"), cwd=place)
    assert_one_clean_line(done, names=lock)
    assert snapshot(place) == before


def test_ingest_when_corpus_is_a_file(nobody_python: list[str], place: Path) -> None:
    ws = place / "ws"
    shutil.rmtree(ws / "corpus")
    (ws / "corpus").write_text("not a folder\n")
    os.chown(ws / "corpus", NOBODY, NOBODY)
    before = snapshot(place)
    done = run_as_nobody(nobody_python, "--workspace", str(ws), "ingest", str(place / "new.txt"), cwd=place)
    assert_one_clean_line(done, names=ws / "corpus")
    assert snapshot(place) == before


def test_import_with_read_only_annotations_adds_nothing_to_the_corpus(nobody_python: list[str],
                                                                       place: Path) -> None:
    """Issue 13: import had already added its articles to the corpus when the layer write failed."""
    ws = place / "ws"
    other = place / "other.jsonl"
    other.write_text('{"text": "Soldiers fired on protesters in Niamey, witnesses said.", '
                     '"label": [[33, 39, "LOCATION"]]}\n', encoding="utf-8")
    os.chown(other, NOBODY, NOBODY)
    readonly(ws / "annotations")
    before = snapshot(place)
    done = run_as_nobody(nobody_python, "--workspace", str(ws), "annotations", "import", str(other),
                         "--annotator", "carol", cwd=place)
    assert_one_clean_line(done, names=ws / "annotations")
    assert snapshot(place) == before


def test_import_when_annotations_is_a_file(nobody_python: list[str], place: Path) -> None:
    ws = place / "ws"
    other = place / "other.jsonl"
    other.write_text('{"text": "Soldiers fired on protesters in Niamey, witnesses said.", "label": []}\n',
                     encoding="utf-8")
    shutil.rmtree(ws / "annotations")
    (ws / "annotations").write_text("oops\n")
    for p in (other, ws / "annotations"):
        os.chown(p, NOBODY, NOBODY)
    before = snapshot(place)
    done = run_as_nobody(nobody_python, "--workspace", str(ws), "annotations", "import", str(other), cwd=place)
    assert_one_clean_line(done, names=ws / "annotations")
    assert "is a file" in done.stderr
    assert snapshot(place) == before


def test_adjudicate_with_read_only_annotations(nobody_python: list[str], place: Path) -> None:
    ws = place / "ws"
    (ws / "annotations" / "gold.jsonl").unlink()
    readonly(ws / "annotations")
    before = snapshot(place)
    done = run_as_nobody(nobody_python, "--workspace", str(ws), "annotations", "adjudicate", cwd=place)
    assert_one_clean_line(done, names=ws / "annotations")
    assert snapshot(place) == before


def test_adjudicate_when_annotations_is_a_file(nobody_python: list[str], place: Path) -> None:
    ws = place / "ws"
    shutil.rmtree(ws / "annotations")
    (ws / "annotations").write_text("oops\n")
    os.chown(ws / "annotations", NOBODY, NOBODY)
    before = snapshot(place)
    done = run_as_nobody(nobody_python, "--workspace", str(ws), "annotations", "adjudicate", cwd=place)
    assert_one_clean_line(done, names=ws / "annotations")
    assert snapshot(place) == before


def test_export_hf_into_read_only_exports(nobody_python: list[str], place: Path) -> None:
    ws = place / "ws"
    (ws / "exports").mkdir()
    os.chown(ws / "exports", NOBODY, NOBODY)
    readonly(ws / "exports")
    before = snapshot(place)
    done = run_as_nobody(nobody_python, "--workspace", str(ws), "export", "hf", "--out", str(ws / "exports" / "hf"),
                         cwd=place)
    assert_one_clean_line(done, names=ws / "exports")
    assert snapshot(place) == before


def test_export_hf_when_exports_is_a_file(nobody_python: list[str], place: Path) -> None:
    ws = place / "ws"
    (ws / "exports").write_text("oops\n")
    os.chown(ws / "exports", NOBODY, NOBODY)
    before = snapshot(place)
    done = run_as_nobody(nobody_python, "--workspace", str(ws), "export", "hf", "--out", str(ws / "exports" / "hf"),
                         cwd=place)
    assert_one_clean_line(done, names=ws / "exports")
    assert "is a file" in done.stderr
    assert snapshot(place) == before


def test_report_into_read_only_folder(nobody_python: list[str], place: Path) -> None:
    ws = place / "ws"
    readonly(ws)
    before = snapshot(place)
    done = run_as_nobody(nobody_python, "--workspace", str(ws), "report", "--out", str(ws / "report.html"),
                         cwd=place)
    assert_one_clean_line(done, names=ws)
    assert snapshot(place) == before


def test_report_default_out_in_read_only_current_folder(nobody_python: list[str], place: Path) -> None:
    ws = place / "ws"
    readonly(ws)
    before = snapshot(place)
    done = run_as_nobody(nobody_python, "--workspace", str(ws), "report", cwd=ws)
    assert_one_clean_line(done, names=ws)
    assert snapshot(place) == before


def test_pre_annotate_with_read_only_annotations(nobody_python: list[str], place: Path) -> None:
    ws = place / "ws"
    readonly(ws / "annotations")
    before = snapshot(place)
    done = run_as_nobody(nobody_python, "--workspace", str(ws), "pre-annotate", cwd=place)
    assert_one_clean_line(done, names=ws / "annotations")
    assert snapshot(place) == before


def test_pre_annotate_when_annotations_is_a_file(nobody_python: list[str], place: Path) -> None:
    ws = place / "ws"
    shutil.rmtree(ws / "annotations")
    (ws / "annotations").write_text("oops\n")
    os.chown(ws / "annotations", NOBODY, NOBODY)
    before = snapshot(place)
    done = run_as_nobody(nobody_python, "--workspace", str(ws), "pre-annotate", cwd=place)
    assert_one_clean_line(done, names=ws / "annotations")
    assert snapshot(place) == before


def test_help_is_not_blocked_by_an_unwritable_workspace(nobody_python: list[str], place: Path) -> None:
    ws = place / "ws"
    readonly(ws)
    done = run_as_nobody(nobody_python, "--workspace", str(ws), "annotations", "import", "--help", cwd=place)
    assert done.returncode == 0, done.stderr
    assert "Example:" in done.stdout


# ------------------------------------------------------------------ the message itself (no user switch needed)
@pytest.mark.parametrize(("err", "expect"), [
    (OSError(errno.ENOSPC, "No space left on device", "/ws/corpus/.articles-00000.jsonl.x.tmp"), "disk is full"),
    (OSError(errno.ENOSPC, "No space left on device"), "while writing"),
    (OSError(errno.EROFS, "Read-only file system", "/mnt/ro/corpus"), "read-only"),
    (IsADirectoryError(errno.EISDIR, "Is a directory", "/ws/report.html"), "a folder stands"),
    (PermissionError(errno.EACCES, "Permission denied", "/ws/corpus/.lock"), "/ws/corpus/.lock"),
])
def test_os_error_message_is_one_line_with_path_and_advice(err: OSError, expect: str) -> None:
    from newsner.cli._app import describe_os_error

    line = describe_os_error(err)
    assert "\n" not in line
    assert expect in line
    if err.filename:
        assert line.startswith(str(err.filename))


def test_os_error_names_the_file_that_blocks_a_folder(tmp_path: Path) -> None:
    from newsner.cli._app import describe_os_error

    (tmp_path / "annotations").write_text("x")
    err = NotADirectoryError(errno.ENOTDIR, "Not a directory", str(tmp_path / "annotations" / "gold.jsonl"))
    assert describe_os_error(err).startswith(f"{tmp_path / 'annotations'}: is a file")


# ------------------------------------------------------------------ the pre-flight helpers (in-process)
def test_ensure_writable_dir_names_the_file_in_the_way_and_writes_nothing(tmp_path: Path) -> None:
    from newsner.errors import WorkspaceError
    from newsner.workspace import ensure_writable_dir, ensure_writable_file

    assert ensure_writable_dir(tmp_path / "a" / "b", "the corpus") == tmp_path / "a" / "b"
    assert not (tmp_path / "a").exists()  # a check, not a mkdir
    (tmp_path / "annotations").write_text("x")
    with pytest.raises(WorkspaceError, match=r"annotations: is a file.*annotation layers"):
        ensure_writable_dir(tmp_path / "annotations" / "suggestions", "annotation layers")
    (tmp_path / "report.html").mkdir()
    with pytest.raises(WorkspaceError, match=r"report.html: is a folder"):
        ensure_writable_file(tmp_path / "report.html", "the report")


# ------------------------------------------------------------- issue 21: a corpus index this user cannot write
def _notes(done: subprocess.CompletedProcess[str]) -> list[str]:
    assert done.returncode == 0, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    return [ln for ln in done.stderr.splitlines() if ln.strip()]


def _read_commands(place: Path) -> list[tuple[str, ...]]:
    return [("corpus", "stats"), ("corpus", "validate"),
            ("export", "hf", "--out", str(place / "out" / "hf"), "--layer", "gold")]


@pytest.mark.parametrize("index", ["fresh", "missing"])
def test_read_only_corpus_folder_is_read_without_writing_it(nobody_python: list[str], place: Path, index: str,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """An archive mounted read-only: stats, validate and export read it, say how, and write nothing there."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(place / "cache"))
    ws = place / "ws"
    corpus = ws / "corpus"
    if index == "missing":
        for path in corpus.glob(".index.sqlite3*"):
            path.unlink()
    else:  # the copy has other inodes than the index recorded: index it here first
        run_as_root("--workspace", str(ws), "corpus", "reindex", cwd=place)
        os.chown(corpus / ".index.sqlite3", NOBODY, NOBODY)
    (place / "out").mkdir()
    os.chown(place / "out", NOBODY, NOBODY)
    readonly(corpus)
    before = snapshot(corpus)
    for args in _read_commands(place):
        notes = [n for n in _notes(run_as_nobody(nobody_python, "--workspace", str(ws), *args, cwd=place))
                 if str(corpus) in n]  # (export also warns about labels without examples)
        assert len(notes) == 1 and notes[0].startswith("note:"), (args, notes)
        if index == "fresh":
            assert "read-only: read through its index, nothing written" in notes[0]
        elif args == ("corpus", "stats"):  # the first command builds one in the cache, the others use it
            assert "cannot be written" in notes[0] and "built an index of 3 article(s) from 1 shard(s)" in notes[0]
        else:
            assert "cannot be written" in notes[0] and "using the index built earlier" in notes[0]
    stats = run_as_nobody(nobody_python, "--workspace", str(ws), "corpus", "stats", cwd=place)
    assert f"{len(ARTICLES)} articles in 1 shard(s)" in stats.stdout
    assert snapshot(corpus) == before
    assert (place / "out" / "hf" / "dataset_dict.json").exists()


@pytest.mark.parametrize("folder", ["writable", "read-only"])
def test_an_index_this_user_cannot_read_is_replaced(nobody_python: list[str], place: Path, folder: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(place / "cache"))
    ws = place / "ws"
    corpus = ws / "corpus"
    os.chmod(corpus / ".index.sqlite3", 0)
    if folder == "read-only":
        readonly(corpus)
    for args in (("corpus", "stats"), ("corpus", "validate")):
        done = run_as_nobody(nobody_python, "--workspace", str(ws), *args, cwd=place)
        notes = _notes(done)
        assert len(notes) == 1 and notes[0].startswith("note:"), (args, notes)
        if args[1] == "stats":
            assert f"{len(ARTICLES)} articles in 1 shard(s)" in done.stdout
        if folder == "writable":  # replaced it (the next command has nothing to say)
            assert "could not be read or written by this user: replaced it" in notes[0], notes
            break
        assert "cannot be read by this user" in notes[0] and "index" in notes[0]
    if folder == "writable":
        done = run_as_nobody(nobody_python, "--workspace", str(ws), "corpus", "validate", cwd=place)
        assert done.returncode == 0 and "note:" not in done.stderr, done.stderr
        done = run_as_nobody(nobody_python, "--workspace", str(ws), "ingest", str(place / "new.txt"), cwd=place)
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
