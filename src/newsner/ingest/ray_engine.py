"""`newsner ingest --engine ray`: the reading and cleaning of inputs on Ray Data; the commit stays here.

The inputs become a Ray Dataset of file descriptions; `map_batches` runs the very function the local engine
runs per file (`readers.iter_file`: decoding, extraction, cleaning, Draft building, rejections), so both
engines produce the same drafts. The driver consumes the results in input order and does exactly what the local
engine does with them: near-duplicate matching through the corpus index and the chunked atomic commit (one
writer, the corpus lock). A worker that dies is retried by Ray; a driver killed mid-run leaves at most one
uncommitted chunk, which the next run cuts back and redoes (see newsner.corpus.index).

`RAY_ADDRESS` (or `--ray-address`) names a running cluster; without it Ray starts on this machine. Inputs must
be at paths every worker can read (a shared filesystem); the corpus lives with the driver.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterator
from typing import Any, BinaryIO

from newsner.errors import InputError
from newsner.ingest.drafts import Draft, InputFile, ReadOptions, Rejection
from newsner.ingest.readers import iter_file

INSTALL_HINT = "--engine ray needs Ray Data: pip install 'newsner[ray]' (or pass --engine local)"
_BATCH = 16  # files per map_batches call: large enough to amortize a task, small enough to spread work
# Fault injection for tests and drills: when this names an existing file, the first worker batch to see it
# deletes it and kills its own process (SIGKILL), once — as a node loss would. Inert unless the file exists.
KILL_MARKER_ENV = "NEWSNER_RAY_KILL_MARKER"


def drill_kill() -> None:
    """Called at the start of every worker batch (ingest and pre-annotate); see KILL_MARKER_ENV."""
    marker = os.environ.get(KILL_MARKER_ENV)
    if marker and os.path.exists(marker):
        try:
            os.remove(marker)
        except FileNotFoundError:
            return  # another worker took it
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def require_ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401  (the Data library is the part newsner uses)
    except ImportError:
        raise InputError(INSTALL_HINT) from None
    return ray


def read_batch(batch: dict[str, Any], options: ReadOptions) -> dict[str, list[Any]]:
    """Ray map_batches function: each file of the batch → its pickled drafts and rejections, in order."""
    drill_kill()
    out: dict[str, list[Any]] = {"n": [], "results": []}
    for n, display, path, kind, size in zip(batch["n"], batch["display"], batch["path"], batch["kind"],
                                            batch["size"], strict=True):
        item = InputFile(str(display), _path(path), str(kind), int(size))
        try:
            results: list[Draft | Rejection] = list(iter_file(item, options))
        except Exception as exc:  # noqa: BLE001 - one unexpected failure costs one file, like the local engine
            results = [Rejection(item.display, None, f"could not be read ({type(exc).__name__}: {exc}); please "
                                 "report this file", "internal error")]
        out["n"].append(int(n))
        out["results"].append(pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL))
    return out


def _path(value: Any) -> Any:
    from pathlib import Path

    return Path(str(value))


def start(address: str | None = None, num_cpus: int | None = None) -> Any:
    """Connect to RAY_ADDRESS / `address`, or start Ray on this machine (quietly, no dashboard)."""
    ray = require_ray()
    import logging

    for name in ("ray", "ray.data"):  # Ray's own progress and statistics would drown the ingest summary
        logging.getLogger(name).setLevel(logging.WARNING)
    if not ray.is_initialized():
        address = address or os.environ.get("RAY_ADDRESS") or None
        kwargs: dict[str, Any] = {"ignore_reinit_error": True, "log_to_driver": False, "configure_logging": False}
        if address:
            kwargs["address"] = address
        else:
            kwargs.update(num_cpus=num_cpus, include_dashboard=False)
        try:
            ray.init(**kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise InputError(f"--engine ray: cannot reach Ray at {address or 'a new local instance'} ({exc}); "
                             "check RAY_ADDRESS / --ray-address") from None
    return ray


def iter_inputs_ray(items: list[InputFile], options: ReadOptions, *, address: str | None = None,
                    num_cpus: int | None = None, stdin: BinaryIO | None = None) -> Iterator[Draft | Rejection]:
    """Drafts and rejections of every input, in input order, read on Ray workers (stdin on the driver)."""
    ray = start(address, num_cpus)
    files = [(n, item) for n, item in enumerate(items) if item.path is not None]
    local = {n: item for n, item in enumerate(items) if item.path is None}
    results: dict[int, list[Draft | Rejection]] = {}
    if files:
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True
        ctx.enable_progress_bars = False
        ctx.print_on_execution_start = False
        ctx.execution_options.verbose_progress = False
        ds = ray.data.from_items([{"n": n, "display": item.display, "path": str(item.path), "kind": item.kind,
                                   "size": item.size} for n, item in files])
        ds = ds.map_batches(read_batch, fn_kwargs={"options": options}, batch_size=_BATCH, batch_format="numpy")
        pending = iter(ds.iter_rows())
    else:
        pending = iter(())
    for n, item in enumerate(items):
        if n in local:
            yield from iter_file(item, options, stdin)
            continue
        while n not in results:
            row = next(pending)
            results[int(row["n"])] = pickle.loads(row["results"])
        yield from results.pop(n)
