"""The data contracts: Article, Span, AnnotationRecord and LabelSchema.

Every file newsner writes or reads between steps holds these shapes (one JSON object a line).
Offsets are Python code points over the Article's `text` (NFC-normalized); `text[start:end] == span.text`
always holds for a valid span.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from newsner.errors import SchemaError

#: Bumped when the Article or AnnotationRecord shape changes incompatibly.
CONTRACT_VERSION = 1

#: The default label order. The order fixes ClassLabel ids, spaCy labels and doccano span types;
#: it never comes from the data. annotations/labels.json is the authority, this is its default.
DEFAULT_LABELS: tuple[str, ...] = ("ACTOR", "LOCATION", "CASUALTY", "CLAIM_SOURCE")

ARTICLE_FIELDS = (
    "id", "text", "title", "url", "source", "published", "language",
    "text_sha256", "provenance", "duplicate_of", "meta",
)

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ][0-9:.+\-Z]*)?$")


def text_sha256(text: str) -> str:
    """SHA-256 (hex) of the UTF-8 bytes of `text`: the hash every record uses to pin its text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def article_id(text: str) -> str:
    """Stable article id derived from the normalized text, so re-ingesting the same article is a no-op."""
    return text_sha256(text)[:16]


# --------------------------------------------------------------------------------------------- Article
@dataclass
class Article:
    """One news article in the corpus (one line of corpus/*.jsonl)."""

    id: str
    text: str
    title: str | None = None
    url: str | None = None
    source: str | None = None
    published: str | None = None
    language: str | None = None
    text_sha256: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)
    duplicate_of: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_text(cls, text: str, **fields: Any) -> Article:
        """Build an Article from already-normalized text; id and hash are derived from it."""
        return cls(id=article_id(text), text=text, text_sha256=text_sha256(text), **fields)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str = "record") -> Article:
        """Parse and validate one corpus record; SchemaError names `where` and the field."""
        problems = validate_article_dict(data)
        if problems:
            raise SchemaError(f"{where}: {problems[0]}")
        known = {k: data[k] for k in ARTICLE_FIELDS if k in data}
        return cls(**known)


def validate_article_dict(data: Any) -> list[str]:
    """Every way `data` breaks the Article contract, as readable messages (empty when valid)."""
    if not isinstance(data, Mapping):
        return [f"expected a JSON object, got {type(data).__name__}"]
    problems: list[str] = []
    for key in ("id", "text", "text_sha256"):
        if not isinstance(data.get(key), str) or not data.get(key):
            problems.append(f"field '{key}' must be a non-empty string")
    for key in ("title", "url", "source", "published", "language", "duplicate_of"):
        if data.get(key) is not None and not isinstance(data.get(key), str):
            problems.append(f"field '{key}' must be a string or null")
    for key in ("provenance", "meta"):
        if key in data and not isinstance(data[key], Mapping):
            problems.append(f"field '{key}' must be an object")
    unknown = sorted(set(data) - set(ARTICLE_FIELDS))
    if unknown:
        problems.append(f"unknown field(s) {', '.join(unknown)} (put extra input metadata under 'meta')")
    text = data.get("text")
    if isinstance(text, str) and text and isinstance(data.get("text_sha256"), str):
        if text_sha256(text) != data["text_sha256"]:
            problems.append("field 'text_sha256' does not match the text (was the text edited by hand?)")
        elif data.get("id") != article_id(text):
            problems.append(f"field 'id' should be {article_id(text)!r}, derived from the text")
    published = data.get("published")
    if isinstance(published, str) and not _ISO_DATE.match(published):
        problems.append(f"field 'published' must be an ISO date (YYYY-MM-DD), got {published!r}")
    return problems


# ------------------------------------------------------------------------------------- Span / Record
@dataclass(frozen=True, order=True)
class Span:
    """A labelled character span; offsets are Python code points, end exclusive.

    `source` (e.g. "patterns", "model:baseline") and `score` (the model's confidence, 0..1) are set on
    suggestions only; they are written when present and never take part in equality or ordering, so a
    suggestion and a human span at the same place with the same label are the same span.
    """

    start: int
    end: int
    label: str
    text: str
    source: str | None = field(default=None, compare=False)
    score: float | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"start": self.start, "end": self.end, "label": self.label, "text": self.text}
        if self.source is not None:
            out["source"] = self.source
        if self.score is not None:
            out["score"] = self.score
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str = "span") -> Span:
        try:
            start, end, label = data["start"], data["end"], data["label"]
        except (KeyError, TypeError) as exc:
            raise SchemaError(f"{where}: a span needs start, end and label (missing {exc})") from None
        if not (isinstance(start, int) and isinstance(end, int)) or isinstance(start, bool):
            raise SchemaError(f"{where}: span offsets must be integers, got {start!r}, {end!r}")
        if not isinstance(label, str) or not label:
            raise SchemaError(f"{where}: span label must be a non-empty string")
        source, score = data.get("source"), data.get("score")
        if source is not None and not isinstance(source, str):
            raise SchemaError(f"{where}: span 'source' must be a string, got {source!r}")
        if score is not None and (isinstance(score, bool) or not isinstance(score, (int, float))):
            raise SchemaError(f"{where}: span 'score' must be a number, got {score!r}")
        return cls(start=start, end=end, label=label, text=str(data.get("text", "")), source=source,
                   score=None if score is None else float(score))

    def check(self, text: str, *, where: str = "span") -> None:
        """Raise SchemaError unless 0 <= start < end <= len(text) and text[start:end] == self.text."""
        if not 0 <= self.start < self.end <= len(text):
            raise SchemaError(
                f"{where}: span [{self.start}, {self.end}) {self.label} is outside the text "
                f"(length {len(text)})")
        if text[self.start:self.end] != self.text:
            raise SchemaError(
                f"{where}: span [{self.start}, {self.end}) {self.label} reads "
                f"{text[self.start:self.end]!r} in the text but the record says {self.text!r}")


ANNOTATION_STATUSES = ("confirmed", "unconfirmed")


@dataclass(frozen=True, order=True)
class Relation:
    """A typed, directed link between two spans of one record (e.g. CASUALTY --CLAIMED_BY--> CLAIM_SOURCE).

    `head` and `tail` index into the record's spans **in sorted order** (the order `AnnotationRecord.to_dict`
    writes them), so a record file is self-contained: no span ids to keep in sync.
    """

    head: int
    tail: int
    type: str

    def to_dict(self) -> dict[str, Any]:
        return {"head": self.head, "tail": self.tail, "type": self.type}

    @classmethod
    def from_dict(cls, data: Any, *, where: str = "relation") -> Relation:
        if not isinstance(data, Mapping):
            raise SchemaError(f"{where}: a relation must be an object with head, tail and type")
        head, tail, type_ = data.get("head"), data.get("tail"), data.get("type")
        for name, value in (("head", head), ("tail", tail)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise SchemaError(f"{where}: relation '{name}' must be a span index (integer >= 0), got {value!r}")
        if not isinstance(type_, str) or not type_:
            raise SchemaError(f"{where}: relation 'type' must be a non-empty string")
        return cls(head=int(head), tail=int(tail), type=type_)  # type: ignore[arg-type]  # checked above


@dataclass
class AnnotationRecord:
    """One document's spans from one annotator (or the adjudicated `gold` layer)."""

    doc_id: str
    text_sha256: str
    annotator: str
    spans: list[Span] = field(default_factory=list)
    status: str = "unconfirmed"
    origin: dict[str, Any] = field(default_factory=dict)
    #: Links between spans; indices into `sorted_spans()`. Written only when non-empty, so records without
    #: relations keep their bytes.
    relations: list[Relation] = field(default_factory=list)

    def sorted_spans(self) -> list[Span]:
        """The spans in the order `to_dict` writes them: the order relation indices refer to."""
        return sorted(self.spans)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "doc_id": self.doc_id,
            "text_sha256": self.text_sha256,
            "annotator": self.annotator,
            "spans": [s.to_dict() for s in sorted(self.spans)],
            "status": self.status,
            "origin": self.origin,
        }
        if self.relations:
            out["relations"] = [r.to_dict() for r in sorted(set(self.relations))]
        return out

    @classmethod
    def from_dict(cls, data: Any, *, where: str = "record") -> AnnotationRecord:
        if not isinstance(data, Mapping):
            raise SchemaError(f"{where}: expected a JSON object, got {type(data).__name__}")
        for key in ("doc_id", "text_sha256", "annotator"):
            if not isinstance(data.get(key), str) or not data.get(key):
                raise SchemaError(f"{where}: field '{key}' must be a non-empty string")
        status = data.get("status", "unconfirmed")
        if status not in ANNOTATION_STATUSES:
            raise SchemaError(f"{where}: field 'status' must be one of {', '.join(ANNOTATION_STATUSES)}")
        raw_spans = data.get("spans", [])
        if not isinstance(raw_spans, list):
            raise SchemaError(f"{where}: field 'spans' must be a list")
        spans = [Span.from_dict(s, where=f"{where} span {i}") for i, s in enumerate(raw_spans)]
        origin = data.get("origin", {})
        raw_relations = data.get("relations", [])
        if not isinstance(raw_relations, list):
            raise SchemaError(f"{where}: field 'relations' must be a list")
        relations = [Relation.from_dict(r, where=f"{where} relation {i}") for i, r in enumerate(raw_relations)]
        for i, rel in enumerate(relations):
            if rel.head >= len(spans) or rel.tail >= len(spans):
                raise SchemaError(f"{where} relation {i}: {rel.type} links span {rel.head} to span {rel.tail} "
                                  f"but the record has {len(spans)} span(s) (indices count from 0)")
        return cls(doc_id=data["doc_id"], text_sha256=data["text_sha256"], annotator=data["annotator"],
                   spans=spans, status=status, origin=dict(origin) if isinstance(origin, Mapping) else {},
                   relations=relations)

    def check(self, text: str, *, where: str | None = None) -> None:
        """Raise SchemaError naming the document unless every span fits `text` and the hash matches."""
        where = where or f"document {self.doc_id} ({self.annotator})"
        if text_sha256(text) != self.text_sha256:
            raise SchemaError(f"{where}: the record was made on another version of the text "
                              "(text_sha256 differs from the corpus)")
        for span in self.spans:
            span.check(text, where=where)
        n = len(self.spans)
        for rel in self.relations:
            if not (0 <= rel.head < n and 0 <= rel.tail < n):
                raise SchemaError(f"{where}: relation {rel.type} links span {rel.head} to span {rel.tail} "
                                  f"but the record has {n} span(s)")


# -------------------------------------------------------------------------------------- LabelSchema
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_LABEL_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
_LABEL_KEYS = {"name", "description", "color", "text_color", "shortcut", "examples"}
_RELATION_KEYS = {"name", "head", "tail", "description", "color"}


@dataclass(frozen=True)
class Label:
    name: str
    description: str
    color: str
    shortcut: str
    text_color: str = "#ffffff"
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class RelationType:
    """A relation type of the schema: which span labels may stand at its head and at its tail."""

    name: str
    head: tuple[str, ...]
    tail: tuple[str, ...]
    description: str
    color: str


@dataclass(frozen=True)
class LabelSchema:
    """The ordered label set (annotations/labels.json). The order fixes every integer id downstream.

    `relations` is ordered too: its order fixes the ClassLabel ids of a dataset's relation types.
    """

    version: int
    labels: tuple[Label, ...]
    guidelines: str = ""
    relations: tuple[RelationType, ...] = ()
    #: A pretrained pipeline's labels → this schema's ("GPE" → "LOCATION"); labels not listed are not suggested.
    base_map: tuple[tuple[str, str], ...] = ()

    @property
    def relation_names(self) -> list[str]:
        return [rel.name for rel in self.relations]

    def relation(self, name: str) -> RelationType:
        for rel in self.relations:
            if rel.name == name:
                return rel
        raise SchemaError(f"relation type {name!r} is not in the label schema "
                          f"({', '.join(self.relation_names) or 'none defined'})")

    @property
    def names(self) -> list[str]:
        return [label.name for label in self.labels]

    def bio_tags(self) -> list[str]:
        """IOB2 tag names in schema order: O, B-X, I-X, B-Y, I-Y, ... (ClassLabel names)."""
        tags = ["O"]
        for name in self.names:
            tags += [f"B-{name}", f"I-{name}"]
        return tags

    def get(self, name: str) -> Label:
        for label in self.labels:
            if label.name == name:
                return label
        raise SchemaError(f"label {name!r} is not in the label schema ({', '.join(self.names)})")

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "guidelines": self.guidelines,
            "labels": [
                {"name": lb.name, "description": lb.description, "color": lb.color,
                 "text_color": lb.text_color, "shortcut": lb.shortcut, "examples": list(lb.examples)}
                for lb in self.labels
            ],
            **({"relations": [
                {"name": r.name, "head": list(r.head), "tail": list(r.tail), "description": r.description,
                 "color": r.color}
                for r in self.relations
            ]} if self.relations else {}),
            **({"base_map": dict(self.base_map)} if self.base_map else {}),
        }

    @classmethod
    def from_dict(cls, data: Any, *, where: str = "labels.json") -> LabelSchema:
        if not isinstance(data, Mapping):
            raise SchemaError(f"{where}: expected a JSON object with 'version' and 'labels'")
        unknown = sorted(set(data) - {"version", "labels", "guidelines", "relations", "base_map", "$schema"})
        if unknown:
            raise SchemaError(f"{where}: unknown key(s) {', '.join(unknown)}")
        version = data.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise SchemaError(f"{where}: 'version' must be a positive integer")
        raw = data.get("labels")
        if not isinstance(raw, list) or not raw:
            raise SchemaError(f"{where}: 'labels' must be a non-empty list")
        labels: list[Label] = []
        seen_names: set[str] = set()
        seen_keys: set[str] = set()
        for i, item in enumerate(raw):
            at = f"{where}: labels[{i}]"
            if not isinstance(item, Mapping):
                raise SchemaError(f"{at} must be an object")
            extra = sorted(set(item) - _LABEL_KEYS)
            if extra:
                raise SchemaError(f"{at}: unknown key(s) {', '.join(extra)}")
            name = item.get("name")
            if not isinstance(name, str) or not _LABEL_NAME.match(name):
                raise SchemaError(f"{at}.name must be UPPER_CASE letters, digits and _, got {name!r}")
            if name in seen_names:
                raise SchemaError(f"{at}.name {name!r} is a duplicate")
            seen_names.add(name)
            at = f"{where}: label {name}"
            desc = item.get("description")
            if not isinstance(desc, str) or not desc.strip():
                raise SchemaError(f"{at}: 'description' (the guideline) must be non-empty text")
            for key in ("color", "text_color"):
                value = item.get(key, "#ffffff" if key == "text_color" else None)
                if not isinstance(value, str) or not _COLOUR.match(value):
                    raise SchemaError(f"{at}: '{key}' must be a colour like #1f77b4, got {value!r}")
            key_ = item.get("shortcut")
            if not (isinstance(key_, str) and len(key_) == 1
                    and (key_.isdigit() or (key_.isascii() and key_.isalpha() and key_.islower()))):
                raise SchemaError(f"{at}: 'shortcut' must be one lower-case letter or digit, got {key_!r}")
            if key_ in seen_keys:
                raise SchemaError(f"{at}: shortcut {key_!r} is already used by another label")
            seen_keys.add(key_)
            examples = item.get("examples", [])
            if not isinstance(examples, list) or not all(isinstance(e, str) for e in examples):
                raise SchemaError(f"{at}: 'examples' must be a list of strings")
            labels.append(Label(name=name, description=desc.strip(), color=item["color"],
                                text_color=item.get("text_color", "#ffffff"), shortcut=key_,
                                examples=tuple(examples)))
        guidelines = data.get("guidelines", "")
        if not isinstance(guidelines, str):
            raise SchemaError(f"{where}: 'guidelines' must be text")
        relations = _relation_types(data.get("relations", []), seen_names, where=where)
        base_map = data.get("base_map", {})
        if not isinstance(base_map, Mapping) or not all(isinstance(k, str) and v in seen_names
                                                         for k, v in base_map.items()):
            raise SchemaError(f"{where}: 'base_map' must map a pretrained pipeline's labels to labels of this "
                              f"schema ({', '.join(sorted(seen_names))}), e.g. {{\"GPE\": \"LOCATION\"}}")
        return cls(version=version, labels=tuple(labels), guidelines=guidelines, relations=relations,
                   base_map=tuple(base_map.items()))


def _relation_types(raw: Any, label_names: set[str], *, where: str) -> tuple[RelationType, ...]:
    """Validate the 'relations' list of labels.json: names, head/tail labels that exist, a guideline line."""
    if not isinstance(raw, list):
        raise SchemaError(f"{where}: 'relations' must be a list")
    out: list[RelationType] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        at = f"{where}: relations[{i}]"
        if not isinstance(item, Mapping):
            raise SchemaError(f"{at} must be an object")
        extra = sorted(set(item) - _RELATION_KEYS)
        if extra:
            raise SchemaError(f"{at}: unknown key(s) {', '.join(extra)}")
        name = item.get("name")
        if not isinstance(name, str) or not _LABEL_NAME.match(name):
            raise SchemaError(f"{at}.name must be UPPER_CASE letters, digits and _, got {name!r}")
        if name in seen or name in label_names:
            raise SchemaError(f"{at}.name {name!r} is a duplicate (relation and label names must all differ)")
        seen.add(name)
        at = f"{where}: relation {name}"
        ends: dict[str, tuple[str, ...]] = {}
        for end in ("head", "tail"):
            value = item.get(end)
            value = [value] if isinstance(value, str) else value
            if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
                raise SchemaError(f"{at}: '{end}' must be a label name or a non-empty list of label names")
            missing = [v for v in value if v not in label_names]
            if missing:
                raise SchemaError(f"{at}: '{end}' names {', '.join(missing)}, not a label of this schema "
                                  f"({', '.join(sorted(label_names))})")
            ends[end] = tuple(value)
        desc = item.get("description")
        if not isinstance(desc, str) or not desc.strip():
            raise SchemaError(f"{at}: 'description' (the guideline line) must be non-empty text")
        color = item.get("color")
        if not isinstance(color, str) or not _COLOUR.match(color):
            raise SchemaError(f"{at}: 'color' must be a colour like #1f77b4, got {color!r}")
        out.append(RelationType(name=name, head=ends["head"], tail=ends["tail"], description=desc.strip(),
                                color=color))
    return tuple(out)


def default_label_schema_path() -> Path:
    """The label schema shipped with the package (annotations/labels.json in the repo points to it)."""
    return Path(__file__).parent / "data" / "labels.json"


def load_label_schema(path: Path) -> LabelSchema:
    """Read and validate annotations/labels.json; SchemaError names the file and the field."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SchemaError(f"{path}: label schema not found (newsner ships one in annotations/labels.json; "
                          "copy it into your workspace)") from None
    except OSError as exc:
        raise SchemaError(f"{path}: cannot read the label schema ({exc.strerror})") from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SchemaError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    return LabelSchema.from_dict(data, where=str(path))


def check_labels(spans: Iterable[Span], schema: LabelSchema, *, where: str) -> None:
    """Raise SchemaError naming the label and document for a span whose label the schema lacks."""
    names = set(schema.names)
    for span in spans:
        if span.label not in names:
            raise SchemaError(f"{where}: label {span.label!r} is not in the label schema "
                              f"({', '.join(schema.names)}); map it with --map or add it to labels.json")


def relation_problems(record: AnnotationRecord, schema: LabelSchema, *, where: str | None = None) -> list[str]:
    """Every way `record.relations` breaks the schema, each message naming the document.

    Checks that indices are in range, the type exists, and the head/tail span labels are allowed for it.
    """
    where = where or f"document {record.doc_id} ({record.annotator})"
    spans = record.sorted_spans()
    problems: list[str] = []
    types = {r.name: r for r in schema.relations}
    for rel in record.relations:
        what = f"{where}: relation {rel.type} {rel.head}->{rel.tail}"
        if not (0 <= rel.head < len(spans) and 0 <= rel.tail < len(spans)):
            problems.append(f"{what} points past the {len(spans)} span(s) of the record")
            continue
        if rel.head == rel.tail:
            problems.append(f"{what} links a span to itself")
        rtype = types.get(rel.type)
        if rtype is None:
            problems.append(f"{what}: type not in the label schema "
                            f"({', '.join(schema.relation_names) or 'no relation types defined'})")
            continue
        head, tail = spans[rel.head], spans[rel.tail]
        if head.label not in rtype.head:
            problems.append(f"{what}: head {head.text!r} is {head.label}, {rel.type} needs "
                            f"{' or '.join(rtype.head)}")
        if tail.label not in rtype.tail:
            problems.append(f"{what}: tail {tail.text!r} is {tail.label}, {rel.type} needs "
                            f"{' or '.join(rtype.tail)}")
    return problems


def check_relations(record: AnnotationRecord, schema: LabelSchema, *, where: str | None = None) -> None:
    """Raise SchemaError with the first relation problem (and how many there are) naming the document."""
    problems = relation_problems(record, schema, where=where)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise SchemaError(problems[0] + more)
