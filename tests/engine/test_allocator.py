"""The arena limit the `harness` commands set for their own process."""

from __future__ import annotations

import subprocess
import sys

import pytest

from harness.engine import allocator

PROBE = "from harness.engine.allocator import limit_arenas; print(limit_arenas())"


def _probe(env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, check=True
    )
    return done.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt is Linux-only")
def test_limit_arenas_takes_effect_on_glibc_and_yields_to_the_environment() -> None:
    # in a fresh process, so this test session's allocator is left alone
    assert _probe({"PATH": "/usr/bin:/bin"}) == "True"
    assert _probe({"PATH": "/usr/bin:/bin", "MALLOC_ARENA_MAX": "4"}) == "False"


def test_limit_arenas_is_false_where_there_is_no_mallopt(monkeypatch: pytest.MonkeyPatch) -> None:
    class NoMallopt:
        def __init__(self, name: object) -> None:
            pass

    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    monkeypatch.setattr(allocator.ctypes, "CDLL", NoMallopt)
    assert allocator.limit_arenas() is False
