"""Train a spaCy NER model from `newsner export spacy` DocBins: from scratch (CPU, no pretrained vectors), or
from a pretrained pipeline's NER (`base`, see `newsner.model.base`).

Progress: spaCy's console table goes to `log`; `progress` gets one plain line per evaluation (step, validation
F1, loss), so a run whose stderr is not a terminal (CI, nohup, a pipe) still shows it is alive.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from newsner._io import normal_mode
from newsner.errors import InputError, ModelError
from newsner.model.data import read_docbin
from newsner.schema import LabelSchema

CONFIG_PATH = Path(__file__).parents[1] / "configs" / "ner.cfg"
PROGRESS_LOGGER = "newsner.ProgressLogger.v1"
#: The callback of the training running now (spaCy builds its logger from the config, by registry name).
_progress: Callable[[str], None] | None = None


def _register_progress_logger() -> None:
    from spacy.training.loggers import console_logger
    from spacy.util import registry

    def make(progress_bar: bool = False) -> Any:
        console = console_logger(progress_bar=progress_bar)

        def setup(nlp: Any, stdout: IO[str], stderr: IO[str]) -> Any:
            log_step, finalize = console(nlp, stdout, stderr)
            callback = _progress

            def step(info: dict[str, Any] | None) -> None:
                log_step(info)
                if info is not None and callback is not None:
                    f1 = float(info["other_scores"].get("ents_f", 0.0) or 0.0)
                    loss = sum(float(v) for v in info["losses"].values())
                    callback(f"step {info['step']}: validation F1 {f1:.3f}, loss {loss:.2f}")

            return step, finalize

        return setup

    registry.loggers.register(PROGRESS_LOGGER, func=make)


def one_line(exc: BaseException, limit: int = 300) -> str:
    """spaCy wraps its messages over several lines; the CLI shows one."""
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _docbin_path(data_dir: Path, split: str) -> Path:
    """The split's DocBin, checked (exists, is a DocBin, has documents) before anything is written."""
    if not data_dir.exists():
        raise InputError(f"{data_dir}: not found; create it with `newsner export spacy --out {data_dir}`")
    if not data_dir.is_dir():
        raise InputError(f"{data_dir}: is a file; pass the folder `newsner export spacy --out` wrote")
    path = data_dir / f"{split}.spacy"
    read_docbin(path, split=split)
    return path


def check_data(data_dir: Path) -> None:
    """Raise InputError (one line) unless `data_dir` holds readable, non-empty train and validation DocBins."""
    _docbin_path(data_dir, "train")
    _docbin_path(data_dir, "validation")


def train(
    data_dir: Path,
    out: Path,
    schema: LabelSchema,
    *,
    max_steps: int = 2000,
    seed: int = 0,
    log: IO[str] | None = None,
    train_path: Path | None = None,
    base: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Train a spaCy NER model from `data_dir`/{train,validation}.spacy into `out` (atomically replaced).

    Returns the path of the best model (`out`/model-best). Labels are added in schema order, never from data.
    `train_path` replaces train.spacy (the learning curve trains on subsets of it). `base` (an installed
    pipeline or a folder) starts from its NER instead of random weights. `out`/newsner.json records the label
    schema and the export.
    """
    global _progress
    import spacy
    from spacy.training.initialize import init_nlp
    from spacy.training.loop import train as train_nlp
    from spacy.util import load_config

    train_path = train_path or _docbin_path(data_dir, "train")
    dev_path = _docbin_path(data_dir, "validation")
    overrides = {
        "paths.train": str(train_path),
        "paths.dev": str(dev_path),
        "system.seed": seed,
        "training.max_steps": max_steps,
        "training.eval_frequency": max(20, min(200, max_steps // 10)),
    }
    config = load_config(CONFIG_PATH, overrides=overrides, interpolate=False)
    if base is not None:
        from newsner.model.base import base_training_config, load_base

        load_base(base, schema)  # one line on how to install it, before anything is written
        config = base_training_config(config, base)
    _register_progress_logger()
    config["training"]["logger"] = {"@loggers": PROGRESS_LOGGER, "progress_bar": False}
    sink = log or io.StringIO()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    tmp.chmod(normal_mode(directory=True))  # mkdtemp makes 0700; the model is an ordinary output folder
    _progress = progress
    try:
        with contextlib.redirect_stdout(sink):
            nlp = init_nlp(config, use_gpu=-1)
            # spaCy collects labels from the training data; the schema decides which exist, so a label
            # with no example yet is still known to the model (and scored as 0, not missing).
            ner = nlp.get_pipe("ner")
            for name in schema.names:
                if name not in ner.labels:  # type: ignore[attr-defined]
                    ner.add_label(name)  # type: ignore[attr-defined]
            train_nlp(nlp, tmp, use_gpu=-1, stdout=sink, stderr=sink)
        if not (tmp / "model-best").exists():
            raise ModelError(f"training finished without a best model (see the log); data: {data_dir}")
        spacy.load(tmp / "model-best")  # fail here, not later, if what was written cannot be loaded
        from newsner.model.meta import write_meta

        write_meta(tmp, engine="spacy", schema=schema, data_dir=data_dir, max_steps=max_steps, seed=seed,
                   base=str(base) if base is not None else None)
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except (ValueError, KeyError) as exc:
        raise ModelError(f"training on {data_dir} failed: {one_line(exc)}") from None
    finally:
        _progress = None
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out / "model-best"
