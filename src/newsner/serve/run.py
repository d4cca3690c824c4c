"""The model server process: `python -m newsner.serve.run --workspace W --port P [--model DIR] [--patterns F]`.

Started by `ModelServer.up` (or `newsner serve --foreground`). Loads the suggester first and only then
listens, on 127.0.0.1 only, so an answering /health means the model is ready.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HOST = "127.0.0.1"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="newsner.serve.run")
    parser.add_argument("--workspace", required=True, type=Path)
    parser.add_argument("--port", required=True, type=int)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--patterns", type=Path, default=None)
    parser.add_argument("--budget", type=float, default=10.0)
    args = parser.parse_args(argv)

    import uvicorn

    from newsner.errors import NewsnerError
    from newsner.model.predict import Suggester
    from newsner.serve.app import create_app
    from newsner.workspace import Workspace

    try:
        schema = Workspace.at(args.workspace).label_schema()
        suggester = Suggester.load(schema, model_dir=args.model, patterns=args.patterns)
    except NewsnerError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    print(f"newsner serve: {suggester.name} on http://{HOST}:{args.port}", flush=True)
    uvicorn.run(create_app(suggester, budget=args.budget), host=HOST, port=args.port, log_level="warning",
                access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
