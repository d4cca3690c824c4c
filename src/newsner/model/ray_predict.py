"""`newsner pre-annotate --engine ray`: suggestions computed on Ray Data, the suggestion file written here.

The corpus shards become a Ray Dataset of shard paths; `flat_map` reads each shard on a worker (id, text hash,
text per article, in shard order), and `map_batches` with a callable class runs `Suggester.suggest` — the very
function the local engine runs — with one Suggester (model and/or patterns) loaded per worker actor. The driver
consumes the rows in corpus order (`preserve_order`) and builds the same records as `suggestion_records`, so the
file the CLI writes atomically has the same bytes as the local engine's. Memory stays flat: Ray streams blocks.

A worker that dies is restarted by Ray and its batch retried; a driver killed mid-run leaves no file (the write is
atomic), and the rerun redoes the whole pass. The model folder and the corpus must be readable by every worker
at the same path (a shared filesystem); `RAY_ADDRESS` / `--ray-address` names a cluster, else Ray starts here.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from newsner.corpus.store import Corpus
from newsner.errors import CorpusError, ModelError
from newsner.ingest.ray_engine import KILL_MARKER_ENV, drill_kill, start  # noqa: F401 (KILL_MARKER_ENV re-exported)
from newsner.model.predict import BATCH, Suggester
from newsner.schema import AnnotationRecord, Article, LabelSchema

# Fault injection (tests and drills): see newsner.ingest.ray_engine.drill_kill.


def read_shard(row: dict[str, Any]) -> list[dict[str, Any]]:
    """Ray flat_map: one shard path → its articles (id, sha, text); a bad record becomes one `error` row."""
    from newsner._io import read_jsonl
    from newsner.errors import InputError, SchemaError

    path = Path(str(row["path"]))
    out: list[dict[str, Any]] = []
    try:
        for lineno, obj in read_jsonl(path):
            a = Article.from_dict(obj, where=f"{path}:{lineno}")
            out.append({"id": a.id, "sha": a.text_sha256, "text": a.text, "lang": a.language or "", "error": ""})
    except (InputError, SchemaError, OSError) as exc:
        out.append({"id": "", "sha": "", "text": "", "lang": "", "error": f"{exc}"})
    return out


class SuggestBatch:
    """Ray map_batches callable class: the Suggester is loaded once per worker actor, then reused."""

    def __init__(self, schema: LabelSchema, model_dir: str | None, patterns: str | None,
                 base: str | None = None) -> None:
        self.suggester = Suggester.load(schema, model_dir=Path(model_dir) if model_dir else None,
                                        patterns=Path(patterns) if patterns else None, base=base)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        drill_kill()
        texts = [str(t) for t, e in zip(batch["text"], batch["error"], strict=True) if not e]
        langs = [str(lang) or None for lang, e in zip(batch["lang"], batch["error"], strict=True) if not e]
        suggested = iter(self.suggester.suggest_with_relations(texts, langs))  # (spans, relations) per text
        spans = [b"" if e else pickle.dumps(next(suggested), protocol=pickle.HIGHEST_PROTOCOL)
                 for e in batch["error"]]
        return {"id": list(batch["id"]), "sha": list(batch["sha"]), "error": list(batch["error"]),
                "spans": spans}


def suggestion_records_ray(corpus: Corpus, suggester: Suggester, schema: LabelSchema, *,
                           model_dir: Path | None, patterns: Path | None, address: str | None = None,
                           num_cpus: int | None = None, workers: int | None = None,
                           progress: Callable[[int], None] | None = None,
                           base: str | Path | None = None) -> Iterator[AnnotationRecord]:
    """The records `suggestion_records(corpus, suggester)` yields, computed on Ray workers, in corpus order.

    `suggester` is the driver's copy (loaded to check the model and patterns before anything starts, and for
    its name); the workers load their own from `model_dir` / `patterns` / `base` (a spaCy model, a transformers
    model or a pretrained base, as the local engine), which must be readable (or installed) there.
    """
    shards = corpus.shard_paths()
    if not shards:
        return
    ray = start(address, num_cpus)
    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    ctx.execution_options.verbose_progress = False
    size = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
    # No more actors than shards (the blocks): an idle actor would only hold a model in memory (and Ray warns).
    size = max(1, min(size, len(shards)))
    ds = ray.data.from_items([{"path": str(p.resolve())} for p in shards], override_num_blocks=len(shards))
    # Reading a shard is light I/O: no CPU reserved, or the actors (one CPU each, all of them) would starve it.
    ds = ds.flat_map(read_shard, num_cpus=0)
    # A base given as a folder is resolved like the model; an installed pipeline's name is passed as it is.
    base_arg = str(Path(base).resolve()) if base is not None and Path(base).exists() else base
    ds = ds.map_batches(SuggestBatch, fn_constructor_args=(schema, str(model_dir.resolve()) if model_dir else None,
                                                           str(patterns.resolve()) if patterns else None,
                                                           str(base_arg) if base_arg is not None else None),
                        batch_size=BATCH, batch_format="numpy",
                        compute=ray.data.ActorPoolStrategy(size=size), num_cpus=1)
    who = "newsner-patterns" if suggester.name == "patterns" else "newsner-model"
    done = 0
    try:
        rows = ds.iter_rows()
        for row in rows:
            if row["error"]:
                raise CorpusError(f"{row['error']} — run `newsner corpus validate` for every problem")
            spans, relations = pickle.loads(row["spans"])
            yield AnnotationRecord(doc_id=str(row["id"]), text_sha256=str(row["sha"]), annotator=who,
                                   spans=spans, status="unconfirmed", origin={"suggester": suggester.name},
                                   relations=relations)
            done += 1
            if progress and done % BATCH == 0:
                progress(BATCH)
    except ray.exceptions.RayError as exc:
        # Only the cause's last line: a Ray traceback names Ray's internals, not what the user can do.
        cause = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"--engine ray: the suggestion workers failed ({cause}); rerun the command "
                         "(the suggestion file is written only when every article is done)") from None
    if progress and done % BATCH:
        progress(done % BATCH)
