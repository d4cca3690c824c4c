"""The export summary (export.json) and the dataset card (README.md)."""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any

from newsner._io import atomic_write_text
from newsner.annotations import MAJORITY
from newsner.annotations.store import GOLD
from newsner.export.options import MARKER, SPLITS, ExportResult
from newsner.workspace import Workspace


def summary_dict(result: ExportResult) -> dict[str, Any]:
    from newsner import __version__

    try:
        import spacy

        spacy_version = str(getattr(spacy, "__version__", "?"))
    except ImportError:  # pragma: no cover
        spacy_version = "?"
    o = result.options
    return {
        "format": o.fmt,
        "layer": o.layer,
        "layers_used": result.layer_names,
        "annotators": result.annotators,
        "unit": o.unit,
        "max_tokens": o.max_tokens,
        "splits": {s: {"examples": st.examples, "documents": st.documents, "tokens": st.tokens,
                       "entities": {lb: st.entities.get(lb, 0) for lb in result.labels}}
                   for s, st in result.splits.items()},
        "split_fractions": dict(zip(SPLITS, o.splits, strict=True)),
        "seed": o.seed,
        "label_schema_version": result.schema_version,
        "labels": result.labels,
        "ner_tags": result.bio_tags,
        "alignment": dict(result.alignment),
        "alignment_issues": result.issues_total,
        "resolution": o.resolution,
        "skipped_documents": result.skipped_documents,
        "split_moves": result.split_moves,
        "warnings": result.warnings,
        "unconfirmed_left_out": result.unconfirmed_left_out,
        "include_unconfirmed": o.include_unconfirmed,
        "languages": result.languages,
        "newsner_version": __version__,
        "spacy_version": spacy_version,
        "exported_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def write_summary(tmp: Path, result: ExportResult) -> None:
    """The card, then export.json: export.json is written last because it marks a complete export
    (`newsner.export.swap.recover` trusts a folder that has it)."""
    summary = summary_dict(result)
    atomic_write_text(tmp / "README.md", dataset_card(result, summary))
    atomic_write_text(tmp / MARKER, json.dumps(summary, indent=2, ensure_ascii=False) + "\n")


def dataset_card(result: ExportResult, summary: dict[str, Any]) -> str:
    """The dataset card (README.md): what is in it, how to load it, counts, alignment, provenance."""
    o = result.options
    labels = result.labels
    lines = [
        "---",
        "task_categories:",
        "- token-classification",
        "task_ids:",
        "- named-entity-recognition",
        "language:",
        *[f"- {code}" for code in sorted(result.languages)],
        "pretty_name: newsner conflict-news NER",
        "---",
        "",
        "# newsner NER dataset",
        "",
        "Named entities in conflict news (who did what, where, how many were hurt, who says so), exported by",
        f"newsner {summary['newsner_version']} from the `{o.layer}` annotation layer.",
        "",
        "## Loading",
        "",
    ]
    if o.fmt == "hf":
        lines += ["```python", "from datasets import load_from_disk", "", "ds = load_from_disk(\"<this folder>\")",
                  "names = ds[\"train\"].features[\"ner_tags\"].feature.names", "```", ""]
        if o.parquet or o.jsonl:
            lines += ["Also as " + " and ".join(x for x, on in (("`parquet/<split>.parquet`", o.parquet),
                                                                  ("`jsonl/<split>.jsonl`", o.jsonl)) if on)
                      + " (same columns; `ner_tags` as ids).", ""]
    elif o.fmt == "spacy":
        lines += ["`train.spacy`, `validation.spacy`, `test.spacy` are spaCy DocBins (one Doc per example, entities "
                  "in `doc.ents`):", "", "```python", "import spacy", "from spacy.tokens import DocBin", "",
                  "docs = list(DocBin().from_disk(\"train.spacy\").get_docs(spacy.blank(\"en\").vocab))", "```", ""]
    else:
        columns = "TOKEN _ _ TAG" if o.conll_columns == 4 else "TOKEN TAG"
        lines += [f"`train.conll`, `validation.conll`, `test.conll`: one `{columns}` line per token "
                  f"({o.conll_scheme.upper()} tags), a blank line after each example, and a `-DOCSTART-` line "
                  "before each article" + (" carrying its corpus id (`-DOCSTART- -X- <id> O`)."
                                          if o.conll_columns == 4 else "."), ""]
    lines += [
        "## Fields",
        "",
        "| field | type | meaning |",
        "| --- | --- | --- |",
        "| `id` | string | `<doc_id>-<n>`: the n-th example of the article |",
        "| `doc_id` | string | the corpus article id (derived from its text) |",
        "| `tokens` | list of string | spaCy blank-tokenizer tokens (whitespace tokens left out) |",
        "| `ner_tags` | list of ClassLabel | IOB2 tags, names below |",
        "| `source`, `published`, `language` | string | article metadata (null when unknown) |",
        "| `relations` | list of {head, tail: int32, type: ClassLabel} | (hf, when the label schema has relation "
        "types) head/tail index the example's entities in `ner_tags` order (k-th B- tag); spaCy: "
        "`Doc.user_data[\"relations\"]` indexing `doc.ents` (`DocBin(store_user_data=True)`); relations that "
        "cross examples are listed in `alignment.jsonl` |",
        "",
        f"`ner_tags` names, in id order (fixed by label schema version {result.schema_version}, never by the data):",
        "",
        "    " + ", ".join(f"{i}={t}" for i, t in enumerate(result.bio_tags)),
        "",
        "## Splits",
        "",
        f"Fractions train/validation/test = {'/'.join(f'{x:g}' for x in o.splits)} by a stable hash of each "
        f"article's near-duplicate cluster (seed {o.seed}): duplicates never straddle splits, and adding articles "
        "never moves existing ones. Unit: "
        + {"sentence": "one sentence per example", "document": "one article per example",
           "window": f"consecutive sentences packed into at most {o.max_tokens or 128} tokens"}[o.unit]
        + (f"; examples longer than {o.max_tokens} tokens are cut" if o.max_tokens and o.unit != "window" else "")
        + ".",
        "",
        "| split | examples | articles | tokens | " + " | ".join(labels) + " |",
        "| --- | ---: | ---: | ---: | " + " | ".join("---:" for _ in labels) + " |",
    ]
    for split, st in result.splits.items():
        lines.append(f"| {split} | {st.examples} | {st.documents} | {st.tokens} | "
                     + " | ".join(str(st.entities.get(lb, 0)) for lb in labels) + " |")
    lines += ["", "Label columns count entities (B- tags)."]
    if result.split_moves:
        lines += ["", "Whole clusters moved away from their hashed split (same moves for the same seed and data):", ""]
        lines += [f"- {m}" for m in result.split_moves]
    if result.warnings:
        lines += ["", "## Warnings", ""] + [f"- **{w}**" for w in result.warnings]
    lines += ["", "## Annotation", ""]
    layer_desc = {GOLD: "the adjudicated gold layer", MAJORITY: "a span-level majority vote over the annotator "
                  f"layers ({', '.join(result.layer_names)})"}.get(o.layer, f"annotator layer `{o.layer}`")
    lines += [f"Spans come from {layer_desc}; "
              + ("unconfirmed documents are included." if o.include_unconfirmed
                 else f"only confirmed documents ({result.unconfirmed_left_out} unconfirmed left out)."),
              "",
              "Annotators (records): " + (", ".join(f"{a} ({n})" for a, n in sorted(result.annotators.items()))
                                         or "none"),
              "", "## Alignment", "",
              f"Character spans were mapped onto tokens; misaligned spans were resolved by **{o.resolution}**, "
              "overlapping ones by *longer wins, then earlier, then schema order*. Every span that did not go in as "
              "annotated is listed in `alignment.jsonl`.", "",
              "| | count |", "| --- | ---: |"]
    for key, value in result.alignment.items():
        lines.append(f"| {key.replace('_', ' ')} | {value} |")
    if result.skipped_documents:
        lines += ["", f"{len(result.skipped_documents)} annotated article(s) could not be exported (see "
                      "`export.json`)."]
    lines += ["", "## Provenance", "",
              f"- newsner {summary['newsner_version']}, spaCy {summary['spacy_version']} "
              f"(tokenizer `spacy.blank`: {', '.join(f'{k} ({v})' for k, v in sorted(result.languages.items()))})",
              f"- label schema version {result.schema_version}: {', '.join(labels)}",
              f"- exported {summary['exported_at']}; options in `export.json`",
              ""]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------- where exports went
#: How many exports the workspace remembers (most recent last): the report lists those outside exports/.
RECORDED = 20


def _record_path(workspace: Workspace) -> Path:
    return workspace.state_dir / "exports.json"


def recorded_exports(workspace: Workspace) -> list[Path]:
    """The export folders `record_export` remembered, most recent last (whether or not they still exist)."""
    try:
        data = json.loads(_record_path(workspace).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    items = data.get("exports") if isinstance(data, dict) else None
    return [Path(x["path"]) for x in items or [] if isinstance(x, dict) and isinstance(x.get("path"), str)]


def record_export(workspace: Workspace, out: Path, fmt: str) -> str | None:
    """Remember where an export was written (the report finds it even outside exports/).

    Returns None, or why it could not be remembered: a read-only workspace must not fail an export that is
    already written, but the caller says so.
    """
    from newsner._io import utc_now

    path = str(Path(out).resolve())
    try:
        data = json.loads(_record_path(workspace).read_text(encoding="utf-8"))
        items = [x for x in data.get("exports", []) if isinstance(x, dict) and x.get("path") != path]
    except (OSError, ValueError, AttributeError):
        items = []
    items.append({"path": path, "format": fmt, "written_at": utc_now()})
    try:
        workspace.state_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(_record_path(workspace), json.dumps({"exports": items[-RECORDED:]}, indent=2) + "\n")
    except OSError as exc:
        return (f"{_record_path(workspace)}: could not record this export ({exc.strerror or exc}); "
                "`newsner report` will not list it unless it is under exports/")
    return None
