"""Training and suggestion throughput: the transformers engine beside the spaCy engine, measured in the same run.

    .venv/bin/python bench/bench_transformers.py                 # tiny BERT built here, CPU (a few minutes)
    .venv/bin/python bench/bench_transformers.py --base PATH     # a real base (a local folder, or a hub name)

A workspace of generated conflict sentences (tests/hf_fixtures.py: four labels, emoji and flags) is exported as
`hf` and `spacy` from the same annotations. Measured:
- training: examples per second over `--epochs` passes of the train split at batch size 16 — for spaCy, the
  `newsner train` pipeline (configs/ner.cfg) updated batch by batch; for transformers, the Hugging Face Trainer
  as `newsner train --engine transformers` runs it (its own train_samples_per_second, one evaluation at the end);
- suggesting: documents per second through `Suggester.suggest` (what serve and pre-annotate call) on articles of
  five sentences: spaCy with its beam scores, transformers with windows and min-probability scores.
Ratios are against the spaCy model measured in the same run. The F1 column is on the export's test split.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

from tests.hf_fixtures import annotated_workspace, export_hf, sentence, tiny_base  # noqa: E402

from newsner.model.predict import Suggester  # noqa: E402


def spacy_train_rate(data: Path, epochs: int, batch: int = 16) -> float:
    """Examples per second of nlp.update on the `newsner train` pipeline (ner.cfg), as its loop runs."""
    import spacy
    from spacy.training import Example
    from spacy.training.initialize import init_nlp
    from spacy.util import load_config, minibatch

    from newsner.model.train import CONFIG_PATH

    config = load_config(CONFIG_PATH, overrides={"paths.train": str(data / "train.spacy"),
                                                 "paths.dev": str(data / "validation.spacy")}, interpolate=False)
    nlp = init_nlp(config, use_gpu=-1)
    from spacy.tokens import DocBin

    docs = list(DocBin().from_disk(data / "train.spacy").get_docs(spacy.blank("en").vocab))
    examples = [Example(nlp.make_doc(d.text), d) for d in docs]
    optimizer = nlp.resume_training()
    started, seen = time.perf_counter(), 0
    for _ in range(epochs):
        random.Random(0).shuffle(examples)
        for chunk in minibatch(examples, batch):
            nlp.update(list(chunk), sgd=optimizer, drop=0.1)
            seen += len(chunk)
    return seen / (time.perf_counter() - started)


def suggest_rate(suggester: Suggester, texts: list[str], repeat: int = 2) -> float:
    suggester.suggest(texts[:8])  # warm-up (lazy imports, first allocation)
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for i in range(0, len(texts), 64):
            suggester.suggest(texts[i:i + 64])
        best = min(best, time.perf_counter() - started)
    return len(texts) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", help="a transformers base (local folder or hub name); default: a tiny BERT "
                                       "built here from the export's words")
    parser.add_argument("--docs", type=int, default=300, help="annotated articles (one sentence each)")
    parser.add_argument("--epochs", type=int, default=3, help="training passes over the train split")
    parser.add_argument("--spacy-steps", type=int, default=300, help="steps of the spaCy model that suggests")
    parser.add_argument("--suggest-docs", type=int, default=200, help="articles (five sentences) to suggest on")
    parser.add_argument("--learning-rate", type=float, default=None,
                        help="default: 5e-3 for the tiny model, 5e-5 for a real base")
    args = parser.parse_args()

    import torch

    from newsner.model import evaluate, train
    from newsner.model.hf_data import quiet_transformers
    from newsner.model.hf_train import train_transformer

    quiet_transformers()

    root = Path(tempfile.mkdtemp(prefix="bench-transformers-"))
    try:
        (root / "annotations").mkdir()
        shutil.copy(REPO / "annotations" / "labels.json", root / "annotations" / "labels.json")
        ws, _ = annotated_workspace(root, args.docs)
        schema = ws.label_schema()
        hf_dir = export_hf(ws, root / "exports" / "hf")
        from newsner.export import ExportOptions, export

        spacy_dir = root / "exports" / "spacy"
        export(ws, spacy_dir, ExportOptions("spacy", splits=(0.7, 0.15, 0.15)))
        base = args.base or str(tiny_base(hf_dir, root / "bases" / "tiny-bert", positions=128))
        lr = args.learning_rate or (5e-3 if args.base is None else 5e-5)
        rng = random.Random(1)
        texts = [" ".join(sentence(rng)[0] for _ in range(5)) for _ in range(args.suggest_docs)]
        device = "cuda" if torch.cuda.is_available() else "cpu"
        print(f"{args.docs} annotated sentences, {args.epochs} epoch(s) at batch 16, {len(texts)} articles of five "
              f"sentences to suggest on; transformers on {device}, torch threads {torch.get_num_threads()}")

        sp_rate = spacy_train_rate(spacy_dir, args.epochs)
        sp_model = train(spacy_dir, root / "models" / "spacy", schema, max_steps=args.spacy_steps)
        sp_f1 = evaluate(sp_model, spacy_dir / "test.spacy", schema).f1
        sp_suggest = suggest_rate(Suggester.load(schema, model_dir=sp_model, patterns=None), texts)

        result = train_transformer(hf_dir, root / "models" / "tf", schema, base=base, epochs=args.epochs,
                                   learning_rate=lr, eval_steps=10**9, patience=10**6)
        tf_f1 = evaluate(result.path, hf_dir, schema).f1
        tf_suggest = suggest_rate(Suggester.load(schema, model_dir=result.path, patterns=None), texts)

        name = Path(base).name if args.base is None else base
        print()
        print("| engine | model | train examples/s | ×spaCy | suggest docs/s | ×spaCy | test F1 |")
        print("|---|---|---:|---:|---:|---:|---:|")
        print(f"| spacy | ner.cfg CNN (CPU) | {sp_rate:.0f} | 1.00 | {sp_suggest:.1f} | 1.00 | {sp_f1:.3f} |")
        print(f"| transformers | {name} ({device}) | {result.examples_per_second:.0f} | "
              f"{result.examples_per_second / sp_rate:.2f} | {tf_suggest:.1f} | {tf_suggest / sp_suggest:.2f} | "
              f"{tf_f1:.3f} |")
        print()
        print("The same bench with a real base on a GPU machine (the model on disk, or a hub name with access):")
        print("  .venv/bin/python bench/bench_transformers.py --base xlm-roberta-base --docs 2000 --epochs 3")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
