"""The recording proxy on its own: forwarding, its control paths, and the stop handshake."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from harness.record.control import RecordError, RunningRecording, check_none_running, stop_recording
from harness.record.proxy import RecordingProxy
from harness.record.session import Exchange


class _EchoRecorder:
    """Stands in for a Recorder: answers every request with what it received."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []

    def perform(
        self,
        method: str,
        path: str,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> Exchange:
        if path == "/down":
            raise requests.ConnectionError("connection refused")
        answer = {"method": method, "path": path, "query": query, "body": (body or b"").decode()}
        exchange = Exchange(
            method, path, dict(query or {}), dict(headers or {}), body, 201,
            {"Content-Type": "application/json", "ETag": '"7"', "Transfer-Encoding": "chunked"},
            json.dumps(answer).encode(),
        )  # fmt: skip
        self.exchanges.append(exchange)
        return exchange


@pytest.fixture
def proxy() -> Iterator[RecordingProxy]:
    running = RecordingProxy(_EchoRecorder()).start()  # type: ignore[arg-type]
    yield running
    running.stop()


def test_requests_pass_through_with_their_query_body_and_headers(proxy: RecordingProxy) -> None:
    assert proxy.url.startswith("http://127.0.0.1:")
    answer = requests.post(f"{proxy.url}/items?limit=2", json={"name": "a"}, timeout=10)
    assert answer.status_code == 201
    assert answer.json() == {
        "method": "POST",
        "path": "/items",
        "query": {"limit": "2"},
        "body": '{"name": "a"}',
    }
    assert answer.headers["ETag"] == '"7"' and "Transfer-Encoding" not in answer.headers
    assert requests.get(f"{proxy.url}/_record/status", timeout=10).json() == {
        "recording": True,
        "requests": 1,
        "stopping": False,
    }


def test_its_own_paths_are_never_forwarded(proxy: RecordingProxy) -> None:
    answer = requests.get(f"{proxy.url}/_record/nothing", timeout=10)
    assert answer.status_code == 404 and "POST /_record/stop" in answer.json()["message"]
    assert proxy.recorder.exchanges == []


def test_an_unreachable_api_is_a_502_that_says_why(proxy: RecordingProxy) -> None:
    answer = requests.get(f"{proxy.url}/down", timeout=10)
    assert answer.status_code == 502
    assert "upstream failed: connection refused" in answer.json()["message"]


def test_stop_answers_once_the_owner_has_written_the_recording(proxy: RecordingProxy) -> None:
    answers: list[requests.Response] = []
    caller = threading.Thread(
        target=lambda: answers.append(requests.post(f"{proxy.url}/_record/stop", timeout=30))
    )
    caller.start()
    assert proxy.stop_requested.wait(10), "the stop request never arrived"
    # requests after the stop are refused rather than silently left out of the file
    late = requests.get(f"{proxy.url}/items", timeout=10)
    assert late.status_code == 503 and "has stopped" in late.json()["message"]
    assert not answers  # still waiting for the file
    proxy.finish({"saved": "x.scenario.yaml", "requests": 0})
    caller.join(10)
    assert answers and answers[0].json() == {"saved": "x.scenario.yaml", "requests": 0}


def test_a_second_recording_from_the_same_directory_is_refused(
    proxy: RecordingProxy, tmp_path: Path
) -> None:
    state = tmp_path / "record.json"
    RunningRecording(proxy.url, 123, "a.scenario.yaml", "http://api").save(state)
    with pytest.raises(RecordError, match=r"a recording already runs at http://127\.0\.0\.1:"):
        check_none_running(state)
    assert state.exists()


def test_a_stale_state_file_is_forgotten(tmp_path: Path) -> None:
    state = tmp_path / "record.json"
    gone = RunningRecording("http://127.0.0.1:9", 123, "a.scenario.yaml", "http://api")
    gone.save(state)
    check_none_running(state)  # nothing answers there: a new recording may start
    assert not state.exists()
    gone.save(state)
    with pytest.raises(RecordError, match=r"does not answer .* removed the stale"):
        stop_recording(state)
    assert not state.exists()


def test_a_proxy_that_never_served_stops_at_once() -> None:
    idle = RecordingProxy(None)
    url = idle.url
    idle.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/_record/status", timeout=2)
