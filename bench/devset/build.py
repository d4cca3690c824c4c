"""Turn the hand-annotated dev set (`dev/*.txt`, `holdout/*.txt`) into newsner files.

    .venv/bin/python bench/devset/build.py      # writes {dev,holdout}/articles.jsonl and gold.jsonl

Markup (one article per file): header lines `# language: en`, `# title: ...`, `# source: ...`; then the text,
where a span is written `[words]{LABEL id}`; then relation lines `@ HEAD_ID TYPE TAIL_ID`. The text keeps its
line breaks and emoji. `articles.jsonl` holds Article records (ingest them, or pre-annotate on them);
`gold.jsonl` holds the gold annotation records (annotator `gold`, confirmed, relations indexing sorted spans).
The hold-out articles are never read while the rules are tuned; the bench reports both sets.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "src"))

from newsner._io import write_jsonl  # noqa: E402
from newsner.schema import AnnotationRecord, Article, Relation, Span  # noqa: E402

_SPAN = re.compile(r"\[([^\[\]]+)\]\{([A-Z_]+) (\w+)\}")


def parse(path: Path) -> tuple[Article, AnnotationRecord]:
    header: dict[str, str] = {}
    body: list[str] = []
    rels: list[tuple[str, str, str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# ") and not body:
            key, _, value = line[2:].partition(":")
            header[key.strip()] = value.strip()
        elif line.startswith("@ "):
            head, type_, tail = line[2:].split()
            rels.append((head, type_, tail))
        else:
            body.append(line)
    marked = "\n".join(body).strip("\n")
    text_parts: list[str] = []
    spans: dict[str, Span] = {}
    pos = 0
    length = 0
    for m in _SPAN.finditer(marked):
        before = marked[pos:m.start()]
        text_parts.append(before)
        length += len(before)
        words, label, ident = m.groups()
        if ident in spans:
            raise SystemExit(f"{path}: span id {ident} used twice")
        spans[ident] = Span(length, length + len(words), label, words)
        text_parts.append(words)
        length += len(words)
        pos = m.end()
    text_parts.append(marked[pos:])
    text = "".join(text_parts)
    if "[" in text and "]{" in text:
        raise SystemExit(f"{path}: unparsed markup left in the text")
    article = Article.from_text(text, title=header.get("title"), source=header.get("source"),
                                language=header.get("language"), provenance={"input": path.name})
    ordered = sorted(spans.values())
    index = {ident: ordered.index(s) for ident, s in spans.items()}
    missing = sorted({i for h, _, t in rels for i in (h, t)} - set(index))
    if missing:
        raise SystemExit(f"{path}: relation(s) name unknown span id(s) {missing}")
    relations = sorted({Relation(index[h], index[t], ty) for h, ty, t in rels})
    for span in ordered:
        assert text[span.start:span.end] == span.text
    record = AnnotationRecord(doc_id=article.id, text_sha256=article.text_sha256, annotator="gold", spans=ordered,
                              status="confirmed", origin={"devset": path.name}, relations=relations)
    return article, record


def build(folder: Path) -> tuple[int, int]:
    pairs = [parse(p) for p in sorted(folder.glob("*.txt"))]
    write_jsonl(folder / "articles.jsonl", (a.to_dict() for a, _ in pairs))
    records: list[dict[str, Any]] = [r.to_dict() for _, r in pairs]
    write_jsonl(folder / "gold.jsonl", records)
    return len(pairs), sum(len(r.spans) for _, r in pairs)


if __name__ == "__main__":
    for name in ("dev", "holdout", "holdout2", "holdout3", "holdout4", "holdout5", "holdout6"):
        n, s = build(HERE / name)
        print(f"{name}: {n} articles, {s} gold spans")
