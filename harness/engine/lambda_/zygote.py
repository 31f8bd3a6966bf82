"""The engine's side of a worker parent ("zygote", ``zygote_main.py``): one per interpreter,
started on first use, asked for each new worker, told when the engine stops.

``Zygote.spawn`` hands the zygote a worker's environment, working directory and handler, plus
the write end of its output pipe, and gets back a ``ForkedWorker``: the piece of
``subprocess.Popen`` the pool uses (``pid``, ``stdout``, ``returncode``, ``wait``, ``kill``),
with a pidfd the zygote opened for that very process (so a reused pid is never signalled). The
zygote reports each worker's exit status; when the zygote itself ends, so have its workers.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .sandbox import interpreter_flags

#: the program each zygote runs (standard library only)
ZYGOTE_PROGRAM = str(Path(__file__).with_name("zygote_main.py"))
#: how long a zygote may take to import the runtime, and to fork one worker
START_SECONDS = 30.0
SPAWN_SECONDS = 10.0


class ZygoteError(RuntimeError):
    """The zygote could not start, or could not fork a worker."""


class ForkedWorker:
    """A worker process forked by a zygote, seen as the pool sees a process."""

    def __init__(self, pid: int, stdout: IO[bytes], pidfd: int | None):
        self.pid = pid
        self.stdout: IO[bytes] | None = stdout
        self.returncode: int | None = None
        self._pidfd = pidfd
        self._lock = threading.Lock()
        self._ended = threading.Event()

    @property
    def args(self) -> str:
        return f"worker {self.pid} (forked)"

    def open_pidfd(self) -> int:
        """A pidfd of this process for the caller to own (and close): readable once it ends.

        For a process that has already ended, a pipe with no writer (readable at once).
        """
        with self._lock:
            if self._pidfd is not None:
                return os.dup(self._pidfd)
        ended, writer = os.pipe()
        os.close(writer)
        return ended

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """The exit code once the zygote reported it (a negative signal number if killed)."""
        if not self._ended.wait(timeout):
            raise subprocess.TimeoutExpired(self.args, timeout or 0.0)
        assert self.returncode is not None
        return self.returncode

    def kill(self) -> None:
        """SIGKILL, through the pidfd (never a pid that may have been reused)."""
        with self._lock:
            if self._ended.is_set():
                return
            if self._pidfd is not None:
                with contextlib.suppress(ProcessLookupError, OSError):
                    signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)

    def ended(self, returncode: int) -> None:
        """The zygote reaped this process (or the zygote itself is gone)."""
        with self._lock:
            if self._ended.is_set():
                return
            self.returncode = returncode
            if self._pidfd is not None:
                with contextlib.suppress(OSError):
                    os.close(self._pidfd)
                self._pidfd = None
            self._ended.set()


class Zygote:
    """One worker parent for one interpreter and runtime layer."""

    def __init__(
        self,
        executable: str,
        layer: Path,
        environment: Mapping[str, str],
        version: tuple[int, int] | None = None,
    ):
        self.executable = executable
        self.version = version
        self.layer = layer
        self._environment = dict(environment)
        self.process: subprocess.Popen[bytes] | None = None
        #: top-level modules the zygote imported from the runtime layer, and all others
        self.layer_modules: frozenset[str] = frozenset()
        self.other_modules: frozenset[str] = frozenset()
        self.failed_preloads: list[str] = []
        self._control: socket.socket | None = None
        self._lock = threading.Lock()  # one spawn at a time
        self._replies: dict[int, tuple[dict[str, Any], int | None]] = {}
        self._children: dict[int, ForkedWorker] = {}
        self._early_exits: dict[int, int] = {}
        self._state = threading.Condition()
        self._next = 0
        self._ready = False
        self._gone = False
        self._reader: threading.Thread | None = None

    @property
    def alive(self) -> bool:
        return self.process is not None and not self._gone

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the zygote and wait until it has imported the runtime (call from the thread
        that starts workers: the zygote dies with that thread's process via PR_SET_PDEATHSIG)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {
            **self._environment,
            "LAMBDA_RUNTIME_DIR": str(self.layer),
            "_HARNESS_ENGINE_PID": str(os.getpid()),
            "_HARNESS_ZYGOTE_FD": str(theirs.fileno()),
        }
        try:
            self.process = subprocess.Popen(
                [self.executable, *interpreter_flags(self.version), ZYGOTE_PROGRAM],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                pass_fds=(theirs.fileno(),),
                start_new_session=True,
            )
        except OSError as err:
            ours.close()
            raise ZygoteError(
                f"could not start a worker parent on {self.executable}: {err}"
            ) from err
        finally:
            theirs.close()
        self._control = ours
        self._reader = threading.Thread(
            target=self._read, name=f"lambda-zygote-{self.process.pid}", daemon=True
        )
        self._reader.start()
        with self._state:
            self._state.wait_for(lambda: self._ready or self._gone, START_SECONDS)
            ready = self._ready
        if not ready:
            detail = self._stderr_tail()
            self.stop()
            raise ZygoteError(
                f"the worker parent on {self.executable} did not start"
                + (f": {detail}" if detail else "")
            )

    def stop(self) -> None:
        """End the zygote (its workers end with it: their parent-death signal)."""
        control, self._control = self._control, None
        if control is not None:
            with contextlib.suppress(OSError):
                control.shutdown(socket.SHUT_RDWR)
            control.close()
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(5)
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()
        self._mark_gone()

    # -- workers -----------------------------------------------------------------------------

    def spawn(
        self,
        environment: Mapping[str, str],
        cwd: Path,
        handler: str,
        purge: frozenset[str] = frozenset(),
    ) -> ForkedWorker:
        """Fork one worker with this environment, working directory and handler; ``purge``:
        top-level modules it imports afresh (its function packages its own copy of one)."""
        read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
        try:
            with self._lock:
                control = self._control
                if control is None or self._gone:
                    raise ZygoteError("the worker parent is not running")
                self._next += 1
                number = self._next
                message = {
                    "spawn": number,
                    "env": dict(environment),
                    "cwd": str(cwd),
                    "handler": handler,
                    "purge": sorted(purge),
                }
                rights = write_fd.to_bytes(4, sys.byteorder)
                try:
                    control.sendmsg(
                        [json.dumps(message).encode()],
                        [(socket.SOL_SOCKET, socket.SCM_RIGHTS, rights)],
                    )
                except OSError as err:
                    raise ZygoteError(f"the worker parent went away: {err}") from err
        finally:
            os.close(write_fd)
        with self._state:
            self._state.wait_for(lambda: number in self._replies or self._gone, SPAWN_SECONDS)
            reply, pidfd = self._replies.pop(number, ({}, None))
            if "pid" not in reply:
                os.close(read_fd)
                if pidfd is not None:
                    os.close(pidfd)
                why = reply.get("error") or ("it is gone" if self._gone else "no answer in time")
                raise ZygoteError(f"the worker parent could not fork a worker: {why}")
            pid = int(reply["pid"])
            worker = ForkedWorker(pid, os.fdopen(read_fd, "rb", buffering=0), pidfd)
            early = self._early_exits.pop(pid, None)
            if early is not None:
                worker.ended(early)
            elif self._gone:
                worker.ended(-signal.SIGKILL)
            else:
                self._children[pid] = worker
        return worker

    # -- the zygote's messages ---------------------------------------------------------------

    def _read(self) -> None:
        control = self._control
        while control is not None:
            try:
                data, ancillary, _, _ = control.recvmsg(1 << 16, socket.CMSG_SPACE(4))
            except OSError:
                break
            if not data:
                break
            fd = None
            for level, kind, payload in ancillary:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS and len(payload) >= 4:
                    fd = int.from_bytes(payload[:4], sys.byteorder)
            self._handle(json.loads(data), fd)
        self._mark_gone()

    def _handle(self, message: dict[str, Any], fd: int | None) -> None:
        with self._state:
            if "ready" in message:
                self.layer_modules = frozenset(message.get("layer") or ())
                self.other_modules = frozenset(message.get("other") or ())
                self.failed_preloads = list(message.get("failed") or ())
                self._ready = True
            elif "spawned" in message:
                self._replies[int(message["spawned"])] = (message, fd)
                fd = None
            elif "exited" in message:
                pid, code = int(message["exited"]), int(message["returncode"])
                worker = self._children.pop(pid, None)
                if worker is None:
                    self._early_exits[pid] = code  # ended before the spawn reply was taken
                else:
                    worker.ended(code)
            self._state.notify_all()
        if fd is not None:
            os.close(fd)

    def _mark_gone(self) -> None:
        with self._state:
            if self._gone:
                return
            self._gone = True
            children, self._children = list(self._children.values()), {}
            self._state.notify_all()
        for worker in children:
            worker.ended(-signal.SIGKILL)  # the parent-death signal took them with the zygote

    def _stderr_tail(self) -> str:
        process = self.process
        if process is None or process.stderr is None:
            return ""
        if process.poll() is None:
            return ""
        with contextlib.suppress(OSError, ValueError):
            return process.stderr.read().decode(errors="replace").strip()[-600:]
        return ""


#: environment variables that act when an interpreter starts (or when the runtime is imported):
#: a function that sets one gets an interpreter of its own instead of a forked worker
_START_VARIABLE_PREFIXES = ("PYTHON", "LD_", "LC_")
_START_VARIABLES = frozenset({"LANG", "LANGUAGE", "BOTO_DISABLE_CRT"})


@dataclass(frozen=True)
class ForkPlan:
    """How a function's workers start: forked (importing ``purge`` afresh), or on their own."""

    forked: bool
    purge: frozenset[str] = frozenset()
    reason: str | None = None  # why not forked


def fork_plan(
    function_environment: Mapping[str, str],
    task_root: Path,
    layer: Path,
    layer_modules: frozenset[str],
    other_modules: frozenset[str],
    function_layers: Sequence[Path] = (),
) -> ForkPlan:
    """Whether a worker of this function may be forked from the zygote, and what it must import
    again: as on AWS, the function's own copy of a module wins over the runtime's.

    A function that packages a module of the runtime layer (jmespath, say, which its
    dependencies require) in the very same version shares the zygote's (the files are the same,
    so is what they do); in another version, it gets a worker that forgets the layer's modules
    and imports them again (the standard library the zygote loaded stays shared). One that shadows a standard module
    the zygote imported, or sets a variable that takes effect only when an interpreter starts,
    gets an interpreter of its own.
    """
    for name in function_environment:
        if name.startswith(_START_VARIABLE_PREFIXES) or name in _START_VARIABLES:
            return ForkPlan(
                False, reason=f"it sets {name}, which takes effect when an interpreter starts"
            )
    # what the function's code and its layers provide, the first on the path winning
    provided: dict[str, Path] = {}
    for folder in (task_root, *function_layers):
        for name in top_level_names(folder):
            provided.setdefault(name, folder)
    shadowed_standard = sorted(provided.keys() & other_modules)
    if shadowed_standard:
        return ForkPlan(False, reason=f"it packages its own {', '.join(shadowed_standard)}")
    if any(
        not _same_files(provided[name] / name, layer / name)
        for name in provided.keys() & layer_modules
    ):
        return ForkPlan(True, purge=layer_modules)
    return ForkPlan(True)


def _same_files(packaged: Path, provided: Path) -> bool:
    """Whether a packaged module (a package folder or a ``.py`` file) is the runtime's own:
    the same files with the same bytes (bytecode caches aside)."""
    packaged, provided = packaged.resolve(), provided.resolve()
    if packaged.is_dir() and provided.is_dir():
        return _file_digests(packaged) == _file_digests(provided)
    module = packaged.with_suffix(".py")
    return (
        module.is_file()
        and provided.with_suffix(".py").is_file()
        and (module.read_bytes() == provided.with_suffix(".py").read_bytes())
    )


def _file_digests(folder: Path) -> dict[str, str]:
    digests = {}
    for path in folder.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            digests[path.relative_to(folder).as_posix()] = hashlib.sha256(
                path.read_bytes()
            ).hexdigest()
    return digests


def top_level_names(folder: Path) -> frozenset[str]:
    """The module and package names importable from the top of ``folder``."""
    names = set()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return frozenset()
    for entry in entries:
        name = entry.name
        if entry.is_dir():
            if name.isidentifier():
                names.add(name)
        elif name.endswith((".py", ".pyc")) or ".cpython-" in name or name.endswith(".so"):
            names.add(name.split(".", 1)[0])
    return frozenset(names)
