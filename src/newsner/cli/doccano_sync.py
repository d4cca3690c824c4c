"""`newsner doccano push|pull` and `newsner doccano users add`: move documents and annotations (sync.py does it)."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from newsner.cli._app import doccano_app, err_console, fail, workspace_of
from newsner.doccano import sync

users_app = typer.Typer(help="doccano user accounts and project membership.\n\n"
                             "Example: NEWSNER_NEW_USER_PASSWORD=... newsner doccano users add alice --role annotator",
                        no_args_is_help=True)
doccano_app.add_typer(users_app, name="users")

ProjectOpt = Annotated[
    str | None,
    typer.Option("--project", "-P", envvar="NEWSNER_DOCCANO_PROJECT",
                 help="doccano project name (default: newsner, or NEWSNER_DOCCANO_PROJECT)."),
]
CorpusOpt = Annotated[
    Path | None, typer.Option("--corpus", "-c", file_okay=False, help="Corpus folder (default: WORKSPACE/corpus).")
]
PASSWORD_ENV = "NEWSNER_NEW_USER_PASSWORD"
MAX_PROBLEMS_SHOWN = 50


class _RateColumn(ProgressColumn):
    """Items per second (articles uploaded, documents pre-annotated...)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f}/s" if speed else "")


class _LineProgress:
    """Without a terminal (CI logs, pipes) a live bar shows nothing: one line per phase every few seconds and
    when it completes, with the rate so far."""

    EVERY = 2.0

    def __init__(self) -> None:
        self.started: dict[str, float] = {}
        self.last: dict[str, float] = {}
        # A phase may report only once it is done: it started when the previous one last reported.
        self.mark = time.monotonic()

    def __call__(self, phase: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        first = self.started.setdefault(phase, self.mark)
        self.mark = now
        complete = total is not None and done >= total
        if not complete and now - self.last.get(phase, first) < self.EVERY:
            return
        if total is None and done == 0:
            return
        self.last[phase] = now
        rate = done / max(now - first, 1e-3)
        of = f"/{total}" if total is not None else ""
        err_console.print(f"{phase}: {done}{of} ({rate:,.0f}/s)", markup=False, highlight=False)


@contextlib.contextmanager
def _progress() -> Iterator[sync.Progress]:
    """A rich progress display on stderr, one bar per phase (listing, uploading, exporting...) with its rate;
    plain lines when stderr is not a terminal."""
    if not err_console.is_terminal:
        yield _LineProgress()
        return
    bars = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), _RateColumn(),
                    TimeElapsedColumn(), console=err_console, transient=True)
    tasks: dict[str, TaskID] = {}

    def update(phase: str, done: int, total: int | None) -> None:
        if phase not in tasks:
            tasks[phase] = bars.add_task(phase, total=total)
        bars.update(tasks[phase], completed=done, total=total)

    with bars:
        yield update


def _show_problems(problems: list[sync.Problem]) -> None:
    for problem in problems[:MAX_PROBLEMS_SHOWN]:
        typer.echo(f"problem: {problem}", err=True)
    if len(problems) > MAX_PROBLEMS_SHOWN:
        typer.echo(f"... and {len(problems) - MAX_PROBLEMS_SHOWN} more problem(s)", err=True)


@doccano_app.command("push")
def push_cli(
    ctx: typer.Context,
    project: ProjectOpt = None,
    corpus: CorpusOpt = None,
    with_annotations: Annotated[
        list[Path] | None,
        typer.Option("--with-annotations", "-a", exists=True, dir_okay=False,
                     help="AnnotationRecord JSONL to push as pre-annotations (repeatable)."),
    ] = None,
    collaborative: Annotated[
        bool | None,
        typer.Option("--collaborative/--per-annotator",
                     help="One shared layer for everyone, or one layer per annotator (new projects: per annotator; "
                          "default: keep the project's mode)."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", "-n", help="Say what would change; change nothing.")] = False,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Articles per import file.")]
    = sync.DEFAULT_BATCH_SIZE,
    select: Annotated[int | None, typer.Option("--select", min=1, help="Push only N articles not yet in the "
                                                "project, chosen by --strategy, and record them as a round "
                                                "(annotations/rounds.jsonl).")] = None,
    strategy: Annotated[str, typer.Option("--strategy", help="With --select: random, diverse (spread over "
                                          "sources, months, near-duplicate clusters) or uncertain (needs "
                                          "--model).")] = "random",
    seed: Annotated[int, typer.Option("--seed", help="With --select: the same seed picks the same articles.")] = 0,
    model: Annotated[Path | None, typer.Option("--model", help="With --strategy uncertain: a `newsner train` "
                                               "output, e.g. models/baseline/model-best.")] = None,
    auto_label: Annotated[bool, typer.Option("--auto-label", help="Point the project's auto-labeling at this "
                                             "workspace's model server (`newsner serve up` first), so each "
                                             "annotator gets suggestions in their own layer.")] = False,
    suggest_relations: Annotated[bool, typer.Option(
        "--suggest-relations/--no-suggest-relations",
        help="Pre-annotations without relations get the rule's (CLAIMED_BY the sentence's speaker, VICTIM, "
             "PERPETRATOR, LOCATED_IN); records with relations are pushed as they are.")] = True,
) -> None:
    """Upload the articles doccano lacks, the label set and guidelines, and optional pre-annotations.

    Idempotent: articles are identified by their id (meta external_id), so a rerun, or a rerun after a crash,
    uploads only what is missing and never leaves a duplicate. Pre-annotations land in the layer of the account
    that pushes (every member sees them in a --collaborative project).

    Example: newsner doccano push --project conflict-news --with-annotations annotations/suggestions/patterns.jsonl

    Example: newsner doccano push --select 50 --strategy diverse --seed 1 --auto-label
    """
    ws = workspace_of(ctx)
    selection = None
    if select is not None:
        from newsner.doccano.push import Selection
        from newsner.rounds.select import check_selection

        check_selection(select, strategy, seed, model)  # before any work: one line, never a traceback later
        selection = Selection(select, strategy, seed, model)
    elif model is not None or strategy != "random" or seed != 0:
        fail("--strategy, --seed and --model choose articles for --select N; add --select")
    url = None
    if auto_label:
        from newsner.serve.process import ModelServer

        url = ModelServer(ws).url()
        if url is None:
            fail("--auto-label: no model server runs in this workspace; start it with `newsner serve up` "
                 "(add --model models/baseline/model-best for a trained model)")
    with _progress() as progress:
        report = sync.push(ws, project=project, corpus_dir=corpus, annotation_files=with_annotations or [],
                           collaborative=collaborative, dry_run=dry_run, batch_size=batch_size, progress=progress,
                           selection=selection, auto_label_url=url, suggest_relations=suggest_relations)
    dry = report.dry_run

    def did(past: str, future: str) -> str:
        return future if dry else past

    head = f"{'[dry run] ' if dry else ''}doccano project {report.project!r} at {report.server}"
    typer.echo(head + (f" (id {report.project_id})" if report.project_id is not None else ""))
    if report.project_created:
        typer.echo(f"  project {did('created', 'to create')}")
    if report.project_updated:
        typer.echo(f"  project settings {did('updated', 'to update')}: {', '.join(report.project_updated)}")
    if report.span_types_created:
        typer.echo(f"  span types {did('created', 'to create')}: {', '.join(report.span_types_created)}")
    if report.span_types_updated:
        typer.echo(f"  span types {did('updated', 'to update')}: {', '.join(report.span_types_updated)}")
    if report.relation_types_created:
        typer.echo(f"  relation types {did('created', 'to create')}: {', '.join(report.relation_types_created)}")
    if report.relation_types_updated:
        typer.echo(f"  relation types {did('updated', 'to update')}: {', '.join(report.relation_types_updated)}")
    if report.span_types_extra:
        typer.echo(f"  span types not in labels.json (left alone): {', '.join(report.span_types_extra)}")
    if report.resumed:
        typer.echo("  resumed after an interrupted push")
    if report.duplicates_removed:
        typer.echo(f"  duplicate examples {did('removed', 'to remove')}: {report.duplicates_removed}")
    count = report.to_upload if dry else report.uploaded
    typer.echo(f"  articles: {report.articles} in the corpus, {report.present} already in doccano, "
               f"{did('uploaded', 'to upload')}: {count}"
               + (f" in {report.batches} batch(es)" if report.batches else ""))
    if report.not_in_corpus or report.foreign_examples:
        typer.echo(f"  examples in doccano not from this corpus: {report.not_in_corpus} with an unknown article id, "
                   f"{report.foreign_examples} without one (left alone)")
    if report.suggestion_records:
        typer.echo(f"  pre-annotations: {report.suggestion_records} document(s); "
                   f"{did('sent', 'to send')} with new articles: {report.suggestions_imported}, "
                   f"{did('added', 'to add')} to existing: {report.suggestions_added}, "
                   f"already pushed: {report.suggestions_unchanged}"
                   + (f", confirmed: {report.confirmed}" if report.confirmed else "")
                   + (f", relations added: {report.relations_added}" if report.relations_added else ""))
        if report.pushed_as and not report.collaborative:
            typer.echo(f"  note: pre-annotations are in {report.pushed_as}'s layer; in a per-annotator project only "
                       f"{report.pushed_as} sees them (push with --collaborative to show them to every annotator)")
    if report.round is not None and not report.round.doc_ids:
        typer.echo(f"  selection: 0 of {report.round.requested} requested article(s): nothing is eligible (every "
                   "article, or a near copy of it, is already in the project); no round recorded")
    elif report.round is not None:
        r = report.round
        number = f"round {r.round}" if r.round else "selection"
        typer.echo(f"  {number}: {r.selected} of {r.requested} requested article(s), strategy {r.strategy}, seed "
                   f"{r.seed}" + (f", model {r.model}" if r.model else "")
                   + ("" if dry else " (recorded in annotations/rounds.jsonl)"))
    if report.auto_label:
        typer.echo(f"  auto-labeling config {report.auto_label}: doccano asks {report.auto_label_url} "
                   "(annotators switch auto-labeling on in the editor)")
    _show_problems(report.problems)


@doccano_app.command("pull")
def pull_cli(
    ctx: typer.Context,
    project: ProjectOpt = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", file_okay=False,
                                             help="Folder for the layers (default: WORKSPACE/annotations).")] = None,
    corpus: CorpusOpt = None,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 when any problem was reported.")] = False,
) -> None:
    """Write every annotator's layer from doccano to annotations/ANNOTATOR.jsonl, every span checked.

    Offsets are converted from the web UI's UTF-16 units to Python code points. Documents whose text changed in
    doccano, examples without an article, spans out of range and unknown labels are reported, never dropped
    silently. Relations (projects with relations on) are read too; one whose span is gone or whose type is not
    in labels.json is reported by document and annotator and not kept.
    Pulling twice without changes in doccano writes identical files.

    Example: newsner doccano pull --project conflict-news
    """
    ws = workspace_of(ctx)
    with _progress() as progress:
        report = sync.pull(ws, project=project, out_dir=out, corpus_dir=corpus, progress=progress)
    typer.echo(f"doccano project {report.project!r} at {report.server} (id {report.project_id}): "
               f"{report.examples} example(s), {report.untouched} member/example pair(s) with no annotation skipped")
    for layer in report.layers:
        if not layer.records:
            typer.echo(f"  {layer.annotator}: nothing annotated yet")
            continue
        typer.echo(f"  {layer.annotator}: {layer.records} document(s), {layer.confirmed} confirmed, "
                   f"{layer.spans} span(s)" + (f", {layer.relations} relation(s)" if layer.relations else "")
                   + f" -> {layer.path} (new {layer.added}, changed {layer.updated}, "
                   f"unchanged {layer.unchanged})")
    _show_problems(report.problems)
    if report.problems:
        from newsner.doccano.pull import RELATION_PROBLEMS, RELATION_TURNED

        # A relation problem touches that relation only: its document was pulled. Say which is which.
        documents = [p for p in report.problems if p.kind not in RELATION_PROBLEMS]
        dropped = sum(p.kind == "bad-relation" for p in report.problems)
        turned = sum(p.kind == RELATION_TURNED for p in report.problems)
        parts = []
        if documents:
            parts.append(f"{len(documents)} problem(s) with documents: those documents were not pulled")
        if dropped:
            parts.append(f"{dropped} relation(s) not kept (their documents were pulled without them)")
        if turned:
            parts.append(f"{turned} relation(s) drawn backwards were turned round")
        typer.echo("; ".join(parts), err=True)
        if strict:
            raise typer.Exit(1)


@users_app.command("add")
def users_add_cli(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The doccano user name.")],
    role: Annotated[str, typer.Option("--role", "-r", help="annotator, annotation_approver or project_admin.")]
    = "annotator",
    project: ProjectOpt = None,
) -> None:
    """Create a doccano user (if missing) and add them to the project with a role.

    The password comes from NEWSNER_NEW_USER_PASSWORD or a hidden prompt; it is never echoed, stored or logged.
    An existing user's password is left unchanged.

    Example: NEWSNER_NEW_USER_PASSWORD=... newsner doccano users add alice --role annotator --project conflict-news
    """

    def password() -> str:
        secret = os.environ.get(PASSWORD_ENV)
        if secret:
            return secret
        if not sys.stdin.isatty():
            # No terminal: take the first line piped in (getpass would only warn that it may be echoed).
            line = sys.stdin.readline().rstrip("\r\n")
            if not line:
                fail(f"no password for {name}: set {PASSWORD_ENV}, pipe it on stdin, or run in a terminal")
            return line
        return str(typer.prompt(f"password for new doccano user {name}", hide_input=True,
                                confirmation_prompt=True, err=True))

    report = sync.add_user(workspace_of(ctx), name, password, role=role, project=project)
    typer.echo(f"user {report.username}: {'created' if report.created else 'exists (password unchanged)'}")
    if report.member_added:
        typer.echo(f"added to project {report.project!r} as {report.role}")
    elif report.existing_role == report.role:
        typer.echo(f"already a member of project {report.project!r} as {report.role}")
    else:
        typer.echo(f"already a member of project {report.project!r} as {report.existing_role} (not changed to "
                   f"{report.role}; change roles in doccano's Members page)")
