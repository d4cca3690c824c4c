"""DoccanoClient: every call against the real session server; every fault through httpx.MockTransport."""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from newsner.doccano.client import DoccanoClient
from newsner.doccano.config import NOT_CONFIGURED, Connection, connection_from_env, resolve_connection
from newsner.errors import (
    DoccanoAPIError,
    DoccanoAuthError,
    DoccanoConnectionError,
    DoccanoError,
    DoccanoTaskError,
    NewsnerError,
)
from newsner.workspace import Workspace

TEXT = "Mali's army and Wagner fighters entered Kidal; at least 17 dead, a spokesman for the CSP-DPA said."


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# ============================================================================ against the real server


@pytest.mark.doccano
def test_login_gives_a_cookieless_token_client(doccano_server, doccano_project) -> None:  # type: ignore[no-untyped-def]
    with doccano_server.login() as client:
        assert not list(client._http.cookies.jar), "the session cookie must not be kept"
        assert doccano_server.password not in repr(client)
        # A POST after login succeeds: with the session cookie doccano would demand a CSRF token.
        example = client.create_example(doccano_project["id"], "a POST with a token only")
        assert example["text"] == "a POST with a token only"
        assert client.me()["username"] == doccano_server.username
    with pytest.raises(DoccanoAuthError) as info:
        DoccanoClient.login(doccano_server.url, doccano_server.username, "not-the-password")
    assert "wrong username or password" in str(info.value) and "not-the-password" not in str(info.value)


@pytest.mark.doccano
def test_projects_create_find_update_delete(doccano_client) -> None:  # type: ignore[no-untyped-def]
    name = _unique("proj")
    project = doccano_client.create_project(name, description="conflict news", guideline="# Guide",
                                            collaborative=True, allow_overlapping=True)
    try:
        assert project["project_type"] == "SequenceLabeling"
        assert project["collaborative_annotation"] is True and project["allow_overlapping"] is True
        assert doccano_client.find_project(name)["id"] == project["id"]
        assert doccano_client.find_project(name[:-1]) is None, "find_project matches the exact name only"
        assert project["id"] in [p["id"] for p in doccano_client.list_projects()]
        updated = doccano_client.update_project(project["id"], guideline="# Guide v2", description="new")
        assert updated["guideline"] == "# Guide v2"
        assert doccano_client.get_project(project["id"])["description"] == "new"
        twin = doccano_client.create_project(name, description="same name")
        with pytest.raises(DoccanoError, match="2 doccano projects are named"):
            doccano_client.find_project(name)
        doccano_client.delete_project(twin["id"])
    finally:
        doccano_client.delete_project(project["id"])
    assert doccano_client.find_project(name) is None
    with pytest.raises(DoccanoAPIError) as info:
        doccano_client.get_project(project["id"])
    assert info.value.status == 404 and "No Project matches" in str(info.value)


@pytest.mark.doccano
def test_project_without_description_is_refused_before_sending(doccano_client) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DoccanoError, match="non-blank description"):
        doccano_client.create_project(_unique("p"), description="  ")


@pytest.mark.doccano
def test_span_types_create_list_update_and_duplicates(doccano_client, doccano_project) -> None:  # type: ignore[no-untyped-def]
    pid = doccano_project["id"]
    actor = doccano_client.create_span_type(pid, text="ACTOR", background_color="#d62728", suffix_key="a")
    doccano_client.create_span_type(pid, text="LOCATION", background_color="#1f77b4", text_color="#000000",
                                    suffix_key="l")
    assert [(t["text"], t["suffix_key"]) for t in doccano_client.list_span_types(pid)] == [
        ("ACTOR", "a"), ("LOCATION", "l")]
    changed = doccano_client.update_span_type(pid, actor["id"], background_color="#ff7f0e")
    assert changed["background_color"] == "#ff7f0e" and changed["text"] == "ACTOR"
    with pytest.raises(DoccanoAPIError, match="exists already") as dup:
        doccano_client.create_span_type(pid, text="ACTOR", background_color="#000000")
    assert dup.value.status == 500
    with pytest.raises(DoccanoAPIError, match="Duplicate shortcut key") as key:
        doccano_client.create_span_type(pid, text="CASUALTY", background_color="#000000", suffix_key="a")
    assert key.value.status == 400


@pytest.mark.doccano
def test_examples_paginate_filter_count_and_delete(doccano_client, doccano_project) -> None:  # type: ignore[no-untyped-def]
    pid = doccano_project["id"]
    created = [doccano_client.create_example(pid, f"document {i} about Gao", meta={"external_id": f"art-{i}"})
               for i in range(7)]
    assert created[0]["meta"] == {"external_id": "art-0"}
    # limit=3 forces three pages; order is creation order
    assert [e["id"] for e in doccano_client.iter_examples(pid, limit=3)] == [e["id"] for e in created]
    assert doccano_client.count_examples(pid) == 7
    assert [e["text"] for e in doccano_client.iter_examples(pid, q="document 3")] == ["document 3 about Gao"]
    doccano_client.confirm_example(pid, created[1]["id"])
    doccano_client.confirm_example(pid, created[1]["id"])  # idempotent: doccano's endpoint alone would toggle
    assert [e["id"] for e in doccano_client.iter_examples(pid, confirmed=True)] == [created[1]["id"]]
    assert len(list(doccano_client.iter_examples(pid, confirmed=False))) == 6
    with pytest.raises(DoccanoError, match="empty id list"):
        doccano_client.delete_examples(pid, [])
    assert doccano_client.count_examples(pid) == 7, "an empty delete must not reach doccano (it deletes all)"
    doccano_client.delete_examples(pid, [created[0]["id"], created[6]["id"]])
    assert [e["id"] for e in doccano_client.iter_examples(pid)] == [e["id"] for e in created[1:6]]


@pytest.mark.doccano
def test_spans_create_list_delete_and_server_validation(doccano_client, doccano_project) -> None:  # type: ignore[no-untyped-def]
    pid = doccano_project["id"]
    actor = doccano_client.create_span_type(pid, text="ACTOR", background_color="#d62728")
    place = doccano_client.create_span_type(pid, text="LOCATION", background_color="#1f77b4")
    ex = doccano_client.create_example(pid, TEXT)
    a = doccano_client.create_span(pid, ex["id"], start=0, end=11, label_id=actor["id"])
    k = doccano_client.create_span(pid, ex["id"], start=40, end=45, label_id=place["id"])
    assert TEXT[40:45] == "Kidal"
    spans = doccano_client.list_spans(pid, ex["id"])
    assert sorted((s["start_offset"], s["end_offset"], s["label"]) for s in spans) == [
        (0, 11, actor["id"]), (40, 45, place["id"])]
    with pytest.raises(DoccanoAPIError, match="start < end") as bad:
        doccano_client.create_span(pid, ex["id"], start=20, end=15, label_id=actor["id"])
    assert bad.value.status == 400
    with pytest.raises(DoccanoAPIError, match="overlapping"):
        doccano_client.create_span(pid, ex["id"], start=5, end=20, label_id=actor["id"])
    doccano_client.delete_span(pid, ex["id"], a["id"])
    assert [s["id"] for s in doccano_client.list_spans(pid, ex["id"])] == [k["id"]]


@pytest.mark.doccano
def test_users_roles_and_members(doccano_server, doccano_client, doccano_project) -> None:  # type: ignore[no-untyped-def]
    pid = doccano_project["id"]
    assert {r["name"] for r in doccano_client.list_roles()} == {"project_admin", "annotator",
                                                              "annotation_approver"}
    name, password = _unique("annotator"), "Kidal-" + uuid.uuid4().hex
    user = doccano_client.create_user(name, password)
    assert user["username"] == name and not user["is_superuser"]
    assert doccano_client.find_user(name)["id"] == user["id"]
    assert doccano_client.find_user(name[:-1]) is None
    with pytest.raises(DoccanoAPIError, match="already exists"):
        doccano_client.create_user(name, password)
    with pytest.raises(DoccanoAPIError, match="password"):
        doccano_client.create_user(_unique("weak"), "123")
    member = doccano_client.add_member(pid, user["id"], "annotator")
    assert member["rolename"] == "annotator"
    assert {(m["username"], m["rolename"]) for m in doccano_client.list_members(pid)} == {
        (doccano_server.username, "project_admin"), (name, "annotator")}
    with pytest.raises(DoccanoError, match="unknown doccano role 'boss'"):
        doccano_client.add_member(pid, user["id"], "boss")
    with DoccanoClient.login(doccano_server.url, name, password) as annotator:
        assert [p["id"] for p in annotator.list_projects()] == [pid]
        with pytest.raises(DoccanoAuthError, match="HTTP 403"):
            annotator.create_example(pid, "annotators may not add documents")


@pytest.mark.doccano
def test_import_jsonl_creates_examples_and_spans(doccano_client, doccano_project) -> None:  # type: ignore[no-untyped-def]
    pid = doccano_project["id"]
    doccano_client.create_span_type(pid, text="ACTOR", background_color="#d62728")
    doccano_client.create_span_type(pid, text="LOCATION", background_color="#1f77b4")
    lines = [{"text": TEXT, "label": [[0, 11, "ACTOR"], [40, 45, "LOCATION"]], "external_id": "art-1"},
             {"text": "No entities here.", "label": [], "external_id": "art-2"}]
    started = time.monotonic()
    doccano_client.import_jsonl(pid, "\n".join(json.dumps(x) for x in lines).encode())
    assert time.monotonic() - started < 10
    examples = list(doccano_client.iter_examples(pid))
    assert [(e["text"], e["meta"]) for e in examples] == [(TEXT, {"external_id": "art-1"}),
                                                         ("No entities here.", {"external_id": "art-2"})]
    spans = doccano_client.list_spans(pid, examples[0]["id"])
    assert sorted((s["start_offset"], s["end_offset"]) for s in spans) == [(0, 11), (40, 45)]
    # documents without any label column are fine (doccano reports the missing column; it is not an error)
    doccano_client.import_jsonl(pid, b'{"text": "plain document", "external_id": "art-3"}\n')
    assert doccano_client.count_examples(pid) == 3


@pytest.mark.doccano
def test_import_reports_doccanos_per_line_errors(doccano_client, doccano_project) -> None:  # type: ignore[no-untyped-def]
    pid = doccano_project["id"]
    data = b'{"text": "good line", "label": []}\nthis is not json\n'
    with pytest.raises(DoccanoTaskError) as info:
        doccano_client.import_jsonl(pid, data, filename="batch-7.jsonl")
    assert info.value.errors and info.value.errors[0]["line"] == 2  # 1-based: the second line
    message = str(info.value)
    assert "batch-7.jsonl" in message and "line 2" in message and "other lines were imported" in message
    assert "filepond-temp-uploads" not in message
    assert [e["text"] for e in doccano_client.iter_examples(pid)] == ["good line"]


@pytest.mark.doccano
def test_export_jsonl_per_member_and_collaborative(doccano_client, doccano_project) -> None:  # type: ignore[no-untyped-def]
    pid = doccano_project["id"]
    actor = doccano_client.create_span_type(pid, text="ACTOR", background_color="#d62728")
    ex = doccano_client.create_example(pid, TEXT, meta={"external_id": "art-1"})
    other = doccano_client.create_example(pid, "second", meta={"external_id": "art-2"})
    doccano_client.create_span(pid, ex["id"], start=0, end=11, label_id=actor["id"])
    doccano_client.confirm_example(pid, ex["id"])
    export = doccano_client.export_jsonl(pid)
    assert list(export) == ["admin"]
    by_id = {line["external_id"]: line for line in export["admin"]}
    assert by_id["art-1"]["label"] == [[0, 11, "ACTOR"]] and by_id["art-1"]["text"] == TEXT
    assert by_id["art-2"]["label"] == []
    approved = doccano_client.export_jsonl(pid, only_approved=True)
    assert [line["external_id"] for line in approved["admin"]] == ["art-1"]
    assert other["id"] not in [line["id"] for line in approved["admin"]]
    doccano_client.update_project(pid, collaborative_annotation=True)
    assert list(doccano_client.export_jsonl(pid)) == ["all"]


@pytest.mark.doccano
def test_wait_task_gives_up_on_an_unknown_task(doccano_client) -> None:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    with pytest.raises(DoccanoTaskError, match="did not finish within 0.3 s"):
        doccano_client.wait_task("no-such-task", timeout=0.3)
    assert time.monotonic() - started < 2


@pytest.mark.doccano
def test_health_and_wrong_paths_on_the_real_server(doccano_server) -> None:  # type: ignore[no-untyped-def]
    with DoccanoClient(doccano_server.url) as anonymous:
        assert anonymous.health()["CeleryHealthCheckCelery"] == "OK"
        with pytest.raises(DoccanoAuthError, match="credentials were not provided"):
            anonymous.list_projects()
    # NEWSNER_DOCCANO_URL with /v1 appended: doccano answers the unknown path with its web app (HTML)
    with pytest.raises(DoccanoAPIError, match="HTML page"):
        DoccanoClient.login(doccano_server.url + "/v1", doccano_server.username, doccano_server.password)
    with DoccanoClient(doccano_server.url + "/v1", retries=0) as wrong:
        with pytest.raises(DoccanoAPIError, match="URL or path is wrong"):
            wrong.list_projects()


def test_connection_refused_names_the_fix() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DoccanoConnectionError) as info:
        DoccanoClient.login(f"http://127.0.0.1:{port}", "admin", "secret-pw")
    assert str(info.value) == (f"no doccano at http://127.0.0.1:{port} — run `newsner doccano up` or set "
                               "NEWSNER_DOCCANO_URL")


# ============================================================================ faults (httpx.MockTransport)

Handler = Callable[[httpx.Request], httpx.Response]


def _mock(handler: Handler, **kwargs: Any) -> tuple[DoccanoClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    kwargs.setdefault("backoff", 0.0)
    return DoccanoClient("http://doccano.test", token="tok-secret", transport=httpx.MockTransport(record),
                         **kwargs), seen


def _json(status: int, body: Any, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def test_idempotent_requests_retry_5xx_then_succeed() -> None:
    answers = iter([httpx.Response(503), httpx.Response(502), _json(200, [{"id": 1, "name": "annotator"}])])
    client, seen = _mock(lambda r: next(answers))
    assert client.list_roles() == [{"id": 1, "name": "annotator"}]
    assert len(seen) == 3 and all(r.method == "GET" for r in seen)


def test_retries_back_off_exponentially() -> None:
    client, seen = _mock(lambda r: httpx.Response(504), retries=2, backoff=0.05)
    started = time.monotonic()
    with pytest.raises(DoccanoAPIError) as info:
        client.list_roles()
    assert info.value.status == 504 and len(seen) == 3
    assert time.monotonic() - started >= 0.05 + 0.1


def test_posts_are_never_retried() -> None:
    client, seen = _mock(lambda r: httpx.Response(503))
    with pytest.raises(DoccanoAPIError, match="HTTP 503"):
        client.create_example(1, "x")
    assert len(seen) == 1, "a retried POST could create the example twice"


def test_a_500_is_not_retried_and_points_to_the_log() -> None:
    client, seen = _mock(lambda r: httpx.Response(500, text="boom"))
    with pytest.raises(DoccanoAPIError, match="server error.*gunicorn.log"):
        client.list_roles()
    assert len(seen) == 1


def test_timeouts_retry_idempotent_then_fail_clearly() -> None:
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    client, seen = _mock(hang, retries=2, timeout=5)
    with pytest.raises(DoccanoConnectionError, match=r"did not answer GET /v1/roles within 5 s"):
        client.list_roles()
    assert len(seen) == 3
    client, seen = _mock(hang)
    with pytest.raises(DoccanoConnectionError):
        client.create_example(1, "x")
    assert len(seen) == 1


def test_dropped_connection_becomes_a_doccano_error() -> None:
    def drop(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)

    client, seen = _mock(drop, retries=1)
    with pytest.raises(DoccanoConnectionError, match="connection to doccano at http://doccano.test failed"):
        client.list_members(3)
    assert len(seen) == 2


def test_connection_refused_through_the_transport() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    client, seen = _mock(refuse, retries=1)
    with pytest.raises(DoccanoConnectionError, match=r"no doccano at http://doccano.test — run `newsner doccano up`"):
        client.list_projects()
    assert len(seen) == 2


def test_html_instead_of_json_means_a_wrong_url() -> None:
    page = "<!doctype html><html><body>doccano</body></html>"
    client, _ = _mock(lambda r: httpx.Response(200, text=page, headers={"content-type": "text/html"}))
    with pytest.raises(DoccanoAPIError, match="HTML page.*URL or path is wrong.*without\n?.*/v1") as info:
        client.list_projects()
    assert info.value.status == 200 and info.value.url == "http://doccano.test/v1/projects?limit=100&offset=0"
    client, _ = _mock(lambda r: httpx.Response(403, text=page, headers={"content-type": "text/html"}))
    with pytest.raises(DoccanoAPIError, match="HTML page"):  # POST to a wrong path: a CSRF page, not a 403 JSON
        client.create_example(1, "x")
    client, _ = _mock(lambda r: httpx.Response(200, text="plain", headers={"content-type": "text/plain"}))
    with pytest.raises(DoccanoAPIError, match="instead of JSON"):
        client.list_roles()


def test_401_and_403_are_auth_errors_with_the_servers_reason() -> None:
    client, _ = _mock(lambda r: _json(401, {"detail": "Invalid token."}))
    with pytest.raises(DoccanoAuthError, match=r"HTTP 401: Invalid token\.") as info:
        client.list_projects()
    assert "tok-secret" not in str(info.value)
    client, _ = _mock(lambda r: _json(403, {"detail": "You do not have permission to perform this action."}))
    with pytest.raises(DoccanoAuthError, match="permission"):
        client.create_example(1, "x")


def test_400_carries_the_servers_own_message() -> None:
    client, _ = _mock(lambda r: _json(400, {"description": ["This field may not be blank."],
                                            "non_field_errors": ["Duplicate shortcut key."]}))
    with pytest.raises(DoccanoAPIError) as info:
        client.update_project(1, description="")
    assert str(info.value) == ("doccano rejected PATCH /v1/projects/1 (HTTP 400): description: This field may not "
                               "be blank.; Duplicate shortcut key.")
    assert info.value.status == 400 and "blank" in (info.value.body or "")


def test_bad_login_is_an_auth_error_without_the_password() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return _json(400, {"non_field_errors": ["Unable to log in with provided credentials."]})

    with pytest.raises(DoccanoAuthError) as info:
        DoccanoClient.login("http://doccano.test", "admin", "hunter2-secret",
                            transport=httpx.MockTransport(handler))
    assert "hunter2-secret" not in str(info.value) and "admin" in str(info.value)


def test_cookies_from_login_are_never_sent_back() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/auth/login/":
            return httpx.Response(200, json={"key": "abc123"}, headers=[
                ("set-cookie", "sessionid=s3ss10n; Path=/"), ("set-cookie", "csrftoken=c5rf; Path=/")])
        assert "cookie" not in request.headers, "a session cookie would make doccano demand a CSRF token"
        assert request.headers["authorization"] == "Token abc123"
        return _json(201, {"id": 9, "text": "x"})

    client = DoccanoClient.login("http://doccano.test", "admin", "pw", transport=httpx.MockTransport(handler))
    assert client.create_example(1, "x")["id"] == 9
    assert "abc123" not in repr(client)


def test_empty_delete_is_refused_without_a_request() -> None:
    client, seen = _mock(lambda r: httpx.Response(204))
    with pytest.raises(DoccanoError, match="would delete every example of project 5"):
        client.delete_examples(5, [])
    assert seen == []
    client.delete_examples(5, list(range(1, 1201)))
    assert [len(json.loads(r.content)["ids"]) for r in seen] == [500, 500, 200]


def test_duplicate_span_type_500_is_explained() -> None:
    client, _ = _mock(lambda r: httpx.Response(500, text="<h1>Server Error (500)</h1>",
                                               headers={"content-type": "text/html"}))
    with pytest.raises(DoccanoAPIError, match="span type 'ACTOR' .* exists already"):
        client.create_span_type(1, text="ACTOR", background_color="#ff0000")


def test_task_polling_is_fast_and_reports_task_errors() -> None:
    polls = iter([{"ready": False, "result": None, "error": None}] * 3
                 + [{"ready": True, "result": {"error": []}, "error": None}])
    client, seen = _mock(lambda r: _json(200, next(polls)))
    started = time.monotonic()
    assert client.wait_task("t1", timeout=10)["ready"] is True
    assert len(seen) == 4 and time.monotonic() - started < 0.6  # 0.05 + 0.075 + 0.11 s of sleeps
    client, _ = _mock(lambda r: _json(200, {"ready": True, "result": None,
                                            "error": {"text": "CHECK constraint failed: meta"}}))
    with pytest.raises(DoccanoTaskError, match="task t2 failed: CHECK constraint failed"):
        client.wait_task("t2", timeout=1)


def test_import_errors_are_per_line_and_a_missing_label_column_is_not_one() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/fp/process/":
            assert b'name="filepond"; filename="mine.jsonl"' in request.content
            return httpx.Response(200, text="upload-1", headers={"content-type": "text/plain"})
        if request.url.path.endswith("/upload"):
            assert json.loads(request.content)["uploadIds"] == ["upload-1"]
            return _json(200, {"task_id": "t"})
        return _json(200, {"ready": True, "error": None, "result": {"error": [
            {"filename": "/venv/backend/filepond-temp-uploads/x/y", "line": 3, "message": "Expecting value"},
            {"filename": "mine.jsonl", "line": 0, "message": "Column label not found in the file"}]}})

    client, _ = _mock(handler)
    with pytest.raises(DoccanoTaskError) as info:
        client.import_jsonl(2, b"...", filename="mine.jsonl")
    assert info.value.errors == [{"filename": "mine.jsonl", "line": 3, "message": "Expecting value"}]
    assert "1 problem(s) importing mine.jsonl into project 2: line 3: Expecting value" in str(info.value)


def test_export_that_is_not_a_zip_is_reported() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return _json(200, {"task_id": "t"})
        if "tasks/status" in request.url.path:
            return _json(200, {"ready": True, "result": "/media/x.zip", "error": None})
        return _json(200, {"status": "Not ready"})

    client, _ = _mock(handler)
    with pytest.raises(DoccanoAPIError, match="not a zip file"):
        client.export_jsonl(4)


def test_pagination_computes_offsets_instead_of_following_next_links() -> None:
    items = [{"id": i} for i in range(5)]

    def handler(request: httpx.Request) -> httpx.Response:
        limit, offset = int(request.url.params["limit"]), int(request.url.params["offset"])
        page = items[offset:offset + limit]
        nxt = "http://internal-host:8000/v1/..." if offset + limit < len(items) else None
        return _json(200, {"count": len(items), "next": nxt, "previous": None, "results": page})

    client, seen = _mock(handler)
    assert [e["id"] for e in client.iter_examples(1, limit=2, confirmed=True)] == [0, 1, 2, 3, 4]
    assert all(r.url.host == "doccano.test" and r.url.params["confirmed"] == "true" for r in seen)
    assert len(seen) == 3


# ============================================================================ connection settings


def test_connection_repr_hides_the_password() -> None:
    conn = Connection("http://x", "admin", "s3cret-value")
    assert "s3cret-value" not in repr(conn) and "admin" in repr(conn)


def test_environment_wins_and_must_be_complete(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("NEWSNER_DOCCANO_URL", "https://doccano.example.org/")
    monkeypatch.setenv("NEWSNER_DOCCANO_USERNAME", "alice")
    monkeypatch.setenv("NEWSNER_DOCCANO_PASSWORD", "pw")
    conn = resolve_connection(Workspace.at(tmp_path))
    assert (conn.url, conn.username, conn.password, conn.source) == (
        "https://doccano.example.org", "alice", "pw", "environment")
    monkeypatch.delenv("NEWSNER_DOCCANO_PASSWORD")
    with pytest.raises(DoccanoError, match="NEWSNER_DOCCANO_PASSWORD is not"):
        resolve_connection(Workspace.at(tmp_path))
    with pytest.raises(DoccanoError, match="must start with http"):
        connection_from_env({"NEWSNER_DOCCANO_URL": "doccano.example.org:8000"})


def test_nothing_configured_says_what_to_do(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("NEWSNER_DOCCANO_URL", raising=False)
    with pytest.raises(DoccanoError) as info:
        resolve_connection(Workspace.at(tmp_path))
    assert str(info.value) == NOT_CONFIGURED
    assert "newsner doccano up" in NOT_CONFIGURED and "NEWSNER_DOCCANO_URL" in NOT_CONFIGURED
    assert isinstance(info.value, NewsnerError)
