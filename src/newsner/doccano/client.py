"""A small typed HTTP client for the ~20 doccano 1.8 REST endpoints newsner needs (HTTP only, no domain rules).

Why not doccano-client: it pins pydantic<2 and urllib3<2, lists 5 items a page and polls tasks once a second
(DESIGN.md). This client:

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
import io
import logging
import os
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import PurePosixPath
from types import TracebackType
from typing import Any

import httpx
import orjson

from newsner.doccano import models
from newsner.doccano.client_relations import RelationsMixin
from newsner.errors import (
    DoccanoAPIError,
    DoccanoAuthError,
    DoccanoConnectionError,
    DoccanoError,
    DoccanoTaskError,
)

log = logging.getLogger("newsner.doccano")

__all__ = ["DoccanoClient"]

_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_RETRY_STATUSES = frozenset({502, 503, 504})
_MAX_BACKOFF = 8.0
#: Ids per DELETE: SQLite caps the number of bound variables in `pk IN (...)`.
_DELETE_CHUNK = 500
#: The error doccano reports for every file that simply has no label column; newsner imports unlabelled
#: documents on purpose, so this one is not a failure.
_NO_LABEL_COLUMN = "Column {column} not found in the file"


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


class DoccanoClient(RelationsMixin):
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
        self._role_ids: dict[str, int] | None = None
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
        return f"DoccanoClient({self.base_url!r})"

    @classmethod
    def login(cls, base_url: str, username: str, password: str, **kwargs: Any) -> DoccanoClient:
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

    def __enter__(self) -> DoccanoClient:
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

    # ------------------------------------------------------------------ projects

    def list_projects(self) -> list[dict[str, Any]]:
        """Every project this user is a member of."""
        return list(self._paginate("/v1/projects", limit=100))

    def find_project(self, name: str) -> dict[str, Any] | None:
        """The project called exactly `name`, or None.

        Raises:
            DoccanoError: more than one project has that name (doccano allows it; newsner cannot choose).
        """
        found = [p for p in self._paginate("/v1/projects", limit=100, params={"q": name}) if p.get("name") == name]
        if len(found) > 1:
            ids = ", ".join(str(p["id"]) for p in found)
            raise DoccanoError(f"{len(found)} doccano projects are named {name!r} (ids {ids}): rename or delete all "
                               "but one in doccano, or pass another --project name")
        return found[0] if found else None

    def get_project(self, project_id: int) -> dict[str, Any]:
        return dict(self._get_json(f"/v1/projects/{int(project_id)}"))

    def create_project(self, name: str, *, description: str, guideline: str = "", collaborative: bool = False,
                       allow_overlapping: bool = False, use_relation: bool = False) -> dict[str, Any]:
        """Create a sequence-labeling (span) project; doccano requires a non-blank description.

        `use_relation` lets annotators draw relations between spans; the export then carries
        `entities`/`relations` instead of `label` (readers of the export must expect both: `doccano pull` does).
        """
        if not name.strip():
            raise DoccanoError("a doccano project needs a non-blank name")
        if not description.strip():
            raise DoccanoError(f"doccano requires a non-blank description for project {name!r}")
        body = {
            "name": name, "description": description, "guideline": guideline,
            "project_type": models.PROJECT_TYPE, "resourcetype": models.RESOURCE_TYPE,
            "collaborative_annotation": collaborative, "allow_overlapping": allow_overlapping,
            "random_order": False, "grapheme_mode": False, "use_relation": use_relation,
        }
        return dict(self._request("POST", "/v1/projects", json=body))

    def update_project(self, project_id: int, **fields: Any) -> dict[str, Any]:
        """Change some project fields (name, description, guideline, collaborative_annotation, ...)."""
        # The polymorphic serializer needs the discriminator even on a partial update.
        body = {"resourcetype": models.RESOURCE_TYPE, **fields}
        return dict(self._request("PATCH", f"/v1/projects/{int(project_id)}", json=body))

    def delete_project(self, project_id: int) -> None:
        self._request("DELETE", f"/v1/projects/{int(project_id)}")

    # ------------------------------------------------------------------ span types

    def list_span_types(self, project_id: int) -> list[dict[str, Any]]:
        return list(self._paginate(f"/v1/projects/{int(project_id)}/span-types", limit=1000))

    def create_span_type(self, project_id: int, *, text: str, background_color: str, text_color: str = "#ffffff",
                         suffix_key: str | None = None) -> dict[str, Any]:
        """Create a label. A name that exists already is refused (doccano itself answers that with a 500)."""
        body = {"text": text, "background_color": background_color, "text_color": text_color,
                "suffix_key": suffix_key, "prefix_key": None}
        try:
            return dict(self._request("POST", f"/v1/projects/{int(project_id)}/span-types", json=body))
        except DoccanoAPIError as exc:
            if exc.status == 500:
                raise DoccanoAPIError(
                    f"doccano could not create span type {text!r} in project {project_id} (HTTP 500): a span type "
                    "with that name most likely exists already (doccano answers a duplicate name with a server "
                    "error) — update the existing one instead", status=500, url=exc.url, body=exc.body) from None
            raise

    def update_span_type(self, project_id: int, span_type_id: int, **fields: Any) -> dict[str, Any]:
        return dict(self._request("PATCH", f"/v1/projects/{int(project_id)}/span-types/{int(span_type_id)}",
                                  json=fields))

    # ------------------------------------------------------------------ examples

    def iter_examples(self, project_id: int, *, limit: int = 1000, **filters: Any) -> Iterator[dict[str, Any]]:
        """Yield every example, `limit` a page (doccano's default page is 5).

        Filters: q (text search), confirmed (bool: confirmed by this user), label (a label name).
        """
        params = {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in filters.items() if v is not None}
        yield from self._paginate(f"/v1/projects/{int(project_id)}/examples", limit=max(1, limit), params=params)

    def count_examples(self, project_id: int) -> int:
        page = self._get_json(f"/v1/projects/{int(project_id)}/examples", limit=1, offset=0)
        return int(page["count"])

    def get_example(self, project_id: int, example_id: int) -> dict[str, Any]:
        return dict(self._get_json(f"/v1/projects/{int(project_id)}/examples/{int(example_id)}"))

    def create_example(self, project_id: int, text: str, meta: dict[str, Any] | None = None) -> dict[str, Any]:
        return dict(self._request("POST", f"/v1/projects/{int(project_id)}/examples",
                                  json={"text": text, "meta": meta or {}}))

    def delete_examples(self, project_id: int, ids: list[int]) -> None:
        """Delete these examples.

        Raises:
            DoccanoError: `ids` is empty — doccano deletes EVERY example of the project for an empty list, so an
                empty list is refused here rather than passed on.
        """
        ids = [int(i) for i in ids]
        if not ids:
            raise DoccanoError(f"refusing to delete with an empty id list: doccano would delete every example of "
                               f"project {project_id}")
        for start in range(0, len(ids), _DELETE_CHUNK):
            self._request("DELETE", f"/v1/projects/{int(project_id)}/examples",
                          json={"ids": ids[start:start + _DELETE_CHUNK]})

    def confirm_example(self, project_id: int, example_id: int) -> None:
        """Mark the example as confirmed by this user; a no-op if it already is (doccano's endpoint toggles)."""
        if not self.get_example(project_id, example_id).get("is_confirmed"):
            self._request("POST", f"/v1/projects/{int(project_id)}/examples/{int(example_id)}/states", json={})

    # ------------------------------------------------------------------ spans

    def list_spans(self, project_id: int, example_id: int) -> list[dict[str, Any]]:
        """This user's spans on one example (all users' in a collaborative project)."""
        body = self._get_json(f"/v1/projects/{int(project_id)}/examples/{int(example_id)}/spans")
        return list(body["results"] if isinstance(body, dict) else body)

    def create_span(self, project_id: int, example_id: int, *, start: int, end: int, label_id: int) -> dict[str, Any]:
        """Add a span; doccano checks start < end and overlaps, NOT that end fits the text (callers must)."""
        return dict(self._request("POST", f"/v1/projects/{int(project_id)}/examples/{int(example_id)}/spans",
                                  json={"start_offset": int(start), "end_offset": int(end), "label": int(label_id)}))

    def delete_span(self, project_id: int, example_id: int, span_id: int) -> None:
        self._request("DELETE", f"/v1/projects/{int(project_id)}/examples/{int(example_id)}/spans/{int(span_id)}")

    # ------------------------------------------------------------------ users, roles, members

    def create_user(self, username: str, password: str) -> dict[str, Any]:
        """Create a (non-admin) user; doccano applies Django's password rules and says which one failed."""
        return dict(self._request("POST", "/v1/users/create",
                                  json={"username": username, "password1": password, "password2": password}))

    def find_user(self, username: str) -> dict[str, Any] | None:
        users = self._get_json("/v1/users", q=username)
        return next((u for u in users if u.get("username") == username), None)

    def me(self) -> dict[str, Any]:
        """The logged-in user."""
        return dict(self._get_json("/v1/me"))

    def list_roles(self) -> list[dict[str, Any]]:
        return list(self._get_json("/v1/roles"))

    def add_member(self, project_id: int, user_id: int, role: str) -> dict[str, Any]:
        """Give a user a role in a project: project_admin, annotator or annotation_approver."""
        if self._role_ids is None or role not in self._role_ids:
            self._role_ids = {r["name"]: int(r["id"]) for r in self.list_roles()}
        if role not in self._role_ids:
            raise DoccanoError(f"unknown doccano role {role!r}: use one of {', '.join(sorted(self._role_ids))}")
        return dict(self._request("POST", f"/v1/projects/{int(project_id)}/members",
                                  json={"user": int(user_id), "role": self._role_ids[role]}))

    def list_members(self, project_id: int) -> list[dict[str, Any]]:
        return list(self._get_json(f"/v1/projects/{int(project_id)}/members"))

    # ------------------------------------------------------------------ bulk files and tasks

    def import_jsonl(self, project_id: int, data: bytes, *, filename: str = "import.jsonl",
                     column_data: str = "text", column_label: str = "label", timeout: float = 600) -> None:
        """Import a JSONL file through doccano's celery task and wait for it.

        Lines are doccano's import shape: {"text", "label": [[start, end, "NAME"], ...], other keys -> meta}.
        Unknown label names become new span types with random colours, so create the span types first.

        Raises:
            DoccanoTaskError: the task failed, or doccano reported problems (`errors` holds them; lines without
                problems were imported).
        """
        upload_id = self._request("POST", "/v1/fp/process/", files={"filepond": (filename, data,
                                                                                 "application/octet-stream")},
                                  timeout=max(self.timeout, 120.0), expect="text",
                                  headers={"Accept": "text/plain, */*"}).strip()  # it answers text, 406 otherwise
        if not upload_id or "<" in upload_id or len(upload_id) > 100:
            raise DoccanoAPIError(f"doccano answered the file upload for project {project_id} with an unexpected "
                                  "body instead of an upload id (wrong URL?)", url=f"{self.base_url}/v1/fp/process/")
        started = self._request("POST", f"/v1/projects/{int(project_id)}/upload", json={
            "uploadIds": [upload_id], "task": models.PROJECT_TYPE, "format": models.IMPORT_FORMAT,
            "column_data": column_data, "column_label": column_label})
        status = self.wait_task(str(started["task_id"]), timeout=timeout)
        result = status.get("result") or {}
        errors: list[dict[str, Any]] = [e for e in (result.get("error") or []) if isinstance(e, dict)
                                         and e.get("message") != _NO_LABEL_COLUMN.format(column=column_label)]
        if errors:
            for e in errors:  # doccano names its temp upload path; the user knows the file by the name they gave
                if e.get("filename") and e["filename"] != filename:
                    e["filename"] = filename
            shown = "; ".join(f"line {e.get('line', '?')}: {e.get('message', e)}" for e in errors[:5])
            more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
            raise DoccanoTaskError(
                f"doccano reported {len(errors)} problem(s) importing {filename} into project {project_id}: "
                f"{shown}{more}; the other lines were imported", errors=list(errors))

    def export_jsonl(self, project_id: int, *, only_approved: bool = False,
                     timeout: float = 600) -> dict[str, list[dict[str, Any]]]:
        """Export the project as JSONL through doccano's celery task.

        Returns:
            {file stem: [decoded lines]}: one entry per member (their spans on every example) for a
            non-collaborative project, a single "all" entry for a collaborative one.
        """
        started = self._request("POST", f"/v1/projects/{int(project_id)}/download",
                                json={"format": models.IMPORT_FORMAT, "exportApproved": bool(only_approved)})
        task_id = str(started["task_id"])
        self.wait_task(task_id, timeout=timeout)
        blob = self._request("GET", f"/v1/projects/{int(project_id)}/download", params={"taskId": task_id},
                             timeout=max(self.timeout, 300.0), expect="bytes", headers={"Accept": "*/*"})
        try:
            archive = zipfile.ZipFile(io.BytesIO(blob))
        except zipfile.BadZipFile:
            raise DoccanoAPIError(f"doccano's export of project {project_id} is not a zip file "
                                  f"(starts with {blob[:60]!r})", url=f"{self.base_url}/v1/projects/{project_id}"
                                  "/download") from None
        out: dict[str, list[dict[str, Any]]] = {}
        with archive:
            for name in archive.namelist():
                if name.endswith("/"):
                    continue
                lines: list[dict[str, Any]] = []
                for lineno, raw in enumerate(archive.read(name).splitlines(), 1):
                    if not raw.strip():
                        continue
                    try:
                        lines.append(orjson.loads(raw))
                    except orjson.JSONDecodeError as exc:
                        raise DoccanoAPIError(f"doccano's export of project {project_id}: {name}:{lineno}: not "
                                              f"valid JSON ({exc})") from None
                out[PurePosixPath(name).stem] = lines
        return out

    def wait_task(self, task_id: str, *, timeout: float) -> dict[str, Any]:
        """Poll a celery task until it is ready: first after 0.05 s, growing to every 0.5 s.

        Raises:
            DoccanoTaskError: the task raised, or did not finish within `timeout` seconds.
        """
        deadline = time.monotonic() + timeout
        delay = 0.05
        while True:
            status = self._get_json(f"/v1/tasks/status/{task_id}")
            if status.get("ready"):
                if status.get("error"):
                    error = status["error"]
                    text = error.get("text", error) if isinstance(error, dict) else error
                    raise DoccanoTaskError(f"doccano task {task_id} failed: {text}", errors=[error])
                return dict(status)
            if time.monotonic() + delay > deadline:
                raise DoccanoTaskError(
                    f"doccano task {task_id} did not finish within {timeout:g} s — is its celery worker running? "
                    "(`newsner doccano status`; the local worker logs to .newsner/doccano/logs/celery.log)")
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)

    def health(self) -> dict[str, str]:
        """doccano's health checks ({"CeleryHealthCheckCelery": "OK", ...}: "OK" or the problem); needs no login."""
        try:
            return dict(self._get_json("/v1/health/", format="json"))
        except DoccanoAPIError as exc:
            # django-health-check answers a failing check with HTTP 500 and the same JSON body.
            if exc.status == 500 and exc.body:
                try:
                    body = orjson.loads(exc.body)
                except orjson.JSONDecodeError:
                    raise exc from None
                if isinstance(body, dict):
                    return {str(k): str(v) for k, v in body.items()}
            raise
