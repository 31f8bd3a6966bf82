"""`harness record` through the real CLI: a recording process ended by `harness record stop` from
another process or by Ctrl-C, and a HAR import whose scenario passes on a fresh stack."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from record_support import TEMPLATE, fresh_stack

from harness.cli import main
from harness.config import project_stack_name
from harness.engine import Engine, moto_seam
from harness.scenario.language.loader import load_file
from harness.scenario.running.runner import ScenarioRunner

HARNESS = [sys.executable, "-m", "harness.cli"]
STARTUP_SECONDS = 120.0  # a bound: importing moto and deploying takes a few seconds


class Process:
    """A harness command running in its own process; its output read line by line."""

    def __init__(self, args: list[str], cwd: Path):
        env = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_")}
        env["HARNESS_PORT"] = "0"  # its own engine, on a free port
        self.popen = subprocess.Popen(
            [*HARNESS, *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for_line(self, prefix: str, timeout: float = STARTUP_SECONDS) -> str:
        """The first line starting with ``prefix``; fails with what it printed instead."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                break
            self.seen.append(line)
            if line.startswith(prefix):
                return line
        raise AssertionError(
            f"no line starting {prefix!r} within {timeout:g}s; printed: {self.seen}; "
            f"exit code {self.popen.poll()}"
        )

    def finish(self, timeout: float = 60.0) -> tuple[int, str, str]:
        """Exit code, the rest of stdout, and stderr, once the process ends."""
        code = self.popen.wait(timeout)
        assert self.popen.stderr is not None
        errors = self.popen.stderr.read()
        rest: list[str] = []
        while not self.lines.empty():
            rest.append(self.lines.get())
        return code, "\n".join([*self.seen, *rest]), errors

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(10)


@pytest.fixture
def recording_process(tmp_path: Path) -> Iterator[Process]:
    process = Process(
        ["record", "--template", str(TEMPLATE), "--port", "0", "--out", "qa/s.scenario.yaml"],
        tmp_path,
    )
    yield process
    process.kill()  # only when a test failed before it ended


def _proxy_url(process: Process) -> str:
    return process.wait_for_line("recording http://").split()[1]


def test_record_stop_from_another_process_writes_the_scenario(
    recording_process: Process, tmp_path: Path
) -> None:
    url = _proxy_url(recording_process)
    state = json.loads((tmp_path / ".harness" / "record.json").read_text())
    assert state["url"] == url and state["pid"] == recording_process.popen.pid
    # (inserts do not reach the notifier: its cold start is left to the other tests)
    created = requests.post(f"{url}/items", json={"name": "desk", "price": 99}, timeout=60)
    assert created.status_code == 201, created.text
    item = created.json()["id"]
    assert requests.get(f"{url}/items/{item}", timeout=60).json()["price"] == 99
    assert requests.get(f"{url}/items/none-{item}", timeout=60).status_code == 404

    stop = subprocess.run(
        [*HARNESS, "record", "stop"], cwd=tmp_path, capture_output=True, text=True, timeout=90
    )
    assert stop.returncode == 0, stop.stderr
    assert stop.stdout.strip() == "recording saved to qa/s.scenario.yaml (3 requests)"
    code, output, errors = recording_process.finish()
    assert code == 0 and "Traceback" not in errors, errors
    assert "  POST /items -> 201  table: INSERT  notifications: 0" in output
    assert "  GET /items/{id} -> 404  table: -  notifications: 0" in output
    stack = project_stack_name(TEMPLATE)  # the default: the template's folder name
    assert f"removing stack {stack}-record from embedded" in output
    (scenario,) = load_file(tmp_path / "qa" / "s.scenario.yaml")
    assert scenario.name == "s"
    assert [s.kind for s in scenario.steps].count("request") == 3
    assert not (tmp_path / ".harness" / "record.json").exists()


def test_ctrl_c_writes_the_scenario_and_ends_cleanly(
    recording_process: Process, tmp_path: Path
) -> None:
    url = _proxy_url(recording_process)
    assert requests.post(f"{url}/items", json={"name": "shelf"}, timeout=60).status_code == 201
    recording_process.popen.send_signal(signal.SIGINT)
    code, output, errors = recording_process.finish()
    assert code == 0 and "Traceback" not in errors and "KeyboardInterrupt" not in errors, errors
    assert "saved 1 requests to qa/s.scenario.yaml" in output
    assert load_file(tmp_path / "qa" / "s.scenario.yaml")[0].steps[0].kind == "request"


def test_record_stop_with_no_recording_running_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["record", "stop"])
    assert result.exit_code == 1
    assert "no recording runs from this directory" in result.output


def test_an_existing_out_file_is_kept_unless_overwrite_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.scenario.yaml").write_text("name: mine\n")
    result = CliRunner().invoke(main, ["record", "--out", "mine.scenario.yaml"])
    assert result.exit_code == 1
    assert "mine.scenario.yaml exists: choose another --out, or pass --overwrite" in result.output
    assert (tmp_path / "mine.scenario.yaml").read_text() == "name: mine\n"


def test_a_busy_proxy_port_fails_before_anything_is_deployed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["record", "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot serve the recording proxy on 127.0.0.1:{port}" in result.output
    assert "deployed" not in result.output and not (tmp_path / ".harness").exists()


def _har_entry(
    method: str, url: str, status: int, body: object = None, answer: object = None
) -> dict[str, object]:
    """One fetch() call as a browser's HAR export holds it (Firefox writes no _resourceType)."""
    headers = [
        {"name": "Accept", "value": "application/json"},
        {"name": "Origin", "value": "https://shop.example.com"},
    ]
    request: dict[str, object] = {"method": method, "url": url, "headers": headers}
    if body is not None:
        headers.append({"name": "Content-Type", "value": "application/json"})
        request["postData"] = {"mimeType": "application/json", "text": json.dumps(body)}
    content = {"mimeType": "application/json", "text": json.dumps(answer)} if answer else {}
    return {
        "request": request,
        "response": {
            "status": status,
            "headers": [{"name": "Content-Type", "value": "application/json"}],
            "content": content,
        },
    }


def _asset(url: str, mime: str) -> dict[str, object]:
    """A load of the page or one of its assets, known only by its response's MIME type."""
    request = {"method": "GET", "url": url, "headers": [{"name": "Accept", "value": "*/*"}]}
    return {"request": request, "response": {"status": 200, "content": {"mimeType": mime}}}


def _browser_har(path: Path) -> None:
    """A HAR as a browser exports it from a session against the API on AWS, without
    _resourceType: the page and its script from the API's own host, a CORS preflight, and calls
    that use the id the real API generated."""
    base = "https://k2x9.execute-api.eu-west-1.amazonaws.com/Prod"
    old = "0c8f0c4e-5b8e-4c8a-9d61-6f2f3c1b9a77"
    stamp = "2026-03-01T10:00:00.000Z"
    item = {"id": old, "name": "vase", "price": 30, "createdAt": stamp, "updatedAt": stamp}
    changed = {**item, "price": 35, "version": 2}
    page = _asset(f"{base}/index.html", "text/html")
    script = _asset(f"{base}/static/app.js", "application/javascript")
    preflight = {
        "request": {
            "method": "OPTIONS",
            "url": f"{base}/items",
            "headers": [{"name": "Access-Control-Request-Method", "value": "POST"}],
        },
        "response": {"status": 204},
    }
    entries = [
        page,
        script,
        _har_entry("GET", f"{base}/items", 200, None, {"items": [], "next": None}),
        preflight,
        _har_entry(
            "POST", f"{base}/items", 201, {"name": "vase", "price": 30}, {**item, "version": 1}
        ),
        _har_entry("PATCH", f"{base}/items/{old}", 200, {"price": 35}, changed),
        _har_entry("GET", f"{base}/items/{old}", 200, None, changed),
        _har_entry("DELETE", f"{base}/items/{old}", 204),
    ]
    path.write_text(json.dumps({"log": {"version": "1.2", "entries": entries}}))


def test_a_har_import_produces_a_scenario_that_passes_on_a_fresh_stack(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("HARNESS_")]:
        monkeypatch.delenv(name)
    engine.reset()
    moto_seam.provide_aws_managed_policies()  # what an engine the CLI starts does itself
    _browser_har(tmp_path / "shop.har")
    result = CliRunner().invoke(
        main,
        ["record", "--from-har", "shop.har", "--out", "shop.scenario.yaml",
         "--template", str(TEMPLATE), "--engine-port", str(engine.port)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    # the page, its script and the preflight left out, and said so
    assert (
        "5 API calls of 8 entries; left out 3: 1 document, 1 script, 1 CORS preflight"
        in result.output
    )
    assert (
        "left out GET https://k2x9.execute-api.eu-west-1.amazonaws.com/Prod/index.html: "
        "document (text/html)" in result.output
    )
    assert "replaying 5 requests of shop.har" in result.output
    assert "PATCH /items/{id} -> 200" in result.output  # it followed the stack's own id
    text = (tmp_path / "shop.scenario.yaml").read_text()
    assert "0c8f0c4e" not in text.split("steps:")[1]  # the HAR's id is frozen nowhere
    assert "save: {vase_id: json.id}" in text
    assert "{content_type}" not in text  # a header value is not a generated value
    (scenario,) = load_file(tmp_path / "shop.scenario.yaml")
    with fresh_stack(engine, tmp_path / "replay") as (target, outputs):
        replay = ScenarioRunner(target, outputs).run(scenario)
    assert replay.outcome == "passed", replay.message


STALE_RECORDING = """\
# recorded a while ago, then edited by hand: a variable renamed, an id made unique
name: price change
vars: {shelf: "shelf-{run_id}"}
steps:
  - request: {method: POST, path: /items, json: {id: "{shelf}", name: shelf, secret: hunter2-hunter2}}
    expect: {status: 201}
  - request: {method: POST, path: /items, json: {name: lamp, price: 10}}
    expect: {status: 201, json: {name: lamp}}
    save: {my_lamp: json.id}
  - request: {method: PATCH, path: "/items/{my_lamp}", json: {price: 12}}
    expect: {status: 200, json: {price: 11}}
  - notifications:
      count: 1
      match: [{subject: "Item {my_lamp} changed"}]
"""


@pytest.fixture
def cli_engine(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """The session's engine, reset, for a `harness record` run in this process from tmp_path."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("HARNESS_")]:
        monkeypatch.delenv(name)
    engine.reset()
    moto_seam.provide_aws_managed_policies()  # what an engine the CLI starts does itself
    return engine


def test_update_replays_a_recording_and_rewrites_its_expectations(
    cli_engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "price.scenario.yaml"
    path.write_text(STALE_RECORDING)
    result = CliRunner().invoke(
        main,
        ["record", "--update", str(path), "--redact", "secret",
         "--template", str(TEMPLATE), "--engine-port", str(cli_engine.port)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    output = result.output
    assert f"replaying the 3 requests of {path}" in output
    assert f"--- {path}" in output and f"+++ {path}" in output  # the change, as a diff
    assert '-      match: [{subject: "Item {my_lamp} changed"}]' in output
    assert "+        - subject: Item {my_lamp} updated" in output
    text = path.read_text()
    assert text.startswith("# Re-recorded with `harness record --update`")
    assert "description:" not in text  # the file had none
    # the file's own names and variables are kept; the secret is not written
    assert "vars: {shelf: 'shelf-{run_id}', secret: REDACTED}" in text
    assert "id: '{shelf}'" in text and "save: {my_lamp: json.id}" in text
    assert "hunter2" not in text and "secret: !any" in text
    assert "price: 12" in text and "price: 11" not in text
    (scenario,) = load_file(path)
    with fresh_stack(cli_engine, tmp_path / "replay") as (target, outputs):
        replay = ScenarioRunner(target, outputs).run(scenario)
    assert replay.outcome == "passed", replay.message


def test_update_refuses_a_file_it_would_lose_steps_of(cli_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "mine.scenario.yaml"
    path.write_text(STALE_RECORDING + "  - stream: {count: 3}\n")
    result = CliRunner().invoke(main, ["record", "--update", str(path)])
    assert result.exit_code == 1
    assert "has stream steps, which a recording does not make" in result.output
    assert path.read_text().endswith("  - stream: {count: 3}\n")
    both = CliRunner().invoke(main, ["record", "--update", str(path), "--from-har", str(path)])
    assert both.exit_code == 4 and "--update rewrites the file it names" in both.output
