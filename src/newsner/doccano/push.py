"""Push the corpus to doccano: idempotent, resumable, checked, in two steps.

**push** makes the doccano project match the workspace, one example per corpus article, identified by the
article id in `meta.external_id`. Everything local (pre-annotation files against the corpus and the schema) is
checked before the first change on the server. Then:

1. set-up (`push_setup`): the project, its guideline page, span and relation types, the auto-labeling config;
2. upload (`push_upload`): the articles doccano lacks (optionally a `--select`ed round of them), their
   pre-annotations and relations, pre-annotations for articles already there, confirmations.

A small state file under `.newsner/doccano-sync/` (`push_parts.PushState`) makes a rerun after a crash at any
point finish the work without duplicates. Pre-annotations land in the layer of the account that pushes (in a
collaborative project everyone sees them); offsets are converted to the UTF-16 units doccano's web UI uses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from newsner.corpus.store import ArticleLookup, Corpus
from newsner.doccano.push_parts import PushState, load_suggestions, suggestion_fingerprint
from newsner.doccano.push_setup import find_labeling_project, set_up_project
from newsner.doccano.push_upload import Upload
from newsner.doccano.sync_common import DEFAULT_BATCH_SIZE, Progress, PushReport, _server_of, default_project
from newsner.errors import DoccanoError, InputError
from newsner.model.relations import with_suggested_relations
from newsner.schema import AnnotationRecord, LabelSchema
from newsner.workspace import Workspace

if TYPE_CHECKING:
    from newsner.doccano.client import DoccanoClient
    from newsner.rounds.record import Round


def push(
    workspace: Workspace,
    *,
    project: str | None = None,
    corpus_dir: Path | None = None,
    annotation_files: Sequence[Path] = (),
    collaborative: bool | None = None,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    client: DoccanoClient | None = None,
    progress: Progress | None = None,
    after_batch: Callable[[int], None] | None = None,
    selection: Selection | None = None,
    auto_label_url: str | None = None,
    suggest_relations: bool = True,
) -> PushReport:
    """Make the doccano project match the workspace; upload only what is missing. Returns what changed.

    Args:
        project: doccano project name (default: `default_project()`).
        annotation_files: AnnotationRecord JSONL files pushed as pre-annotations.
        collaborative: one shared layer instead of one per annotator; None keeps an existing project's mode
            (new projects: one layer per annotator).
        dry_run: change nothing; the report says what would change.
        client: a logged-in client (default: `connect(workspace)`).
        after_batch: called with the batch number once its import finished (tests inject crashes here).
        selection: push only the articles `newsner.rounds.select.select_articles` picks among those not yet in the
            project, and record them as a round (annotations/rounds.jsonl); None pushes the whole corpus.
        auto_label_url: a running `newsner serve`; the project's auto-labeling config is pointed at it (checked
            first: a server that does not answer is an error before anything changes).
        suggest_relations: pre-annotations that carry no relations get the rule's (`with_suggested_relations`);
            records with relations of their own are pushed as they are.

    Raises:
        CorpusError, AnnotationError: bad local input, before anything is sent.
        DoccanoError: the server refused (wrong type of project, credentials, ...).
    """
    if batch_size < 1:
        raise InputError("--batch-size must be at least 1")
    project = project or default_project()
    schema = workspace.label_schema()
    corpus = Corpus(corpus_dir or workspace.corpus_dir)
    corpus.require()
    if auto_label_url is not None:  # checked before anything is sent to doccano
        from newsner.serve.process import check_endpoint

        ok, message = check_endpoint(auto_label_url)
        if not ok:
            raise DoccanoError(f"--auto-label: the model server does not answer: {message}")
    # Articles are read through the corpus index when needed: memory does not grow with the corpus.
    by_id = ArticleLookup(corpus)
    owns = client is None
    if client is None:
        from newsner.doccano.config import connect

        try:
            client = connect(workspace)
        except BaseException:
            by_id.close()
            raise
    try:
        return _push(client, workspace, schema, by_id, project=project, annotation_files=annotation_files,
                     collaborative=collaborative, dry_run=dry_run, batch_size=batch_size, progress=progress,
                     after_batch=after_batch, selection=selection, auto_label_url=auto_label_url,
                     suggest_relations=suggest_relations)
    finally:
        by_id.close()
        if owns:
            client.close()


@dataclass(frozen=True)
class Selection:
    """`push --select N --strategy S --seed K [--model DIR]`."""

    n: int
    strategy: str
    seed: int
    model_dir: Path | None = None


def _push(client: DoccanoClient, workspace: Workspace, schema: LabelSchema, by_id: ArticleLookup, *, project: str,
          annotation_files: Sequence[Path], collaborative: bool | None, dry_run: bool, batch_size: int,
          progress: Progress | None, after_batch: Callable[[int], None] | None, selection: Selection | None,
          auto_label_url: str | None, suggest_relations: bool) -> PushReport:
    report = PushReport(server=_server_of(client), project=project, dry_run=dry_run, articles=len(by_id))
    found = find_labeling_project(client, project, report.server)
    # Every local check happens before the first change on the server.
    allow_overlap = bool(found.get("allow_overlapping")) if found else False
    suggestions = load_suggestions(annotation_files, by_id, schema, allow_overlapping=allow_overlap)
    if suggest_relations:
        suggestions = {d: r if r.relations else with_suggested_relations(r, by_id[d].text, schema=schema)
                       for d, r in suggestions.items()}
    report.suggestion_records = len(suggestions)
    if suggestions:
        report.pushed_as = str(client.me().get("username") or "") or None

    # 1. set-up
    setup = set_up_project(client, found, schema, report, collaborative=collaborative, dry_run=dry_run,
                           auto_label_url=auto_label_url)
    if setup is None:  # a dry run for a project that does not exist yet: everything would be new
        report.to_upload = len(by_id)
        report.suggestions_imported = len(suggestions)
        return report

    # 2. upload
    state = PushState.load(workspace.state_dir, report.server, setup.project_id)
    upload = Upload(client, setup, by_id, report, state, batch_size=batch_size, dry_run=dry_run,
                    progress=progress, after_batch=after_batch)
    index = upload.existing()
    missing = [doc_id for doc_id in by_id if doc_id not in index.by_article]  # ids, corpus order
    chosen = None
    if selection is not None:
        if progress:
            progress("selecting articles", 0, None)
        chosen = _choose_round(workspace, selection, set(index.by_article), state, report)
        picked = set(chosen.doc_ids)
        missing = [doc_id for doc_id in missing if doc_id in picked]
        # Pre-annotations only for what is (or now goes) in the project.
        suggestions = {d: r for d, r in suggestions.items() if d in picked or d in index.by_article}
        report.suggestion_records = len(suggestions)
    report.to_upload = len(missing)
    if dry_run:
        _count_planned(report, missing, suggestions, state)
        return report
    already = {d for d, r in suggestions.items() if state.suggested.get(d) == suggestion_fingerprint(r)}
    report.suggestions_unchanged = len(already)
    uploaded = upload.articles(missing, suggestions, index)
    todo = {d: r for d, r in suggestions.items() if state.suggested.get(d) != suggestion_fingerprint(r)}
    upload.suggestions(todo, uploaded, index)
    if chosen is not None:
        from newsner.rounds.record import record_round

        report.round = record_round(workspace, chosen)  # after the upload: a round is what doccano holds
        state.pending_round = None
        state.save()
    return report


def _count_planned(report: PushReport, missing: list[str], suggestions: Mapping[str, AnnotationRecord],
                   state: PushState) -> None:
    """A dry run's pre-annotation figures: what would travel with new articles, be added, or stay."""
    missing_ids = set(missing)
    for doc_id, record in suggestions.items():
        if doc_id in missing_ids:
            report.suggestions_imported += 1
        elif state.suggested.get(doc_id) == suggestion_fingerprint(record):
            report.suggestions_unchanged += 1
        else:
            report.suggestions_added += 1


def _choose_round(workspace: Workspace, sel: Selection, in_project: set[str], state: PushState,
                  report: PushReport) -> Round:
    from newsner.rounds.record import Round
    from newsner.rounds.select import select_articles

    pending = state.pending_round
    if pending and (pending.get("strategy"), pending.get("seed"), pending.get("requested")) == (
            sel.strategy, sel.seed, sel.n):
        # The same push stopped after choosing (maybe mid-upload): finish that round, do not pick anew
        # (its uploaded articles are in the project now and would be excluded).
        chosen = Round(strategy=sel.strategy, seed=sel.seed, requested=sel.n,
                       doc_ids=[str(d) for d in pending.get("doc_ids", [])], model=pending.get("model"),
                       project=report.project)
        report.resumed = True
    else:
        chosen = select_articles(workspace, sel.n, sel.strategy, sel.seed, model_dir=sel.model_dir,
                                 exclude=in_project, project=report.project)
        if not report.dry_run:
            state.pending_round = chosen.to_dict()
            state.save()
    report.round = chosen  # numbered only once recorded (not in a dry run)
    return chosen
