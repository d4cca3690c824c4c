"""The export summary (export.json) and the dataset card (README.md)."""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any

from newsner._io import atomic_write_text
from newsner.annotations import MAJORITY
from newsner.annotations.store import GOLD
from newsner.export.options import _LICENSE_ID, MARKER, SPLITS, ExportResult
from newsner.schema import Article
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
        "license": card_license(result),
        "source_licenses": result.source_licenses,
        "newsner_version": __version__,
        "spacy_version": spacy_version,
        "exported_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def source_license(article: Article) -> str | None:
    """The licence an article's source declared, as ingest or an import recorded it: ``meta.license`` (HTML
    metadata), ``provenance.license``, or a ``license`` inside one of ``meta``'s objects (``meta.re3d.license``)."""
    for where in (article.meta, article.provenance):
        if isinstance(where, dict):
            value = where.get("license") or where.get("licence")
            if isinstance(value, str) and value.strip():
                return value.strip()
    for value in article.meta.values() if isinstance(article.meta, dict) else ():
        if isinstance(value, dict):
            found = value.get("license") or value.get("licence")
            if isinstance(found, str) and found.strip():
                return found.strip()
    return None


def card_license(result: ExportResult) -> str:
    """The card's `license`: --license, else the one licence every exported article's source declared, else
    "other" when the sources declare several, else "unknown" (none declared, or some articles declare none)."""
    if result.options.license:
        return result.options.license.lower()
    declared = result.source_licenses
    if len(declared) > 1:
        return "other"
    if len(declared) == 1 and sum(declared.values()) >= result.documents:
        only = next(iter(declared))
        return only.lower() if _LICENSE_ID.fullmatch(only) else "other"
    return "unknown"


def write_summary(tmp: Path, result: ExportResult) -> None:
    """The card, then export.json: export.json is written last because it marks a complete export
    (`newsner.export.swap.recover` trusts a folder that has it). A Hugging Face export's dataset_info.json files
    get the licence too (`load_from_disk(...)["train"].info.license`)."""
    summary = summary_dict(result)
    for info_path in sorted(tmp.glob("*/dataset_info.json")):
        info = json.loads(info_path.read_text(encoding="utf-8"))
        info["license"] = summary["license"]
        atomic_write_text(info_path, json.dumps(info, indent=2, ensure_ascii=False) + "\n")
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
        f"license: {summary['license']}",
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
        lines += ["Train a token classifier on it with Hugging Face's own `run_ner.py` "
                  "(transformers/examples/pytorch/token-classification), unedited:", "", "```sh",
                  "python run_ner.py --model_name_or_path bert-base-cased --dataset_name <this folder> \\",
                  "    --output_dir ner-model --do_train --do_eval", "```", ""]
        if o.parquet:
            lines += ["Also as `parquet/<split>.parquet` (same columns; `ner_tags` as ids, their names in the file's "
                      "features metadata): `--dataset_name <this folder>/parquet`.", ""]
        if o.jsonl:
            lines += ["Also as `jsonl/<split>.jsonl`, one example a line, with `ner_tags` as tag names "
                      "(`\"B-ACTOR\"`), as `run_ner.py` and most JSON readers expect:", "", "```python",
                      "from datasets import load_dataset", "",
                      "ds = load_dataset(\"json\", data_files={s: f\"<this folder>/jsonl/{s}.jsonl\" for s in "
                      "(\"train\", \"validation\", \"test\")})", "```", "", "```sh",
                      "python run_ner.py --model_name_or_path bert-base-cased --dataset_name <this folder>/jsonl \\",
                      "    --output_dir ner-model --do_train --do_eval", "```", ""]
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
    lines += ["", "## Licence", "", _license_text(result, summary["license"])]
    lines += ["", "## Provenance", "",
              f"- newsner {summary['newsner_version']}, spaCy {summary['spacy_version']} "
              f"(tokenizer `spacy.blank`: {', '.join(f'{k} ({v})' for k, v in sorted(result.languages.items()))})",
              f"- label schema version {result.schema_version}: {', '.join(labels)}",
              f"- exported {summary['exported_at']}; options in `export.json`",
              ""]
    return "\n".join(lines)


def _license_text(result: ExportResult, license_id: str) -> str:
    declared = result.source_licenses
    sources = ("The exported articles' sources declare: " + ", ".join(
        f"{name} ({n} article{'s' if n != 1 else ''})" for name, n in sorted(declared.items())) + "."
               if declared else "No exported article records its source's licence.")
    if result.options.license:
        head = f"`{license_id}`, as given to `newsner export --license`."
        if declared:
            head += " Check that the sources' own licences allow it."
    elif license_id == "unknown":
        head = ("`unknown`: no licence was given, and the sources do not declare one for every article. Pass "
                "`newsner export --license ID` (e.g. `cc-by-4.0`) once you know the terms the articles may be "
                "shared under.")
    elif license_id == "other":
        head = "`other`: the sources declare different licences (below); pass `--license ID` to state the dataset's."
    else:
        head = f"`{license_id}`: the one licence every exported source declares."
    documents = result.documents
    undeclared = max(0, documents - sum(declared.values()))
    tail = f" {undeclared} exported article(s) declare none." if declared and undeclared else ""
    return f"{head} {sources}{tail}"


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

    Returns None, or one line for the user: why it could not be remembered (a read-only workspace must not fail an
    export that is already written, but the caller says so), or that a damaged list was set aside.
    """
    from newsner._io import utc_now

    path = str(Path(out).resolve())
    record = _record_path(workspace)
    items: list[Any] = []
    kept = ""  # a damaged list is set aside, not overwritten: the exports it named are not silently forgotten
    try:
        data = json.loads(record.read_text(encoding="utf-8"))
        listed = data.get("exports") if isinstance(data, dict) else None
        if not isinstance(listed, list):
            raise ValueError('not an object with an "exports" list')
        items = [x for x in listed if isinstance(x, dict) and x.get("path") != path]
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:
        where = f"line {exc.lineno}: {exc.msg}" if isinstance(exc, json.JSONDecodeError) else str(exc)
        aside = record.with_name(record.name + ".bad")
        try:
            record.replace(aside)
            kept = f"{record}: unreadable ({where}); kept as {aside.name}, started a new list"
        except OSError:
            kept = f"{record}: unreadable ({where}); replaced with a new list"
    items.append({"path": path, "format": fmt, "written_at": utc_now()})
    try:
        workspace.state_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(record, json.dumps({"exports": items[-RECORDED:]}, indent=2) + "\n")
    except OSError as exc:
        return (f"{record}: could not record this export ({exc.strerror or exc}); "
                "`newsner report` will not list it unless it is under exports/")
    return kept or None
