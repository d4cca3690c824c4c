"""Push the corpus to doccano and pull every annotator's layer back: idempotent, resumable, checked.

**push** makes the doccano project match the workspace: the project (sequence labelling; one layer per
annotator unless collaborative), its guideline page (from labels.json), its span types (colour, text colour,
shortcut key), and one example per corpus article, identified by the article id in `meta.external_id`.
Articles go up through doccano's file import in batches. doccano has no upsert, so a re-import creates
duplicates: push lists the project's examples once, uploads only the missing articles, and checks after every
batch that the example count grew by exactly the batch (an interrupted or retried import shows up here) and,
when it did not, lists again and deletes the extra copies (never one that carries work). A small state file
under `.newsner/doccano-sync/` remembers the batch in flight and which pre-annotations were already pushed, so a
rerun after a crash at any point waits for a half-finished import, removes its duplicates and uploads only the
rest.

Pre-annotations (`--with-annotations`) travel inside the import file for new articles and through the span API
for articles already in the project; they land in the layer of the account that pushes (in a collaborative
project everyone sees them). Offsets are converted to the UTF-16 units doccano's web UI uses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsner.corpus.store import ArticleLookup, Corpus
from newsner.doccano.offsets import OffsetMap
from newsner.errors import DoccanoAPIError, DoccanoError, InputError
from newsner.schema import AnnotationRecord, LabelSchema
from newsner.workspace import Workspace

if TYPE_CHECKING:
    from newsner.doccano.client import DoccanoClient
    from newsner.rounds.record import Round

from newsner.doccano.push_parts import (
    ExampleIndex,
    PushState,
    _drop_examples,
    _settle,
    build_import_jsonl,
    index_examples,
    load_suggestions,
    plan_duplicates,
    suggestion_fingerprint,
)
from newsner.doccano.relation_sync import apply_relation_types, push_relations
from newsner.doccano.sync_common import (
    DEFAULT_BATCH_SIZE,
    LIST_PAGE,
    Problem,
    Progress,
    PushReport,
    _server_of,
    apply_span_types,
    default_project,
    guideline_text,
    plan_span_types,
    project_description,
)
from newsner.model.relations import with_suggested_relations


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


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
        job = _Push(client, workspace, schema, project, by_id, annotation_files, collaborative,
                    dry_run, batch_size, progress, after_batch)
        job.selection, job.auto_label_url = selection, auto_label_url
        job.suggest_relations = suggest_relations
        return job.run()
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


class _Push:
    selection: Selection | None = None
    auto_label_url: str | None = None
    suggest_relations: bool = True
    relation_type_ids: dict[str, int] = {}

    def __init__(self, client: DoccanoClient, workspace: Workspace, schema: LabelSchema, project: str,
                 by_id: ArticleLookup, annotation_files: Sequence[Path],
                 collaborative: bool | None, dry_run: bool, batch_size: int, progress: Progress | None,
                 after_batch: Callable[[int], None] | None) -> None:
        self.client, self.workspace, self.schema = client, workspace, schema
        self.by_id, self.annotation_files = by_id, annotation_files
        self.collaborative, self.dry_run, self.batch_size = collaborative, dry_run, batch_size
        self.progress, self.after_batch = progress, after_batch
        self.report = PushReport(server=_server_of(client), project=project, dry_run=dry_run,
                                 articles=len(by_id))

    def _tick(self, phase: str, done: int, total: int | None) -> None:
        if self.progress:
            self.progress(phase, done, total)

    def run(self) -> PushReport:
        report, client = self.report, self.client
        found = client.find_project(report.project)
        if found is not None and found.get("project_type") != "SequenceLabeling":
            raise DoccanoError(
                f"project {report.project!r} on {report.server} is a {found.get('project_type')} project, not "
                "sequence labelling; choose another name with --project")
        allow_overlap = bool(found.get("allow_overlapping")) if found else False
        # Every local check happens before the first change on the server.
        suggestions = load_suggestions(self.annotation_files, self.by_id, self.schema, allow_overlapping=allow_overlap)
        if self.suggest_relations:
            suggestions = {d: r if r.relations else with_suggested_relations(r, self.by_id[d].text, schema=self.schema)
                           for d, r in suggestions.items()}
        report.suggestion_records = len(suggestions)
        if suggestions:
            report.pushed_as = str(client.me().get("username") or "") or None
        if found is None:
            report.collaborative = bool(self.collaborative)
            report.project_created = True
            if self.dry_run:
                report.span_types_created = list(self.schema.names)
                report.relation_types_created = list(self.schema.relation_names)
                report.to_upload = len(self.by_id)
                report.suggestions_imported = len(suggestions)
                return report
            found = client.create_project(report.project, description=project_description(self.schema),
                                          guideline=guideline_text(self.schema),
                                          collaborative=bool(self.collaborative),
                                          use_relation=bool(self.schema.relations))
        project_id = int(found["id"])
        report.project_id = project_id
        if not report.project_created:
            report.collaborative = bool(found.get("collaborative_annotation"))
            self._update_project(found)
        label_ids = self._span_types(project_id)
        created, updated, self.relation_type_ids = apply_relation_types(client, project_id, self.schema,
                                                                         dry_run=self.dry_run)
        report.relation_types_created, report.relation_types_updated = created, updated
        state = PushState.load(self.workspace.state_dir, report.server, project_id)
        index = self._existing(project_id, state)
        missing = [doc_id for doc_id in self.by_id if doc_id not in index.by_article]  # ids, corpus order
        chosen = self._select(set(index.by_article), state) if self.selection is not None else None
        if chosen is not None:
            picked = set(chosen.doc_ids)
            missing = [doc_id for doc_id in missing if doc_id in picked]
            # Pre-annotations only for what is (or now goes) in the project.
            suggestions = {d: r for d, r in suggestions.items() if d in picked or d in index.by_article}
            report.suggestion_records = len(suggestions)
        report.to_upload = len(missing)
        if self.dry_run:
            missing_ids = set(missing)
            for doc_id, record in suggestions.items():
                if doc_id in missing_ids:
                    report.suggestions_imported += 1
                elif state.suggested.get(doc_id) == suggestion_fingerprint(record):
                    report.suggestions_unchanged += 1
                else:
                    report.suggestions_added += 1
            return report
        already = {d for d, r in suggestions.items() if state.suggested.get(d) == suggestion_fingerprint(r)}
        report.suggestions_unchanged = len(already)
        uploaded = self._upload(project_id, missing, suggestions, state, index)
        todo = {d: r for d, r in suggestions.items() if state.suggested.get(d) != suggestion_fingerprint(r)}
        self._suggest_existing(project_id, todo, uploaded, state, label_ids, index)
        if chosen is not None:
            from newsner.rounds.record import record_round

            report.round = record_round(self.workspace, chosen)  # after the upload: a round is what doccano holds
            state.pending_round = None
            state.save()
        if self.auto_label_url is not None:
            from newsner.doccano.autolabel import configure_auto_labeling

            report.auto_label = configure_auto_labeling(client, project_id, self.auto_label_url, self.schema)
            report.auto_label_url = self.auto_label_url
        return report

    def _select(self, in_project: set[str], state: PushState) -> Round:
        from newsner.rounds.record import Round
        from newsner.rounds.select import select_articles

        sel = self.selection
        assert sel is not None
        pending = state.pending_round
        if pending and (pending.get("strategy"), pending.get("seed"), pending.get("requested")) == (
                sel.strategy, sel.seed, sel.n):
            # The same push stopped after choosing (maybe mid-upload): finish that round, do not pick anew
            # (its uploaded articles are in the project now and would be excluded).
            chosen = Round(strategy=sel.strategy, seed=sel.seed, requested=sel.n,
                           doc_ids=[str(d) for d in pending.get("doc_ids", [])], model=pending.get("model"),
                           project=self.report.project)
            self.report.resumed = True
        else:
            self._tick("selecting articles", 0, None)
            chosen = select_articles(self.workspace, sel.n, sel.strategy, sel.seed, model_dir=sel.model_dir,
                                     exclude=in_project, project=self.report.project)
            if not self.dry_run:
                state.pending_round = chosen.to_dict()
                state.save()
        self.report.round = chosen  # numbered only once recorded (not in a dry run)
        return chosen

    # -------------------------------------------------------------------------------------- project
    def _update_project(self, found: Mapping[str, Any]) -> None:
        changes: dict[str, Any] = {}
        guideline = guideline_text(self.schema)
        if str(found.get("guideline") or "").strip() != guideline.strip():
            changes["guideline"] = guideline
        if self.collaborative is not None and bool(found.get("collaborative_annotation")) != self.collaborative:
            changes["collaborative_annotation"] = self.collaborative
            self.report.collaborative = self.collaborative
        if self.schema.relations and not found.get("use_relation"):
            changes["use_relation"] = True  # annotators draw relations between spans
        self.report.project_updated = sorted(changes)
        if changes and not self.dry_run:
            self.client.update_project(int(found["id"]), **changes)

    def _span_types(self, project_id: int) -> dict[str, int]:
        existing = self.client.list_span_types(project_id)
        plan = plan_span_types(self.schema, existing)
        self.report.span_types_created = [lb.name for lb in plan.create]
        self.report.span_types_updated = sorted({name for _, name, _ in plan.update}
                                                | {name for _, name in plan.release_keys})
        self.report.span_types_extra = plan.extra
        if self.dry_run:
            return {str(t["text"]): int(t["id"]) for t in existing}
        return apply_span_types(self.client, project_id, plan)

    # ------------------------------------------------------------------------------------- examples
    def _list(self, project_id: int) -> ExampleIndex:
        total = self.client.count_examples(project_id)
        if total == 0:
            return ExampleIndex()
        seen = 0

        def listed() -> Iterator[dict[str, Any]]:
            nonlocal seen
            for ex in self.client.iter_examples(project_id, limit=LIST_PAGE):
                seen += 1
                if seen % LIST_PAGE == 0:
                    self._tick("listing examples", seen, total)
                yield ex

        index = index_examples(listed())
        self._tick("listing examples", seen, total)
        return index

    def _existing(self, project_id: int, state: PushState) -> ExampleIndex:
        report = self.report
        if state.in_flight and not self.dry_run:
            # The previous push stopped while a batch was importing: let that import finish first.
            report.resumed = True
            self._tick("waiting for an interrupted import", 0, None)
            _settle(self.client, project_id)
        index = self._list(project_id)
        self._dedupe(project_id, index)
        report.present = len(index.by_article)
        report.foreign_examples = len(index.foreign)
        report.not_in_corpus = sum(1 for doc_id in index.by_article if doc_id not in self.by_id)
        for doc_id, infos in index.by_article.items():
            article = self.by_id.get(doc_id)
            if article is not None and infos[0].text_sha256 != article.text_sha256:
                report.problems.append(Problem(
                    "text-changed", "the text in doccano differs from the corpus (edited inside doccano?); "
                    "its annotations will not be pulled", doc_id=doc_id, example_id=infos[0].id))
        if state.in_flight and not self.dry_run:
            state.in_flight = []
            state.save()
        return index

    def _dedupe(self, project_id: int, index: ExampleIndex) -> None:
        delete, problems = plan_duplicates(index)
        self.report.problems += problems
        if delete:
            self.report.duplicates_removed += len(delete)
            if not self.dry_run:
                self.client.delete_examples(project_id, delete)  # never empty: guarded by `if delete`
            _drop_examples(index, delete)

    def _upload(self, project_id: int, missing: list[str], suggestions: Mapping[str, AnnotationRecord],
                state: PushState, index: ExampleIndex) -> set[str]:
        report, client = self.report, self.client
        expected = index.total
        uploaded: set[str] = set()
        for number, batch_ids in enumerate(_chunks(missing, self.batch_size), start=1):
            batch = self.by_id.many(batch_ids)  # one batch of articles in memory at a time
            data = build_import_jsonl(batch, suggestions)
            # Recorded before the import starts: if we die now, the next push waits for it and deduplicates.
            state.in_flight = [a.id for a in batch]
            state.save()
            client.import_jsonl(project_id, data, filename=f"newsner-batch-{number:05d}.jsonl")
            if self.after_batch:
                self.after_batch(number)
            expected += len(batch)
            count = client.count_examples(project_id)
            if count != expected:
                # More: doccano retried part of the import, or another push ran; fewer: lines were refused.
                fresh = self._list(project_id)
                self._dedupe(project_id, fresh)
                expected = fresh.total
                lost = [a.id for a in batch if a.id not in fresh.by_article]
                for doc_id in lost:
                    report.problems.append(Problem("not-imported", "doccano did not import this article; "
                                                   "push again", doc_id=doc_id))
                index.by_article = fresh.by_article
            for article in batch:
                record = suggestions.get(article.id)
                uploaded.add(article.id)
                if record is not None and record.status != "confirmed" and not record.relations:
                    # Confirmed records still need a confirmation call; recorded once that is done.
                    state.suggested[article.id] = suggestion_fingerprint(record)
                    report.suggestions_imported += 1
            state.in_flight = []
            state.save()
            report.uploaded += len(batch)
            report.batches += 1
            self._tick("uploading articles", report.uploaded, len(missing))
        return uploaded

    def _suggest_existing(self, project_id: int, todo: Mapping[str, AnnotationRecord], uploaded: set[str],
                          state: PushState, label_ids: Mapping[str, int], index: ExampleIndex) -> None:
        """Pre-annotations for documents that were already in doccano, and confirmations."""
        report, client = self.report, self.client
        if not todo:
            return
        if any(d in uploaded for d in todo):
            index = self._list(project_id)  # the ids of the examples created by this run are needed
        done = 0
        for doc_id, record in todo.items():
            if doc_id not in index.by_article:
                report.problems.append(Problem("not-imported", "the article is not in doccano; its "
                                               "pre-annotations were not pushed", doc_id=doc_id))
                continue
            example_id = index.first(doc_id).id
            if doc_id in uploaded:
                report.suggestions_imported += 1  # its spans travelled in the import file
            elif self._add_spans(project_id, example_id, record, label_ids):
                report.suggestions_added += 1
            else:
                report.suggestions_unchanged += 1
            # The import file cannot carry relations: they are made per example, between the spans now there.
            added, problems = push_relations(client, project_id, example_id, record, self.by_id[doc_id].text,
                                             label_ids, self.relation_type_ids)
            report.relations_added += added
            report.problems += [Problem("relation-refused", p, doc_id=doc_id, example_id=example_id)
                                for p in problems]
            if record.status == "confirmed":
                client.confirm_example(project_id, example_id)
                report.confirmed += 1
            state.suggested[doc_id] = suggestion_fingerprint(record)
            done += 1
            if done % 200 == 0:
                state.save()
                self._tick("pre-annotating", done, len(todo))
        state.save()
        self._tick("pre-annotating", done, len(todo))

    def _add_spans(self, project_id: int, example_id: int, record: AnnotationRecord,
                   label_ids: Mapping[str, int]) -> bool:
        """Create the record's spans that the example lacks; True when any was added."""
        article = self.by_id[record.doc_id]
        omap = OffsetMap(article.text)
        have = {(int(s["start_offset"]), int(s["end_offset"]), int(s["label"]))
                for s in self.client.list_spans(project_id, example_id)}
        added = False
        for span in sorted(record.spans):
            start, end = omap.span_to_utf16(span.start, span.end)
            key = (start, end, label_ids[span.label])
            if key in have:
                continue
            try:
                self.client.create_span(project_id, example_id, start=start, end=end, label_id=key[2])
                added = True
            except DoccanoAPIError as exc:
                if exc.status != 400:
                    raise
                self.report.problems.append(Problem(
                    "suggestion-refused", f"pre-annotation [{span.start}, {span.end}) {span.label} "
                    f"{span.text!r} was refused by doccano ({exc}); it overlaps a span already there",
                    doc_id=record.doc_id, example_id=example_id))
        return added


