"""`newsner train --engine transformers`: fine-tune AutoModelForTokenClassification on the `export hf` dataset.

The Hugging Face Trainer does the loop: a seed for the weights of the new head, the data order and dropout;
`max_steps` or `epochs`; AdamW at `learning_rate`; evaluation on the validation split every `eval_steps`
(seqeval entity F1, strict IOB2, the metric `newsner evaluate` prints), the best checkpoint kept and reloaded at
the end, and early stopping after `patience` evaluations without improvement. Mixed precision only on CUDA
(bf16 where the GPU has it, else fp16); the device is CUDA when present, else the CPU. `base` is a local folder
or a name transformers resolves itself (a hub name works for users with access to a hub; newsner downloads
nothing). The output folder (replaced atomically) holds the model, its tokenizer and newsner.json (label
schema version, labels, the export it was trained on).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsner._io import normal_mode
from newsner.errors import ModelError
from newsner.model.hf_data import (
    encode_words,
    load_export,
    max_length,
    quiet_transformers,
    require_transformers,
    window_labels,
)
from newsner.schema import LabelSchema

#: Model types whose fast tokenizer needs add_prefix_space=True for `is_split_into_words` input.
PREFIX_SPACE = frozenset({"roberta", "gpt2", "bloom", "deberta", "longformer", "bart", "mvp", "led"})


@dataclass
class HFTrainResult:
    path: Path
    steps: int
    seconds: float
    #: Training examples (windows) per second, as the Trainer measured it.
    examples_per_second: float
    best_f1: float | None


def load_base_model(base: str | Path, schema: LabelSchema) -> tuple[Any, Any]:
    """Tokenizer and token-classification model of `base` with this schema's labels; one line when it fails."""
    from transformers import AutoConfig, AutoModelForTokenClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    tags = schema.bio_tags()
    verbosity = hf_logging.get_verbosity()
    # A base's own head never fits this schema's tags: its "size mismatch, re-initialised" report is expected.
    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    try:
        config = AutoConfig.from_pretrained(str(base))
        # Byte-level BPE tokenizers (RoBERTa, GPT-2, DeBERTa…) take pre-split words only with a prefix space, as
        # Hugging Face's run_ner.py sets it; the setting is saved with the tokenizer for prediction.
        extra = {"add_prefix_space": True} if config.model_type in PREFIX_SPACE else {}
        tokenizer = AutoTokenizer.from_pretrained(str(base), **extra)
        model = AutoModelForTokenClassification.from_pretrained(
            str(base), num_labels=len(tags), id2label=dict(enumerate(tags)),
            label2id={t: i for i, t in enumerate(tags)}, ignore_mismatched_sizes=True)
    except (OSError, ValueError) as exc:
        where = "folder" if Path(str(base)).exists() else "name"
        raise ModelError(f"--base {base}: not a model {where} transformers can load "
                         f"({' '.join(str(exc).split())[:200]}); pass a local folder with config.json, the "
                         "weights and the tokenizer files") from None
    finally:
        hf_logging.set_verbosity(verbosity)
    if not getattr(tokenizer, "is_fast", False):
        raise ModelError(f"--base {base}: its tokenizer has no fast (Rust) version; newsner needs one for "
                         "character offsets — choose a base with tokenizer.json")
    return tokenizer, model


def _tokenize(ds: Any, tokenizer: Any, length: int) -> Any:
    from datasets import Dataset

    windows = encode_words(tokenizer, ds["tokens"], length=length)
    labels = window_labels(windows, ds["ner_tags"])
    # A window with no labelled sub-token (words the tokenizer turned into nothing) teaches nothing, and its
    # loss, a mean over zero tokens, is NaN: it would poison the whole batch.
    keep = [i for i, row in enumerate(labels) if any(t != -100 for t in row)]
    if not keep:
        raise ModelError("the base's tokenizer gives none of the export's words a sub-token; choose a base whose "
                         "tokenizer covers the corpus's language")
    return Dataset.from_dict({"input_ids": [windows.encoding["input_ids"][i] for i in keep],
                              "attention_mask": [windows.encoding["attention_mask"][i] for i in keep],
                              "labels": [labels[i] for i in keep]})


def _metrics(tags: Sequence[str]) -> Callable[[Any], dict[str, float]]:
    def compute(pred: Any) -> dict[str, float]:
        from seqeval.metrics import f1_score
        from seqeval.scheme import IOB2

        logits, labels = pred
        best = logits.argmax(-1)
        gold, guess = [], []
        for row_pred, row_gold in zip(best, labels, strict=True):
            keep = row_gold != -100
            gold.append([tags[int(t)] for t in row_gold[keep]])
            guess.append([tags[int(t)] for t in row_pred[keep]])
        return {"f1": float(f1_score(gold, guess, mode="strict", scheme=IOB2, zero_division=0))}

    return compute


def train_transformer(
    data_dir: Path,
    out: Path,
    schema: LabelSchema,
    *,
    base: str | Path,
    max_steps: int | None = None,
    epochs: float = 3.0,
    learning_rate: float = 5e-5,
    batch_size: int = 16,
    seed: int = 0,
    patience: int = 3,
    eval_steps: int | None = None,
    train_indices: Sequence[int] | None = None,
    progress: Callable[[str], None] | None = None,
) -> HFTrainResult:
    """Fine-tune `base` on `data_dir` (an `export hf` folder) into `out`; `train_indices` picks a subset of the
    train split (the learning curve)."""
    require_transformers()
    import torch
    from transformers import (
        DataCollatorForTokenClassification,
        EarlyStoppingCallback,
        PrinterCallback,
        Trainer,
        TrainerCallback,
        TrainingArguments,
        set_seed,
    )
    from transformers.utils import logging as hf_logging

    quiet_transformers()

    ds = load_export(data_dir, schema)
    train_split = ds["train"].select(list(train_indices)) if train_indices is not None else ds["train"]
    set_seed(seed)  # before loading: the new classification head is initialised from the RNG
    tokenizer, model = load_base_model(base, schema)
    length = max_length(tokenizer, model.config)
    train_set = _tokenize(train_split, tokenizer, length)
    dev_set = _tokenize(ds["validation"], tokenizer, length)
    steps_per_epoch = max(1, -(-len(train_set) // batch_size))
    total = max_steps or max(1, round(epochs * steps_per_epoch))
    every = eval_steps or max(1, min(200, total // 10))
    cuda = torch.cuda.is_available()
    bf16 = cuda and torch.cuda.is_bf16_supported()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    tmp.chmod(normal_mode(directory=True))
    started = time.monotonic()

    class Progress(TrainerCallback):
        def on_evaluate(self, args: Any, state: Any, control: Any, metrics: Any = None, **kw: Any) -> None:
            if progress is not None and metrics:
                progress(f"step {state.global_step}/{state.max_steps}: validation F1 "
                         f"{metrics.get('eval_f1', 0.0):.3f}, loss {metrics.get('eval_loss', 0.0):.3f} "
                         f"({time.monotonic() - started:.0f} s)")

    args = TrainingArguments(
        output_dir=str(tmp / "checkpoints"), seed=seed, data_seed=seed, max_steps=total,
        learning_rate=learning_rate, per_device_train_batch_size=batch_size, per_device_eval_batch_size=batch_size,
        eval_strategy="steps", eval_steps=every, save_strategy="steps", save_steps=every, save_total_limit=2,
        save_only_model=True, load_best_model_at_end=True, metric_for_best_model="f1", greater_is_better=True,
        logging_strategy="no", report_to=[], disable_tqdm=True, use_cpu=not cuda, fp16=cuda and not bf16,
        bf16=bf16, dataloader_pin_memory=cuda)
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]  # the Trainer's own notices would drown the progress lines
    try:
        trainer = Trainer(model=model, args=args, train_dataset=train_set, eval_dataset=dev_set,
                          data_collator=DataCollatorForTokenClassification(tokenizer),
                          compute_metrics=_metrics(schema.bio_tags()),
                          callbacks=[EarlyStoppingCallback(early_stopping_patience=patience), Progress()])
        trainer.remove_callback(PrinterCallback)  # it prints every metrics dict to stdout; Progress says enough
        output = trainer.train()
        shutil.rmtree(tmp / "checkpoints", ignore_errors=True)
        trainer.save_model(str(tmp))
        tokenizer.save_pretrained(str(tmp))
        from collections import Counter

        from newsner.model.meta import write_meta

        langs = Counter(x for x in ds["train"]["language"] if x) if "language" in ds["train"].column_names else {}
        languages = [lang for lang, _ in Counter(langs).most_common(1)]  # words at prediction: its tokenizer
        best = trainer.state.best_metric
        write_meta(tmp, engine="transformers", schema=schema, data_dir=data_dir, base=str(base), seed=seed,
                   max_steps=total, steps=trainer.state.global_step, learning_rate=learning_rate,
                   max_length=length, language=languages[0] if languages else None,
                   validation_f1=round(float(best), 4) if best is not None else None)
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except (ValueError, RuntimeError) as exc:
        raise ModelError(f"training {base} on {data_dir} failed: {' '.join(str(exc).split())[:300]}") from None
    finally:
        hf_logging.set_verbosity(verbosity)
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return HFTrainResult(path=out, steps=trainer.state.global_step, seconds=time.monotonic() - started,
                         examples_per_second=float(output.metrics.get("train_samples_per_second", 0.0)),
                         best_f1=float(best) if best is not None else None)
