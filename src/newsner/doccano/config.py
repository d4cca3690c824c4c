"""Which doccano to talk to: a remote one from the environment, else the local server `newsner doccano up` started.

The connection itself (and the environment variables) live in newsner.doccano.connection, below the local server.
"""

from __future__ import annotations

from typing import Any

from newsner.doccano.client import DoccanoClient
from newsner.doccano.connection import (  # noqa: F401 (re-exported: the one place callers look)
    ENV_PASSWORD,
    ENV_URL,
    ENV_USERNAME,
    Connection,
    connection_from_env,
)
from newsner.doccano.server import LocalServer
from newsner.errors import DoccanoError
from newsner.workspace import Workspace

NOT_CONFIGURED = f"no doccano configured — run `newsner doccano up` or set {ENV_URL}"


def resolve_connection(workspace: Workspace) -> Connection:
    """NEWSNER_DOCCANO_URL (+ username/password) when set; else the local server running in this workspace.

    Raises:
        DoccanoError: neither is available (the message says how to get one).
    """
    remote = connection_from_env()
    if remote is not None:
        return remote
    local = LocalServer(workspace).connection()
    if local is None:
        raise DoccanoError(NOT_CONFIGURED)
    return local


def connect(workspace: Workspace, **client_options: Any) -> DoccanoClient:
    """Resolve the connection and log in; returns a token-authenticated client (close it, or use `with`)."""
    conn = resolve_connection(workspace)
    return DoccanoClient.login(conn.url, conn.username, conn.password, **client_options)
