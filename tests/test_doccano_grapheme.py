"""Pull from a doccano project with `grapheme_mode` on: offsets there count grapheme clusters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from newsner.annotations.store import AnnotationStore
from newsner.doccano import sync
from newsner.doccano.client import DoccanoClient
from newsner.doccano.offsets import GraphemeMap
from newsner.errors import AnnotationError
from newsner.schema import Article, LabelSchema, load_label_schema
from tests.test_doccano_sync import REPO, setup_workspace

# 👍🏽 (2 code points), 🇲🇱 (2), é as e + U+0301 (2): one grapheme cluster each.
TEXT = "👍🏽 🇲🇱 Wagner fighters entered Kidal; the arme\u0301e said."


def graphemes(cp: int) -> int:
    return GraphemeMap(TEXT).to_graphemes(cp)


def test_grapheme_offsets_map_to_code_points() -> None:
    gmap = GraphemeMap(TEXT)
    start = TEXT.index("Wagner")
    assert graphemes(start) == 4 and start == 6, "👍🏽, space, 🇲🇱, space: 4 clusters, 6 code points"
    assert gmap.span_from_utf16(4, 4 + 6) == (start, start + 6)
    end = TEXT.index(" said")
    assert gmap.from_graphemes(graphemes(end)) == end
    with pytest.raises(AnnotationError, match="outside the text"):
        gmap.from_graphemes(gmap.length + 1)


def test_records_from_a_grapheme_mode_export_have_code_point_offsets() -> None:
    schema: LabelSchema = load_label_schema(REPO / "annotations" / "labels.json")
    article = Article.from_text(TEXT, title="t", source="s")
    start = TEXT.index("Wagner fighters")
    line = {"id": 1, "text": TEXT, "external_id": article.id,
            "label": [[graphemes(start), graphemes(start + 15), "ACTOR"]]}
    kwargs: dict[str, Any] = dict(annotator="ann", confirmed_ids=set(), articles={article.id: article},
                                  schema=schema, origin={}, previous={})
    [record], problems, _ = sync.records_from_export([line], grapheme_mode=True, **kwargs)
    assert problems == [] and [(s.start, s.end, s.text) for s in record.spans] == [
        (start, start + 15, "Wagner fighters")]
    # Read as UTF-16 (the default) the same numbers would point elsewhere: the mode matters.
    [other], _, _ = sync.records_from_export([line], **kwargs)
    assert other.spans[0].text != "Wagner fighters"


def test_pull_reads_the_projects_grapheme_mode(workspace: Path, doccano_client: DoccanoClient,
                                               doccano_project: dict[str, Any]) -> None:
    pid, project = int(doccano_project["id"]), str(doccano_project["name"])
    ws, [article] = setup_workspace(workspace, [TEXT])
    sync.push(ws, project=project, client=doccano_client)
    doccano_client.update_project(pid, grapheme_mode=True)
    assert doccano_client.get_project(pid)["grapheme_mode"] is True
    [example] = list(doccano_client.iter_examples(pid))
    types = {t["text"]: int(t["id"]) for t in doccano_client.list_span_types(pid)}
    start = TEXT.index("Kidal")
    doccano_client.create_span(pid, int(example["id"]), start=graphemes(start), end=graphemes(start + 5),
                               label_id=types["LOCATION"])
    report = sync.pull(ws, project=project, client=doccano_client)
    assert report.problems == []
    me = str(doccano_client.me()["username"])
    [record] = AnnotationStore(ws.annotations_dir).read(me)
    assert [(s.start, s.end, s.label, s.text) for s in record.spans] == [(start, start + 5, "LOCATION", "Kidal")]


def test_auto_labeling_in_a_grapheme_mode_project_gets_grapheme_offsets(
        workspace: Path, doccano_client: DoccanoClient, doccano_server: Any, doccano_project: dict[str, Any]) -> None:
    from newsner.doccano.autolabel import auto_label, configure_auto_labeling
    from newsner.serve.process import ModelServer

    pid, project = int(doccano_project["id"]), str(doccano_project["name"])
    ws, _ = setup_workspace(workspace, [TEXT])
    sync.push(ws, project=project, client=doccano_client)
    doccano_client.update_project(pid, grapheme_mode=True)
    model = ModelServer(ws, die_with_parent=True)
    try:
        info = model.up(timeout=120)
        assert configure_auto_labeling(doccano_client, pid, info.url, ws.label_schema()) == "created"
        user = doccano_client.create_user(f"graph{pid}", "Kidal-Sahel-Ledger-77")
        doccano_client.add_member(pid, int(user["id"]), "annotator")
        [example] = list(doccano_client.iter_examples(pid))
        with DoccanoClient.login(doccano_server.url, f"graph{pid}", "Kidal-Sahel-Ledger-77") as annotator:
            auto_label(annotator, pid, int(example["id"]))
    finally:
        model.down()
    sync.pull(ws, project=project, client=doccano_client)
    [record] = AnnotationStore(ws.annotations_dir).read(f"graph{pid}")
    start = TEXT.index("Wagner fighters")
    assert (start, start + 15, "ACTOR", "Wagner fighters") in [(s.start, s.end, s.label, s.text) for s in record.spans]
