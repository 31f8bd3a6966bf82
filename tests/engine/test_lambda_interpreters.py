"""Which Python runs a function, and the worker parents (zygotes) workers are forked from.

A runtime runs on the interpreter it names when one is configured (or on PATH), else on the
harness's own with a note; each interpreter has its own zygote; a function that packages its
own copy of a preloaded module, or sets a variable that acts at interpreter start, gets an
interpreter of its own; a killed zygote takes its workers with it and is started again.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests
from test_lambda_helpers import deploy, invoke, process_alive, wait_until

from harness.config import ConfigError, interpreter_paths, load_settings
from harness.engine import Engine
from harness.engine.lambda_.interpreters import Interpreters, parse_interpreters
from harness.targets.embedded import EmbeddedTarget

REPORT = """
import os, sys
PRELOADED = sorted(m for m in ("boto3", "botocore") if m in sys.modules)  # at import time

def handler(event, context):
    return {
        "version": list(sys.version_info[:2]),
        "executable": sys.executable,
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "preloaded": PRELOADED,
        "dont_write_bytecode": sys.flags.dont_write_bytecode,
        "env": {k: v for k, v in os.environ.items() if k.startswith(("AWS_LAMBDA", "LAMBDA"))},
    }
"""
HOST_VERSION = [sys.version_info[0], sys.version_info[1]]


@pytest.fixture
def interpreters(engine: Engine) -> Iterator[Callable[..., Interpreters]]:
    """Swap the engine's interpreter choices for ones configured by the test (restored after)."""
    pool = engine.runtime.pool
    original = pool.interpreters

    def configure(
        configured: dict[str, str] | None = None, search_path: bool = False
    ) -> Interpreters:
        pool.interpreters = Interpreters(
            original._host_layer,
            configured=configured,
            layers_dir=original._layers_dir,
            search_path=search_path,
        )
        return pool.interpreters

    yield configure
    pool.interpreters = original


def _report(client: Callable[..., Any], name: str) -> dict[str, Any]:
    response, body = invoke(client("lambda"), name, {})
    assert "FunctionError" not in response, body
    return dict(body)


def _zygote_of(pid: int) -> psutil.Process:
    parent = psutil.Process(pid)
    assert any("zygote_main.py" in part for part in parent.cmdline()), parent.cmdline()
    return parent


def test_the_interpreters_setting_reads_pairs_and_tables(tmp_path: Path) -> None:
    assert parse_interpreters("python3.12=/a/python, python3.13=/b/python") == {
        "python3.12": "/a/python",
        "python3.13": "/b/python",
    }
    with pytest.raises(ValueError, match="runtime=path"):
        parse_interpreters("/usr/bin/python3.12")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.harness]\ninterpreters = {"python3.12" = "/opt/py312/bin/python3"}\n'
    )
    settings = load_settings({}, cwd=tmp_path)
    assert interpreter_paths(settings) == {"python3.12": "/opt/py312/bin/python3"}
    (tmp_path / "pyproject.toml").write_text('[tool.harness]\ninterpreters = "python3.12"\n')
    with pytest.raises(ConfigError, match="interpreters must be runtime=path pairs"):
        load_settings({}, cwd=tmp_path)


def test_a_runtime_without_its_python_runs_on_the_harnesss_with_a_note(
    engine: Engine, client: Callable[..., Any], interpreters: Callable[..., Interpreters]
) -> None:
    interpreters()  # nothing configured, PATH not searched
    name = deploy(client, REPORT, runtime="python3.13")
    report = _report(client, name)
    assert report["version"] == HOST_VERSION
    chosen = requests.get(
        f"{engine.url}/_harness/runtimes", params={"runtime": "python3.13"}, timeout=10
    ).json()
    assert chosen["packaging"] == f"python{HOST_VERSION[0]}.{HOST_VERSION[1]}"
    assert "no python3.13 on PATH and none configured" in chosen["note"]
    # the deployer packages for the interpreter that runs it, and says so once per function
    target = EmbeddedTarget(engine=engine)
    assert target.python_for("python3.13") == (chosen["packaging"], chosen["note"])


def test_workers_are_forked_from_a_zygote_that_preloaded_the_runtime(
    engine: Engine, client: Callable[..., Any], interpreters: Callable[..., Interpreters]
) -> None:
    interpreters()
    name = deploy(client, REPORT)
    report = _report(client, name)
    zygote = _zygote_of(report["ppid"])
    assert zygote.ppid() == os.getpid(), "the zygote is the engine's child"
    assert report["preloaded"] == ["boto3", "botocore"], "imported before the handler was"
    assert report["env"]["LAMBDA_TASK_ROOT"] and report["env"]["AWS_LAMBDA_FUNCTION_NAME"] == name
    other = _report(client, deploy(client, REPORT))
    assert other["ppid"] == report["ppid"], "one zygote per interpreter serves every function"


def test_a_configured_interpreter_gets_a_zygote_of_its_own(
    engine: Engine, client: Callable[..., Any], interpreters: Callable[..., Interpreters]
) -> None:
    # the harness's own Python under another path and another runtime's name: a second
    # interpreter as far as the engine can tell
    other_path = os.path.realpath(sys.executable)
    assert other_path != sys.executable, "the test needs the venv's python to be a link"
    interpreters({"python3.12": other_path})
    own = _report(client, deploy(client, REPORT, runtime="python3.11"))
    named = _report(client, deploy(client, REPORT, runtime="python3.12"))
    assert named["executable"] == other_path
    assert own["executable"] != other_path
    assert named["ppid"] != own["ppid"]
    assert _zygote_of(named["ppid"]).cmdline()[0] == other_path
    chosen = requests.get(
        f"{engine.url}/_harness/runtimes", params={"runtime": "python3.12"}, timeout=10
    ).json()
    assert chosen["interpreter"] == other_path and chosen["source"] == "configured"
    assert "configured for python3.12" in chosen["note"]


def test_a_function_with_its_own_copy_of_a_runtime_module_gets_its_copy(
    engine: Engine, client: Callable[..., Any], interpreters: Callable[..., Interpreters]
) -> None:
    """As on AWS, the function's packaged module wins over the runtime's, also for the
    runtime's own imports (botocore uses the function's jmespath); the worker is still forked,
    and imports the runtime layer's modules afresh."""
    interpreters()
    source = """
        import os, boto3, botocore.paginate, jmespath

        def handler(event, context):
            return [boto3.MARK, jmespath.MARK, botocore.paginate.jmespath.MARK, os.getppid()]
        """
    import jmespath

    # a real copy of jmespath (botocore needs it to work), marked
    folder = Path(jmespath.__file__).parent
    extra = {f"jmespath/{path.name}": path.read_text() for path in folder.glob("*.py")}
    extra["jmespath/__init__.py"] += '\nMARK = "packaged jmespath"\n'
    extra["boto3/__init__.py"] = 'MARK = "packaged boto3"\n'
    source = source.replace(
        "import os, boto3, botocore.paginate, jmespath",
        "import os, boto3, jmespath\n        import botocore.paginate",
    )
    name = deploy(client, source, extra=extra)
    _, (boto3_mark, jmespath_mark, seen_by_botocore, ppid) = invoke(client("lambda"), name, {})
    assert boto3_mark == "packaged boto3"
    assert jmespath_mark == seen_by_botocore == "packaged jmespath"
    _zygote_of(ppid)


def test_a_function_that_shadows_a_standard_module_gets_an_interpreter_of_its_own(
    client: Callable[..., Any], interpreters: Callable[..., Interpreters]
) -> None:
    interpreters()
    source = (
        "import os, json\n\ndef handler(event, context):\n    return [json.MARK, os.getppid()]\n"
    )
    name = deploy(client, source, extra={"json/__init__.py": 'MARK = "packaged json"\n'})
    response, body = invoke(client("lambda"), name, {})
    # awslambdaric itself needs the real json to answer: the packaged one breaks it, as on AWS
    assert "FunctionError" in response or body[1] == os.getpid()


def test_a_variable_read_at_interpreter_start_gets_an_interpreter_of_its_own(
    client: Callable[..., Any], interpreters: Callable[..., Interpreters]
) -> None:
    interpreters()
    name = deploy(client, REPORT, environment={"PYTHONDONTWRITEBYTECODE": "1"})
    report = _report(client, name)
    assert report["dont_write_bytecode"] == 1
    assert report["ppid"] == os.getpid()


def test_a_killed_zygote_takes_its_workers_and_starts_again(
    client: Callable[..., Any], interpreters: Callable[..., Interpreters]
) -> None:
    interpreters()
    name = deploy(client, REPORT)
    first = _report(client, name)
    os.kill(first["ppid"], signal.SIGKILL)
    wait_until(lambda: not process_alive(first["pid"]), timeout=10, what="the worker to die")
    second = _report(client, name)
    assert second["ppid"] not in (first["ppid"], os.getpid())
    _zygote_of(second["ppid"])


def _another_python() -> str | None:
    """An interpreter of another minor version than the harness's, if this machine has one."""
    pyenv = Path.home() / ".pyenv" / "versions"
    candidates = sorted(pyenv.glob("3.*/bin/python3.*")) + sorted(
        Path("/usr/bin").glob("python3.*")
    )
    wanted = {"3.9", "3.10", "3.12", "3.13", "3.14"} - {f"{HOST_VERSION[0]}.{HOST_VERSION[1]}"}
    for path in candidates:
        match = re.fullmatch(r"python(3\.\d+)", path.name)
        if match and match.group(1) in wanted and os.access(path, os.X_OK):
            return str(path)
    return None


def test_a_runtime_runs_on_the_python_it_names_when_the_machine_has_it(
    engine: Engine, client: Callable[..., Any], interpreters: Callable[..., Interpreters]
) -> None:
    path = _another_python()
    if path is None:
        pytest.skip("this machine has no Python 3.9-3.14 other than the harness's")
    runtime = "python" + re.sub(r".*python", "", Path(path).name)
    chosen = interpreters({runtime: path}).choose(runtime)
    if (
        chosen.interpreter.executable != path
        and chosen.note
        and "could not be installed" in chosen.note
    ):
        pytest.skip(f"no runtime layer for {path} (pip needs the package index): {chosen.note}")
    report = _report(client, deploy(client, REPORT, runtime=runtime))
    assert f"python{report['version'][0]}.{report['version'][1]}" == runtime
    assert report["preloaded"] == ["boto3", "botocore"]
    answer = requests.get(
        f"{engine.url}/_harness/runtimes", params={"runtime": runtime}, timeout=10
    ).json()
    assert answer["packaging"] == runtime and answer["note"] is None
    assert json.loads(json.dumps(report))["ppid"] != os.getpid()


def test_a_packaged_copy_identical_to_the_runtimes_is_shared(
    client: Callable[..., Any], interpreters: Callable[..., Interpreters]
) -> None:
    """The reference app's dependencies bring jmespath in the runtime's own version: the same
    files, so the worker keeps sharing the zygote's (the function could not tell)."""
    import jmespath

    interpreters()
    folder = Path(jmespath.__file__).parent
    extra = {f"jmespath/{path.name}": path.read_text() for path in folder.glob("*.py")}
    source = "import os, jmespath\n\ndef handler(event, context):\n    return [jmespath.__file__, os.getppid()]\n"
    name = deploy(client, source, extra=extra)
    _, (where, ppid) = invoke(client("lambda"), name, {})
    _zygote_of(ppid)
    assert "/runtime/jmespath/" in where, where
