"""The Typer app, its command groups and the one error boundary.

Commands live one module per group (ingest.py, corpus.py, labels.py, doccano.py, annotations.py, export.py);
each parses options, calls one library function and renders the result. Only this package prints or exits.
"""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
import typer.core
from rich.console import Console

from newsner.errors import NewsnerError
from newsner.workspace import Workspace, blocking_file, ensure_writable_dir, ensure_writable_file

#: Normal output. Errors and progress go to stderr so stdout stays pipeable.
# soft_wrap: a message stays one line when piped (tables still fit the terminal width).
console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


class _NoteHandler(logging.Handler):
    """newsner's library notices (logger "newsner") as one `note:` line each on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        typer.echo(f"note: {record.getMessage()}", err=True)


_NOTES = _NoteHandler(logging.INFO)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one error line on stderr (no markup interpretation) and exit."""
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


_ADVICE = {
    errno.EACCES: "not writable by this user: make it writable (chmod u+w) or choose another place with "
                  "--workspace/--out",
    errno.EPERM: "not permitted for this user: change its owner/permissions or choose another place with "
                 "--workspace/--out",
    errno.EROFS: "the file system is read-only: choose another place with --workspace/--out",
    errno.ENOSPC: "the disk is full: free some space and rerun (nothing half-written was kept)",
    errno.EDQUOT: "the disk quota is used up: free some space and rerun (nothing half-written was kept)",
    errno.EISDIR: "a folder stands where newsner writes a file: move it away or choose another --out",
    errno.ENOENT: "it does not exist (was it moved or deleted while newsner ran?)",
    errno.EMFILE: "too many open files: raise the limit (ulimit -n) or use fewer --jobs",
    errno.ENAMETOOLONG: "the name is too long for the file system: choose a shorter path",
}


def describe_os_error(exc: OSError) -> str:
    """One line for an OSError: the path, what went wrong and what to do (no traceback)."""
    reason = (exc.strerror or str(exc) or type(exc).__name__).rstrip(".")
    path = exc.filename if exc.filename is not None else None
    if exc.errno in (errno.ENOTDIR, errno.EEXIST) and path is not None:
        culprit = blocking_file(os.fsdecode(path))
        if culprit is not None:
            return (f"{culprit}: is a file, but newsner needs a folder there; move or rename that file "
                    "(or choose another place with --workspace/--out)")
    advice = _ADVICE.get(exc.errno or -1, "")
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        advice = "a file stands where newsner needs a folder (or the reverse): move it away and rerun"
    where = ""
    if path is not None:
        where = os.fsdecode(path)
        if exc.filename2 is not None:
            where += f" → {os.fsdecode(exc.filename2)}"
        where += ": "
    elif exc.errno in (errno.ENOSPC, errno.EDQUOT):
        where = "while writing: "
    return f"{where}{reason.lower() if where else reason}{'; ' + advice if advice else ''}"


#: Pre-flight checks, by command path: (workspace, the command's parsed options) → (folder or file, purpose) pairs
#: that the command will write. Checked after the options are parsed and before the command runs, so an
#: unwritable workspace is one line and an unchanged workspace, never a half-done import.
_Place = tuple[Path, str, bool]  # (path, purpose, is_file)
_WRITES: dict[tuple[str, ...], Callable[[Workspace, dict[str, Any]], list[_Place]]] = {}


def writes(*command: str) -> Callable[[Callable[[Workspace, dict[str, Any]], list[_Place]]],
                                      Callable[[Workspace, dict[str, Any]], list[_Place]]]:
    """Register the places a command writes (see _WRITES)."""
    def register(fn: Callable[[Workspace, dict[str, Any]], list[_Place]]) -> Callable[
            [Workspace, dict[str, Any]], list[_Place]]:
        _WRITES[command] = fn
        return fn
    return register


def _path(value: Any, default: Path) -> Path:
    return Path(value) if value else default


@writes("ingest")
def _ingest_writes(ws: Workspace, p: dict[str, Any]) -> list[_Place]:
    return [(_path(p.get("corpus"), ws.corpus_dir), "the corpus", False)]


@writes("annotations", "import")
def _import_writes(ws: Workspace, p: dict[str, Any]) -> list[_Place]:
    return [(ws.corpus_dir, "the corpus (imported articles)", False),
            (ws.annotations_dir, "annotation layers", False)]


@writes("annotations", "adjudicate")
def _adjudicate_writes(ws: Workspace, p: dict[str, Any]) -> list[_Place]:
    return [(ws.annotations_dir, "the adjudicated layer", False)]


def _export_writes(ws: Workspace, p: dict[str, Any]) -> list[_Place]:
    out = p.get("out")
    # The export is built beside --out and swapped in, so its parent folder must be writable too.
    return [(Path(out), "the export", False), (Path(os.path.abspath(out)).parent, "the export", False)] if out else []


for _fmt in ("hf", "spacy", "conll"):
    _WRITES[("export", _fmt)] = _export_writes


@writes("report")
def _report_writes(ws: Workspace, p: dict[str, Any]) -> list[_Place]:
    return [(_path(p.get("out"), Path("report.html")), "the report", True)]


@writes("pre-annotate")
def _pre_annotate_writes(ws: Workspace, p: dict[str, Any]) -> list[_Place]:
    out = _path(p.get("out"), ws.annotations_dir / "suggestions" / "patterns.jsonl")
    return [(out, "the suggestions", True)]


@writes("train")
def _train_writes(ws: Workspace, p: dict[str, Any]) -> list[_Place]:
    return [(_path(p.get("out"), ws.models_dir / "baseline"), "the model", False)]


@writes("doccano", "pull")
def _pull_writes(ws: Workspace, p: dict[str, Any]) -> list[_Place]:
    return [(_path(p.get("out"), ws.annotations_dir), "the pulled annotation layers", False)]


@writes("doccano", "up")
def _up_writes(ws: Workspace, p: dict[str, Any]) -> list[_Place]:
    return [(ws.state_dir, "doccano's state (.newsner/)", False)]


def preflight(command: tuple[str, ...], ws: Workspace, params: dict[str, Any]) -> None:
    """Raise WorkspaceError when a place `command` will write cannot be written (nothing is written here)."""
    places = _WRITES.get(command)
    if places is None:
        return
    for path, purpose, is_file in places(ws, params):
        path = path if path.is_absolute() else Path(os.getcwd()) / path
        (ensure_writable_file if is_file else ensure_writable_dir)(path, purpose)


def _root_workspace(ctx: Any) -> Workspace:
    root = ctx.find_root()
    if isinstance(root.obj, Workspace):
        return root.obj
    return Workspace.at(root.params.get("workspace") or os.getcwd())


class _Group(typer.core.TyperGroup):
    """Turns every NewsnerError and OSError raised below into one line on stderr and exit code 1 (no traceback).

    Also runs the pre-flight check (`preflight`) of the command about to run.
    """

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except NewsnerError as exc:
            fail(str(exc))
        except KeyboardInterrupt:
            fail("interrupted; nothing half-written was kept (rerun to finish)", code=130)
        except OSError as exc:
            if exc.errno == errno.EPIPE:  # stdout closed early (| head): click's own handling stays
                raise
            fail(describe_os_error(exc))

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name, cmd, rest = super().resolve_command(ctx, args)
        if (cmd is not None and name is not None and not isinstance(cmd, typer.core.TyperGroup)
                and not ctx.resilient_parsing and not any(a in ("--help", "-h") for a in rest)):
            path = (*(c.info_name or "" for c in _parents(ctx)), name)[1:]  # drop the program name
            if path in _WRITES:
                # Parse the command's options without running anything (errors are left for the real parse).
                probe = cmd.make_context(name, list(rest), parent=ctx, resilient_parsing=True)
                preflight(path, _root_workspace(ctx), probe.params)
        return name, cmd, rest


def _parents(ctx: Any) -> list[Any]:
    """The command contexts from the program down to `ctx` (typer's vendored click Context)."""
    chain: list[Any] = []
    node: Any = ctx
    while node is not None:
        chain.append(node)
        node = node.parent
    return chain[::-1]


_SETTINGS = {"help_option_names": ["-h", "--help"]}

app = typer.Typer(
    name="newsner",
    cls=_Group,
    help="Turn news articles into NER training data: ingest → doccano → export.\n\n"
         "Example: newsner ingest ~/articles/ && newsner corpus stats",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # never print a password or token held in a local
    context_settings=_SETTINGS,
    rich_markup_mode=None,  # plain help: flags show as flags, not "<bool>"
    add_completion=False,
)
corpus_app = typer.Typer(cls=_Group, help="Inspect and check the corpus.\n\nExample: newsner corpus stats",
                         no_args_is_help=True)
labels_app = typer.Typer(cls=_Group, help="The label schema (annotations/labels.json).\n\nExample: newsner labels show",
                         no_args_is_help=True)
doccano_app = typer.Typer(cls=_Group, help="The doccano server: run it locally, push documents, pull annotations.\n\n"
                          "Example: newsner doccano up && newsner doccano push && newsner doccano pull",
                          no_args_is_help=True)
annotations_app = typer.Typer(cls=_Group, help="Annotation records: import, validate, agreement, adjudicate.\n\n"
                              "Example: newsner annotations agreement --include-unconfirmed",
                              no_args_is_help=True)
export_app = typer.Typer(cls=_Group, help="Export annotated documents as HF datasets, spaCy DocBins or CoNLL, and the "
                         "claims table.\n\nExample: newsner export hf --out exports/hf",
                         no_args_is_help=True)
app.add_typer(corpus_app, name="corpus")
app.add_typer(labels_app, name="labels")
app.add_typer(doccano_app, name="doccano")
app.add_typer(annotations_app, name="annotations")
app.add_typer(export_app, name="export")


@app.callback()
def _main(
    ctx: typer.Context,
    workspace: Annotated[
        Path | None,
        typer.Option("--workspace", "-w", envvar="NEWSNER_WORKSPACE", file_okay=False,
                     help="Folder holding corpus/, annotations/, models/ and .newsner/ (default: current folder)."),
    ] = None,
) -> None:
    """newsner: news articles → doccano → NER datasets.

    Example: newsner ingest ~/articles/ && newsner corpus stats
    """
    ctx.obj = Workspace.at(workspace or os.getcwd())
    notes = logging.getLogger("newsner")
    if _NOTES not in notes.handlers:
        notes.addHandler(_NOTES)
        notes.setLevel(logging.INFO)


def workspace_of(ctx: typer.Context) -> Workspace:
    """The Workspace chosen by the global --workspace option."""
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Workspace) else Workspace.at(os.getcwd())
