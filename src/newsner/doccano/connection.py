"""A doccano connection (URL and credentials) and the remote one named by the environment.

    NEWSNER_DOCCANO_URL       the server root, e.g. https://doccano.example.org (no /v1)
    NEWSNER_DOCCANO_USERNAME  a doccano user that may create projects (a superuser for `push`)
    NEWSNER_DOCCANO_PASSWORD  its password (read from the environment only; never written anywhere)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from newsner.errors import DoccanoError

ENV_URL = "NEWSNER_DOCCANO_URL"
ENV_USERNAME = "NEWSNER_DOCCANO_USERNAME"
ENV_PASSWORD = "NEWSNER_DOCCANO_PASSWORD"


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
