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

Relations travel like spans (when labels.json defines relation types): the review project has relation mode on
and the schema's relation types, each with a candidate twin (``CLAIMED_BY?``). A relation every annotator drew (same
spans, type and direction) goes in with its plain type; a disputed one with the candidate type, listed in the
``candidates`` metadata with who drew it. A document whose spans all agree but whose relations differ is disputed
too. The curator deletes wrong candidate relations and redraws right ones with the plain type.

`pull_review` writes a gold record (spans and relations) for every example the curator marked done that has no
``?`` span or relation left; a done example with candidates left is reported (not written), an example not marked
done is counted as awaiting review. Relations are checked against their types' head and tail labels like on pull
(drawn backwards: turned round with a note; a self-link or labels that fit neither way: reported, not kept).
Offsets are converted from the project's unit (UTF-16, or graphemes in ``grapheme_mode``) and every span is
checked against the corpus text. A pull with nothing reviewed writes nothing. Agreement before and after compares
the annotators' confirmed records (as the push did), not suggestions or records nobody confirmed. Pushing again adds
only documents not yet in the review project.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from newsner.annotations.agreement import (
    AgreementReport,
    RelationKey,
    agreement_report,
    disputed_relations,
    disputed_spans,
    shared_documents,
)
from newsner.annotations.layers import annotator_layers, load_layers
from newsner.annotations.relations import fit_relations
from newsner.annotations.store import GOLD, AnnotationStore, UpsertResult
from newsner.corpus.store import Corpus
from newsner.doccano.client import DoccanoClient
from newsner.errors import AnnotationError, DoccanoError, InputError
from newsner.formats.doccano_relations import is_entity_id
from newsner.schema import AnnotationRecord, Article, LabelSchema, Relation, Span
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
    agreed_relations: int = 0
    candidate_relations: int = 0
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
    relations: int = 0
    #: None when nothing was reviewed: the layer is then not written at all.
    written: UpsertResult | None = None
    #: Examples marked done with candidate spans left, and any example that could not be placed in the corpus.
    problems: list[str] = field(default_factory=list)
    #: Relations the curator drew backwards, turned round in gold.
    notes: list[str] = field(default_factory=list)
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


def _ensure_relation_types(client: DoccanoClient, project_id: int, schema: LabelSchema) -> dict[str, int]:
    """The schema's relation types and their candidate twins (``CLAIMED_BY?``, paler) in the review project."""
    existing = {str(t["text"]): int(t["id"]) for t in client.list_relation_types(project_id)}
    for rel in schema.relations:
        for name, color in ((rel.name, rel.color), (rel.name + CANDIDATE, _lighter(rel.color))):
            if name not in existing:
                existing[name] = int(client.create_relation_type(project_id, text=name, background_color=color,
                                                                 text_color="#000000")["id"])
    return existing


@dataclass
class _ReviewDoc:
    """What goes into the review project for one disputed document."""

    line: dict[str, Any]
    agreed_spans: int
    candidate_spans: int
    #: (head (start, end, review label), review type, tail (start, end, review label)), code points.
    relations: list[tuple[tuple[int, int, str], str, tuple[int, int, str]]]
    candidate_relations: int


def _relation_text(key: RelationKey, text: str, kind: str) -> str:
    (hs, he, _), _, (ts, te, _) = key
    return f"{kind} {text[hs:he]!r} → {text[ts:te]!r}"


def _review_doc(article: Article, recs: dict[str, AnnotationRecord]) -> _ReviewDoc:
    disputed, who = disputed_spans(recs)
    disputed_set = set(disputed)
    agreed = sorted(s for s in who if s not in disputed_set)
    omap = OffsetMap(article.text)
    labels = [[*omap.span_to_utf16(s.start, s.end), s.label] for s in agreed]
    labels += [[*omap.span_to_utf16(s.start, s.end), s.label + CANDIDATE] for s in disputed]
    candidates = [f"{s.label}{CANDIDATE} {s.text!r} [{s.start}, {s.end}) — {', '.join(who[s])} "
                  f"({len(who[s])} of {len(recs)})" for s in disputed]
    rel_disputed, rel_who = disputed_relations(recs)
    candidate_keys = set(rel_disputed)
    # A span's label in the review project: plain when every annotator marked it, with "?" otherwise.
    shown = {(s.start, s.end, s.label): s.label + (CANDIDATE if s in disputed_set else "") for s in who}
    relations = []
    for key in sorted(rel_who):
        (hs, he, hl), kind, (ts, te, tl) = key
        shown_kind = kind + (CANDIDATE if key in candidate_keys else "")
        relations.append(((hs, he, shown[(hs, he, hl)]), shown_kind, (ts, te, shown[(ts, te, tl)])))
    candidates += [f"{_relation_text(k, article.text, k[1] + CANDIDATE)} — {', '.join(rel_who[k])} "
                   f"({len(rel_who[k])} of {len(recs)})" for k in rel_disputed]
    # Every line has the same keys: doccano reads a batch into one table, where a missing key becomes NaN.
    line = {"text": article.text, "label": labels, "external_id": article.id, "title": article.title or "",
            "annotators": ", ".join(sorted(recs)), "candidates": "\n".join(candidates)}
    return _ReviewDoc(line, len(agreed), len(disputed), relations, len(rel_disputed))


def _is_disputed(recs: dict[str, AnnotationRecord]) -> bool:
    return bool(disputed_spans(recs)[0] or disputed_relations(recs)[0])


def _draw_relations(client: DoccanoClient, project_id: int, docs: dict[str, tuple[Article, _ReviewDoc]],
                    span_type_ids: dict[str, int], relation_type_ids: dict[str, int]) -> list[str]:
    """Create each document's relations between the spans the import file put in the review project (the calls
    the web UI makes); what cannot be drawn is returned as a problem naming the document."""
    problems: list[str] = []
    wanted = {doc_id for doc_id, (_, doc) in docs.items() if doc.relations}
    if not wanted:
        return problems
    examples = {str((ex.get("meta") or {}).get("external_id")): int(ex["id"])
                for ex in client.iter_examples(project_id)}
    for doc_id in sorted(wanted):
        article, doc = docs[doc_id]
        example_id = examples.get(doc_id)
        if example_id is None:
            problems.append(f"document {doc_id}: not found in the review project after the upload; its "
                            f"{len(doc.relations)} relation(s) were not drawn")
            continue
        omap = OffsetMap(article.text)
        span_ids = {(int(s["start_offset"]), int(s["end_offset"]), int(s["label"])): int(s["id"])
                    for s in client.list_spans(project_id, example_id)}
        for head, kind, tail in doc.relations:
            ends = [span_ids.get((*omap.span_to_utf16(start, end), span_type_ids.get(label, -1)))
                    for start, end, label in (head, tail)]
            type_id = relation_type_ids.get(kind)
            if ends[0] is None or ends[1] is None or type_id is None:
                problems.append(f"document {doc_id}: relation {kind} {article.text[head[0]:head[1]]!r} → "
                                f"{article.text[tail[0]:tail[1]]!r} could not be drawn in the review project "
                                "(a span or the relation type is missing there)")
                continue
            client.create_relation(project_id, example_id, from_id=ends[0], to_id=ends[1], type_id=type_id)
    return problems


def _annotators(workspace: Workspace, store: AnnotationStore, layers: Sequence[str] | None, client: DoccanoClient,
                project: str) -> list[str]:
    """The layers a review compares: `layers` as given, else every annotator layer but the pushing account's when
    this workspace pushed pre-annotations to `project` from it (that layer holds suggestions, not a reading)."""
    names = annotator_layers(store, layers)
    if layers:
        return names
    from newsner.doccano.push_parts import PushState
    from newsner.doccano.sync_common import _server_of

    found = client.find_project(project)
    if found is None:
        return names
    try:
        state = PushState.load(workspace.state_dir, _server_of(client), int(found["id"]))
    except InputError:
        return names
    if not state.suggested:
        return names
    pusher = str(client.me().get("username") or "")
    return [name for name in names if name != pusher]


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
    found_layers = annotator_layers(store, layers)
    if len(found_layers) < 2:  # said before connecting when it is plain already
        raise InputError(f"a review needs at least two annotator layers; found {', '.join(found_layers) or 'none'} "
                         "(pull or import more annotators' work, or name layers with --layers)")
    schema = workspace.label_schema()
    corpus = Corpus(workspace.corpus_dir)
    corpus.require()
    owns = client is None
    if client is None:
        from newsner.doccano.config import connect

        client = connect(workspace)
    try:
        names = _annotators(workspace, store, layers, client, project)
        if len(names) < 2:
            raise InputError(f"a review needs at least two annotator layers; found {', '.join(names) or 'none'} "
                             "(pull or import more annotators' work, or name layers with --layers)")
        shared = shared_documents(load_layers(store, names, include_unconfirmed))
        disputed = {d: recs for d, recs in shared.items() if _is_disputed(recs)}
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
                collaborative=True, allow_overlapping=True, use_relation=bool(schema.relations))
        elif schema.relations and not found.get("use_relation"):
            client.update_project(int(found["id"]), use_relation=True)  # a review project made before relations
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
        relation_type_ids = _ensure_relation_types(client, project_id, schema) if schema.relations else {}
        present = {str((ex.get("meta") or {}).get("external_id")) for ex in client.iter_examples(project_id)}
        articles = corpus.get_many(set(disputed) - present)
        lines: list[str] = []
        sent: dict[str, tuple[Article, _ReviewDoc]] = {}
        for doc_id in sorted(disputed):
            if doc_id in present:
                report.already_there += 1
                continue
            article = articles.get(doc_id)
            recs = disputed[doc_id]
            if article is None or article.text_sha256 != next(iter(recs.values())).text_sha256:
                report.problems.append(f"document {doc_id}: not in the corpus with the annotated text; not sent")
                continue
            doc = _review_doc(article, recs)
            report.agreed_spans += doc.agreed_spans
            report.candidate_spans += doc.candidate_spans
            report.candidate_relations += doc.candidate_relations
            report.agreed_relations += len(doc.relations) - doc.candidate_relations
            sent[doc_id] = (article, doc)
            lines.append(json.dumps(doc.line, ensure_ascii=True, separators=(",", ":")))
        if lines:
            if progress:
                progress("uploading to doccano", 0, len(lines))
            client.import_jsonl(project_id, ("\n".join(lines) + "\n").encode("ascii"), filename="review.jsonl")
            report.added = len(lines)
            if progress:
                progress("uploading to doccano", len(lines), len(lines))
            # The import file carries spans only: relations are drawn per example between the spans now there.
            span_type_ids = {str(t["text"]): int(t["id"]) for t in client.list_span_types(project_id)}
            report.problems += _draw_relations(client, project_id, sent, span_type_ids, relation_type_ids)
        return report
    finally:
        if owns:
            client.close()


def _resolved(line: dict[str, Any], article: Article, unit: str, schema: LabelSchema
              ) -> tuple[list[Span], list[Relation], list[str]]:
    """A done example's spans and relations (code points, relations over the sorted spans), and the candidates
    (or labels outside the schema) still left in it. Raises AnnotationError/ValueError/TypeError for a span
    that does not fit the text."""
    conv = UnitConverter(article.text, unit)
    left: list[str] = []
    # A relation project exports `entities` [{id, label, start_offset, end_offset}] and `relations`; else `label`.
    entities = line.get("entities")
    raw = ([(e.get("id"), e.get("start_offset"), e.get("end_offset"), e.get("label")) if isinstance(e, dict)
            else (None, None, None, None) for e in entities]
           if isinstance(entities, list) else [(None, *item) for item in line.get("label") or []])
    by_entity: dict[Any, Span] = {}
    spans: list[Span] = []
    for ent_id, start, end, label in raw:
        s, e = conv.span(int(start), int(end))
        span = Span(s, e, str(label).removesuffix(CANDIDATE), article.text[s:e])
        if str(label).endswith(CANDIDATE):
            left.append(f"{label} {span.text!r}")
        elif label not in schema.names:
            left.append(f"{label} {span.text!r} (not in the label schema)")
        else:
            spans.append(span)
        if is_entity_id(ent_id):
            by_entity[ent_id] = span
    ordered = sorted(set(spans))
    index = {span: i for i, span in enumerate(ordered)}
    relations: list[Relation] = []
    for rel in line.get("relations") or [] if isinstance(entities, list) else []:
        kind = str(rel.get("type")) if isinstance(rel, dict) else "?"
        head = by_entity.get(rel.get("from_id")) if isinstance(rel, dict) and is_entity_id(rel.get("from_id")) \
            else None
        tail = by_entity.get(rel.get("to_id")) if isinstance(rel, dict) and is_entity_id(rel.get("to_id")) else None
        if head is None or tail is None:
            left.append(f"relation {kind} between spans that are not in the example (unreadable)")
            continue
        what = f"{kind} {head.text!r} → {tail.text!r}"
        if kind.endswith(CANDIDATE):
            left.append(f"relation {what}")
        elif kind not in schema.relation_names:
            left.append(f"relation {what} (not a relation type of the label schema)")
        elif head in index and tail in index:
            relations.append(Relation(index[head], index[tail], kind))
        # a relation to a candidate span: that span is already listed as left
    return ordered, relations, left


def pull_review(workspace: Workspace, *, project: str | None = None, review_project: str | None = None,
                out_layer: str = GOLD, layers: Sequence[str] | None = None, include_unconfirmed: bool = False,
                client: DoccanoClient | None = None) -> ReviewPullReport:
    """Write the curator's resolved examples into `out_layer` (default gold) and report agreement before/after.

    Agreement compares the annotator layers' confirmed records (unconfirmed too with `include_unconfirmed`, as
    for the push). Nothing reviewed yet: the layer is not written (`written` stays None).

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
            try:
                spans, relations, left = _resolved(line, article, unit, schema)
            except (AnnotationError, ValueError, TypeError) as exc:
                report.problems.append(f"example {line['id']} ({ext}): a span does not fit the text ({exc})")
                continue
            if left:
                n_rel = sum(item.startswith("relation ") for item in left)
                counts = [f"{n} candidate {what}" for n, what in ((len(left) - n_rel, "span(s)"),
                                                                  (n_rel, "relation(s)")) if n]
                report.problems.append(f"example {line['id']} ({ext}) is marked done but still has "
                                       f"{' and '.join(counts)}: {', '.join(left)}; resolve them in doccano and "
                                       "pull again")
                continue
            fit = fit_relations(spans, relations, schema, where=f"example {line['id']} ({ext})")
            report.notes += [f"{note}; turned round in {out_layer}" for note in fit.turned]
            report.problems += fit.problems
            report.reviewed += 1
            report.spans += len(spans)
            report.relations += len(fit.relations)
            records.append(AnnotationRecord(doc_id=ext, text_sha256=article.text_sha256, annotator=out_layer,
                                            spans=spans, relations=fit.relations, status="confirmed",
                                            origin={"reviewed": "doccano", "server": client.base_url,
                                                    "project": name, "example_id": int(line["id"])}))
        names = [layer for layer in _annotators(workspace, store, layers, client, project) if layer != out_layer]
    finally:
        if owns:
            client.close()
    if records:  # nothing reviewed: no (empty) layer is written
        report.written = store.upsert(out_layer, records)
    if len(names) >= 2:
        report.before = agreement_report(workspace, names, include_unconfirmed=include_unconfirmed)
    if names and store.path(out_layer).exists():
        report.after = agreement_report(workspace, [*names, out_layer], include_unconfirmed=include_unconfirmed)
    return report
