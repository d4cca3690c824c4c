"""The second step of a push: articles, pre-annotations and their relations into a project that is set up.

Articles go up through doccano's file import in batches. doccano has no upsert, so a re-import creates
duplicates: the project's examples are listed once, only the missing articles are uploaded, and after every
batch the example count must have grown by exactly the batch (an interrupted or retried import shows up here);
when it did not, the project is listed again and the extra copies are deleted (never one that carries work). The
push state (`push_parts.PushState`) remembers the batch in flight and which pre-annotations were pushed, so a
rerun after a crash at any point waits for a half-finished import, removes its duplicates and uploads the rest.

Pre-annotations of new articles travel inside the import file, with their relations when the project has
relations on ("JSONL(Relation)" lines: entities + relations), so a push with relations costs about what one
without them does; those of articles already in the project go through the span and relation API, and only what
the example lacks is created. Either way they land in the layer of the pushing account.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from newsner.corpus.store import ArticleLookup
from newsner.doccano.offsets import OffsetMap
from newsner.doccano.push_parts import (
    ExampleIndex,
    PushState,
    _drop_examples,
    build_import_jsonl,
    index_examples,
    plan_duplicates,
    suggestion_fingerprint,
)
from newsner.doccano.push_setup import ProjectSetup
from newsner.doccano.relation_sync import importable_relations, push_relations
from newsner.doccano.sync_common import LIST_PAGE, Problem, Progress, PushReport
from newsner.errors import DoccanoAPIError
from newsner.schema import AnnotationRecord, Relation

if TYPE_CHECKING:
    from newsner.doccano.client import DoccanoClient


#: Spans in one import file that carries relations (doccano queries them in one `IN (...)`; SQLite's cap is
#: 32,766 values).
MAX_FILE_SPANS = 20_000


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def settle(client: DoccanoClient, project_id: int, *, quiet: float = 2.0, limit: float = 120.0) -> None:
    """Wait until an import left running by an interrupted push stops adding examples (count stable)."""
    start = time.monotonic()
    last = client.count_examples(project_id)
    stable_since = time.monotonic()
    while time.monotonic() - stable_since < quiet and time.monotonic() - start < limit:
        time.sleep(0.25)
        count = client.count_examples(project_id)
        if count != last:
            last, stable_since = count, time.monotonic()


class Upload:
    """Uploads into one set-up project, filling the upload half of the push report."""

    def __init__(self, client: DoccanoClient, setup: ProjectSetup, by_id: ArticleLookup, report: PushReport,
                 state: PushState, *, batch_size: int, dry_run: bool, progress: Progress | None = None,
                 after_batch: Callable[[int], None] | None = None) -> None:
        self.client, self.setup, self.by_id, self.report, self.state = client, setup, by_id, report, state
        self.project_id = setup.project_id
        self.batch_size, self.dry_run = batch_size, dry_run
        self.progress, self.after_batch = progress, after_batch
        #: Articles uploaded by this push whose relations travelled in the import file.
        self.carried: set[str] = set()

    def _tick(self, phase: str, done: int, total: int | None) -> None:
        if self.progress:
            self.progress(phase, done, total)

    # ---------------------------------------------------------------------------------- what is there
    def _list(self) -> ExampleIndex:
        total = self.client.count_examples(self.project_id)
        if total == 0:
            return ExampleIndex()
        seen = 0

        def listed() -> Iterator[dict[str, Any]]:
            nonlocal seen
            for ex in self.client.iter_examples(self.project_id, limit=LIST_PAGE):
                seen += 1
                if seen % LIST_PAGE == 0:
                    self._tick("listing examples", seen, total)
                yield ex

        index = index_examples(listed())
        self._tick("listing examples", seen, total)
        return index

    def existing(self) -> ExampleIndex:
        """The project's examples by article, after finishing an interrupted import and removing duplicates."""
        report, state = self.report, self.state
        if state.in_flight and not self.dry_run:
            # The previous push stopped while a batch was importing: let that import finish first.
            report.resumed = True
            self._tick("waiting for an interrupted import", 0, None)
            settle(self.client, self.project_id)
        index = self._list()
        self._dedupe(index)
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

    def _dedupe(self, index: ExampleIndex) -> None:
        delete, problems = plan_duplicates(index)
        self.report.problems += problems
        if delete:
            self.report.duplicates_removed += len(delete)
            if not self.dry_run:
                self.client.delete_examples(self.project_id, delete)  # never empty: guarded by `if delete`
            _drop_examples(index, delete)

    # --------------------------------------------------------------------------------------- articles
    def _files(self, batch_ids: Sequence[str], suggestions: Mapping[str, AnnotationRecord],
               ) -> Iterator[tuple[Sequence[str], bool]]:
        """Split one batch into import files: (article ids, whether the file carries relations).

        Relations travel in the file when the project has relations on and a pre-annotation of the batch has
        any. doccano then looks up every span of a 1000-line slice in one `IN (...)` query, which SQLite caps
        at 32,766 values (and a failed import is retried by celery, duplicating examples): such a file holds at
        most MAX_FILE_SPANS spans. An article with more goes alone in the plain shape, its relations afterwards
        through the REST API.
        """
        if not self.setup.use_relation or not any(
                (r := suggestions.get(d)) is not None and r.relations for d in batch_ids):
            yield batch_ids, False
            return
        group: list[str] = []
        spans = 0
        for doc_id in batch_ids:
            record = suggestions.get(doc_id)
            n = len(record.spans) if record is not None else 0
            if n > MAX_FILE_SPANS:
                yield [doc_id], False
                continue
            if group and spans + n > MAX_FILE_SPANS:
                yield group, True
                group, spans = [], 0
            group.append(doc_id)
            spans += n
        if group:
            yield group, True

    def articles(self, missing: list[str], suggestions: Mapping[str, AnnotationRecord],
                 index: ExampleIndex) -> set[str]:
        """Import the missing articles (with their pre-annotations and relations) file by file; returns their ids."""
        uploaded: set[str] = set()
        number = 0
        for batch_ids in _chunks(missing, self.batch_size):
            for file_ids, with_relations in self._files(batch_ids, suggestions):
                number += 1
                self._import_file(number, file_ids, with_relations, suggestions, index, uploaded)
                self._tick("uploading articles", self.report.uploaded, len(missing))
        return uploaded

    def _import_file(self, number: int, ids: Sequence[str], with_relations: bool,
                     suggestions: Mapping[str, AnnotationRecord], index: ExampleIndex, uploaded: set[str]) -> None:
        """One import file; `index.total` is the project's example count before it and is kept up to date."""
        report, client, state = self.report, self.client, self.state
        batch = self.by_id.many(ids)  # one file of articles in memory at a time
        carry: dict[str, list[Relation]] | None = {} if with_relations else None
        refused: dict[str, list[str]] = {}
        if carry is not None:
            for article in batch:
                record = suggestions.get(article.id)
                if record is not None and record.relations:
                    carry[article.id], refused[article.id] = importable_relations(record,
                                                                                  self.setup.relation_type_ids)
        data = build_import_jsonl(batch, suggestions, relations=carry)
        # Recorded before the import starts: if we die now, the next push waits for it and deduplicates.
        state.in_flight = [a.id for a in batch]
        state.save()
        client.import_jsonl(self.project_id, data, filename=f"newsner-batch-{number:05d}.jsonl",
                            relations=with_relations)
        if self.after_batch:
            self.after_batch(number)
        expected = index.total = index.total + len(batch)
        lost: set[str] = set()
        if client.count_examples(self.project_id) != expected:
            # More: doccano retried part of the import, or another push ran; fewer: lines were refused.
            fresh = self._list()
            self._dedupe(fresh)
            index.total = fresh.total
            lost = {a.id for a in batch if a.id not in fresh.by_article}
            for doc_id in sorted(lost):
                report.problems.append(Problem("not-imported", "doccano did not import this article; "
                                               "push again", doc_id=doc_id))
            index.by_article = fresh.by_article
        for article in batch:
            record = suggestions.get(article.id)
            uploaded.add(article.id)
            if record is None:
                continue
            if carry is not None and article.id not in lost:
                self.carried.add(article.id)
                report.relations_added += len(carry.get(article.id, ()))
                report.problems += [Problem("relation-refused", p, doc_id=article.id)
                                    for p in refused.get(article.id, ())]
            if record.status != "confirmed" and (carry is not None or not record.relations):
                # Confirmed records still need a confirmation call; recorded once that is done.
                state.suggested[article.id] = suggestion_fingerprint(record)
                report.suggestions_imported += 1
        state.in_flight = []
        state.save()
        report.uploaded += len(batch)
        report.batches += 1

    # -------------------------------------------------------------------------------- pre-annotations
    def suggestions(self, todo: Mapping[str, AnnotationRecord], uploaded: set[str], index: ExampleIndex) -> None:
        """Pre-annotations the import file did not carry (articles already in doccano), and confirmations."""
        report, client, state = self.report, self.client, self.state
        if not todo:
            return
        if any(d in uploaded for d in todo):
            index = self._list()  # the ids of the examples created by this run are needed
        done = 0
        for doc_id, record in todo.items():
            if doc_id not in index.by_article:
                report.problems.append(Problem("not-imported", "the article is not in doccano; its "
                                               "pre-annotations were not pushed", doc_id=doc_id))
                continue
            example_id = index.first(doc_id).id
            if doc_id in uploaded:
                report.suggestions_imported += 1  # its spans travelled in the import file
            elif self._add_spans(example_id, record):
                report.suggestions_added += 1
            else:
                report.suggestions_unchanged += 1
            if doc_id not in self.carried:
                # Relations per example, between the spans now there (only those the example lacks).
                added, problems = push_relations(client, self.project_id, example_id, record,
                                                 self.by_id[doc_id].text, self.setup.span_type_ids,
                                                 self.setup.relation_type_ids)
                report.relations_added += added
                report.problems += [Problem("relation-refused", p, doc_id=doc_id, example_id=example_id)
                                    for p in problems]
            if record.status == "confirmed":
                client.confirm_example(self.project_id, example_id)
                report.confirmed += 1
            state.suggested[doc_id] = suggestion_fingerprint(record)
            done += 1
            if done % 200 == 0:
                state.save()
                self._tick("pre-annotating", done, len(todo))
        state.save()
        self._tick("pre-annotating", done, len(todo))

    def _add_spans(self, example_id: int, record: AnnotationRecord) -> bool:
        """Create the record's spans that the example lacks; True when any was added."""
        article = self.by_id[record.doc_id]
        omap = OffsetMap(article.text)
        label_ids = self.setup.span_type_ids
        have = {(int(s["start_offset"]), int(s["end_offset"]), int(s["label"]))
                for s in self.client.list_spans(self.project_id, example_id)}
        added = False
        for span in sorted(record.spans):
            start, end = omap.span_to_utf16(span.start, span.end)
            key = (start, end, label_ids[span.label])
            if key in have:
                continue
            try:
                self.client.create_span(self.project_id, example_id, start=start, end=end, label_id=key[2])
                added = True
            except DoccanoAPIError as exc:
                if exc.status != 400:
                    raise
                self.report.problems.append(Problem(
                    "suggestion-refused", f"pre-annotation [{span.start}, {span.end}) {span.label} "
                    f"{span.text!r} was refused by doccano ({exc}); it overlaps a span already there",
                    doc_id=record.doc_id, example_id=example_id))
        return added
