"""Print the ``/_harness/`` endpoint reference (Markdown) from the endpoints' own declarations.

    python -m harness.engine.reference

The README's table between ``<!-- harness-endpoints -->`` markers is this output; a test checks
that they are equal, so run this after changing an endpoint and paste its output there.
"""

from __future__ import annotations

from .core import Engine
from .http.introspection import reference_table


def main() -> None:
    """Print the table (the engine is built, not started: nothing binds or runs)."""
    print(reference_table(Engine(port=0).harness_endpoints()), end="")


if __name__ == "__main__":
    main()
