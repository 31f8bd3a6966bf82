"""What a benchmark run was measured on: machine, software versions, commit and load."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (the platform's processor string elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass  # not Linux: fall back below
    return platform.processor() or "unknown"


def memory_gib() -> float:
    """Total RAM in GiB."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30


def os_name() -> str:
    """The distribution's pretty name and the kernel release."""
    name = platform.system()
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                name = line.split("=", 1)[1].strip('"')
    except OSError:
        pass  # no os-release: the system name will do
    return f"{name} (kernel {platform.release()})"


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages."""
    return [round(value, 2) for value in os.getloadavg()]


def git_commit() -> str:
    """The checkout's commit, with "+dirty" when files differ from it."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def versions() -> dict[str, str]:
    """Versions of the harness and of what it is built on."""
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for package in ("harness", "moto", "boto3", "aws-lambda-powertools"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found


def describe_machine() -> dict[str, Any]:
    """Everything the JSON records about where and when a run was made."""
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "memory_gib": round(memory_gib(), 1),
        "os": os_name(),
        "python": sys.version.split()[0],
        "commit": git_commit(),
        "versions": versions(),
        "load_average_start": load_average(),
    }


def summary_line(machine: dict[str, Any]) -> str:
    """One line naming the machine, for the end of the table."""
    load = machine.get("load_average_end", machine["load_average_start"])
    return (
        f"{machine['cpu']}, {machine['cpus']} CPUs, {machine['memory_gib']} GiB, "
        f"{machine['os']}, Python {machine['python']}, moto {machine['versions']['moto']}, "
        f"commit {machine['commit'][:12]}, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
