"""Which Python runs a function: the interpreter its ``Runtime`` names, when the machine has one.

A function that declares ``python3.12`` runs on a Python 3.12 when one is configured
(``interpreters``: ``{"python3.12": "/opt/python3.12/bin/python3"}``) or found on ``PATH`` as
``python3.12``; otherwise on the harness's own interpreter, and the choice says why (the
deployer prints it once per function, and packages the function's dependencies for the
interpreter that will run it). An interpreter other than the harness's gets a runtime layer of
its own (awslambdaric, boto3 and botocore at the harness's versions, installed by pip for that
interpreter once, into the cache); when that cannot be installed the function runs on the
harness's interpreter, and the choice says so.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .runtime_layers import RuntimeLayerError, install_runtime_layer

_log = logging.getLogger(__name__)
#: how long probing an interpreter (``python -c ...``) may take
PROBE_SECONDS = 20.0
_PROBE = "import json, sys; print(json.dumps([sys.executable, list(sys.version_info[:2])]))"


@dataclass(frozen=True)
class Interpreter:
    """One Python interpreter on this machine."""

    executable: str
    version: tuple[int, int]
    source: str  # harness | configured | PATH

    @property
    def runtime(self) -> str:
        """The Lambda runtime name of this interpreter's version (``python3.12``)."""
        return f"python{self.version[0]}.{self.version[1]}"

    @property
    def version_text(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"


def harness_interpreter() -> Interpreter:
    """The interpreter the engine itself runs on."""
    return Interpreter(sys.executable, (sys.version_info[0], sys.version_info[1]), "harness")


@dataclass(frozen=True)
class RuntimeChoice:
    """What runs a declared runtime here: the interpreter, its runtime layer, and why."""

    declared: str
    interpreter: Interpreter
    layer: Path
    note: str | None = None  # set when the interpreter is not the one the runtime names

    @property
    def packaging_runtime(self) -> str:
        """The runtime to package dependencies for (the interpreter that will run them)."""
        return self.interpreter.runtime

    def to_json(self) -> dict[str, object]:
        """As ``GET /_harness/runtimes`` shows it."""
        return {
            "runtime": self.declared,
            "interpreter": self.interpreter.executable,
            "version": self.interpreter.version_text,
            "source": self.interpreter.source,
            "packaging": self.packaging_runtime,
            "note": self.note,
        }


def parse_interpreters(text: str) -> dict[str, str]:
    """``python3.12=/path,python3.13=/path`` as a mapping (the setting's text form)."""
    mapping: dict[str, str] = {}
    for part in (p.strip() for p in text.replace(";", ",").split(",")):
        if not part:
            continue
        runtime, sep, path = part.partition("=")
        if not sep or not runtime.strip().startswith("python") or not path.strip():
            raise ValueError(
                f"expected runtime=path (python3.12=/usr/bin/python3.12), got {part!r}"
            )
        mapping[runtime.strip()] = path.strip()
    return mapping


class Interpreters:
    """Chooses, once per runtime name, the interpreter and runtime layer that run it."""

    def __init__(
        self,
        host_layer: Callable[[], Path],
        *,
        configured: Mapping[str, str] | None = None,
        layers_dir: Path | None = None,
        search_path: bool = True,
    ):
        self._host_layer = host_layer
        self.configured = dict(configured or {})
        self._layers_dir = layers_dir
        self._search_path = search_path
        self._host = harness_interpreter()
        self._lock = threading.Lock()
        self._chosen: dict[str, RuntimeChoice] = {}
        self._probed: dict[str, Interpreter | str] = {}

    def choose(self, runtime: str) -> RuntimeChoice:
        """The interpreter for ``runtime`` (the first call per runtime may install a layer)."""
        with self._lock:
            choice = self._chosen.get(runtime)
            if choice is None:
                choice = self._chosen[runtime] = self._decide(runtime)
                if choice.note:
                    _log.info("%s", choice.note)  # the deploy says it to the user
            return choice

    def chosen(self) -> list[RuntimeChoice]:
        """The choices made so far."""
        with self._lock:
            return list(self._chosen.values())

    def _decide(self, runtime: str) -> RuntimeChoice:
        host = RuntimeChoice(runtime, self._host, self._host_layer())
        why_not: str
        candidate: Interpreter | None = None
        if runtime in self.configured:
            found = self._probe(self.configured[runtime], "configured")
            if isinstance(found, Interpreter):
                candidate = found
            else:
                why_not = f"the configured interpreter for {runtime} does not run: {found}"
        elif runtime == self._host.runtime:
            return host
        elif self._search_path and (path := shutil.which(runtime)) is not None:
            found = self._probe(path, "PATH")
            if isinstance(found, Interpreter) and found.runtime == runtime:
                candidate = found
            else:
                why_not = f"{path} on PATH is not a working {runtime}: {found}"
        else:
            why_not = f"no {runtime} on PATH and none configured"
        if candidate is not None:
            if os.path.realpath(candidate.executable) == os.path.realpath(self._host.executable):
                return RuntimeChoice(
                    runtime, candidate, self._host_layer(), self._note(runtime, candidate)
                )
            try:
                layer = self._layer_for(candidate)
            except RuntimeLayerError as err:
                why_not = (
                    f"the runtime layer for {candidate.executable} could not be installed: {err}"
                )
            else:
                return RuntimeChoice(runtime, candidate, layer, self._note(runtime, candidate))
        return RuntimeChoice(
            runtime,
            self._host,
            host.layer,
            f"{runtime} functions run on the harness's Python {self._host.version_text} "
            f"({self._host.executable}): {why_not}. Their dependencies are packaged for "
            f"{self._host.version_text}. To run them on {runtime}, put a {runtime} on PATH or "
            "configure one (the `interpreters` setting)",
        )

    def _note(self, runtime: str, interpreter: Interpreter) -> str | None:
        if interpreter.runtime == runtime:
            return None
        return (
            f"{runtime} functions run on Python {interpreter.version_text} "
            f"({interpreter.executable}, configured for {runtime}); their dependencies are "
            f"packaged for {interpreter.version_text}"
        )

    def _probe(self, executable: str, source: str) -> Interpreter | str:
        """The interpreter behind ``executable`` (pyenv shims resolved), or why it failed."""
        key = f"{source}:{executable}"
        if key in self._probed:
            return self._probed[key]
        try:
            done = subprocess.run(
                [executable, "-c", _PROBE],
                capture_output=True,
                text=True,
                timeout=PROBE_SECONDS,
                check=False,
            )
            if done.returncode != 0:
                said = (done.stderr.strip() or f"exit {done.returncode}").splitlines()
                result: Interpreter | str = said[0][:200]
            else:
                path, (major, minor) = json.loads(done.stdout.strip().splitlines()[-1])
                result = Interpreter(str(path), (int(major), int(minor)), source)
        except (OSError, subprocess.TimeoutExpired, ValueError) as err:
            result = f"{type(err).__name__}: {err}"
        self._probed[key] = result
        return result

    def _layer_for(self, interpreter: Interpreter) -> Path:
        if self._layers_dir is None:
            raise RuntimeLayerError("no cache folder for runtime layers")
        return install_runtime_layer(interpreter.executable, interpreter.version, self._layers_dir)
