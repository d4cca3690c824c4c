"""doccano: the HTTP client, the connection settings and the embedded local server.

    client.DoccanoClient      typed HTTP client (token auth, retries, actionable errors)
    config.resolve_connection / connect   NEWSNER_DOCCANO_URL or the workspace's local server
    server.LocalServer        install / up / status / down of the local doccano
"""

from newsner.doccano.client import DoccanoClient
from newsner.doccano.config import Connection, connect, resolve_connection

__all__ = ["Connection", "DoccanoClient", "connect", "resolve_connection"]
