"""The pieces of a push that do not talk to doccano: the import file (UTF-16 offsets), pre-annotations read from
files, the index of a project's examples (duplicates), and the state a push keeps across crashes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsner._io import atomic_write_text, dumps, loads, read_jsonl
from newsner.doccano.offsets import OffsetMap
from newsner.doccano.sync_common import META_FIELDS, Problem
from newsner.errors import AnnotationError, InputError, SchemaError
from newsner.schema import AnnotationRecord, Article, LabelSchema, Relation, Span, text_sha256


# ================================================================================ corpus -> import file
def import_line(article: Article, spans: Sequence[Span] = (), *,
                relations: Sequence[Relation] | None = None) -> str:
    """One line of doccano's JSONL import: text, labels (UTF-16 offsets) and the meta annotators see.

    Without `relations`: the "JSONL" shape, `label` [[start, end, NAME], ...]. With `relations` (possibly
    empty; for a project with `use_relation`): the "JSONL(Relation)" shape, `entities` [{id, start_offset,
    end_offset, label}] and `relations` [{id, from_id, to_id, type}] between entity ids of the line, where a
    relation's head/tail index `sorted(spans)` as in AnnotationRecord.

    The line is pure ASCII (non-ASCII escaped): doccano guesses the file's encoding with chardet, and an ASCII
    file cannot be guessed wrong; line separators such as U+2028 inside the text cannot split a line either.
    The label keys and every meta key are always present (null when unknown): doccano reads a batch of lines
    into one pandas DataFrame, where a key missing from some lines becomes NaN, which is not JSON, and SQLite
    then refuses the whole batch (CHECK constraint JSON_VALID(meta)).
    """
    ordered = sorted(spans)
    omap = OffsetMap(article.text) if ordered else None
    units = [omap.span_to_utf16(s.start, s.end) for s in ordered] if omap else []
    record: dict[str, Any] = {"text": article.text}
    if relations is None:
        record["label"] = [[*units[i], s.label] for i, s in enumerate(ordered)]
    else:
        # One entity per distinct span; a relation names the entity of its span (equal spans share one).
        entity_of: dict[Span, int] = {}
        entities: list[dict[str, Any]] = []
        for span, (start, end) in zip(ordered, units, strict=True):
            if span not in entity_of:
                entity_of[span] = len(entities)
                entities.append({"id": len(entities), "start_offset": start, "end_offset": end, "label": span.label})
        record["entities"] = entities
        record["relations"] = [{"id": k, "from_id": entity_of[ordered[r.head]], "to_id": entity_of[ordered[r.tail]],
                                "type": r.type} for k, r in enumerate(sorted(set(relations)))]
    record["external_id"] = article.id
    for key in META_FIELDS:
        record[key] = getattr(article, key)
    return json.dumps(record, ensure_ascii=True, separators=(",", ":"))


def build_import_jsonl(articles: Iterable[Article], suggestions: Mapping[str, AnnotationRecord], *,
                       relations: Mapping[str, Sequence[Relation]] | None = None) -> bytes:
    """An import file: one `import_line` per article with its pre-annotated spans. With `relations` (article id
    -> the relations to carry; absent ids carry none), every line takes the "JSONL(Relation)" shape."""
    lines = [import_line(a, suggestions[a.id].spans if a.id in suggestions else (),
                         relations=None if relations is None else relations.get(a.id, ()))
             for a in articles]
    return ("\n".join(lines) + "\n").encode("ascii") if lines else b""


# ============================================================================== pre-annotations (input)
def load_suggestions(paths: Sequence[Path], articles: Mapping[str, Article], schema: LabelSchema, *,
                     allow_overlapping: bool = False) -> dict[str, AnnotationRecord]:
    """Read AnnotationRecord files to push as pre-annotations, checking each against the corpus and schema.

    Raises AnnotationError naming file:line and the document for: a document not in the corpus, a record made
    on another version of the text, a label the schema lacks, a span that does not fit the text, overlapping
    spans (doccano's import would drop one of them silently), two records for one document.
    """
    names = set(schema.names)
    out: dict[str, AnnotationRecord] = {}
    where_of: dict[str, str] = {}
    for path in paths:
        for lineno, obj in read_jsonl(Path(path)):
            where = f"{path}:{lineno}"
            try:
                record = AnnotationRecord.from_dict(obj, where=where)
            except SchemaError as exc:
                raise AnnotationError(str(exc)) from None
            doc = f"{where}: document {record.doc_id}"
            article = articles.get(record.doc_id)
            if article is None:
                raise AnnotationError(f"{doc} is not in the corpus; ingest it first or drop the record")
            if record.text_sha256 != article.text_sha256:
                raise AnnotationError(f"{doc}: the record was made on another version of the text "
                                      "(text_sha256 differs from the corpus); re-annotate it")
            for span in record.spans:
                if span.label not in names:
                    raise AnnotationError(f"{doc}: label {span.label!r} is not in the label schema "
                                          f"({', '.join(schema.names)}); add it to labels.json or map it")
            try:
                for span in record.spans:
                    span.check(article.text, where=doc)
            except SchemaError as exc:
                raise AnnotationError(str(exc)) from None
            if not allow_overlapping:
                ordered = sorted(record.spans)
                for a, b in zip(ordered, ordered[1:], strict=False):
                    if b.start < a.end:
                        raise AnnotationError(
                            f"{doc}: spans [{a.start}, {a.end}) {a.label} and [{b.start}, {b.end}) {b.label} "
                            "overlap, which the doccano project does not allow; keep one of them")
            if record.doc_id in out:
                raise AnnotationError(f"{doc} already has a record at {where_of[record.doc_id]}; "
                                      "push one record per document (one layer at a time)")
            out[record.doc_id] = record
            where_of[record.doc_id] = where
    return out


def suggestion_fingerprint(record: AnnotationRecord) -> str:
    """Identifies what was pushed for a document: text hash, spans and status (not the annotator)."""
    payload: list[Any] = [record.text_sha256, record.status, [[s.start, s.end, s.label] for s in sorted(record.spans)]]
    if record.relations:  # appended only when present: fingerprints of records without relations do not change
        payload.append([[r.head, r.tail, r.type] for r in sorted(set(record.relations))])
    return hashlib.sha256(dumps(payload).encode("utf-8")).hexdigest()[:20]


# ===================================================================================== example index
@dataclass
class ExampleInfo:
    id: int
    text_sha256: str
    has_work: bool  # confirmed by the pusher, commented, or approved: never deleted as a duplicate


@dataclass
class ExampleIndex:
    by_article: dict[str, list[ExampleInfo]] = field(default_factory=dict)
    foreign: list[int] = field(default_factory=list)  # examples without an external_id
    total: int = 0

    def first(self, doc_id: str) -> ExampleInfo:
        return self.by_article[doc_id][0]


def index_examples(examples: Iterable[Mapping[str, Any]]) -> ExampleIndex:
    """Group listed examples by meta.external_id (ascending example id: oldest first)."""
    index = ExampleIndex()
    for ex in examples:
        index.total += 1
        meta = ex.get("meta") or {}
        ext = meta.get("external_id") if isinstance(meta, Mapping) else None
        info = ExampleInfo(
            id=int(ex["id"]), text_sha256=text_sha256(str(ex.get("text") or "")),
            has_work=bool(ex.get("is_confirmed") or ex.get("comment_count") or ex.get("annotation_approver")))
        if isinstance(ext, str) and ext:
            index.by_article.setdefault(ext, []).append(info)
        else:
            index.foreign.append(info.id)
    for infos in index.by_article.values():
        infos.sort(key=lambda i: i.id)
    return index


def plan_duplicates(index: ExampleIndex) -> tuple[list[int], list[Problem]]:
    """Example ids to delete so each article has one example, and the groups that need a human.

    Keeps the oldest copy, or the copy that carries work; copies with work are never deleted (two such copies
    are reported instead). The duplicates push itself can create come from an interrupted batch, moments old.
    """
    delete: list[int] = []
    problems: list[Problem] = []
    for doc_id, infos in index.by_article.items():
        if len(infos) < 2:
            continue
        worked = [i for i in infos if i.has_work]
        keep = worked[0] if worked else infos[0]
        delete += [i.id for i in infos if i is not keep and not i.has_work]
        if len(worked) > 1:
            problems.append(Problem("duplicate", f"{len(worked)} examples ({', '.join(str(i.id) for i in worked)}) "
                                    "hold this article and carry work; merge them in doccano by hand",
                                    doc_id=doc_id))
    return sorted(delete), problems


def _drop_examples(index: ExampleIndex, ids: Iterable[int]) -> None:
    gone = set(ids)
    for doc_id in list(index.by_article):
        kept = [i for i in index.by_article[doc_id] if i.id not in gone]
        if kept:
            index.by_article[doc_id] = kept
        else:
            del index.by_article[doc_id]
    index.total -= len(gone)


# ======================================================================================== push state
@dataclass
class PushState:
    """What a push must remember across crashes, per server and project (.newsner/doccano-sync/push-*.json)."""

    path: Path
    server: str
    project_id: int
    in_flight: list[str] = field(default_factory=list)  # article ids of a batch whose import may be running
    suggested: dict[str, str] = field(default_factory=dict)  # article id -> fingerprint of pushed suggestions
    # A --select round chosen but not yet recorded (the push stopped before the end): a rerun finishes it.
    pending_round: dict[str, Any] | None = None

    @classmethod
    def location(cls, state_dir: Path, server: str, project_id: int) -> Path:
        key = hashlib.sha256(f"{server.rstrip('/')}|{project_id}".encode()).hexdigest()[:12]
        return state_dir / "doccano-sync" / f"push-{key}.json"

    @classmethod
    def load(cls, state_dir: Path, server: str, project_id: int) -> PushState:
        path = cls.location(state_dir, server, project_id)
        state = cls(path=path, server=server, project_id=project_id)
        if not path.exists():
            return state
        try:
            data = loads(path.read_bytes())
            state.in_flight = [str(x) for x in data.get("in_flight", [])]
            state.suggested = {str(k): str(v) for k, v in data.get("suggested", {}).items()}
            pending = data.get("pending_round")
            state.pending_round = dict(pending) if isinstance(pending, dict) else None
        except (ValueError, AttributeError, OSError) as exc:
            raise InputError(f"{path}: unreadable push state ({exc}); delete the file and push again "
                             "(pre-annotations are then checked example by example)") from None
        return state

    def save(self) -> None:
        atomic_write_text(self.path, dumps({"server": self.server, "project_id": self.project_id,
                                            "in_flight": self.in_flight, "suggested": self.suggested,
                                            **({"pending_round": self.pending_round} if self.pending_round
                                               else {})}) + "\n")
