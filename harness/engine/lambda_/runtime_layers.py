"""The runtime layer of an interpreter other than the harness's: the Lambda Python runtime's
packages (awslambdaric, boto3, botocore, at the versions the harness has) installed by pip for
that interpreter, once, into the cache (``<cache>/runtime-layers/cp312-<hash>/``).

The harness's own interpreter needs none: its layer is symlinks to what the harness has
installed (``sandbox.build_runtime_layer``). awslambdaric has compiled code, so another Python
needs its own build. pip runs as that interpreter's own ``-m pip`` when it has pip (it then
picks exactly the wheels that interpreter can load), else as the harness's pip told the target
version and this machine's platform (binary wheels only).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

#: the distributions of the Lambda Python runtime, pinned to the harness's installed versions
LAYER_ROOTS = ("awslambdaric", "boto3", "botocore")
PIP_SECONDS = 600.0
_COMPLETE = ".complete"


class RuntimeLayerError(RuntimeError):
    """pip could not install the runtime layer; the message has pip's last lines."""


def layer_requirements() -> list[str]:
    """``awslambdaric==X``, ``boto3==Y``, ``botocore==Z``: the harness's own versions."""
    return [f"{name}=={importlib.metadata.version(name)}" for name in LAYER_ROOTS]


def install_runtime_layer(executable: str, version: tuple[int, int], layers_dir: Path) -> Path:
    """The layer folder for ``executable`` (installed on first use; safe across processes)."""
    requirements = layer_requirements()
    tag = f"cp{version[0]}{version[1]}"
    digest = hashlib.sha256("\n".join([tag, platform.machine(), *requirements]).encode())
    target = layers_dir / f"{tag}-{digest.hexdigest()[:16]}"
    if (target / _COMPLETE).is_file():
        return target
    layers_dir.mkdir(parents=True, exist_ok=True)
    with _locked(layers_dir / f"{target.name}.lock"):
        if (target / _COMPLETE).is_file():
            return target
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=layers_dir))
        try:
            _pip_install(executable, version, requirements, staging)
            (staging / _COMPLETE).write_text("\n".join(requirements) + "\n")
            if target.exists():
                shutil.rmtree(target)
            staging.rename(target)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
    return target


def _pip_install(
    executable: str, version: tuple[int, int], requirements: list[str], dest: Path
) -> None:
    common = ["install", "--target", str(dest), "--no-compile", "--disable-pip-version-check"]
    common += ["--no-input", "--quiet", *requirements]
    own_pip = subprocess.run(
        [executable, "-m", "pip", "--version"], capture_output=True, text=True, check=False
    )
    if own_pip.returncode == 0:
        command = [executable, "-m", "pip", *common]
    else:  # the harness's pip, told which Python and platform to install for
        machine = platform.machine()
        command = [sys.executable, "-m", "pip", *common, "--only-binary=:all:"]
        command += ["--python-version", f"{version[0]}.{version[1]}", "--implementation", "cp"]
        for tag in ("manylinux2014", "manylinux_2_28", "manylinux_2_34"):
            command += ["--platform", f"{tag}_{machine}"]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=PIP_SECONDS, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise RuntimeLayerError(f"{' '.join(command[:4])} ...: {err}") from err
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-6:])
        raise RuntimeLayerError(f"pip failed for {executable}: {tail}")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One installer per layer across processes (pytest-xdist workers share the cache)."""
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
