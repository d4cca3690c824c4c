"""The worker: tokenize, align and cut a batch of articles into examples (in this process or a pool)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import orjson

from newsner.export.conll import add_conll_units
from newsner.export.hf import HFColumns
from newsner.export.parts import BatchResult, Item, SplitPart, WorkerConfig
from newsner.export.relations import RawRelation, parse_relations, unit_relations
from newsner.export.spacy import add_docbin_units
from newsner.text.align import (
    AlignmentIssue,
    align_spans,
    blank_nlp,
    make_units,
    sent_flag,
    tokenize_batch,
    utf8_token_array,
)

_CONFIG: WorkerConfig | None = None


def _init_worker(config: WorkerConfig) -> None:
    global _CONFIG
    _CONFIG = config
    blank_nlp(None)  # the usual pipeline, ready before the first batch arrives


def _run_batch(items: list[Item]) -> BatchResult:
    assert _CONFIG is not None
    return process_batch(items, _CONFIG)


def record_spans(item: Item) -> tuple[list[tuple[int, int, str, str]], list[RawRelation], AlignmentIssue | None]:
    """The spans and relations of an Item; a record line that cannot be read gives none and a named issue."""
    if not isinstance(item.spans, bytes):
        return item.spans, list(item.relations), None
    try:
        obj = orjson.loads(item.spans)
        return ([(s["start"], s["end"], s["label"], s.get("text", "")) for s in obj["spans"]],
                parse_relations(obj), None)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return [], [], AlignmentIssue(item.doc_id, "", 0, 0, "", "unreadable_record", "dropped",
                                      detail="the annotation record cannot be read; run `newsner annotations validate`")


def process_batch(items: list[Item], cfg: WorkerConfig) -> BatchResult:
    """Tokenize, align and cut a batch of articles into examples (runs in a worker process when jobs > 1)."""
    parts: dict[str, SplitPart] = {}
    columns: dict[str, HFColumns] = {}
    issues: list[AlignmentIssue] = []
    counts: Counter[str] = Counter()
    languages: Counter[str] = Counter()
    labels = cfg.labels
    bio = ["O"] + [f"{p}-{lb}" for lb in labels for p in ("B", "I")]
    docs = []
    flags = []
    for item in items:
        nlp, code = blank_nlp(item.language)
        languages[code] += 1
        docs.append(nlp.make_doc(item.text))
        flags.append(sent_flag(nlp))
    all_tokens = tokenize_batch(docs, [item.text for item in items], flags)
    for item, doc, tokens in zip(items, docs, all_tokens, strict=True):
        spans, relations, unreadable = record_spans(item)
        if unreadable is not None:
            issues.append(unreadable)
            counts["unreadable_record"] += 1
        aligned = align_spans(tokens, item.text, spans, doc_id=item.doc_id, labels=labels,
                              resolution=cfg.resolution)
        tags = aligned.tags(len(tokens), labels)
        ranges, unit_issues, unit_counts = make_units(tokens, aligned, unit=cfg.unit,
                                                      max_tokens=cfg.max_tokens, doc_id=item.doc_id,
                                                      text=item.text, tags=tags)
        issues.extend(aligned.issues)
        issues.extend(unit_issues)
        counts.update(aligned.counts)
        if unit_counts:
            counts.update(unit_counts)
        unit_starts = np.array([a for a, _ in ranges], dtype=np.int64)
        if len(unit_starts):
            # An entity cut by a unit boundary restarts with B- (even id I-X → odd id B-X), so each example is
            # valid IOB2 on its own.
            first = tags[unit_starts]
            cut = (first > 0) & (first % 2 == 0)
            tags[unit_starts[cut]] -= 1
        unit_rels, rel_issues, rel_counts = unit_relations(
            doc_id=item.doc_id, text=item.text, spans=spans, relations=relations, tokens=tokens, aligned=aligned,
            tags=tags, ranges=ranges, resolution=cfg.resolution, types=cfg.relation_types,
            representable=cfg.fmt != "conll")
        issues.extend(rel_issues)
        counts.update(rel_counts)
        part = parts.setdefault(item.split, SplitPart())
        part.documents += 1
        part.examples += len(ranges)
        part.n_tokens += len(tokens)
        begins = tags[tags % 2 == 1]
        for k, n in enumerate(np.bincount((begins - 1) // 2, minlength=len(labels)).tolist()):
            if n:
                part.entities[labels[k]] += n
        if cfg.fmt == "hf":
            cols = columns.setdefault(item.split, HFColumns())
            cols.ids.extend(f"{item.doc_id}-{k}" for k in range(len(ranges)))
            cols.doc_ids.extend([item.doc_id] * len(ranges))
            cols.sources.extend([item.source] * len(ranges))
            cols.published.extend([item.published] * len(ranges))
            cols.languages.extend([item.language] * len(ranges))
            cols.unit_bounds.append(unit_starts)
            offsets, data = utf8_token_array(tokens)
            cols.char_offsets.append(offsets)
            cols.char_data.append(data)
            cols.tags.append(tags)
            type_id = {name: k for k, name in enumerate(cfg.relation_types)}
            cols.relations.extend([{**r, "type": type_id[r["type"]]} for r in unit] for unit in unit_rels)
        elif cfg.fmt == "conll":
            add_conll_units(part, item.doc_id, tokens.texts, tags, ranges, bio, cfg)
        else:
            add_docbin_units(part, doc, tokens, tags, ranges, labels, item.text)
            part.user_data.extend(unit_rels)
    for split, cols in columns.items():
        parts[split].table = cols.table(cfg.arrow_schema)
    return BatchResult(parts, issues, counts, languages)
