"""The worker parent ("zygote") of one interpreter: imports the Lambda runtime once, then forks
each new worker from itself, so workers start without importing it again and share its pages.

Run by the engine as ``<python> -S -P zygote_main.py`` with the runtime layer in
``LAMBDA_RUNTIME_DIR`` and the control socket's descriptor in ``_HARNESS_ZYGOTE_FD``. Standard library only, and
valid on every Python a Lambda runtime names (3.9 and later): it runs on the function's
interpreter, not the harness's.

Protocol (a SOCK_SEQPACKET socket: one JSON object per message, at most one file descriptor
attached):

- zygote -> engine, once: ``{"ready": pid, "layer": [top-level modules from the runtime layer],
  "other": [every other top-level module loaded], "failed": [...]}``
- engine -> zygote: ``{"spawn": n, "env": {...}, "cwd": dir, "handler": name, "purge": [...]}``
  with the write end of the worker's output pipe attached (``purge``: top-level modules the
  worker must import again, its function packaging its own copy of one of them); zygote -> engine: ``{"spawned": n, "pid": pid}``
  with a pidfd of the new worker attached (or ``{"spawned": n, "error": text}``)
- zygote -> engine, whenever a worker ends: ``{"exited": pid, "returncode": code}``

A worker is a forked copy of the zygote that then does what a worker's bootstrap does: a session
of its own, the parent-death signal, stdout and stderr to its pipe, its own environment and
working directory, the loopback guard when asked for, the function's code first on
``sys.path``, and awslambdaric's main. The zygote dies with the engine (parent-death signal),
and each worker with the zygote.
"""

from __future__ import annotations

import os
import sys

if sys.path and sys.path[0] in ("", os.path.dirname(os.path.abspath(__file__))):
    del sys.path[0]  # this file's folder (the harness's code): Pythons before 3.11 have no -P

import contextlib
import ctypes
import gc
import json
import signal
import socket
import time

PR_SET_PDEATHSIG = 1
#: what the zygote imports: awslambdaric's modules except those that read the environment or set
#: up the native Runtime API client when imported (bootstrap, __main__, lambda_runtime_client and
#: its native runtime_client), and the AWS SDK as a function first uses it
PRELOAD = (
    "simplejson",
    "awslambdaric.lambda_context",
    "awslambdaric.lambda_runtime_exception",
    "awslambdaric.lambda_runtime_log_utils",
    "awslambdaric.lambda_runtime_marshaller",
    "awslambdaric.lambda_config",
    "awslambdaric.lambda_runtime_hooks_runner",
    "boto3",
    "boto3.session",
    "boto3.dynamodb.types",
    "botocore.session",
    "botocore.client",
    "botocore.loaders",
    "botocore.endpoint",
    "botocore.parsers",
    "botocore.serialize",
    "botocore.auth",
    "botocore.httpsession",
    "botocore.regions",
    "botocore.retries.standard",
    "urllib3",
)


def _die_with_parent() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


#: descriptors of the zygote a worker must not keep (closed right after the fork)
_ZYGOTE_FDS: list[int] = []


def _send(control: socket.socket, message: dict, fd: int | None = None) -> None:
    data = json.dumps(message).encode()
    if fd is None:
        control.send(data)
    else:
        rights = fd.to_bytes(4, sys.byteorder)
        control.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, rights)])


def _preload(runtime_dir: str) -> tuple[list[str], list[str], list[str]]:
    """Import PRELOAD; the top-level modules now loaded from the runtime layer, the other
    top-level modules loaded, and what failed to import."""
    failed = []
    for name in PRELOAD:
        try:
            __import__(name)
        except Exception as err:  # a layer without it: the worker imports what it needs itself
            failed.append(f"{name}: {type(err).__name__}: {err}")
    layer: set[str] = set()
    other: set[str] = set()
    prefix = os.path.abspath(runtime_dir) + os.sep
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None) or ""
        top = name.split(".")[0]
        (layer if path and os.path.abspath(path).startswith(prefix) else other).add(top)
    return sorted(layer), sorted(other - layer), failed


def _purge(tops: list[str]) -> None:
    """Forget these top-level modules (and their submodules): the next import finds the
    function's own copy first, as a fresh interpreter would."""
    wanted = set(tops)
    for name in [n for n in sys.modules if n.split(".")[0] in wanted]:
        del sys.modules[name]
    import importlib

    importlib.invalidate_caches()


def _become_worker(control: socket.socket, request: dict, output_fd: int) -> None:
    """In the forked child: turn into the function's worker; never returns."""
    try:
        os.setsid()  # a Ctrl-C in the engine's terminal is not the function's
        _die_with_parent()
        if os.getppid() != request["zygote"]:
            os._exit(70)  # the zygote was gone before the death signal was armed
        signal.set_wakeup_fd(-1)
        control.close()
        for fd in _ZYGOTE_FDS:
            with contextlib.suppress(OSError):
                os.close(fd)
        for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        os.dup2(output_fd, 1)
        os.dup2(output_fd, 2)
        os.close(output_fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ.pop("_HARNESS_ENGINE_PID", None)  # the zygote checked it for its own start
        time.tzset()
        guard = os.environ.pop("_HARNESS_LOOPBACK_GUARD", None)
        if guard:  # the engine runs loopback only: so does its function
            namespace: dict = {"__name__": "harness_loopback_guard", "__file__": guard}
            with open(guard) as source:
                exec(compile(source.read(), guard, "exec"), namespace)
            namespace["install"]()
        layers = [p for p in os.environ.pop("_HARNESS_LAYER_PATHS", "").split(os.pathsep) if p]
        # the runtime layer is first on the zygote's path: the function's code and its layers
        # come before it, as a worker's bootstrap puts them
        sys.path[:0] = [os.environ["LAMBDA_TASK_ROOT"], *layers]
        if request.get("purge"):
            _purge(request["purge"])
        sys.argv = ["/var/runtime/bootstrap.py"]
        # the zygote's objects stay frozen: a collection would touch (and so copy) their pages
        from awslambdaric.__main__ import main

        main(["awslambdaric", request["handler"]])
    except SystemExit as done:
        code = done.code
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code if isinstance(code, int) else (0 if code is None else 1))
    except BaseException:
        import traceback

        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _spawn(control: socket.socket, request: dict, output_fd: int) -> None:
    request["zygote"] = os.getpid()
    try:
        pid = os.fork()
    except OSError as err:
        os.close(output_fd)
        _send(control, {"spawned": request["spawn"], "error": str(err)})
        return
    if pid == 0:
        _become_worker(control, request, output_fd)
    os.close(output_fd)
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:  # already gone: its exit is reported when it is reaped
        _send(control, {"spawned": request["spawn"], "pid": pid})
        return
    try:
        _send(control, {"spawned": request["spawn"], "pid": pid}, pidfd)
    finally:
        os.close(pidfd)


def _reap(control: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        code = os.waitstatus_to_exitcode(status)
        _send(control, {"exited": pid, "returncode": code})


def _receive(control: socket.socket) -> tuple[dict, int | None]:
    """The next message and the descriptor attached to it; EOFError once the engine left."""
    data, ancillary, _, _ = control.recvmsg(1 << 20, socket.CMSG_SPACE(4))
    if not data:
        raise EOFError
    fd = None
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS and len(payload) >= 4:
            fd = int.from_bytes(payload[:4], sys.byteorder)
    return json.loads(data), fd


def serve() -> None:
    """Start, preload, report ready, then spawn workers until the engine goes away."""
    _die_with_parent()
    if os.getppid() != int(os.environ.pop("_HARNESS_ENGINE_PID")):
        os._exit(70)
    control_fd = int(os.environ.pop("_HARNESS_ZYGOTE_FD"))
    control = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET, fileno=control_fd)
    runtime_dir = os.environ["LAMBDA_RUNTIME_DIR"]
    sys.path.insert(0, runtime_dir)
    import site

    site.setquit()  # exit() and quit(), as a normal interpreter (and AWS's) has them
    layer, other, failed = _preload(runtime_dir)
    gc.collect()
    gc.freeze()  # what is loaded now stays in pages the workers share
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    _send(control, {"ready": os.getpid(), "layer": layer, "other": other, "failed": failed})
    import selectors

    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ, "control")
    selector.register(wake_read, selectors.EVENT_READ, "signal")
    _ZYGOTE_FDS.extend([wake_read, wake_write, selector.fileno()])
    while True:
        for key, _ in selector.select():
            if key.data == "signal":
                os.read(wake_read, 4096)
                _reap(control)
                continue
            try:
                message, fd = _receive(control)
            except (EOFError, OSError):
                os._exit(0)  # the engine is gone or stopped this zygote
            if "spawn" in message and fd is not None:
                _spawn(control, message, fd)
            elif fd is not None:
                os.close(fd)
        _reap(control)


if __name__ == "__main__":
    serve()
