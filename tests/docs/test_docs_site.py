"""The README stays short and its links land; every docs page is in the site's navigation and
linked from the README; the blocks generated from the code are current."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import yaml

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_hooks", DOCS / "hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if "examples" not in p.parts)


def github_anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives a page's headings (code fences skipped)."""
    anchors, fenced = set(), False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        heading = re.match(r"#{1,6} (.*)", line)
        if heading and not fenced:
            text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.group(1)).lower()
            anchors.add(re.sub(r"[^\w\- ]", "", text).replace(" ", "-"))
    return anchors


def test_the_readme_is_short_and_starts_with_what_a_newcomer_needs() -> None:
    text = README.read_text()
    assert len(text.splitlines()) <= 300
    headings = re.findall(r"^## (.*)$", text, re.M)
    assert headings[:3] == ["Quick start", "A scenario", "Bring your own SAM app"]
    assert text.index("## Bring your own SAM app") < len("\n".join(text.splitlines()[:110]))


def test_every_link_of_the_readme_lands() -> None:
    text = README.read_text()
    checked = 0
    for target in LINK.findall(text):
        if target.startswith(("http://", "https://")):
            continue
        path, _, anchor = target.partition("#")
        file = ROOT / path if path else README
        assert file.exists(), f"README links to {path}, which does not exist"
        if anchor:
            assert anchor in github_anchors(file.read_text()), f"README: no #{anchor} in {path}"
        checked += 1
    assert checked >= 40


def test_every_page_is_in_the_navigation_and_linked_from_the_readme() -> None:
    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=yaml.BaseLoader)

    def walk(entries: list[dict[str, object]]) -> list[str]:
        out: list[str] = []
        for entry in entries:
            for value in entry.values():
                out += walk(value) if isinstance(value, list) else [str(value)]
        return out

    in_nav = set(walk(config["nav"]))
    linked = {t.partition("#")[0] for t in LINK.findall(README.read_text())}
    for page in pages():
        name = page.relative_to(DOCS).as_posix()
        assert name in in_nav, f"docs/{name} is not in mkdocs.yml's nav"
        assert f"docs/{name}" in linked, f"the README does not link to docs/{name}"


def test_the_generated_blocks_are_current_and_present() -> None:
    module = hooks()
    found = set()
    for page in pages():
        text = page.read_text()
        assert module.stale_blocks(text) == [], f"{page}: run python docs/hooks.py"
        found |= {name for name in module.BLOCKS if f"<!-- {name} -->" in text}
    assert found == set(module.BLOCKS)


def test_a_stale_block_is_noticed_and_rewritten() -> None:
    module = hooks()
    stale = "<!-- harness-endpoints -->\n| old |\n<!-- /harness-endpoints -->\n"
    assert module.stale_blocks(stale) == ["harness-endpoints"]
    assert module.stale_blocks(module.rewrite(stale)) == []
