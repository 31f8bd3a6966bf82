"""The sandbox: the runtime layer, the code cache and the worker environment, without an engine."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from test_lambda_helpers import code_zip

from harness.engine.lambda_.sandbox import (
    CodeCache,
    build_runtime_layer,
    runtime_distributions,
    worker_command,
    worker_environment,
)
from harness.engine.moto_seam import FunctionSpec


def _spec(**overrides: object) -> FunctionSpec:
    values: dict[str, object] = {
        "name": "fn",
        "arn": "arn:aws:lambda:eu-west-1:123456789012:function:fn",
        "runtime": "python3.12",
        "handler": "app.handler",
        "timeout": 3,
        "memory_size": 512,
        "environment": {"MINE": "1", "_HANDLER": "evil.handler"},
        "code_zip": code_zip("def handler(e, c):\n    return 1\n"),
        "code_sha256": "",
        "reserved_concurrency": None,
        "version": "$LATEST",
        "account_id": "123456789012",
        "region": "eu-west-1",
    }
    values.update(overrides)
    return FunctionSpec(**values)  # type: ignore[arg-type]


def test_runtime_layer_holds_what_lambda_provides_and_nothing_else(tmp_path: Path) -> None:
    names = {d.metadata["Name"].lower() for d in runtime_distributions()}
    assert {"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "awslambdaric"} <= names
    assert "python-dateutil" in names and "simplejson" in names
    assert not names & {"moto", "harness", "aws-lambda-powertools", "pytest", "werkzeug"}

    layer = build_runtime_layer(tmp_path / "layer")
    entries = set(os.listdir(layer))
    assert {"boto3", "botocore", "awslambdaric", "dateutil"} <= entries
    assert any(e.startswith("runtime_client") for e in entries), "awslambdaric's native client"
    assert not [e for e in entries if e.startswith(("moto", "harness", "werkzeug"))]
    assert all((layer / e).is_symlink() for e in entries)


def test_a_worker_interpreter_cannot_import_the_harness(tmp_path: Path) -> None:
    layer = build_runtime_layer(tmp_path / "layer")
    probe = (
        "import sys; sys.path[:0] = [sys.argv[1]]\n"
        "import boto3, awslambdaric\n"
        "for name in ('moto', 'harness', 'werkzeug'):\n"
        "    try:\n"
        "        __import__(name)\n"
        "    except ImportError:\n"
        "        print('missing', name)\n"
    )
    command = [*worker_command()[:-2], "-c", probe, str(layer)]
    result = subprocess.run(command, capture_output=True, text=True, env={}, timeout=30)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:3] == ["missing moto", "missing harness", "missing werkzeug"]


def test_code_is_unzipped_once_per_content(tmp_path: Path) -> None:
    cache = CodeCache(tmp_path / "code")
    first = cache.task_root(_spec())
    again = cache.task_root(_spec(name="other"))
    changed = cache.task_root(_spec(code_zip=code_zip("def handler(e, c):\n    return 2\n")))

    assert first == again, "same bytes, same folder"
    assert changed != first
    assert (first / "app.py").read_text().endswith("return 1\n")
    assert len(os.listdir(tmp_path / "code")) == 2


def test_layers_merge_in_order_into_one_opt_folder_on_the_path(tmp_path: Path) -> None:
    cache = CodeCache(tmp_path / "code")
    assert cache.layer_paths(_spec()) == []  # no layers, nothing on the path
    first = code_zip("A = 1", "python/shared", {"python/lib/python3.12/site-packages/x.py": ""})
    second = code_zip("A = 2", "python/shared", {"python/own.py": ""})
    spec = _spec(layers=("arn:l:1", "arn:l2:1"), layer_zips=(first, second))

    site_packages, python = cache.layer_paths(spec)
    opt = python.parent
    assert (site_packages, python) == (
        opt / "python" / "lib" / "python3.12" / "site-packages",
        opt / "python",
    )
    assert (python / "shared.py").read_text() == "A = 2"  # the later layer wins, as in /opt
    assert (python / "own.py").is_file() and (site_packages / "x.py").is_file()
    assert cache.layer_paths(spec) == [site_packages, python]  # unzipped once
    env = worker_environment(
        spec,
        runtime_api="127.0.0.1:1",
        endpoint_url="http://127.0.0.1:2",
        task_root=tmp_path,
        runtime_dir=tmp_path,
        log_stream="s",
        config_dir=tmp_path,
        layer_paths=[site_packages, python],
    )
    assert env["_HARNESS_LAYER_PATHS"] == f"{site_packages}{os.pathsep}{python}"


def test_environment_is_lambdas_and_reserved_names_win(tmp_path: Path) -> None:
    env = worker_environment(
        _spec(),
        runtime_api="127.0.0.1:9001",
        endpoint_url="http://127.0.0.1:4566",
        task_root=tmp_path / "task",
        runtime_dir=tmp_path / "runtime",
        log_stream="2026/01/01/[$LATEST]abc",
        config_dir=tmp_path / "none",
    )

    assert env["_HANDLER"] == "app.handler", "a function's variable cannot replace the handler"
    assert env["MINE"] == "1"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512"
    assert env["AWS_LAMBDA_RUNTIME_API"] == "127.0.0.1:9001"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566"
    assert env["LAMBDA_TASK_ROOT"] == str(tmp_path / "task")
    assert env["LAMBDA_RUNTIME_DIR"] == str(tmp_path / "runtime")
    assert not (tmp_path / "none").exists(), "no AWS config file is visible to the function"
    assert "HOME" not in env and "PYTHONPATH" not in env


def test_code_no_worker_started_on_for_a_week_is_pruned(tmp_path: Path) -> None:
    import os
    import time

    cache = CodeCache(tmp_path)
    spec = _spec()
    used = cache.task_root(spec)
    stale = tmp_path / ("0" * 64)
    stale.mkdir()
    (stale / "app.py").write_text("x = 1\n")
    week_ago = time.time() - 8 * 24 * 3600
    os.utime(stale, (week_ago, week_ago))
    os.utime(used, (week_ago, week_ago))
    assert cache.task_root(spec) == used  # a worker starts on it: marked used again
    assert cache.prune() == 1
    assert used.is_dir() and not stale.exists()
