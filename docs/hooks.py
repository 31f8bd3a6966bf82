"""MkDocs hooks: what the site takes from the code rather than from hand-written text.

- Generated blocks: a page's text between ``<!-- NAME -->`` and ``<!-- /NAME -->`` markers, for
  each NAME of ``harness.engine.reference.BLOCKS`` (the ``/_harness/`` endpoint table, the
  threading model), must be what the code generates; the build fails when it is not, naming
  the page and the command that rewrites it::

      python docs/hooks.py          # rewrite every generated block of docs/

- The benchmark plots: ``benchmarks/results/*.png`` are served as ``assets/benchmarks/*.png``,
  so the Benchmarks page shows the plots the last run wrote, not a copy.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.engine.reference import BLOCKS

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
PLOTS = ROOT / "benchmarks" / "results"
REWRITE = "python docs/hooks.py"


def block_pattern(name: str) -> re.Pattern[str]:
    """The text between a generated block's markers (the markers stay)."""
    return re.compile(rf"(<!-- {re.escape(name)} -->\n)(.*?)(<!-- /{re.escape(name)} -->)", re.S)


def stale_blocks(markdown: str) -> list[str]:
    """The names of the generated blocks of this text whose copy differs from the code's."""
    return [
        name
        for name, generate in BLOCKS.items()
        for found in block_pattern(name).finditer(markdown)
        if found.group(2) != generate()
    ]


def rewrite(markdown: str) -> str:
    """This text with every generated block replaced by what the code generates now."""
    for name, generate in BLOCKS.items():
        text = generate()
        markdown = block_pattern(name).sub(_keeping_markers(text), markdown)
    return markdown


def _keeping_markers(text: str) -> Callable[[re.Match[str]], str]:
    return lambda match: match.group(1) + text + match.group(3)


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    """Fail the build when a generated block is out of date."""
    from mkdocs.exceptions import PluginError

    stale = stale_blocks(markdown)
    if stale:
        raise PluginError(
            f"{page.file.src_path}: the generated block(s) {', '.join(stale)} differ from the "
            f"code; run: {REWRITE}"
        )
    return markdown


def on_files(files: Any, config: Any, **kwargs: Any) -> Any:
    """Serve the benchmark plots from where the benchmarks write them."""
    from mkdocs.structure.files import File

    for plot in sorted(PLOTS.glob("*.png")):
        files.append(
            File.generated(config, f"assets/benchmarks/{plot.name}", abs_src_path=str(plot))
        )
    return files


if __name__ == "__main__":
    for path in sorted(DOCS.rglob("*.md")):
        before = path.read_text()
        after = rewrite(before)
        if after != before:
            path.write_text(after)
            print(f"rewrote {path.relative_to(ROOT)}")
