"""The package's rooms follow the data flow: no module imports from a room above its own, and so no circle.

An import inside a function counts (it hides the climb, it does not remove it); so does one under TYPE_CHECKING.
The order below is the README's layout section, lowest room first.
"""

from __future__ import annotations

import ast
from pathlib import Path

import newsner

ROOT = Path(newsner.__file__).parent

#: Rooms from the bottom up. A module may import its own room and any room listed before it.
ORDER = [
    "errors", "schema", "workspace", "_io", "_procs",   # the contracts and small helpers everything uses
    "text",          # offsets, grapheme-aware tokens, alignment, sentences
    "corpus",        # the store of record: shards, index, signatures, linking
    "ingest",        # raw files -> Article drafts -> corpus
    "formats",       # readers and writers of other tools' annotation files
    "annotations",   # the annotation store, import, validation, agreement, adjudication
    "model",         # what proposes spans and relations: rules, trained models; train, evaluate
    "rounds",        # selection strategies and the record of rounds
    "claims",        # count normalization and the claims table
    "serve",         # the loopback suggestion endpoint
    "export",        # spans -> tokens -> datasets / DocBin / CoNLL
    "doccano",       # client, local server, push, pull, review
    "report",        # the HTML page
    "cli",           # thin commands; the only place that prints or exits
]


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "newsner"


def _imports() -> list[tuple[str, str, int]]:
    """(importing module path, imported module, line) for every newsner import anywhere in the package."""
    out = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        module = ".".join(rel.parts).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("newsner"):
                assert node.module is not None
                targets = [node.module] if node.module != "newsner" else [f"newsner.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names if a.name.startswith("newsner")]
            else:
                continue
            out.extend((module, t, node.lineno) for t in targets)
    return out


def test_every_room_is_in_the_order() -> None:
    rooms = {_room(m) for m, _, _ in _imports()} - {"newsner", "__main__"}
    assert rooms <= set(ORDER), f"rooms not placed in ORDER: {sorted(rooms - set(ORDER))}"


def test_no_module_imports_from_a_higher_room() -> None:
    rank = {room: i for i, room in enumerate(ORDER)}
    climbs = []
    for module, target, line in _imports():
        here, there = _room(module), _room(target)
        if here in ("newsner", "__main__") or there in ("newsner", "__version__"):
            continue  # the package root (version, lazy re-exports) and `python -m newsner`
        if rank[there] > rank[here]:
            climbs.append(f"{module}:{line} imports {target} ({here} < {there})")
    assert not climbs, "\n".join(climbs)
