"""What a worker process sees: its code, a runtime layer like Lambda's, and Lambda's environment.

A worker runs ``python -S -P`` (no site-packages, no current directory on ``sys.path``), so it
imports only the standard library, the function's own code (``LAMBDA_TASK_ROOT``, packaged
dependencies included) and the *runtime layer*: symlinks to the distributions the real Lambda
Python runtime provides (boto3, botocore and their dependencies, awslambdaric and its
dependencies). Anything else the harness has installed (moto, the harness itself, powertools)
is out of reach, so a function that forgets to package a dependency fails here with
``Runtime.ImportModuleError`` exactly as it would on AWS.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import io
import os
import shutil
import sys
import threading
import time
import uuid
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from ...config import DUMMY_CREDENTIALS
from ..kernel import loopback_guard
from ..moto_seam import FunctionSpec

#: Distributions the Lambda Python runtime ships, with everything they require.
RUNTIME_ROOTS = ("boto3", "awslambdaric")

#: Source of the ``python -c`` program each worker runs before handing over to awslambdaric.
BOOTSTRAP = """\
import os, sys
if sys.path and sys.path[0] == "":
    del sys.path[0]  # the working directory, which -P keeps off the path on Python 3.11+
import ctypes
# PR_SET_PDEATHSIG (1) = SIGKILL (9): the kernel ends this worker if the engine dies abruptly
ctypes.CDLL(None, use_errno=True).prctl(1, 9, 0, 0, 0)
if os.getppid() != int(os.environ.pop("_HARNESS_ENGINE_PID")):
    os._exit(70)  # the engine was gone before the death signal was armed
guard = os.environ.pop("_HARNESS_LOOPBACK_GUARD", None)
if guard:  # the engine runs loopback only: so does its function (harness/engine/loopback_guard.py)
    namespace = {"__name__": "harness_loopback_guard", "__file__": guard}
    with open(guard) as source:
        exec(compile(source.read(), guard, "exec"), namespace)
    namespace["install"]()
import site
site.setquit()  # exit() and quit(), as a normal interpreter (and AWS's) has them
layers = [path for path in os.environ.pop("_HARNESS_LAYER_PATHS", "").split(os.pathsep) if path]
sys.path[:0] = [os.environ["LAMBDA_TASK_ROOT"], *layers, os.environ["LAMBDA_RUNTIME_DIR"]]
sys.argv = ["/var/runtime/bootstrap.py"]
from awslambdaric.__main__ import main
main(["awslambdaric", os.environ["_HANDLER"]])
"""

#: Environment variables AWS reserves: a function's own variables cannot override them.
RESERVED_VARIABLES = frozenset(
    {
        "_HANDLER",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_LAMBDA_RUNTIME_API",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "LAMBDA_RUNTIME_DIR",
        "LAMBDA_TASK_ROOT",
    }
)


class SandboxError(RuntimeError):
    """The runtime layer or a function's code could not be prepared."""


def runtime_distributions(
    roots: tuple[str, ...] = RUNTIME_ROOTS,
) -> list[importlib.metadata.Distribution]:
    """The installed distributions named in ``roots`` and everything they require (no extras)."""
    environment: dict[str, str] = {k: str(v) for k, v in default_environment().items()}
    environment["extra"] = ""
    found: dict[str, importlib.metadata.Distribution] = {}
    todo = list(roots)
    while todo:
        name = canonicalize_name(todo.pop())
        if name in found:
            continue
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError as err:
            raise SandboxError(
                f"the Lambda runtime layer needs the distribution {name!r}, which is not "
                "installed in the harness's environment"
            ) from err
        found[name] = dist
        for line in dist.requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate(environment):
                todo.append(requirement.name)
    return list(found.values())


def _top_level_entries(dist: importlib.metadata.Distribution) -> set[Path]:
    """The files and folders a distribution puts directly into site-packages."""
    base = Path(str(dist.locate_file("")))
    entries: set[Path] = set()
    for file in dist.files or []:
        parts = Path(str(file)).parts
        if not parts or parts[0] in ("..", "__pycache__") or parts[0].endswith(".pth"):
            continue  # scripts, caches and path hooks are not importable code
        entries.add(base / parts[0])
    return entries


def build_runtime_layer(dest: Path, roots: tuple[str, ...] = RUNTIME_ROOTS) -> Path:
    """Fill ``dest`` with symlinks to the runtime distributions (code and metadata); returns it."""
    dest.mkdir(parents=True, exist_ok=True)
    for dist in runtime_distributions(roots):
        for source in _top_level_entries(dist):
            if not source.exists():
                continue
            link = dest / source.name
            if not link.exists():
                link.symlink_to(source, target_is_directory=source.is_dir())
    return dest


#: how long an unpacked function's code stays in the cache after a worker last started on it
CODE_KEPT_SECONDS = 7 * 24 * 3600.0


class CodeCache:
    """Each function's code, unzipped once per content hash into a folder of the cache.

    Content-addressed: engines (and processes) share a folder for the same code, and the
    bytecode a worker compiles there is reused by the next engine's workers. A folder is marked
    used (its time) whenever a worker starts on it; ``prune`` removes those unused for a while.
    """

    def __init__(self, root: Path):
        self.root = root
        self._lock = threading.Lock()

    def prune(self, unused_seconds: float = CODE_KEPT_SECONDS) -> int:
        """Remove the folders (and leftovers of interrupted unpacking) no worker started on for
        ``unused_seconds``; returns how many went. Safe while other engines use the cache: a
        folder in use has just been marked."""
        cutoff = time.time() - unused_seconds
        removed = 0
        try:
            entries = list(os.scandir(self.root))
        except OSError:
            return 0
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                    shutil.rmtree(entry.path, ignore_errors=True)
                    removed += 1
            except OSError:
                continue
        return removed

    def task_root(self, spec: FunctionSpec, digest: str | None = None) -> Path:
        """The folder holding the function's unzipped code (LAMBDA_TASK_ROOT).

        ``digest`` is the code's SHA-256 in hex when already known (moto computes it at upload).
        """
        digest = digest or hashlib.sha256(spec.code_zip).hexdigest()
        target = self.root / digest
        if target.is_dir():
            _mark_used(target)
            return target
        with self._lock:
            if target.is_dir():
                return target
            staging = self.root / f".{digest}.{uuid.uuid4().hex}"
            staging.mkdir(parents=True)
            if spec.code_zip:
                try:
                    with zipfile.ZipFile(io.BytesIO(spec.code_zip)) as archive:
                        archive.extractall(staging)  # zipfile drops absolute and ".." paths
                except zipfile.BadZipFile as err:
                    raise SandboxError(
                        f"the code of function {spec.name} is not a valid zip archive"
                    ) from err
            try:
                staging.rename(target)
            except OSError:
                # another engine (another process) unpacked the same code meanwhile
                if not target.is_dir():
                    raise
                shutil.rmtree(staging, ignore_errors=True)
        return target

    def layer_paths(self, spec: FunctionSpec) -> list[Path]:
        """What the function's layers put on ``sys.path``, as Lambda's ``/opt`` does.

        Lambda extracts the layers in order into ``/opt`` (a later layer's file wins) and puts
        ``/opt/python/lib/python3.x/site-packages`` and ``/opt/python`` on the path after the
        function's own code and before the runtime's. Here the merged ``/opt`` is a folder per
        set of layer contents, unzipped once. (Code that opens ``/opt/...`` by its absolute
        path does not find it: only the import path is given.)
        """
        if not spec.layer_zips:
            return []
        digest = hashlib.sha256(
            b"".join(hashlib.sha256(layer).digest() for layer in spec.layer_zips)
        ).hexdigest()
        opt = self.root / f"opt-{digest}"
        _mark_used(opt)
        with self._lock:
            if not opt.is_dir():
                staging = self.root / f".opt-{digest}.{uuid.uuid4().hex}"
                staging.mkdir(parents=True)
                for arn, layer in zip(spec.layers, spec.layer_zips, strict=False):
                    try:
                        with zipfile.ZipFile(io.BytesIO(layer)) as archive:
                            archive.extractall(staging)
                    except zipfile.BadZipFile as err:
                        raise SandboxError(f"layer {arn} is not a valid zip archive") from err
                staging.rename(opt)
        version = spec.runtime.removeprefix("python")
        if not version[:1].isdigit():
            version = f"{sys.version_info.major}.{sys.version_info.minor}"
        return [opt / "python" / "lib" / f"python{version}" / "site-packages", opt / "python"]


def _mark_used(folder: Path) -> None:
    with contextlib.suppress(OSError):
        os.utime(folder)


def log_stream_name(version: str) -> str:
    """A log stream name shaped like the ones Lambda gives each execution environment."""
    day = datetime.now(UTC).strftime("%Y/%m/%d")
    return f"{day}/[{version}]{uuid.uuid4().hex}"


def worker_environment(
    spec: FunctionSpec,
    *,
    runtime_api: str,
    endpoint_url: str,
    task_root: Path,
    runtime_dir: Path,
    log_stream: str,
    config_dir: Path,
    layer_paths: list[Path] | None = None,
    interpreter: str | None = None,
) -> dict[str, str]:
    """The environment of one worker: Lambda's variables, then the function's own.

    Nothing is inherited from the engine's process, so neither its credentials nor its
    settings leak into a function; boto3 inside the function reaches the engine through
    ``AWS_ENDPOINT_URL`` with dummy credentials. ``interpreter``: the Python that runs it
    (its folder leads ``PATH``; default: the harness's).
    """
    env = {
        **base_environment(interpreter),
        "AWS_REGION": spec.region,
        "AWS_DEFAULT_REGION": spec.region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "_HANDLER": spec.handler,
        "LAMBDA_TASK_ROOT": str(task_root),
        "LAMBDA_RUNTIME_DIR": str(runtime_dir),
        "AWS_ACCESS_KEY_ID": DUMMY_CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": DUMMY_CREDENTIALS["aws_secret_access_key"],
        "AWS_SESSION_TOKEN": "testing",
        "AWS_ENDPOINT_URL": endpoint_url,
        # no ~/.aws of the machine running the harness: a function sees no config files, as on AWS
        "AWS_CONFIG_FILE": str(config_dir / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(config_dir / "credentials"),
        "_HARNESS_ENGINE_PID": str(os.getpid()),
        # the function's layers, put on sys.path by the bootstrap (CodeCache.layer_paths)
        "_HARNESS_LAYER_PATHS": os.pathsep.join(str(path) for path in layer_paths or []),
    }
    for key, value in spec.environment.items():
        if key not in RESERVED_VARIABLES:
            env[key] = str(value)
    if loopback_guard.active():
        env[loopback_guard.WORKER_VARIABLE] = loopback_guard.GUARD_FILE
    return env


def base_environment(interpreter: str | None = None) -> dict[str, str]:
    """What every worker of an interpreter has, whatever its function (a zygote starts with it)."""
    interpreter_bin = str(Path(interpreter or sys.executable).parent)
    return {
        "PATH": f"{interpreter_bin}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
    }


def interpreter_flags(version: tuple[int, int] | None = None) -> list[str]:
    """No site-packages, and (Python 3.11+) no working directory or script folder on the path
    (older Pythons have no -P: the programs run drop that entry themselves)."""
    version = version or (sys.version_info[0], sys.version_info[1])
    return ["-S", "-P"] if version >= (3, 11) else ["-S"]


def worker_command(
    interpreter: str | None = None, version: tuple[int, int] | None = None
) -> list[str]:
    """The command line of a worker started on its own: the interpreter without site-packages,
    then awslambdaric."""
    return [interpreter or sys.executable, *interpreter_flags(version), "-c", BOOTSTRAP]
