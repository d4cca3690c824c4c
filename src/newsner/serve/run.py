"""The model server process: `python -m newsner.serve.run --workspace W --port P [--model DIR] [--patterns F]`.

Started by `ModelServer.up` (or `newsner serve --foreground`). Loads the suggester first and only then
listens, on 127.0.0.1 only, so an answering /health means the model is ready.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HOST = "127.0.0.1"
WARM_UP = "Wagner fighters attacked Kidal on Tuesday, the army said."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="newsner.serve.run")
    parser.add_argument("--workspace", required=True, type=Path)
    parser.add_argument("--port", required=True, type=int)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--patterns", type=Path, default=None)
    parser.add_argument("--base", default=None)  # a pretrained spaCy pipeline (name or folder), mapped
    parser.add_argument("--budget", type=float, default=10.0)
    args = parser.parse_args(argv)

    import logging

    import uvicorn

    from newsner.errors import NewsnerError
    from newsner.model.predict import Suggester
    from newsner.serve.app import check_budget, create_app
    from newsner.workspace import Workspace

    # Refused requests are one line each in serve.log (never the text: it may be a confidential article).
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    serve_log = logging.getLogger("newsner.serve")
    serve_log.addHandler(handler)
    serve_log.setLevel(logging.INFO)
    serve_log.propagate = False
    try:
        check_budget(args.budget)
        schema = Workspace.at(args.workspace).label_schema()
        patterns = args.patterns
        if args.base is not None and patterns is None and args.model is None:
            from newsner.model.patterns import default_patterns_path

            patterns = default_patterns_path()  # round 0: the base merged with the rules, as pre-annotate --base
        suggester = Suggester.load(schema, model_dir=args.model, patterns=patterns, base=args.base)
        # One suggestion before listening: whatever a suggester builds on its first call (rule sets, the
        # model's first batch) is built now, not in the first annotator's budget, and /health means ready.
        suggester.suggest([WARM_UP])
    except NewsnerError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    print(f"newsner serve: {suggester.name} on http://{HOST}:{args.port}", flush=True)
    uvicorn.run(create_app(suggester, budget=args.budget), host=HOST, port=args.port, log_level="warning",
                access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
