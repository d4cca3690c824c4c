"""A review round in doccano: a curator resolves the documents where annotators disagree; pulling it gives gold.

How the competing spans are shown (chosen for what a curator can do in doccano's UI without any plug-in):

- The review project (default ``<project>-review``) is **collaborative** (everyone sees the same spans) and
  **allows overlapping spans**, so competing readings of the same words sit side by side.
- Spans every annotator of the document marked identically go in with their plain label (``ACTOR``): already gold.
- Every disputed span goes in once with a **candidate label**, the label plus ``?`` (``ACTOR?``, a paler colour).
  The example's metadata panel lists who marked what (``candidates``: ``ACTOR? 'Ahmed Ag' [50, 58) — bob (1 of
  2)``; ``annotators``).
- The curator (a named doccano user, added with the role ``annotation_approver``) deletes the candidates that
  are wrong, changes the right ones to the plain label (click the span, pick the label), may add missing spans,
  and marks the example done (the check mark). Majority vote stays the automatic route (`annotations adjudicate`).

`pull_review` writes a gold record for every example the curator marked done that has no ``?`` span left; a done
example with candidates left is reported (not written), an example not marked done is counted as awaiting review.
Offsets are converted from the project's unit (UTF-16, or graphemes in ``grapheme_mode``) and every span is
checked against the corpus text. Pushing again adds only documents not yet in the review project.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from newsner.annotations.agreement import AgreementReport, agreement_report, disputed_spans, shared_documents
from newsner.annotations.layers import annotator_layers, load_layers
from newsner.annotations.store import GOLD, AnnotationStore, UpsertResult
from newsner.corpus.store import Corpus
from newsner.doccano.client import DoccanoClient
from newsner.errors import AnnotationError, DoccanoError, InputError
from newsner.schema import AnnotationRecord, Article, Span
from newsner.text.offsets import OffsetMap, UnitConverter
from newsner.workspace import Workspace

CANDIDATE = "?"
CURATOR_ROLE = "annotation_approver"
Progress = Callable[[str, int, int | None], None]


def review_project_name(project: str) -> str:
    return f"{project}-review"


@dataclass
class ReviewPushReport:
    server: str
    project: str
    project_id: int
    layers: list[str]
    #: Documents two or more layers annotated, and of those the ones with a disputed span.
    compared: int = 0
    disputed: int = 0
    #: Disputed documents added now, and those already in the review project (not added twice).
    added: int = 0
    already_there: int = 0
    agreed_spans: int = 0
    candidate_spans: int = 0
    curator: str | None = None
    problems: list[str] = field(default_factory=list)
    before: AgreementReport | None = None


@dataclass
class ReviewPullReport:
    server: str
    project: str
    project_id: int
    out_layer: str
    examples: int = 0
    reviewed: int = 0
    awaiting: int = 0
    spans: int = 0
    written: UpsertResult | None = None
    #: Examples marked done with candidate spans left, and any example that could not be placed in the corpus.
    problems: list[str] = field(default_factory=list)
    before: AgreementReport | None = None
    after: AgreementReport | None = None


def _lighter(color: str) -> str:
    """A paler version of #rrggbb for candidate labels (mixed half-way with white)."""
    try:
        r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    except (ValueError, IndexError):
        return "#cccccc"
    return "#" + "".join(f"{(c + 255) // 2:02x}" for c in (r, g, b))


def _ensure_span_types(client: DoccanoClient, project_id: int, workspace: Workspace) -> None:
    schema = workspace.label_schema()
    existing = {t["text"] for t in client.list_span_types(project_id)}
    for label in schema.labels:
        color = label.color
        if label.name not in existing:
            client.create_span_type(project_id, text=label.name, background_color=color,
                                    text_color=label.text_color, suffix_key=label.shortcut or None)
        if label.name + CANDIDATE not in existing:
            client.create_span_type(project_id, text=label.name + CANDIDATE, background_color=_lighter(color),
                                    text_color="#000000")


def _review_line(article: Article, recs: dict[str, AnnotationRecord]) -> tuple[dict[str, Any], int, int]:
    disputed, who = disputed_spans(recs)
    agreed = sorted(s for s in who if s not in set(disputed))
    omap = OffsetMap(article.text)
    labels = [[*omap.span_to_utf16(s.start, s.end), s.label] for s in agreed]
    labels += [[*omap.span_to_utf16(s.start, s.end), s.label + CANDIDATE] for s in disputed]
    candidates = [f"{s.label}{CANDIDATE} {s.text!r} [{s.start}, {s.end}) — {', '.join(who[s])} "
                  f"({len(who[s])} of {len(recs)})" for s in disputed]
    # Every line has the same keys: doccano reads a batch into one table, where a missing key becomes NaN.
    line = {"text": article.text, "label": labels, "external_id": article.id, "title": article.title or "",
            "annotators": ", ".join(sorted(recs)), "candidates": "\n".join(candidates)}
    return line, len(agreed), len(disputed)


def push_review(workspace: Workspace, *, project: str | None = None, review_project: str | None = None,
                curator: str | None = None, layers: Sequence[str] | None = None, include_unconfirmed: bool = False,
                client: DoccanoClient | None = None, progress: Progress | None = None) -> ReviewPushReport:
    """Put the documents where the annotator layers disagree into the review project (created when missing).

    Raises:
        InputError: fewer than two annotator layers.
        DoccanoError: the curator is not a doccano user, or the server failed.
    """
    from newsner.doccano.sync import default_project

    project = project or default_project()
    name = review_project or review_project_name(project)
    store = AnnotationStore(workspace.annotations_dir)
    names = annotator_layers(store, layers)
    if len(names) < 2:
        raise InputError(f"a review needs at least two annotator layers; found {', '.join(names) or 'none'} (pull "
                         "or import more annotators' work, or name layers with --layers)")
    shared = shared_documents(load_layers(store, names, include_unconfirmed))
    disputed = {d: recs for d, recs in shared.items() if disputed_spans(recs)[0]}
    corpus = Corpus(workspace.corpus_dir)
    corpus.require()
    owns = client is None
    if client is None:
        from newsner.doccano.config import connect

        client = connect(workspace)
    try:
        user = None
        if curator:  # checked before anything is created in doccano
            user = client.find_user(curator)
            if user is None:
                raise DoccanoError(f"no doccano user {curator!r}; create one with `newsner doccano users add "
                                   f"{curator} --role {CURATOR_ROLE}` first")
        found = client.find_project(name)
        if found is None:
            found = client.create_project(
                name, description=f"Review of the documents where annotators of {project!r} disagree (newsner).",
                guideline="Spans ending in ? are candidates: delete the wrong ones, change the right ones to the "
                          "label without ?, add what is missing, then mark the example done.",
                collaborative=True, allow_overlapping=True)
        project_id = int(found["id"])
        report = ReviewPushReport(server=client.base_url, project=name, project_id=project_id, layers=names,
                                  compared=len(shared), disputed=len(disputed))
        report.before = agreement_report(workspace, names, include_unconfirmed=include_unconfirmed)
        if curator and user is not None:
            report.curator = curator
            if not any(m.get("user") == user["id"] or m.get("username") == curator
                       for m in client.list_members(project_id)):
                client.add_member(project_id, int(user["id"]), CURATOR_ROLE)
        _ensure_span_types(client, project_id, workspace)
        present = {str((ex.get("meta") or {}).get("external_id")) for ex in client.iter_examples(project_id)}
        articles = corpus.get_many(set(disputed) - present)
        lines: list[str] = []
        for doc_id in sorted(disputed):
            if doc_id in present:
                report.already_there += 1
                continue
            article = articles.get(doc_id)
            recs = disputed[doc_id]
            if article is None or article.text_sha256 != next(iter(recs.values())).text_sha256:
                report.problems.append(f"document {doc_id}: not in the corpus with the annotated text; not sent")
                continue
            line, agreed, candidates = _review_line(article, recs)
            report.agreed_spans += agreed
            report.candidate_spans += candidates
            lines.append(json.dumps(line, ensure_ascii=True, separators=(",", ":")))
        if lines:
            if progress:
                progress("uploading to doccano", 0, len(lines))
            client.import_jsonl(project_id, ("\n".join(lines) + "\n").encode("ascii"), filename="review.jsonl")
            report.added = len(lines)
            if progress:
                progress("uploading to doccano", len(lines), len(lines))
        return report
    finally:
        if owns:
            client.close()


def pull_review(workspace: Workspace, *, project: str | None = None, review_project: str | None = None,
                out_layer: str = GOLD, layers: Sequence[str] | None = None, client: DoccanoClient | None = None
                ) -> ReviewPullReport:
    """Write the curator's resolved examples into `out_layer` (default gold) and report agreement before/after.

    Raises:
        DoccanoError: no review project, or the server failed.
    """
    from newsner.doccano.sync import default_project

    project = project or default_project()
    name = review_project or review_project_name(project)
    schema = workspace.label_schema()
    corpus = Corpus(workspace.corpus_dir)
    corpus.require()
    store = AnnotationStore(workspace.annotations_dir)
    owns = client is None
    if client is None:
        from newsner.doccano.config import connect

        client = connect(workspace)
    try:
        found = client.find_project(name)
        if found is None:
            raise DoccanoError(f"no review project {name!r} on {client.base_url}; run `newsner doccano review` first")
        project_id = int(found["id"])
        unit = "graphemes" if found.get("grapheme_mode") else "utf16"
        report = ReviewPullReport(server=client.base_url, project=name, project_id=project_id, out_layer=out_layer)
        exported = client.export_jsonl(project_id)
        approved = {int(line["id"]) for lines in client.export_jsonl(project_id, only_approved=True).values()
                    for line in lines}
        lines = [line for part in exported.values() for line in part]
        report.examples = len(lines)
        wanted = {str(line.get("external_id")) for line in lines if line.get("external_id")}
        articles = corpus.get_many(wanted)
        records: list[AnnotationRecord] = []
        for line in lines:
            ext = str(line.get("external_id") or "")
            if int(line["id"]) not in approved:
                report.awaiting += 1
                continue
            article = articles.get(ext)
            if article is None or article.text != line.get("text"):
                report.problems.append(f"example {line['id']} ({ext or 'no external_id'}): its text is not an "
                                       "article of the corpus; not written")
                continue
            conv = UnitConverter(article.text, unit)
            spans: list[Span] = []
            left: list[str] = []
            try:
                for start, end, label in line.get("label") or []:
                    s, e = conv.span(int(start), int(end))
                    if label.endswith(CANDIDATE):
                        left.append(f"{label} {article.text[s:e]!r}")
                    elif label not in schema.names:
                        left.append(f"{label} {article.text[s:e]!r} (not in the label schema)")
                    else:
                        spans.append(Span(s, e, label, article.text[s:e]))
            except (AnnotationError, ValueError, TypeError) as exc:
                report.problems.append(f"example {line['id']} ({ext}): a span does not fit the text ({exc})")
                continue
            if left:
                report.problems.append(f"example {line['id']} ({ext}) is marked done but still has {len(left)} "
                                       f"candidate span(s): {', '.join(left)}; resolve them in doccano and pull again")
                continue
            report.reviewed += 1
            report.spans += len(spans)
            records.append(AnnotationRecord(doc_id=ext, text_sha256=article.text_sha256, annotator=out_layer,
                                            spans=sorted(set(spans)), status="confirmed",
                                            origin={"reviewed": "doccano", "server": client.base_url,
                                                    "project": name, "example_id": int(line["id"])}))
    finally:
        if owns:
            client.close()
    report.written = store.upsert(out_layer, records)
    names = [layer for layer in annotator_layers(store, layers) if layer != out_layer]
    if len(names) >= 2:
        report.before = agreement_report(workspace, names, include_unconfirmed=True)
    if names:
        report.after = agreement_report(workspace, [*names, out_layer], include_unconfirmed=True)
    return report
