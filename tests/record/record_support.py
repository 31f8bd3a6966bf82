"""Deploying the reference app for the recording tests, and a notifier test double.

(No tests here.)
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from harness.engine import Engine, moto_seam
from harness.targets.base import StackOutputs
from harness.targets.embedded import EmbeddedTarget

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"
#: packages are cached where `harness up` caches them, so the suite packages each function once
CACHE = REPO / ".harness" / "cache"


@contextmanager
def fresh_stack(
    engine: Engine, state_dir: Path, template: Path = TEMPLATE
) -> Iterator[tuple[EmbeddedTarget, StackOutputs]]:
    """The app deployed on the reset engine, its functions started; removed afterwards."""
    engine.reset()
    moto_seam.provide_aws_managed_policies()
    target = EmbeddedTarget(
        engine=engine,
        stack_name=f"rec-{uuid.uuid4().hex[:6]}",
        state_dir=state_dir,
        cache_dir=CACHE,
    )
    with target:
        outputs = target.deploy(template, {})
        warm(target, outputs)
        try:
            yield target, outputs
        finally:
            target.destroy()


def warm(target: EmbeddedTarget, outputs: StackOutputs) -> None:
    """Start both functions' execution environments now (powertools takes seconds to import
    under load), so the steps' bounds measure the pipeline, not a cold start."""
    target.client("lambda").invoke(
        FunctionName=outputs.functions["NotifierFunction"], Payload=b'{"Records": []}'
    )
    answer = requests.get(f"{outputs.api_url}/items/warm-up-{uuid.uuid4().hex}", timeout=60)
    assert answer.status_code == 404, answer.text
    assert target.wait_idle(30).idle


def app_copy(destination: Path, change: Callable[[Path], None]) -> Path:
    """A copy of template.yaml and functions/ under ``destination``, changed by ``change``
    (given the copy's root); returns the copied template."""
    shutil.copy(TEMPLATE, destination / "template.yaml")
    shutil.copytree(
        REPO / "functions",
        destination / "functions",
        ignore=shutil.ignore_patterns("__pycache__", ".mypy_cache"),
    )
    change(destination)
    return destination / "template.yaml"


def notifier_saying_changed(root: Path) -> None:
    """The test double: a notifier whose update subjects say "changed" instead of "updated"."""
    module = root / "functions" / "notifier" / "notification.py"
    text = module.read_text()
    original = 'return f"Item {safe_id}{suffix}"'
    assert original in text, "the notifier's subject line moved: update the test double"
    module.write_text(
        text.replace(original, 'return f"Item {safe_id}{suffix}".replace(" updated", " changed")')
    )


def api_caller(base_url: str) -> Callable[..., requests.Response]:
    """``call(method, path, status, **kwargs)``: one request on a shared session, asserting the
    status it must answer (what a QA person's session looks like in a test)."""
    http = requests.Session()

    def call(method: str, path: str, status: int, **kwargs: object) -> requests.Response:
        answer = http.request(method, base_url + path, timeout=60, **kwargs)  # type: ignore[arg-type]
        assert answer.status_code == status, f"{method} {path}: {answer.text}"
        return answer

    return call
