"""The engine's reference documentation, generated from the code so that it cannot drift.

    python -m harness.engine.reference            # the /_harness/ endpoint table (Markdown)
    python -m harness.engine.reference threads    # the threading model (Markdown)

The documentation site holds these between ``<!-- harness-endpoints -->`` and
``<!-- threading-model -->`` markers (docs/engine/); ``python docs/hooks.py`` rewrites them,
and both a test and ``mkdocs build`` fail when a copy differs from what this prints.
"""

from __future__ import annotations

import re
import sys

from . import core
from .core import Engine
from .http.introspection import reference_table

_THREADS_HEADING = "Threads and locks (the rules every service keeps):"


def endpoint_table() -> str:
    """The ``/_harness/`` endpoints as a Markdown table, from their own declarations.

    The engine is built, not started: nothing binds or runs.
    """
    return reference_table(Engine(port=0).harness_endpoints())


def threading_model() -> str:
    """The threads and locks of the engine, as ``harness/engine/core.py``'s docstring states
    them, in Markdown (reST's double backticks become single ones)."""
    doc = core.__doc__ or ""
    if _THREADS_HEADING not in doc:
        raise LookupError(f"harness/engine/core.py's docstring lost its {_THREADS_HEADING!r}")
    body = doc.split(_THREADS_HEADING, 1)[1].strip("\n")
    return re.sub(r"``(.+?)``", r"`\1`", body, flags=re.S) + "\n"


#: every generated block of the documentation, by the name of its markers
BLOCKS = {"harness-endpoints": endpoint_table, "threading-model": threading_model}


def main(argv: list[str] | None = None) -> None:
    """Print one block: the endpoint table by default, ``threads`` for the threading model."""
    args = sys.argv[1:] if argv is None else argv
    which = args[0] if args else "endpoints"
    generate = {"endpoints": endpoint_table, "threads": threading_model}.get(which)
    if generate is None:
        raise SystemExit(
            f"usage: python -m harness.engine.reference [endpoints|threads], not {which!r}"
        )
    print(generate(), end="")


if __name__ == "__main__":
    main()
