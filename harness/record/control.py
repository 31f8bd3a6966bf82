"""The running recording's state file, and `harness record stop`, which reads it.

`harness record` writes ``.harness/record.json`` (the proxy's URL, its process id, the file it
will write) in the directory it runs from; `harness record stop`, from another shell in the same
directory, asks that proxy to end the recording and prints where it went.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import requests

from .proxy import STATUS_PATH, STOP_ANSWER_TIMEOUT, STOP_PATH

STATE_FILE = Path(".harness") / "record.json"


class RecordError(Exception):
    """Recording cannot start or end; the message says why and what to do."""


@dataclass(frozen=True)
class RunningRecording:
    """What ``.harness/record.json`` says about the recording in progress."""

    url: str
    pid: int
    out: str
    api_url: str

    def save(self, path: Path = STATE_FILE) -> None:
        """Write the state file (atomically: `record stop` may read it at any time)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".json.partial")
        partial.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        os.replace(partial, path)

    @classmethod
    def load(cls, path: Path = STATE_FILE) -> RunningRecording | None:
        """The recording the state file names, or None without one."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(str(data["url"]), int(data["pid"]), str(data["out"]), str(data["api_url"]))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise RecordError(f"{path} is not a recording's state file ({err}); delete it") from err

    def answers(self) -> bool:
        """Whether its proxy still answers."""
        try:
            answer = requests.get(self.url + STATUS_PATH, timeout=2)
        except requests.RequestException:
            return False
        return answer.status_code == 200


def check_none_running(path: Path = STATE_FILE) -> None:
    """Refuse to start a second recording from the same directory; forget a stale one."""
    running = RunningRecording.load(path)
    if running is None:
        return
    if running.answers():
        raise RecordError(
            f"a recording already runs at {running.url} (process {running.pid}, writing "
            f"{running.out}): end it with `harness record stop` first"
        )
    path.unlink(missing_ok=True)


def stop_recording(path: Path = STATE_FILE) -> dict[str, object]:
    """Ask the running recording to end; its answer: ``{"saved": FILE or None, "requests": N}``."""
    running = RunningRecording.load(path)
    if running is None:
        raise RecordError(
            f"no recording runs from this directory (no {path}): start one with `harness record`"
        )
    try:
        answer = requests.post(running.url + STOP_PATH, timeout=STOP_ANSWER_TIMEOUT + 10)
    except requests.RequestException as err:
        path.unlink(missing_ok=True)
        raise RecordError(
            f"the recording at {running.url} does not answer (did its process {running.pid} "
            f"end?): removed the stale {path}"
        ) from err
    try:
        body = answer.json()
    except ValueError:
        body = {"message": answer.text[:300]}
    if answer.status_code != 200:
        raise RecordError(
            f"the recording at {running.url} answered {answer.status_code}: "
            f"{body.get('message', body)}"
        )
    return dict(body)
