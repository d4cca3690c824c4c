"""The HTTP layer of the doccano client: one cookie-less token session, retries, and errors that say what to do.

* authenticates with a token on a cookie-less httpx client: a request that carries doccano's session cookie is
  CSRF-checked even with a Token header, so cookies are never stored or sent;
* retries with exponential backoff only what is safe to repeat (GET/PUT/DELETE) and only on 502/503/504 or a
  transport failure; a POST is never repeated (it could create a second project, example or span);
* turns every failure into a DoccanoError subclass whose message says what to do, and never puts the token
  or a password into a message, a repr or a log line.

Paths carry no trailing slash except under /v1/auth/, /v1/fp/ and /v1/health/: doccano answers a wrong path
with its web app (200 text/html), so every JSON answer is checked for its content type.
"""

from __future__ import annotations

import http.cookiejar
import logging
import os
import time
import urllib.request
from collections.abc import Iterator
from types import TracebackType
from typing import Any, Self

import httpx

from newsner.errors import DoccanoAPIError, DoccanoAuthError, DoccanoConnectionError

log = logging.getLogger("newsner.doccano")

_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_RETRY_STATUSES = frozenset({502, 503, 504})
_MAX_BACKOFF = 8.0


class _NoCookies(http.cookiejar.CookiePolicy):
    """Accept and send no cookie at all (see the module docstring: a session cookie triggers CSRF checks)."""

    netscape = True
    rfc2965 = False
    hide_cookie2 = True

    def set_ok(self, cookie: http.cookiejar.Cookie, request: urllib.request.Request) -> bool:
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: urllib.request.Request) -> bool:
        return False

    def domain_return_ok(self, domain: str, request: urllib.request.Request) -> bool:
        return False

    def path_return_ok(self, path: str, request: urllib.request.Request) -> bool:
        return False


def _server_message(response: httpx.Response, limit: int = 600) -> str:
    """doccano's own explanation from an error body: DRF's {"field": ["msg"]} flattened to `field: msg`."""
    try:
        body = response.json()
    except ValueError:
        text = " ".join(response.text.split())
        return text[:limit]

    def flat(value: Any) -> str:
        if isinstance(value, list):
            return "; ".join(flat(v) for v in value)
        if isinstance(value, dict):
            return "; ".join(
                flat(v) if k in ("detail", "non_field_errors", "message") else f"{k}: {flat(v)}"
                for k, v in value.items())
        return str(value)

    return flat(body)[:limit]


def _is_html(response: httpx.Response) -> bool:
    return "html" in response.headers.get("content-type", "").lower()


class DoccanoHTTP:
    """One doccano server, one authenticated user.

    Args:
        base_url: the server root, e.g. ``http://127.0.0.1:8000`` (no ``/v1``).
        token: a doccano auth token (``login()`` obtains one from a username and password).
        transport: an httpx transport; tests inject ``httpx.MockTransport`` to simulate faults.
        timeout: seconds for one request (connect, read, write); long operations take their own.
        retries: extra attempts for idempotent requests on 502/503/504 or a transport failure.
        backoff: the first retry waits this long, each next one twice as long (capped at 8 s).
    """

    def __init__(self, base_url: str, *, token: str | None = None,
                 transport: httpx.BaseTransport | None = None, timeout: float = 30.0, retries: int = 3,
                 backoff: float = 0.5) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = max(0.0, backoff)
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Accept": "application/json"},
            cookies=http.cookiejar.CookieJar(policy=_NoCookies()),
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
            follow_redirects=False,
        )
        if token:
            self._set_token(token)

    def __repr__(self) -> str:  # never shows the token
        return f"{type(self).__name__}({self.base_url!r})"

    @classmethod
    def login(cls, base_url: str, username: str, password: str, **kwargs: Any) -> Self:
        """Log in with a username and password and return a client that uses the token.

        Raises:
            DoccanoAuthError: wrong username or password.
            DoccanoConnectionError: nobody answers at base_url.
        """
        client = cls(base_url, **kwargs)
        try:
            try:
                body = client._request("POST", "/v1/auth/login/", json={"username": username, "password": password})
            except DoccanoAPIError as exc:
                if exc.status == 400:  # DRF answers bad credentials with 400 "Unable to log in ..."
                    raise DoccanoAuthError(
                        f"doccano at {client.base_url} refused the login of user {username!r}: wrong username or "
                        "password (the local server's are in .newsner/doccano/credentials.json; a remote server's "
                        "come from NEWSNER_DOCCANO_USERNAME / NEWSNER_DOCCANO_PASSWORD)") from None
                raise
            token = body.get("key") if isinstance(body, dict) else None
            if not isinstance(token, str) or not token:
                raise DoccanoAPIError(f"doccano at {client.base_url} answered the login without a token: is this "
                                      "a doccano 1.x server?", status=200, url=f"{client.base_url}/v1/auth/login/")
        except BaseException:
            client.close()
            raise
        client._set_token(token)
        return client

    def _set_token(self, token: str) -> None:
        self._http.headers["Authorization"] = f"Token {token}"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # ------------------------------------------------------------------ transport

    def _request(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
                 files: Any = None, data: Any = None, timeout: float | None = None,
                 expect: str = "json", headers: dict[str, str] | None = None) -> Any:
        """Send one request (retrying idempotent ones), check the answer, return JSON / text / bytes / None.

        `expect` is "json", "text" (plain-text body, e.g. a filepond upload id) or "bytes" (a download).
        """
        attempts = 1 + (self.retries if method in _IDEMPOTENT else 0)
        where = f"{method} {path}"
        for attempt in range(attempts):
            last = attempt + 1 >= attempts
            try:
                response = self._http.request(method, path, json=json, params=params, files=files, data=data,
                                              headers=headers,
                                              timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout)
            except httpx.ConnectError:
                if not last:
                    self._sleep(attempt, None)
                    continue
                hint = ("check NEWSNER_DOCCANO_URL" if os.environ.get("NEWSNER_DOCCANO_URL")
                        else "run `newsner doccano up` or set NEWSNER_DOCCANO_URL")
                raise DoccanoConnectionError(f"no doccano at {self.base_url} — {hint}") from None
            except httpx.TimeoutException:
                if not last:
                    self._sleep(attempt, None)
                    continue
                seconds = self.timeout if timeout is None else timeout
                raise DoccanoConnectionError(
                    f"doccano at {self.base_url} did not answer {where} within {seconds:g} s — check "
                    "`newsner doccano status` (or the remote server's health) and retry") from None
            except httpx.TransportError as exc:
                if not last:
                    self._sleep(attempt, None)
                    continue
                raise DoccanoConnectionError(
                    f"the connection to doccano at {self.base_url} failed during {where} "
                    f"({type(exc).__name__}: {exc}) — retry; if it persists check the server") from None
            log.debug("%s -> %s", where, response.status_code)
            if response.status_code in _RETRY_STATUSES and not last:
                self._sleep(attempt, response)
                continue
            return self._check(response, where, expect)
        raise AssertionError("unreachable")  # pragma: no cover

    def _sleep(self, attempt: int, response: httpx.Response | None) -> None:
        delay = min(self.backoff * (2 ** attempt), _MAX_BACKOFF)
        retry_after = response.headers.get("retry-after", "") if response is not None else ""
        if retry_after.isdigit():
            delay = min(max(delay, float(retry_after)), 30.0)
        time.sleep(delay)

    def _check(self, response: httpx.Response, where: str, expect: str) -> Any:
        status = response.status_code
        url = str(response.request.url) if response.request is not None else self.base_url
        if _is_html(response) and (status < 300 or status in (403, 404, 405)):
            # doccano's web app answers any unknown path: GET with 200, POST with a 403 CSRF page.
            raise DoccanoAPIError(
                f"{url} answered {where} with an HTML page (HTTP {status}) instead of doccano's JSON API: the URL "
                "or path is wrong — NEWSNER_DOCCANO_URL must be the server root (e.g. http://host:8000, without "
                "/v1 or a trailing path)", status=status, url=url, body=response.text[:2000])
        if status in (401, 403):
            raise DoccanoAuthError(
                f"doccano refused {where} (HTTP {status}: {_server_message(response)}) — check the username and "
                "password, and that this user is an admin of the project")
        if status >= 500:
            raise DoccanoAPIError(
                f"doccano at {self.base_url} failed on {where} (HTTP {status}, a server error) — see the server "
                "log (for the local server: .newsner/doccano/logs/gunicorn.log)",
                status=status, url=url, body=response.text[:2000])
        if status >= 400:
            raise DoccanoAPIError(f"doccano rejected {where} (HTTP {status}): {_server_message(response)}",
                                  status=status, url=url, body=response.text[:2000])
        if status >= 300:
            raise DoccanoAPIError(
                f"doccano redirected {where} to {response.headers.get('location', '?')} (HTTP {status}): the URL "
                "is probably wrong (http vs https, or a path in NEWSNER_DOCCANO_URL)", status=status, url=url)
        if expect == "bytes":
            return response.content
        if expect == "text":
            return response.text
        if status == 204 or not response.content:
            return None
        ctype = response.headers.get("content-type", "")
        if "json" not in ctype:
            raise DoccanoAPIError(
                f"{url} answered {where} with {ctype or 'no content type'} instead of JSON: is this doccano's "
                "API root?", status=status, url=url, body=response.text[:2000])
        try:
            return response.json()
        except ValueError:
            raise DoccanoAPIError(f"{url} answered {where} with malformed JSON", status=status, url=url,
                                  body=response.text[:2000]) from None

    def _get_json(self, path: str, **params: Any) -> Any:
        return self._request("GET", path, params=params or None)

    def _paginate(self, path: str, *, limit: int, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Yield every item of a DRF limit/offset list, computing offsets ourselves: doccano's `next` links are
        built from the Host header and break behind a proxy or a port mapping."""
        offset = 0
        while True:
            page = self._request("GET", path, params={**(params or {}), "limit": limit, "offset": offset})
            if isinstance(page, list):  # an unpaginated list
                yield from page
                return
            results = page.get("results") or []
            yield from results
            offset += len(results)
            if not results or not page.get("next") or offset >= int(page.get("count", 0)):
                return
