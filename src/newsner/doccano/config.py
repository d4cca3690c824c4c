"""Which doccano to talk to: a remote one from the environment, else the local server `newsner doccano up` started.

    NEWSNER_DOCCANO_URL       the server root, e.g. https://doccano.example.org (no /v1)
    NEWSNER_DOCCANO_USERNAME  a doccano user that may create projects (a superuser for `push`)
    NEWSNER_DOCCANO_PASSWORD  its password (read from the environment only; never written anywhere)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from newsner.errors import DoccanoError

if TYPE_CHECKING:
    from newsner.doccano.client import DoccanoClient
    from newsner.workspace import Workspace

ENV_URL = "NEWSNER_DOCCANO_URL"
ENV_USERNAME = "NEWSNER_DOCCANO_USERNAME"
ENV_PASSWORD = "NEWSNER_DOCCANO_PASSWORD"

NOT_CONFIGURED = f"no doccano configured — run `newsner doccano up` or set {ENV_URL}"


@dataclass(frozen=True)
class Connection:
    """Where a doccano is and who to log in as. The password never shows in repr() (nor in logs or errors)."""

    url: str
    username: str
    password: str = field(repr=False)
    #: where these came from: "environment" or the local server's credentials file
    source: str = "environment"


def connection_from_env(environ: dict[str, str] | None = None) -> Connection | None:
    """The remote doccano named by NEWSNER_DOCCANO_URL, or None when it is not set.

    Raises:
        DoccanoError: the URL is set but malformed, or the username/password are missing.
    """
    env: Any = os.environ if environ is None else environ
    url = (env.get(ENV_URL) or "").strip()
    if not url:
        return None
    if not url.startswith(("http://", "https://")):
        raise DoccanoError(f"{ENV_URL} must start with http:// or https:// (got {url!r})")
    username = (env.get(ENV_USERNAME) or "").strip()
    password = env.get(ENV_PASSWORD) or ""
    missing = [name for name, value in ((ENV_USERNAME, username), (ENV_PASSWORD, password)) if not value]
    if missing:
        raise DoccanoError(f"{ENV_URL} is set but {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} "
                           "not: set them to a doccano user that can create projects")
    return Connection(url=url.rstrip("/"), username=username, password=password, source="environment")


def resolve_connection(workspace: Workspace) -> Connection:
    """NEWSNER_DOCCANO_URL (+ username/password) when set; else the local server running in this workspace.

    Raises:
        DoccanoError: neither is available (the message says how to get one).
    """
    remote = connection_from_env()
    if remote is not None:
        return remote
    from newsner.doccano.server import LocalServer

    local = LocalServer(workspace).connection()
    if local is None:
        raise DoccanoError(NOT_CONFIGURED)
    return local


def connect(workspace: Workspace, **client_options: Any) -> DoccanoClient:
    """Resolve the connection and log in; returns a token-authenticated client (close it, or use `with`)."""
    from newsner.doccano.client import DoccanoClient

    conn = resolve_connection(workspace)
    return DoccanoClient.login(conn.url, conn.username, conn.password, **client_options)
