"""Safety: in embedded and LocalStack modes nothing leaves the machine, real AWS credentials are
never used, and every server binds 127.0.0.1.

The loopback guard (harness/engine/loopback_guard.py, the ``loopback_only`` setting) refuses and
records any connect, name lookup or bind beyond this machine, in this process and in every
Lambda worker the engine starts while it is on: the tests turn it on, run the pipeline, and
assert that it refused nothing. The first test proves that it does catch what it should.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import shutil
import signal
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import psutil
import pytest
import requests
import yaml
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError
from process_tree import (
    SCENARIOS,
    START_SECONDS,
    TEMPLATE,
    clean_environment,
    descendants,
    harness_command,
    listeners,
    start,
    tree_with_workers,
    wait_gone,
    workers_of,
)
from safety_support import (
    REAL_SECRETS,
    RejectingServer,
    SignatureLog,
    probe_zip,
    real_looking_credentials,
)
from waiting import wait_until

from harness.config import ConfigError, load_settings
from harness.engine import Engine
from harness.engine.kernel import loopback_guard
from harness.engine.serve import ServeError, serve
from harness.record.control import STATE_FILE as RECORD_STATE_FILE
from harness.scenario.language.loader import load_file
from harness.scenario.running.runner import ScenarioRunner
from harness.targets import commands
from harness.targets.embedded import EmbeddedTarget
from harness.targets.localstack import LocalStackTarget

DUMMY = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
REPO = TEMPLATE.parent


@pytest.fixture
def guard() -> Iterator[None]:
    """The loopback guard on in this process (and so in workers started meanwhile)."""
    loopback_guard.install(report=False)
    loopback_guard.clear()
    try:
        yield
    finally:
        loopback_guard.uninstall()
        loopback_guard.clear()


@pytest.fixture
def real_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Real-looking AWS credentials in the environment, a profile and its files included."""
    env = real_looking_credentials(tmp_path / "aws")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    # boto3's default session may have read an earlier environment: clients made from it now
    # read this one
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    return env


@pytest.fixture
def signatures(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> SignatureLog:
    """Every request the session engine receives from now on, by the key that signed it."""
    log = SignatureLog()
    server = engine._server.server  # type: ignore[union-attr]
    monkeypatch.setattr(server, "app", log.wrap(server.app, REAL_SECRETS))
    return log


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- the guard catches what it should -------------------------------------------------------------


@pytest.mark.usefixtures("guard")
def test_guard_refuses_connects_lookups_and_binds_beyond_loopback() -> None:
    with pytest.raises(loopback_guard.LoopbackViolation), socket.socket() as sock:
        sock.connect(("192.0.2.1", 443))  # TEST-NET-1: refused before any packet is sent
    with pytest.raises(loopback_guard.LoopbackViolation):
        socket.getaddrinfo("dynamodb.us-east-1.amazonaws.com", 443)
    with pytest.raises(loopback_guard.LoopbackViolation), socket.socket() as sock:
        sock.bind(("0.0.0.0", 0))
    # boto3 with no endpoint would go to AWS: the lookup is refused, the call fails
    aws = boto3.client(
        "sts",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 1}),
    )
    with pytest.raises(EndpointConnectionError):
        aws.get_caller_identity()

    refused = loopback_guard.refused()
    assert refused[:3] == [
        "socket.connect '192.0.2.1' port 443",
        "socket.getaddrinfo 'dynamodb.us-east-1.amazonaws.com'",
        "socket.bind '0.0.0.0' port 0",
    ]
    assert any("sts.us-east-1.amazonaws.com" in line for line in refused[3:]), refused
    # what stays on the machine passes
    with socket.create_server(("127.0.0.1", 0)) as server, socket.socket() as sock:
        sock.connect(server.getsockname())
        assert socket.getaddrinfo("localhost", 80)
    assert len(loopback_guard.refused()) == len(refused)


@pytest.mark.usefixtures("guard")
def test_workers_get_the_guard_and_dummy_credentials_only(
    engine: Engine, real_credentials: dict[str, str]
) -> None:
    kw: dict[str, Any] = {
        "endpoint_url": engine.url,
        "region_name": "us-east-1",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    name = f"probe-{uuid.uuid4().hex[:8]}"
    session = boto3.session.Session()  # reads the environment set above
    role = session.client("iam", **kw).create_role(RoleName=name, AssumeRolePolicyDocument="{}")
    lam = session.client("lambda", **kw)
    lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role["Role"]["Arn"],
        Handler="probe.handler",
        Code={"ZipFile": probe_zip()},
        Timeout=30,
    )
    try:
        answer = lam.invoke(FunctionName=name, Payload=b"{}")
        body = json.loads(answer["Payload"].read())
    finally:
        lam.delete_function(FunctionName=name)
    assert "FunctionError" not in answer, body

    assert body["connect"].startswith("LoopbackViolation: [Errno 13] harness loopback only: "), body
    assert "refused socket.getaddrinfo '192.0.2.1'" in body["connect"], body
    assert "refused socket.getaddrinfo 'sts.amazonaws.com'" in body["lookup"], body
    env = body["env"]
    assert env["AWS_ACCESS_KEY_ID"] == "testing"
    assert env["AWS_SECRET_ACCESS_KEY"] == "testing"
    assert env["AWS_ENDPOINT_URL"] == engine.url
    assert "AWS_PROFILE" not in env
    assert env["AWS_SHARED_CREDENTIALS_FILE"] != real_credentials["AWS_SHARED_CREDENTIALS_FILE"]
    leaked = [secret for secret in REAL_SECRETS if secret in json.dumps(env)]
    assert not leaked, env


# -- embedded: the whole pipeline -----------------------------------------------------------------


@pytest.mark.usefixtures("guard")
def test_embedded_pipeline_stays_on_loopback_and_signs_with_dummy_keys(
    engine: Engine,
    real_credentials: dict[str, str],
    signatures: SignatureLog,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `harness up` against the engine that runs (here, this process's), as from a shell
    monkeypatch.chdir(tmp_path)
    stack = f"safe-{uuid.uuid4().hex[:6]}"
    settings = load_settings(
        {"port": engine.port, "template": str(TEMPLATE), "stack_prefix": stack}, cwd=tmp_path
    )
    lines: list[str] = []
    outputs = commands.up(settings, {}, lines.append, foreground=False)
    assert outputs.endpoint_url == engine.url, lines

    target = EmbeddedTarget(
        url=engine.url, stack_name=stack, state_dir=tmp_path / ".harness" / "stacks"
    )
    target.start()
    try:
        runner = ScenarioRunner(target, target.outputs())
        scenarios = [
            *load_file(SCENARIOS / "notifications.scenario.yaml")[:1],
            *load_file(SCENARIOS / "items_crud.scenario.yaml")[:1],
        ]
        results = [runner.run(scenario) for scenario in scenarios]
        assert [r.outcome for r in results] == ["passed", "passed"], [r.message for r in results]
        assert target.notifications(), "the scenarios' notifications went through SNS"
        functions = set(outputs.functions.values())
        runs = [i for i in target.invocations() if i.get("function") in functions]
        failed = [i for i in runs if i.get("error")]
        target.destroy()
    finally:
        target.stop()

    assert {i["function"] for i in runs} == functions, "both functions ran in workers"
    assert not failed, failed
    refused_in_workers = [i["logs"] for i in runs if "loopback only" in (i.get("logs") or "")]
    assert refused_in_workers == []
    assert loopback_guard.refused() == []
    assert set(signatures.keys) == {"testing"}, set(signatures.keys)
    assert len(signatures.keys) > 20  # the deploy, the scenarios' checks, the workers' calls
    assert signatures.leaks == []


def test_harness_run_with_real_credentials_and_loopback_only(tmp_path: Path) -> None:
    env = clean_environment(
        **real_looking_credentials(tmp_path / "aws"),
        HARNESS_LOOPBACK_ONLY="1",
        HARNESS_TEMPLATE=str(TEMPLATE),
    )
    scenario = SCENARIOS / "notifications.scenario.yaml"
    log = tmp_path / "run.log"
    run = start(harness_command("run", str(scenario), "-q", "-k", "life"), tmp_path, env, log)
    tree = tree_with_workers(run, log)

    code = run.wait(timeout=120)

    output = log.read_text()
    assert code == 0, output
    assert "1 passed" in output, output
    assert "harness loopback only: refused" not in output, output
    wait_gone(tree, "the processes of a run that ended normally")


# -- LocalStack: the clients the harness builds -------------------------------------------------


@pytest.mark.usefixtures("guard")
def test_localstack_clients_reach_only_the_local_endpoint_with_dummy_keys(
    real_credentials: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = SignatureLog()
    with RejectingServer(log, REAL_SECRETS) as server:
        settings = dataclasses.replace(
            load_settings({"target": "localstack"}, cwd=REPO),
            localstack_url=server.url,
            template=str(TEMPLATE),
        )
        target = commands.create_target(settings, state_dir=tmp_path / "state")
        assert isinstance(target, LocalStackTarget)
        for service, call in (("dynamodb", "list_tables"), ("lambda", "list_functions")):
            with pytest.raises(ClientError):
                getattr(target.client(service), call)()
        with pytest.raises(ClientError):
            target.deployer().client("dynamodb").describe_table(TableName="items")

    # nothing listens there any more: the attempt is refused locally, never sent elsewhere
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # a refused connection is retried otherwise
    closed = dataclasses.replace(settings, localstack_url=f"http://127.0.0.1:{_free_port()}")
    gone = commands.create_target(closed, state_dir=tmp_path / "state")
    with pytest.raises(EndpointConnectionError, match=r"127\.0\.0\.1"):
        gone.client("dynamodb").list_tables()

    assert set(log.keys) == {"test"}, log.keys
    assert len(log.keys) >= 3
    assert log.leaks == []
    assert loopback_guard.refused() == []


# -- every server binds 127.0.0.1 ---------------------------------------------------------------


def test_record_listens_on_loopback_only_and_leaves_nothing_after_ctrl_c(tmp_path: Path) -> None:
    env = clean_environment(HARNESS_TEMPLATE=str(TEMPLATE))
    recording = start(
        harness_command("record", "--port", "0", "--engine-port", "0"),
        cwd=tmp_path,
        env=env,
        log=tmp_path / "record.log",
    )
    try:
        state = tmp_path / RECORD_STATE_FILE
        wait_until(state.is_file, "the recording to start", START_SECONDS)
        proxy = json.loads(state.read_text())["url"]
        answer = requests.post(f"{proxy}/items", json={"name": "lamp", "price": 3}, timeout=30)
        assert answer.status_code == 201, answer.text
        workers = wait_until(lambda: workers_of(recording.pid), "the API's worker", 10)
        tree = [recording.pid, *(p.pid for p in workers)]
        found = listeners(tree)
        assert {listener.host for listener in found} == {"127.0.0.1"}, found
        # the engine, the proxy, and a Runtime API server per worker (all in the engine process)
        assert len(found) >= 2 + len(workers), found
        tree = descendants(recording.pid)
        recording.send_signal(signal.SIGINT)  # Ctrl-C: writes the scenario, removes the stack
        assert recording.wait(timeout=30) == 0, (tmp_path / "record.log").read_text()
    finally:
        if recording.poll() is None:
            recording.kill()
            recording.wait(timeout=30)
    assert "saved 1 requests to" in (tmp_path / "record.log").read_text()
    wait_gone(tree, "the recording's processes")
    assert not state.exists()


def test_defaults_bind_loopback() -> None:
    settings = load_settings({}, cwd=Path("/"))
    assert settings.host == "127.0.0.1"
    assert settings.localstack_url.startswith("http://127.0.0.1:")
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    for name, service in compose["services"].items():
        for mapping in service.get("ports", []):
            assert str(mapping).startswith("127.0.0.1:"), (name, mapping)
    help_text = subprocess.run(
        harness_command("serve", "--help"), capture_output=True, text=True, timeout=60
    ).stdout
    assert "[default: 127.0.0.1]" in help_text


def test_in_process_engine_listens_on_loopback_only(engine: Engine) -> None:
    found = listeners([psutil.Process().pid])
    assert any(item.port == engine.port for item in found), found
    assert {item.host for item in found} == {"127.0.0.1"}, found


def test_loopback_only_is_a_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert load_settings({}, cwd=tmp_path).loopback_only is False
    monkeypatch.setenv("HARNESS_LOOPBACK_ONLY", "1")
    assert load_settings({}, cwd=tmp_path).loopback_only is True
    (tmp_path / "pyproject.toml").write_text("[tool.harness]\nloopback_only = true\n")
    monkeypatch.delenv("HARNESS_LOOPBACK_ONLY")
    assert load_settings({}, cwd=tmp_path).loopback_only is True
    monkeypatch.setenv("HARNESS_LOOPBACK_ONLY", "sometimes")
    with pytest.raises(ConfigError, match="HARNESS_LOOPBACK_ONLY: loopback_only must be"):
        load_settings({}, cwd=tmp_path)


@pytest.mark.usefixtures("guard")
def test_serving_on_every_interface_with_loopback_only_is_a_one_line_error() -> None:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(ServeError) as raised:
        serve("0.0.0.0", _free_port(), "us-east-1", out, err)
    message = str(raised.value)
    assert message.startswith("cannot listen on 0.0.0.0:"), message
    assert "harness loopback only: refused socket.bind '0.0.0.0'" in message
    assert "\n" not in message
    assert out.getvalue() == ""


def test_moto_builds_its_clients_without_the_machines_aws_setup(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from moto.core import responses

    from harness.engine.moto_seam.clients import IsolatedBoto3

    # moto up to 5.2.4 routes requests with boto3 clients; later versions with a router of
    # their own that makes no client at all
    if hasattr(responses, "boto3"):
        assert isinstance(responses.boto3, IsolatedBoto3)
    else:
        assert callable(responses.get_service_router)
    monkeypatch.setenv("AWS_PROFILE", "a-profile-no-file-has")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "missing"))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    client = IsolatedBoto3().client("sqs", region_name="us-east-1")
    assert client._request_signer._credentials.access_key == "testing"
    assert "SendMessage" in client._service_model.operation_names


def test_serve_looks_for_no_credentials_and_ignores_aws_profile(tmp_path: Path) -> None:
    env = clean_environment(
        HARNESS_LOOPBACK_ONLY="1",
        HOME=str(tmp_path),  # no ~/.aws
        AWS_PROFILE="a-profile-no-file-has",
    )
    log = tmp_path / "serve.log"
    served = start(harness_command("serve", "--port", "0"), tmp_path, env, log)
    try:
        ready = wait_until(
            lambda: re.search(r"^ready (\S+)$", log.read_text(), re.MULTILINE),
            "harness serve to be ready",
            START_SECONDS,
        )
        kw = {"endpoint_url": ready.group(1), "region_name": "us-east-1", **DUMMY}
        lam = boto3.session.Session().client("lambda", **kw)
        role = (
            boto3.session.Session()
            .client("iam", **kw)
            .create_role(RoleName="r", AssumeRolePolicyDocument="{}")
        )
        lam.create_function(
            FunctionName="probe",
            Runtime="python3.11",
            Role=role["Role"]["Arn"],
            Handler="probe.handler",
            Code={"ZipFile": probe_zip()},
        )
        answer = lam.invoke(FunctionName="probe")
        assert "FunctionError" not in answer, answer["Payload"].read()
        # moto's SSM imports its EC2 module, which reads the profile when imported
        ssm = boto3.session.Session().client("ssm", **kw)
        ssm.put_parameter(Name="/app/greeting", Value="hello", Type="String")
        assert ssm.get_parameter(Name="/app/greeting")["Parameter"]["Value"] == "hello"
        workers = workers_of(served.pid)
    finally:
        served.send_signal(signal.SIGTERM)
        served.wait(timeout=30)
    output = log.read_text()
    # no instance-metadata lookup (169.254.169.254) and no ProfileNotFound in the engine
    refused = [line for line in output.splitlines() if "loopback only: refused" in line]
    assert refused == [], output
    assert "ProfileNotFound" not in output, output
    wait_gone(workers, "the engine's workers")


def test_run_reads_no_aws_profile_even_one_this_machine_does_not_have(tmp_path: Path) -> None:
    """`AWS_PROFILE` set to a profile with no ~/.aws behind it (a shell or CI job set up for AWS)
    fails every boto3 session that reads it: the deploy's clients, the SAM translator (a cold
    cache here) and the engine's model lookups read none."""
    app = tmp_path / "app"
    shutil.copytree(REPO / "tests" / "plugin" / "app", app)
    (app / "scenarios").mkdir()
    (app / "scenarios" / "price.scenario.yaml").write_text(
        "name: a price change is announced\n"
        "steps:\n"
        '  - request: {method: POST, path: /items, json: {name: "lamp", price: 10}}\n'
        "    expect: {status: 201}\n"
        "    save: {item_id: json.id}\n"
        '  - request: {method: PATCH, path: "/items/{item_id}", json: {price: 12}}\n'
        "  - notifications:\n"
        "      match: [{message: {price: {old: 10, new: 12}}}]\n"
    )
    env = clean_environment(
        HOME=str(tmp_path),  # no ~/.aws
        AWS_PROFILE="a-profile-no-file-has",
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
    )
    result = subprocess.run(
        harness_command("run", "-q"),
        cwd=app,
        env=env,
        capture_output=True,
        text=True,
        timeout=START_SECONDS * 2,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    assert "ProfileNotFound" not in result.stdout + result.stderr
