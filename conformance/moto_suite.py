"""moto's own tests, for the installed moto release: downloaded at run time, never committed.

The source distribution on the package index holds ``tests/``; only that folder and moto's
``pyproject.toml`` (its pytest markers) are unpacked, so ``import moto`` in the tests finds the
installed moto, the one the engine runs, and never a copy from the archive.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

import moto

#: pip's own deadline for one download or install (it retries inside it)
PIP_SECONDS = 600


class SuiteUnavailable(RuntimeError):
    """moto's source distribution, or a package its tests need, could not be had."""


@dataclass(frozen=True)
class Suite:
    """One row of the table: a name and the moto test paths it runs."""

    name: str
    paths: tuple[str, ...]


#: the moto test folders and files the engine answers for (the issue's table, row by row)
SUITES: tuple[Suite, ...] = (
    Suite("dynamodb", ("tests/test_dynamodb",)),
    Suite("dynamodbstreams", ("tests/test_dynamodbstreams",)),
    Suite("lambda-esm", ("tests/test_awslambda/test_lambda_eventsourcemapping.py",)),
    Suite("lambda-invoke", ("tests/test_awslambda/test_lambda_invoke.py",)),
    Suite(
        "sns",
        (
            "tests/test_sns/test_publishing.py",
            "tests/test_sns/test_subscriptions.py",
            "tests/test_sns/test_publish_batch.py",
            "tests/test_sns/test_topics.py",
        ),
    ),
    Suite(
        "sqs",
        (
            "tests/test_sqs/test_sqs.py",
            "tests/test_sqs/test_sqs_integration.py",
            "tests/test_sqs/test_sqs_message_attributes.py",
        ),
    ),
)


def moto_tests(cache: Path, version: str = moto.__version__) -> Path:
    """The folder holding moto ``version``'s ``tests/`` (downloaded and unpacked once per
    version under ``cache``)."""
    root = cache / f"moto-{version}"
    if (root / "tests" / "__init__.py").is_file():
        return root
    downloads = cache / "sdist"
    downloads.mkdir(parents=True, exist_ok=True)
    archive = downloads / f"moto-{version}.tar.gz"
    if not archive.is_file():
        _pip(
            "download",
            "--no-binary",
            ":all:",
            "--no-deps",
            "--dest",
            str(downloads),
            f"moto=={version}",
            what=f"moto {version}'s source distribution",
        )
    if not archive.is_file():
        raise SuiteUnavailable(f"pip downloaded no {archive.name} into {downloads}")
    unpacking = cache / f".moto-{version}.partial"
    shutil.rmtree(unpacking, ignore_errors=True)
    prefix = f"moto-{version}/"
    with tarfile.open(archive) as tar:
        wanted = [
            member
            for member in tar.getmembers()
            if member.name.startswith(prefix + "tests/") or member.name == prefix + "pyproject.toml"
        ]
        tar.extractall(unpacking, members=wanted, filter="data")
    shutil.rmtree(root, ignore_errors=True)
    (unpacking / prefix).rename(root)
    shutil.rmtree(unpacking, ignore_errors=True)
    return root


def install_test_packages(cache: Path, requirements: Path) -> Path:
    """A folder (for PYTHONPATH) holding the packages moto's tests import beyond moto's own
    dependencies, installed once per requirements file."""
    target = cache / "deps"
    stamp = target / ".requirements"
    wanted = requirements.read_text()
    if stamp.is_file() and stamp.read_text() == wanted:
        return target
    shutil.rmtree(target, ignore_errors=True)
    _pip(
        "install",
        "--quiet",
        "--no-deps",
        "--target",
        str(target),
        "-r",
        str(requirements),
        what=f"the packages of {requirements.name}",
    )
    stamp.write_text(wanted)
    return target


def _pip(*args: str, what: str) -> None:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=PIP_SECONDS, check=False
        )
    except subprocess.TimeoutExpired as err:
        raise SuiteUnavailable(f"pip took over {PIP_SECONDS} s to fetch {what}") from err
    if done.returncode != 0:
        raise SuiteUnavailable(
            f"pip could not fetch {what} (exit {done.returncode}):\n{done.stderr.strip()}"
        )
