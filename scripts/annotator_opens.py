"""Play an annotator in the demo: log in as them and open every example with auto-labeling switched on.

This is what doccano's editor does when an annotator turns the wand button on and opens a document: it asks
`POST /v1/projects/{p}/auto-labeling?example={id}`, doccano calls the project's auto-labeling config (here
`newsner serve`) and saves the suggested spans in that annotator's own layer. Not a newsner command: it stands in
for a person clicking through the web UI.

    NEWSNER_ANNOTATOR_PASSWORD=... .venv/bin/python scripts/annotator_opens.py NAME [--project NAME]

The doccano URL is the workspace's (NEWSNER_DOCCANO_URL or the local server `newsner doccano up` started); the
password is read from the environment only, never from the command line.
"""

from __future__ import annotations

import argparse
import os
import sys

from newsner.doccano.client import DoccanoClient
from newsner.doccano.config import resolve_connection
from newsner.doccano.sync import default_project
from newsner.errors import NewsnerError
from newsner.workspace import Workspace

PASSWORD_ENV = "NEWSNER_ANNOTATOR_PASSWORD"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("annotator", help="the doccano user who opens the documents")
    parser.add_argument("--project", default=None, help="doccano project (default: NEWSNER_DOCCANO_PROJECT or newsner)")
    parser.add_argument("--workspace", default=".", help="the newsner workspace (default: the current folder)")
    args = parser.parse_args()
    password = os.environ.get(PASSWORD_ENV)
    if not password:
        print(f"annotator_opens: set {PASSWORD_ENV} to {args.annotator}'s password", file=sys.stderr)
        return 2
    name = args.project or default_project()
    try:
        url = resolve_connection(Workspace.at(args.workspace)).url
        with DoccanoClient.login(url, args.annotator, password) as client:
            project = client.find_project(name)
            if project is None:
                print(f"annotator_opens: {args.annotator} is not a member of a project {name!r}", file=sys.stderr)
                return 1
            opened = 0
            for example in client.iter_examples(int(project["id"])):
                client.auto_label(int(project["id"]), int(example["id"]))
                opened += 1
    except NewsnerError as exc:
        print(f"annotator_opens: {exc}", file=sys.stderr)
        return 1
    print(f"{args.annotator} opened {opened} example(s) of {name!r} with auto-labeling on")
    return 0


if __name__ == "__main__":
    sys.exit(main())
