"""doccano 1.8 wire shapes: the JSON the REST API sends and accepts (doccano ids and offsets, not newsner's).

The client returns plain dicts (these TypedDicts document which keys they carry); sync.py converts them to the
domain schema. Offsets here are whatever doccano stores: see offsets.py for the UTF-16 question.
"""

from __future__ import annotations

from typing import Any, TypedDict

#: The doccano release the local server runs and the client was written against.
DOCCANO_VERSION = "1.8.4"

PROJECT_TYPE = "SequenceLabeling"
#: django-polymorphic's discriminator: doccano refuses a project body without it.
RESOURCE_TYPE = "SequenceLabelingProject"
IMPORT_FORMAT = "JSONL"
#: The import task of "JSONL(Relation)" files (entities + relations a line), offered when `use_relation` is on.
RELATION_IMPORT_TASK = "RelationExtraction"

ROLE_PROJECT_ADMIN = "project_admin"
ROLE_ANNOTATOR = "annotator"
ROLE_APPROVER = "annotation_approver"
ROLES = (ROLE_PROJECT_ADMIN, ROLE_ANNOTATOR, ROLE_APPROVER)


class Project(TypedDict, total=False):
    id: int
    name: str
    description: str
    guideline: str
    project_type: str
    resourcetype: str
    collaborative_annotation: bool
    allow_overlapping: bool
    grapheme_mode: bool
    random_order: bool
    author: str


class SpanType(TypedDict, total=False):
    id: int
    text: str
    prefix_key: str | None
    suffix_key: str | None
    background_color: str
    text_color: str


class Example(TypedDict, total=False):
    id: int
    text: str
    meta: dict[str, Any]
    is_confirmed: bool
    annotation_approver: str | None
    comment_count: int


class Span(TypedDict, total=False):
    id: int
    example: int
    user: int
    label: int
    start_offset: int
    end_offset: int
    prob: float


class User(TypedDict, total=False):
    id: int
    username: str
    is_superuser: bool
    is_staff: bool


class Role(TypedDict):
    id: int
    name: str


class Member(TypedDict, total=False):
    id: int
    user: int
    role: int
    username: str
    rolename: str


class TaskStatus(TypedDict):
    ready: bool
    result: Any
    error: dict[str, Any] | None


class ExportLine(TypedDict, total=False):
    """One line of a JSONL export: meta keys (external_id, ...) are flattened to the top level."""

    id: int
    text: str
    label: list[list[Any]]  # [start, end, "LABEL"]
    Comments: list[Any]
