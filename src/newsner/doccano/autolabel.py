"""doccano's auto-labeling config for a project: call `newsner serve` and turn its answer into spans.

doccano (auto_labeling_pipeline's "Custom REST Request") POSTs `{"text": <the example's text>}` to the model
server, renders the JSON answer through a Jinja2 template into `[{"label", "start_offset", "end_offset"}]`,
keeps the labels named in `label_mapping` (mapped to span type names) and saves the spans as the user who
asked, so each annotator gets suggestions in their own layer. Offsets are taken as they come: UTF-16 units,
or grapheme clusters for a project with grapheme_mode on (the config then asks the server for that unit).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from newsner.schema import LabelSchema

if TYPE_CHECKING:
    from newsner.doccano.client import DoccanoClient

MODEL_NAME = "Custom REST Request"
#: Marks the config as newsner's, so a rerun updates it instead of adding a second one.
MARKER_HEADER = "X-Newsner-Serve"
#: `input` is the server's JSON answer; `labels` already has exactly the keys doccano's span labels need.
TEMPLATE = "{{ input.labels | tojson }}"


def config_body(url: str, schema: LabelSchema, *, grapheme_mode: bool = False) -> dict[str, Any]:
    return {
        "model_name": MODEL_NAME,
        "model_attrs": {"url": f"{url.rstrip('/')}/suggest", "method": "POST",
                        "params": {"unit": "grapheme"} if grapheme_mode else {},
                        "headers": {MARKER_HEADER: "1"}, "body": {"text": "{{ text }}"}},
        "template": TEMPLATE,
        "label_mapping": {name: name for name in schema.names},
        "task_type": "Span",
    }


def _ours(config: dict[str, Any]) -> bool:
    attrs = config.get("model_attrs") or {}
    return config.get("model_name") == MODEL_NAME and MARKER_HEADER in (attrs.get("headers") or {})


def configure_auto_labeling(client: DoccanoClient, project_id: int, url: str, schema: LabelSchema) -> str:
    """Make the project's newsner auto-labeling config call `url`. Returns "created", "updated" or "unchanged"."""
    # A project counting offsets in grapheme clusters gets them in that unit (rerun after switching the mode).
    grapheme_mode = bool(client.get_project(project_id).get("grapheme_mode"))
    wanted = config_body(url, schema, grapheme_mode=grapheme_mode)
    existing = [c for c in client.list_auto_labeling_configs(project_id) if _ours(c)]
    if not existing:
        client.create_auto_labeling_config(project_id, wanted)
        return "created"
    first, *extra = existing
    for config in extra:  # a crash between two runs could leave two: one is enough
        client.delete_auto_labeling_config(project_id, int(config["id"]))
    if all(first.get(k) == v for k, v in wanted.items()) and not extra:
        return "unchanged"
    client.update_auto_labeling_config(project_id, int(first["id"]), wanted)
    return "updated"


def auto_label(client: DoccanoClient, project_id: int, example_id: int) -> None:
    """What doccano's editor does when an annotator has auto-labeling switched on and opens an example: the
    suggestions are saved in the layer of the client's user (`DoccanoClient.auto_label`)."""
    client.auto_label(project_id, example_id)
