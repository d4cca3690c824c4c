"""`newsner serve`: the suggestion endpoint, its process (loopback only, stopped by PID) and doccano's
auto-labeling against a real doccano, as the web UI triggers it for a second user with the annotator role."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from newsner.annotations.store import AnnotationStore
from newsner.doccano import sync
from newsner.doccano.autolabel import auto_label, configure_auto_labeling
from newsner.doccano.client import DoccanoClient
from newsner.doccano.server import _proc_start_time
from newsner.errors import DoccanoAPIError, DoccanoError
from newsner.model.predict import Suggester
from newsner.schema import Span
from newsner.serve.app import create_app
from newsner.serve.process import ModelServer, ServeError
from newsner.workspace import Workspace
from tests.test_doccano_server import _listeners
from tests.test_doccano_sync import setup_workspace

EMOJI_TEXT = "👍🏽 Wagner fighters attacked Kidal on Tuesday, 🔥 the army said."


def js(text: str, cp: int) -> int:
    return len(text[:cp].encode("utf-16-le")) // 2


@pytest.fixture
def patterns_suggester(workspace: Path) -> Suggester:
    from newsner.serve.run import WARM_UP

    suggester = Suggester.load(Workspace.at(workspace).label_schema())
    suggester.suggest([WARM_UP])  # as `serve run` does before it listens (a first call may build rule sets)
    return suggester


def test_suggestions_come_back_in_utf16_units_after_an_emoji(patterns_suggester: Suggester) -> None:
    with TestClient(create_app(patterns_suggester)) as http:
        assert http.get("/health").json()["unit"] == "utf-16"
        body = http.post("/suggest", json={"text": EMOJI_TEXT}).json()
    start = EMOJI_TEXT.index("Wagner fighters")
    assert {"label": "ACTOR", "start_offset": js(EMOJI_TEXT, start),
            "end_offset": js(EMOJI_TEXT, start + len("Wagner fighters"))} in body["labels"]
    assert js(EMOJI_TEXT, start) == start + 2, "👍🏽 is two code points and four UTF-16 units"
    assert all(s["source"] == "patterns" for s in body["spans"]) and body["timed_out"] is False


def test_bad_requests_get_a_clear_400(patterns_suggester: Suggester) -> None:
    with TestClient(create_app(patterns_suggester)) as http:
        assert http.post("/suggest", content=b"not json").status_code == 400
        answer = http.post("/suggest", json={"txt": "x"})
        assert answer.status_code == 400 and "\"text\"" in answer.json()["detail"]


class Slow:
    name = "slow"

    def suggest(self, texts: Sequence[str]) -> list[list[Span]]:
        time.sleep(3)
        return [[Span(0, 1, "ACTOR", t[:1])] for t in texts]


def test_a_slow_model_answers_an_empty_suggestion_within_the_budget() -> None:
    with TestClient(create_app(Slow(), budget=0.2)) as http:
        body = http.post("/suggest", json={"text": "Wagner"}).json()
    assert body["labels"] == [] and body["timed_out"] is True


# ---------------------------------------------------------------------------- the process


@pytest.fixture
def model_server(workspace: Path) -> Iterator[ModelServer]:
    server = ModelServer(Workspace.at(workspace), die_with_parent=True)
    yield server
    server.down()


def test_the_server_listens_on_loopback_only_and_stops_by_pid(model_server: ModelServer) -> None:
    info = model_server.up(timeout=120)
    assert info.url.startswith("http://127.0.0.1:") and info.name == "patterns"
    port = int(info.url.rsplit(":", 1)[1])
    listening = _listeners(port)
    assert listening and all(addr == "0100007F" for _, addr in listening), f"loopback only, got {listening}"
    status = model_server.status()
    assert status.state == "running" and status.healthy and status.pid == info.pid
    assert model_server.up().already_running
    assert model_server.down() is True
    assert _proc_start_time(info.pid) is None and not model_server.pids_path.exists()
    assert model_server.status().state == "stopped"
    again = model_server.up(timeout=120)
    assert again.url == info.url, "a restart reuses the last port (doccano's config keeps pointing at it)"


def test_a_crashed_server_is_reported_stale_and_a_bad_model_fails_with_the_log(model_server: ModelServer,
                                                                              tmp_path: Path) -> None:
    info = model_server.up(timeout=120)
    os.kill(info.pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while _proc_start_time(info.pid) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert model_server.status().state == "stale"
    (tmp_path / "not-a-model").mkdir()
    with pytest.raises(ServeError, match="(?s)exited while starting.*not a trained model"):
        model_server.up(model_dir=tmp_path / "not-a-model", timeout=120)
    assert not model_server.pids_path.exists()


def test_serve_cli_up_status_down(cli) -> None:  # type: ignore[no-untyped-def]
    up = cli("serve", "up")
    try:
        assert up.exit_code == 0, up.output
        assert "http://127.0.0.1:" in up.output
        status = cli("serve", "status")
        assert status.exit_code == 0 and "answering at" in status.output
    finally:
        down = cli("serve", "down")
    assert down.exit_code == 0 and "stopped" in down.output
    status = cli("serve", "status")
    assert status.exit_code == 1 and "newsner serve up" in status.output


# ---------------------------------------------------------------------------- real doccano auto-labeling


def _annotator(client: DoccanoClient, doccano_server: Any, pid: int) -> tuple[str, DoccanoClient]:
    name = f"annot{pid}"
    password = "Annotator-pass-2024!"
    user = client.create_user(name, password)
    client.add_member(pid, int(user["id"]), "annotator")
    return name, DoccanoClient.login(doccano_server.url, name, password)


def test_an_annotator_triggers_auto_labeling_and_gets_spans_in_their_own_layer(
        workspace: Path, doccano_client: DoccanoClient, doccano_server: Any, doccano_project: dict[str, Any],
        model_server: ModelServer) -> None:
    pid, project = int(doccano_project["id"]), str(doccano_project["name"])
    ws, [article] = setup_workspace(workspace, [EMOJI_TEXT])
    sync.push(ws, project=project, client=doccano_client)
    info = model_server.up(timeout=120)
    assert configure_auto_labeling(doccano_client, pid, info.url, ws.label_schema()) == "created"
    assert configure_auto_labeling(doccano_client, pid, info.url, ws.label_schema()) == "unchanged"
    name, annotator = _annotator(doccano_client, doccano_server, pid)
    [example] = list(doccano_client.iter_examples(pid))
    with annotator:
        auto_label(annotator, pid, int(example["id"]))  # the annotator's own token, as the UI does
        mine = annotator.list_spans(pid, int(example["id"]))
        auto_label(annotator, pid, int(example["id"]))  # opening the document again adds no duplicate
        assert len(annotator.list_spans(pid, int(example["id"]))) == len(mine)
    types = {int(t["id"]): t["text"] for t in doccano_client.list_span_types(pid)}
    start = EMOJI_TEXT.index("Wagner fighters")
    got = {(s["start_offset"], s["end_offset"], types[int(s["label"])]) for s in mine}
    assert (js(EMOJI_TEXT, start), js(EMOJI_TEXT, start + 15), "ACTOR") in got
    assert {int(s["user"]) for s in mine} == {int(annotator_id(doccano_client, name))}
    admin_spans = [s for s in doccano_client.list_spans(pid, int(example["id"]))
                   if int(s["user"]) != int(annotator_id(doccano_client, name))]
    assert admin_spans == [], "nothing lands in the admin's layer"
    pulled = sync.pull(ws, project=project, client=doccano_client)
    assert name in [layer.annotator for layer in pulled.layers]
    [record] = AnnotationStore(ws.annotations_dir).read(name)
    assert any((s.start, s.end, s.label, s.text) == (start, start + 15, "ACTOR", "Wagner fighters")
               for s in record.spans), "code-point offsets in annotations/<user>.jsonl"


def annotator_id(client: DoccanoClient, name: str) -> int:
    user = client.find_user(name)
    assert user is not None
    return int(user["id"])


def test_a_dead_model_server_gives_no_spans_and_a_clear_line(
        workspace: Path, doccano_client: DoccanoClient, doccano_server: Any, doccano_project: dict[str, Any],
        model_server: ModelServer, cli) -> None:  # type: ignore[no-untyped-def]
    pid, project = int(doccano_project["id"]), str(doccano_project["name"])
    ws, _ = setup_workspace(workspace, [EMOJI_TEXT])
    sync.push(ws, project=project, client=doccano_client)
    info = model_server.up(timeout=120)
    configure_auto_labeling(doccano_client, pid, info.url, ws.label_schema())
    model_server.down()
    _name, annotator = _annotator(doccano_client, doccano_server, pid)
    [example] = list(doccano_client.iter_examples(pid))
    with annotator:
        # Measured: doccano 1.8.4 lets the connection error escape its view -> HTTP 500 to the editor, which
        # catches it (the document stays usable, no suggestion is added).
        with pytest.raises(DoccanoAPIError) as failed:
            auto_label(annotator, pid, int(example["id"]))
        assert failed.value.status == 500
        assert annotator.list_spans(pid, int(example["id"])) == []
    status = cli("serve", "status")
    assert status.exit_code == 1 and "newsner serve up" in status.output


def test_push_auto_label_refuses_a_dead_model_server_before_touching_doccano(workspace: Path) -> None:
    ws, _ = setup_workspace(workspace, [EMOJI_TEXT])
    with pytest.raises(DoccanoError, match="--auto-label: the model server does not answer.*newsner serve up"):
        # No doccano client is even created: the check comes first.
        sync.push(ws, project="never-created", auto_label_url="http://127.0.0.1:9")


def test_a_slow_model_gives_the_annotator_an_empty_suggestion_not_an_error(
        workspace: Path, doccano_client: DoccanoClient, doccano_server: Any,
        doccano_project: dict[str, Any]) -> None:
    import socket
    import threading

    import uvicorn

    pid, project = int(doccano_project["id"]), str(doccano_project["name"])
    ws, _ = setup_workspace(workspace, [EMOJI_TEXT])
    sync.push(ws, project=project, client=doccano_client)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(Slow(), budget=0.3), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        configure_auto_labeling(doccano_client, pid, f"http://127.0.0.1:{port}", ws.label_schema())
        _name, annotator = _annotator(doccano_client, doccano_server, pid)
        [example] = list(doccano_client.iter_examples(pid))
        with annotator:
            auto_label(annotator, pid, int(example["id"]))  # doccano answers 201, no error for the editor
            assert annotator.list_spans(pid, int(example["id"])) == []
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_grapheme_unit_on_request(patterns_suggester: Suggester) -> None:
    text = "👍🏽 🇲🇱 Wagner fighters attacked."
    with TestClient(create_app(patterns_suggester)) as http:
        body = http.post("/suggest?unit=grapheme", json={"text": text}).json()
        assert http.post("/suggest?unit=bytes", json={"text": text}).status_code == 400
    assert {"label": "ACTOR", "start_offset": 4, "end_offset": 19} in body["labels"] and body["unit"] == "grapheme"


# ---------------------------------------------------------------------------- one request must not stall the rest
# (issue 21: a 1,000,000-character text kept the one suggestion thread busy for 645 s after its budget, and every
# short request in that time was answered empty while `serve status` said healthy)

SHORT = "Wagner fighters attacked Kidal on Tuesday, the army said."
#: spaCy's tokenizer spends O(n²) on a run without a space: one piece of this took minutes before the pieces.
LONG = ")" * 1_000_000


def _post(url: str, text: str, timeout: float = 60) -> tuple[float, dict[str, Any]]:
    import httpx

    t0 = time.monotonic()
    with httpx.Client(timeout=timeout, trust_env=False) as http:
        answer = http.post(f"{url}/suggest", json={"text": text})
    assert answer.status_code == 200, answer.text
    return time.monotonic() - t0, answer.json()


def test_a_short_request_gets_real_suggestions_while_a_long_one_runs_and_the_long_work_stops_at_its_budget(
        model_server: ModelServer) -> None:
    import threading

    import httpx

    info = model_server.up(budget=1.5, timeout=120)
    long_answer: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: long_answer.update(_post(info.url, LONG)[1]), daemon=True)
    thread.start()
    time.sleep(0.5)  # the long text is in the worker now
    for _ in range(3):
        _seconds, body = _post(info.url, SHORT)
        assert thread.is_alive(), "the long request is still in flight"
        assert body["timed_out"] is False and {"label": "ACTOR", "start_offset": 0, "end_offset": 15} in \
            body["labels"], "a short request gets its suggestions while a long one runs"
    thread.join(timeout=30)
    assert long_answer["timed_out"] is True and long_answer["labels"] == []
    # The budget bounds the work, not only the wait: the worker drops the rest of the long text.
    deadline = time.monotonic() + 3
    with httpx.Client(timeout=5, trust_env=False) as http:
        while True:
            health = http.get(f"{info.url}/health").json()
            if health["waiting"] == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    assert health["waiting"] == 0 and health["dropped"] >= 1 and health["busy_seconds"] < 1
    assert model_server.status().healthy


def test_a_long_text_is_suggested_in_pieces_with_the_offsets_of_the_whole(patterns_suggester: Suggester) -> None:
    from newsner.serve.worker import PIECE, pieces

    paragraph = ("Wagner fighters attacked Kidal on Tuesday, the army said. 👍🏽 Residents of Gao fled toward "
                 "Bamako, a spokesman for the rebels said.\n\n")
    text = paragraph * (3 * PIECE // len(paragraph)) + "x" * 500 + " Wagner fighters left."
    cut = list(pieces(text))
    assert len(cut) > 3 and "".join(p for _, p in cut) == text and max(len(p) for _, p in cut) <= PIECE
    [whole] = patterns_suggester.suggest([text])
    with TestClient(create_app(patterns_suggester)) as http:
        body = http.post("/suggest", json={"text": text}).json()
    assert body["labels"] == [{"label": s.label, "start_offset": js(text, s.start), "end_offset": js(text, s.end)}
                              for s in whole], "the same spans, at the same places, as one call on the whole text"
    assert body["labels"][-1]["end_offset"] == js(text, len(text) - len(" left."))


class Stuck:
    """A suggester whose work on a text does not end (until released)."""

    name = "stuck"

    def __init__(self) -> None:
        import threading

        self.release = threading.Event()

    def suggest(self, texts: Sequence[str]) -> list[list[Span]]:
        self.release.wait(60)
        return [[] for _ in texts]


@contextlib.contextmanager
def _live(app: Any) -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1 in a thread; yields its URL."""
    import socket
    import threading

    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_status_is_not_healthy_while_the_worker_is_stuck() -> None:
    import httpx

    from newsner.serve.process import check_endpoint

    stuck = Stuck()
    try:
        with _live(create_app(stuck, budget=0.5)) as url:
            with httpx.Client(timeout=5, trust_env=False) as http:
                assert http.post(f"{url}/suggest", json={"text": "a"}).json()["timed_out"] is True
                ok, message = check_endpoint(url, timeout=5)
                assert not ok and "stuck" in message and "newsner serve up" in message
                health = http.get(f"{url}/health")
                assert health.status_code == 503 and health.json()["ok"] is False
    finally:
        stuck.release.set()


@pytest.mark.parametrize("budget", [0, -1, float("nan"), float("inf")])
def test_a_budget_that_is_not_a_positive_number_of_seconds_is_refused(patterns_suggester: Suggester,
                                                                      workspace: Path, budget: float) -> None:
    with pytest.raises(ServeError, match="--budget must be a number of seconds above 0"):
        create_app(patterns_suggester, budget=budget)
    server = ModelServer(Workspace.at(workspace), die_with_parent=True)
    with pytest.raises(ServeError, match="--budget must be"):
        server.up(budget=budget)
    assert not server.pids_path.exists()


def test_serve_up_budget_zero_is_one_line(cli) -> None:  # type: ignore[no-untyped-def]
    try:
        for budget in ("0", "-2"):
            result = cli("serve", "up", "--budget", budget)
            assert result.exit_code == 1 and "Traceback" not in result.output
            assert len(result.output.strip().splitlines()) == 1 and "--budget must be" in result.output
    finally:
        cli("serve", "down")  # had one started anyway


def _raw(url: str, head: bytes, body_chunks: Sequence[bytes] | Iterator[bytes] = ()) -> tuple[bytes, int]:
    """Send a raw HTTP request (the body as it comes); the status line answered and the bytes sent."""
    import socket

    host, port = url.removeprefix("http://").split(":")
    sent = 0
    with socket.create_connection((host, int(port)), timeout=20) as conn:
        conn.sendall(head)
        try:
            for chunk in body_chunks:
                conn.sendall(chunk)
                sent += len(chunk)
        except OSError:  # the server closed the connection: it stopped reading
            pass
        answer = conn.recv(4096)
    return answer.split(b"\r\n", 1)[0], sent


def test_bad_bodies_get_a_4xx_with_a_reason_and_one_log_line(model_server: ModelServer) -> None:
    import httpx

    from newsner.serve.app import MAX_BODY

    info = model_server.up(timeout=120)
    with httpx.Client(timeout=20, trust_env=False) as http:
        deep = http.post(f"{info.url}/suggest", content=b"[" * 100_000 + b"]" * 100_000)
        assert deep.status_code == 400 and "too deep" in deep.json()["detail"]
        lone = http.post(f"{info.url}/suggest", content=b'{"text": "Kidal \\ud83d"}')
        assert lone.status_code == 400 and "surrogate" in lone.json()["detail"]
    # 60 MB announced: refused from the header, before the body is sent at all.
    status, _ = _raw(info.url, b"POST /suggest HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                               b"Content-Length: 60000000\r\n\r\n")
    assert status.endswith(b"413 Request Entity Too Large")
    # Chunked, no length: cut off once past the limit, never read whole (the body here never ends).
    chunk = b"a" * (1 << 20)
    endless = (b"%x\r\n" % len(chunk) + chunk + b"\r\n" for _ in range(3 * MAX_BODY // len(chunk)))
    status, sent = _raw(info.url, b"POST /suggest HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                  b"Transfer-Encoding: chunked\r\n\r\n", endless)
    assert status.endswith(b"413 Request Entity Too Large") and sent < 2 * MAX_BODY
    assert model_server.status().healthy
    log = model_server.log_path.read_text()
    assert "Traceback" not in log and "Error" not in log.replace("HTTP", "")
    refused = [line for line in log.splitlines() if "refused" in line]
    assert len(refused) == 4 and len(log.strip().splitlines()) == 5, log  # + the start line
    assert "Kidal" not in log, "texts are never logged"


class Steady:
    """A suggester that takes 20 ms a piece and finds "Wagner" at the start of a text."""

    name = "steady"

    def __init__(self) -> None:
        self.calls = 0

    def suggest(self, texts: Sequence[str]) -> list[list[Span]]:
        self.calls += 1
        time.sleep(0.02)
        return [[Span(0, 6, "ACTOR", "Wagner")] if t.startswith("Wagner") else [] for t in texts]


def test_a_short_request_goes_before_the_rest_of_several_long_ones_and_their_work_stops() -> None:
    import asyncio

    from newsner.serve.worker import Worker

    steady = Steady()

    async def scenario() -> None:
        worker = Worker(steady)
        worker.start()
        try:
            longs = [asyncio.create_task(worker.suggest("x " * 500_000, budget=2)) for _ in range(3)]
            await asyncio.sleep(0.3)
            spans = await worker.suggest("Wagner attacked Gao.", budget=2)
            assert spans == [Span(0, 6, "ACTOR", "Wagner")] and not any(t.done() for t in longs), \
                "the short text is served between the pieces of the long ones, not after them"
            assert await asyncio.gather(*longs) == [None, None, None]
            calls = steady.calls
            await asyncio.sleep(0.3)
            state = worker.state()
            assert state.waiting == 0 and state.dropped == 3
            assert steady.calls <= calls + 1, "no piece of a dropped text runs after its budget (but the last)"
        finally:
            worker.stop()

    asyncio.run(scenario())


def test_a_long_text_is_not_cut_inside_a_name_after_its_title() -> None:
    """Cut at a sentence end as newsner.text.sentences finds it: "Gen. Assimi Goita" stays in one piece."""
    from newsner.serve.worker import PIECE, pieces

    head = "word " * (PIECE // 2 // 5 + 20) + "the army said. "
    text = head + "word " * 300 + "Gen. Assimi Goita spoke " + "word " * PIECE
    first = next(iter(pieces(text)))[1]
    assert len(first) < PIECE - 24 and first == text[:len(head)], "cut after 'said.', not after 'Gen.'"
