"""The first step of a push: make the doccano project ready to receive articles.

The project (sequence labelling; one layer per annotator unless collaborative) with its guideline page from
labels.json, relations switched on when the schema has relation types, the span types (colour, text colour,
shortcut key) and relation types of the schema, and the auto-labeling config that points at `newsner serve`.
Nothing here uploads an article: `push_upload` does that once `set_up_project` returned the ids it needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from newsner.doccano.relation_sync import apply_relation_types
from newsner.doccano.sync_common import (
    PushReport,
    apply_span_types,
    guideline_text,
    plan_span_types,
    project_description,
)
from newsner.errors import DoccanoError
from newsner.schema import LabelSchema

if TYPE_CHECKING:
    from newsner.doccano.client import DoccanoClient


@dataclass
class ProjectSetup:
    """What the upload step needs to know about the project."""

    project_id: int
    span_type_ids: dict[str, int] = field(default_factory=dict)
    relation_type_ids: dict[str, int] = field(default_factory=dict)
    #: Relations can travel in the import file ("JSONL(Relation)"): the project has `use_relation` on.
    use_relation: bool = False


def find_labeling_project(client: DoccanoClient, name: str, server: str) -> dict[str, Any] | None:
    """The sequence-labeling project called `name`, or None when there is none.

    Raises:
        DoccanoError: a project of that name exists but is of another type.
    """
    found = client.find_project(name)
    if found is not None and found.get("project_type") != "SequenceLabeling":
        raise DoccanoError(
            f"project {name!r} on {server} is a {found.get('project_type')} project, not sequence labelling; "
            "choose another name with --project")
    return found


def set_up_project(client: DoccanoClient, found: Mapping[str, Any] | None, schema: LabelSchema,
                   report: PushReport, *, collaborative: bool | None, dry_run: bool,
                   auto_label_url: str | None = None) -> ProjectSetup | None:
    """Create or update the project, its span and relation types and its auto-labeling config.

    Fills the set-up half of `report`. Returns None only in a dry run for a project that does not exist yet
    (there are no ids to return; the report says what would be created).
    """
    if found is None:
        report.collaborative = bool(collaborative)
        report.project_created = True
        if dry_run:
            report.span_types_created = list(schema.names)
            report.relation_types_created = list(schema.relation_names)
            return None
        found = client.create_project(report.project, description=project_description(schema),
                                      guideline=guideline_text(schema), collaborative=bool(collaborative),
                                      use_relation=bool(schema.relations))
    project_id = int(found["id"])
    report.project_id = project_id
    use_relation = bool(found.get("use_relation"))
    if not report.project_created:
        report.collaborative = bool(found.get("collaborative_annotation"))
        changes = _project_changes(found, schema, collaborative)
        report.project_updated = sorted(changes)
        if "collaborative_annotation" in changes:
            report.collaborative = bool(changes["collaborative_annotation"])
        if changes and not dry_run:
            client.update_project(project_id, **changes)
            use_relation = use_relation or bool(changes.get("use_relation"))
    setup = ProjectSetup(project_id=project_id, use_relation=use_relation)
    setup.span_type_ids = _span_types(client, project_id, schema, report, dry_run=dry_run)
    created, updated, setup.relation_type_ids = apply_relation_types(client, project_id, schema, dry_run=dry_run)
    report.relation_types_created, report.relation_types_updated = created, updated
    if auto_label_url is not None and not dry_run:
        from newsner.doccano.autolabel import configure_auto_labeling

        report.auto_label = configure_auto_labeling(client, project_id, auto_label_url, schema)
        report.auto_label_url = auto_label_url
    return setup


def _project_changes(found: Mapping[str, Any], schema: LabelSchema, collaborative: bool | None) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    guideline = guideline_text(schema)
    if str(found.get("guideline") or "").strip() != guideline.strip():
        changes["guideline"] = guideline
    if collaborative is not None and bool(found.get("collaborative_annotation")) != collaborative:
        changes["collaborative_annotation"] = collaborative
    if schema.relations and not found.get("use_relation"):
        changes["use_relation"] = True  # annotators draw relations between spans
    return changes


def _span_types(client: DoccanoClient, project_id: int, schema: LabelSchema, report: PushReport, *,
                dry_run: bool) -> dict[str, int]:
    existing = client.list_span_types(project_id)
    plan = plan_span_types(schema, existing)
    report.span_types_created = [lb.name for lb in plan.create]
    report.span_types_updated = sorted({name for _, name, _ in plan.update} | {name for _, name in plan.release_keys})
    report.span_types_extra = plan.extra
    if dry_run:
        return {str(t["text"]): int(t["id"]) for t in existing}
    return apply_span_types(client, project_id, plan)
