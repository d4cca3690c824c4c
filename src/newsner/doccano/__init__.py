"""doccano: the HTTP client, the connection settings and the embedded local server.

    client.DoccanoClient      typed HTTP client (token auth, retries, actionable errors)
    config.resolve_connection / connect   NEWSNER_DOCCANO_URL or the workspace's local server
    server.LocalServer        install / up / status / down of the local doccano
"""

from __future__ import annotations

from typing import Any

__all__ = ["Connection", "DoccanoClient", "connect", "resolve_connection"]


def __getattr__(name: str) -> Any:
    """The package's names load on first use: importing newsner.doccano.config for an environment variable's name
    (as `newsner --help` does) must not load httpx and the client."""
    if name == "DoccanoClient":
        from newsner.doccano.client import DoccanoClient

        return DoccanoClient
    if name in ("Connection", "connect", "resolve_connection"):
        from newsner.doccano import config

        return getattr(config, name)
    raise AttributeError(f"module 'newsner.doccano' has no attribute {name!r}")
