"""The Typer app, its command groups and the one error boundary.

Commands live one module per group (ingest.py, corpus.py, labels.py, doccano.py, annotations.py, export.py);
each parses options, calls one library function and renders the result. Only this package prints or exits.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
import typer.core
from rich.console import Console

from newsner.errors import NewsnerError
from newsner.workspace import Workspace

#: Normal output. Errors and progress go to stderr so stdout stays pipeable.
# soft_wrap: a message stays one line when piped (tables still fit the terminal width).
console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one error line on stderr (no markup interpretation) and exit."""
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


class _Group(typer.core.TyperGroup):
    """Turns every NewsnerError raised below into one line on stderr and exit code 1 (no traceback)."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except NewsnerError as exc:
            fail(str(exc))
        except KeyboardInterrupt:
            fail("interrupted; nothing half-written was kept (rerun to finish)", code=130)


_SETTINGS = {"help_option_names": ["-h", "--help"]}

app = typer.Typer(
    name="newsner",
    cls=_Group,
    help="Turn news articles into NER training data: ingest → doccano → export.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # never print a password or token held in a local
    context_settings=_SETTINGS,
    rich_markup_mode=None,  # plain help: flags show as flags, not "<bool>"
    add_completion=False,
)
corpus_app = typer.Typer(help="Inspect and check the corpus.", no_args_is_help=True)
labels_app = typer.Typer(help="The label schema (annotations/labels.json).", no_args_is_help=True)
doccano_app = typer.Typer(help="The doccano server: run it locally, push documents, pull annotations.",
                          no_args_is_help=True)
annotations_app = typer.Typer(help="Annotation records: import, validate, agreement, adjudicate.",
                              no_args_is_help=True)
export_app = typer.Typer(help="Export annotated documents as HF datasets, spaCy DocBins or CoNLL.",
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


def workspace_of(ctx: typer.Context) -> Workspace:
    """The Workspace chosen by the global --workspace option."""
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Workspace) else Workspace.at(os.getcwd())
