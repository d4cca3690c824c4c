"""Does choosing uncertain articles beat random ones? Simulated annotation rounds on real data (re3d).

    .venv/bin/python bench/bench_active.py                                  # defaults: ~10 min on 2 cores
    .venv/bin/python bench/bench_active.py --seeds 1 --rounds 3 --steps 50   # a quick look

Data: Dstl's re3d (../shared/data/re3d, read with newsner's own re3d reader), mapped to the schema: Person,
Organisation, Nationality → ACTOR; Location → LOCATION (re3d has no CASUALTY or CLAIM_SOURCE; its other types are
dropped). re3d has 71 documents; the unit an annotator gets is a *passage* (a paragraph; short ones joined to the
next up to ~200 characters), ~250 of them. A quarter of the *documents* (all their passages) is the test set, so
no test passage shares a document with a training one; the rest is the pool.

Simulation, per seed: round 0 annotates INITIAL random passages (the gold layer plays the annotator). Then, for each
strategy, ROUNDS times: train a model from scratch on everything annotated so far (the newsner ner config with a smaller
tok2vec, a fixed number of updates), score F1 on the test set, and pick BATCH more passages from the pool:
- random: the seed's hash order (`newsner.rounds.select.key_of`), as `--strategy random` does;
- uncertain: the current model scores every passage left in the pool with beam search and the BATCH with the
  highest expected number of wrong entity decisions are picked (`newsner.rounds.select.uncertainty`, the measure
  `--strategy uncertain` uses).
Both strategies share round 0 and see the same document budget after every round. Because "uncertain" may prefer
longer passages, the token budget is printed beside the document budget.

Prints the table (rounds × strategy × F1, mean over seeds, and per seed), then the verdict against the target:
"uncertain reaches random's final F1 with ≥ 25 % fewer documents".
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[1] / "src"))

from newsner.model.predict import score_texts  # noqa: E402
from newsner.model.train import CONFIG_PATH  # noqa: E402
from newsner.rounds.select import key_of, uncertainty  # noqa: E402

MAP = {"Person": "ACTOR", "Organisation": "ACTOR", "Nationality": "ACTOR", "Location": "LOCATION"}
LABELS = ("ACTOR", "LOCATION")


@dataclass
class Passage:
    id: str
    doc: str
    text: str
    spans: list[tuple[int, int, str]]


def load_re3d(root: Path) -> list[Passage]:
    from newsner.formats import ParsedDoc
    from newsner.formats.re3d import read_re3d

    out: list[Passage] = []
    for d in read_re3d(root):
        if not isinstance(d, ParsedDoc):
            continue
        spans = sorted((s.start, s.end, MAP[s.label]) for s in d.spans if s.label in MAP)
        starts = [m.start() for m in re.finditer(r"[^\n]+", d.text)]
        ends = [m.end() for m in re.finditer(r"[^\n]+", d.text)]
        i = 0
        while i < len(starts):
            j = i
            while ends[j] - starts[i] < 200 and j + 1 < len(starts):
                j += 1
            a, b = starts[i], ends[j]
            inside = [(s - a, e - a, lab) for s, e, lab in spans if a <= s and e <= b]
            if d.text[a:b].strip():
                out.append(Passage(f"{d.where}#{len(out)}", d.where, d.text[a:b], inside))
            i = j + 1
    return out


def to_examples(nlp: Any, passages: list[Passage]) -> list[Any]:
    from spacy.training import Example
    from spacy.util import filter_spans

    examples = []
    for p in passages:
        doc = nlp.make_doc(p.text)
        ents = [doc.char_span(s, e, label=lab, alignment_mode="contract") for s, e, lab in p.spans]
        ref = nlp.make_doc(p.text)
        ref.ents = filter_spans([e for e in ents if e is not None])  # nested re3d spans: the longest wins
        examples.append(Example(doc, ref))
    return examples


def train_model(passages: list[Passage], seed: int, steps: int, labels: Sequence[str] = LABELS) -> Any:
    """From scratch, `steps` updates of 8 passages (the same effort at every budget, as `train --max-steps`).

    `labels`: the model's labels (bench_suggest trains all four of the schema's on conflict articles)."""
    from spacy.util import fix_random_seed, load_config, load_model_from_config

    fix_random_seed(seed)
    # newsner's ner config with a smaller tok2vec (width 64, depth 2): ~2× faster, so 3 seeds fit in minutes
    overrides = {"components.tok2vec.model.encode.width": 64, "components.tok2vec.model.encode.depth": 2}
    nlp = load_model_from_config(load_config(CONFIG_PATH, overrides=overrides), auto_fill=True, validate=True)
    ner = nlp.get_pipe("ner")
    for label in labels:
        ner.add_label(label)  # type: ignore[attr-defined]
    examples = to_examples(nlp, passages)
    optimizer = nlp.initialize(lambda: examples)
    rng = random.Random(seed)
    queue: list[Any] = []
    for _ in range(steps):
        if len(queue) < 8:
            rng.shuffle(examples)
            queue += examples
        batch, queue = queue[:8], queue[8:]
        nlp.update(batch, drop=0.1, sgd=optimizer)
    return nlp


def f1(nlp: Any, test: list[Any]) -> float:
    return float(nlp.evaluate(test)["ents_f"] or 0.0)


def simulate(passages: list[Passage], seed: int, args: argparse.Namespace) -> dict[str, list[tuple[int, int, float]]]:
    import spacy

    docs = sorted({p.doc for p in passages})
    test_docs = set(sorted(docs, key=lambda d: key_of(10_000, d))[: round(len(docs) * args.test_fraction)])
    test_p = [p for p in passages if p.doc in test_docs]
    pool = [p for p in passages if p.doc not in test_docs]
    test = to_examples(spacy.blank("en"), test_p)
    order = sorted(pool, key=lambda p: key_of(seed, p.id))
    initial = order[: args.initial]
    results: dict[str, list[tuple[int, int, float]]] = {}
    model0 = train_model(initial, seed, args.steps)
    score0 = f1(model0, test)
    for strategy in ("random", "uncertain"):
        labelled = list(initial)
        taken = {p.id for p in labelled}
        nlp = model0
        curve = [(len(labelled), sum(len(p.text.split()) for p in labelled), score0)]
        for _ in range(args.rounds):
            left = [p for p in order if p.id not in taken]
            if strategy == "random":
                batch = left[: args.batch]
            else:
                scored = score_texts(nlp, [p.text for p in left], source="bench", beam_width=args.beam_width)
                ranked = sorted(zip(left, scored, strict=True),
                                key=lambda ps: (-uncertainty(ps[1].candidates), key_of(seed, ps[0].id)))
                batch = [p for p, _ in ranked[: args.batch]]
            labelled += batch
            taken.update(p.id for p in batch)
            nlp = train_model(labelled, seed, args.steps)
            curve.append((len(labelled), sum(len(p.text.split()) for p in labelled), f1(nlp, test)))
            print(f"  seed {seed} {strategy:9} {len(labelled):4d} docs  F1 {curve[-1][2]:.3f}", file=sys.stderr,
                  flush=True)
        results[strategy] = curve
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    shared = Path(os.environ.get("NEWSNER_SHARED_DATA", HERE.parents[2] / "shared" / "data"))
    ap.add_argument("--data", type=Path, default=shared / "re3d",
                    help="re3d folder (default: $NEWSNER_SHARED_DATA/re3d, else ../shared/data/re3d)")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--initial", type=int, default=20, help="passages annotated in round 0 (random)")
    ap.add_argument("--batch", type=int, default=10, help="passages added per round")
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--steps", type=int, default=150, help="training updates (batches of 8) per round")
    ap.add_argument("--beam-width", type=int, default=16)
    ap.add_argument("--test-fraction", type=float, default=0.25)
    args = ap.parse_args()

    started = time.monotonic()
    if not args.data.is_dir():
        sys.exit(f"{args.data}: no re3d folder here; pass --data or set NEWSNER_SHARED_DATA")
    passages = load_re3d(args.data)
    n_docs = len({p.doc for p in passages})
    print(f"re3d: {len(passages)} passages from {n_docs} documents, "
          f"{sum(len(p.spans) for p in passages)} ACTOR/LOCATION spans; seeds {args.seeds}, round 0 = "
          f"{args.initial} random passages, then {args.rounds} rounds of {args.batch}, {args.steps} steps")
    runs = [simulate(passages, seed, args) for seed in range(args.seeds)]

    budgets = [d for d, _, _ in runs[0]["random"]]
    mean = {s: [statistics.fmean(r[s][i][2] for r in runs) for i in range(len(budgets))]
            for s in ("random", "uncertain")}
    tokens = {s: [statistics.fmean(r[s][i][1] for r in runs) for i in range(len(budgets))]
              for s in ("random", "uncertain")}
    print(f"\n{'round':>5} {'docs':>5} | {'random F1':>9} {'tokens':>7} | {'uncertain F1':>12} {'tokens':>7} | "
          + " ".join(f"seed{s} r/u" for s in range(args.seeds)))
    for i, b in enumerate(budgets):
        per_seed = " ".join(f"{r['random'][i][2]:.2f}/{r['uncertain'][i][2]:.2f}" for r in runs)
        print(f"{i:>5} {b:>5} | {mean['random'][i]:>9.3f} {tokens['random'][i]:>7.0f} | "
              f"{mean['uncertain'][i]:>12.3f} {tokens['uncertain'][i]:>7.0f} | {per_seed}")
    target = mean["random"][-1]
    reached = next((b for b, f in zip(budgets, mean["uncertain"], strict=True) if f >= target), None)
    final = budgets[-1]
    print(f"\nrandom's final F1 (mean of {args.seeds} seeds) at {final} passages: {target:.3f}")
    if target <= 0:
        print("random's final F1 is 0: the models learned nothing at these sizes (raise --steps); no verdict")
    elif reached is None:
        print(f"uncertain does NOT reach it within {final} passages (its final: {mean['uncertain'][-1]:.3f}); "
              "target (≥ 25 % fewer documents) not met")
    else:
        saved = 1 - reached / final
        verdict = "target met" if saved >= 0.25 else "target (≥ 25 % fewer documents) not met"
        print(f"uncertain reaches it at {reached} passages: {saved:.0%} fewer documents; {verdict}")
        # a stricter reading: random's best round (its final one can dip), and the same in tokens
        best_i = max(range(len(budgets)), key=lambda i: mean["random"][i])
        strict = next((i for i, f in enumerate(mean["uncertain"]) if f >= mean["random"][best_i]), None)
        if strict is None:
            print(f"random's best F1 {mean['random'][best_i]:.3f} (at {budgets[best_i]}) is not reached by uncertain")
        else:
            print(f"random's best F1 {mean['random'][best_i]:.3f} (at {budgets[best_i]} passages, "
                  f"{tokens['random'][best_i]:.0f} tokens) is reached by uncertain at {budgets[strict]} passages "
                  f"({1 - budgets[strict] / budgets[best_i]:.0%} fewer), {tokens['uncertain'][strict]:.0f} tokens "
                  f"({1 - tokens['uncertain'][strict] / tokens['random'][best_i]:.0%} fewer)")
    print(f"token budget at the end: random {tokens['random'][-1]:.0f}, uncertain {tokens['uncertain'][-1]:.0f} "
          f"({tokens['uncertain'][-1] / max(tokens['random'][-1], 1):.2f}×)")
    print(f"took {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
