"""Push the corpus to doccano and pull every annotator's layer back: idempotent, resumable, checked.

The work lives in `push` (set-up in `push_setup`, then upload in `push_upload`, with the pieces that do not talk
to doccano in `push_parts`), `pull`, `users` and `sync_common`; this module keeps the one import path
(`from newsner.doccano import sync`) that the CLI, the bench and other code use.
"""

from __future__ import annotations

from newsner.doccano.pull import pull, records_from_export
from newsner.doccano.push import push
from newsner.doccano.push_parts import (
    ExampleIndex,
    ExampleInfo,
    PushState,
    build_import_jsonl,
    import_line,
    index_examples,
    load_suggestions,
    plan_duplicates,
    suggestion_fingerprint,
)
from newsner.doccano.sync_common import (
    DEFAULT_BATCH_SIZE,
    LIST_PAGE,
    META_FIELDS,
    SHARED_LAYER,
    LayerSummary,
    Problem,
    Progress,
    PullReport,
    PushReport,
    SpanTypePlan,
    UserReport,
    apply_span_types,
    default_project,
    guideline_text,
    plan_span_types,
    project_description,
    same_server,
)
from newsner.doccano.users import ROLES, add_user

__all__ = [
    "DEFAULT_BATCH_SIZE", "LIST_PAGE", "META_FIELDS", "ROLES", "SHARED_LAYER", "ExampleIndex", "ExampleInfo",
    "LayerSummary", "Problem", "Progress", "PullReport", "PushReport", "PushState", "SpanTypePlan", "UserReport",
    "add_user", "apply_span_types", "build_import_jsonl", "default_project", "guideline_text", "import_line",
    "index_examples", "load_suggestions", "plan_duplicates", "plan_span_types", "project_description", "pull",
    "push", "records_from_export", "same_server", "suggestion_fingerprint",
]
