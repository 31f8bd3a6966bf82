"""The documentation shows what the code does: every scenario example of the README and the
docs site loads with the scenario loader, every other YAML block says what it is and parses as
that, and the commands whose output a page shows print that output when run."""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from harness.scenario.language.loader import load_text
from harness.scenario.language.variables import STACK_VARIABLES
from harness.scenario.language.yaml_source import read_documents
from harness.stack.template_source import parse_template_text

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
EXAMPLES = DOCS / "examples"
PAGES = [ROOT / "README.md", *sorted(p for p in DOCS.rglob("*.md") if EXAMPLES not in p.parents)]
RUN_TIMEOUT = 180

#: variables the step-list examples use that an earlier step of their scenario would save
EXAMPLE_VARIABLES = {*STACK_VARIABLES, "item_id"}

#: console commands shown without a test that runs them, and why
NOT_RUN = {
    "harness record --out": "serves a proxy until stopped; tests/record/ drive it end to end",
    "harness record stop": "stops a running recording; tests/record/ drive it end to end",
    "harness record --update": "replays a recording the repository does not keep; tests/record/",
    "harness run scenarios/recorded": "the recordings are the user's; the repository keeps none",
}


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page."""

    page: Path
    line: int
    language: str
    info: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def title(self) -> str | None:
        found = re.search(r'title="([^"]+)"', self.info)
        return found.group(1) if found else None


def blocks(language: str) -> list[Block]:
    """Every fenced block of this language in the README and the docs pages."""
    found = []
    fence = re.compile(r"^```(\w*)([^\n]*)\n(.*?)^```", re.M | re.S)
    for page in PAGES:
        text = page.read_text()
        for match in fence.finditer(text):
            if match.group(1) == language:
                line = text.count("\n", 0, match.start()) + 1
                found.append(Block(page, line, language, match.group(2), match.group(3)))
    return found


def as_scenario(text: str) -> str:
    """A block as a scenario file: documents stay, a list of steps is wrapped into one."""
    if re.match(r"(#.*\n)*name:", text):
        return text
    return "name: example\nsteps:\n" + "".join(f"  {line}\n" for line in text.splitlines())


def test_every_untitled_yaml_block_is_a_scenario_that_loads() -> None:
    scenarios = [b for b in blocks("yaml") if b.title is None]
    assert len(scenarios) >= 15, [b.where for b in scenarios]
    for block in scenarios:
        loaded = load_text(as_scenario(block.text), block.where, known_variables=EXAMPLE_VARIABLES)
        assert loaded and all(s.steps for s in loaded), block.where


def test_every_titled_yaml_block_parses_as_what_its_title_names() -> None:
    titled = [b for b in blocks("yaml") if b.title is not None]
    kinds = set()
    for block in titled:
        title = block.title or ""
        if title.endswith("template.yaml"):
            kinds.add("template")
            template = parse_template_text(block.text, block.where)
            assert isinstance(template, dict) and template.get("Resources"), block.where
        elif title.startswith(".github/workflows/"):
            kinds.add("workflow")
            workflow = yaml.safe_load(block.text)
            assert workflow["jobs"] and workflow["name"], block.where
            assert any(
                "harness " in str(step.get("run", ""))
                for job in workflow["jobs"].values()
                for step in job["steps"]
            ), block.where
        elif title.endswith("(shortened)"):
            # an excerpt: "..." stands for what is left out, so it cannot be a whole scenario,
            # but its YAML, tags included, must read as the scenario loader reads files
            kinds.add("excerpt")
            documents, problems = read_documents(block.text, block.where)
            assert documents and not problems, (block.where, problems)
        else:
            pytest.fail(f"{block.where}: a YAML block titled {title!r} is of no known kind")
    assert kinds == {"template", "workflow", "excerpt"}


def test_example_files_shown_on_a_page_are_shown_whole() -> None:
    files = {path: path.read_text() for path in EXAMPLES.glob("*.scenario.yaml")}
    shown = {path: 0 for path in files}
    for block in blocks("yaml"):
        for path, text in files.items():
            if block.text.splitlines()[:1] == text.splitlines()[:1]:
                assert block.text == text, f"{block.where} shows {path.name} differently"
                shown[path] += 1
    assert shown[EXAMPLES / "price-change.scenario.yaml"] >= 2  # README and Getting started


def normalized(output: str) -> str:
    """What may differ between two runs replaced by a placeholder: ids, times, ports."""
    rules = [
        (r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<uuid>"),
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "<timestamp>"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:<port>"),
        (r"/restapis/[a-z0-9]+/", "/restapis/<api>/"),
        (r'"run_id": "[0-9a-f]+"', '"run_id": "<run_id>"'),
        (r"\d+(\.\d+)? ?(ms|s)\b", "<duration>"),
        # a line cut short at a fixed width ends a character or two earlier or later when a
        # port number before the cut has one digit more or less: such a line's text is not
        # compared, only that it was cut
        (r"[^\n]*…", "…"),
    ]
    for pattern, placeholder in rules:
        output = re.sub(pattern, placeholder, output)
    return output.rstrip("\n")


@functools.cache
def run_shown(command: str) -> str:
    """Run a `harness ...` command as the pages show it, from the repository's root (once per
    process: the README and Getting started show the same run)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HARNESS_", "PYTEST_XDIST"))}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    args = command.split()
    assert args[0] == "harness", command
    result = subprocess.run(
        [sys.executable, "-m", "harness.cli", *args[1:]],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    output = result.stdout
    # the stack is named after the clone's folder; the pages show a clone named "harness"
    stack = re.search(r"stack (\S+)-run deployed", output)
    if stack:
        output = output.replace(f"{stack.group(1)}-run", "harness-run")
    return output


def console_examples() -> list[tuple[Block, str, str]]:
    """Each console block: the block, its one command and the output it shows."""
    found = []
    for block in blocks("console"):
        lines = block.text.splitlines()
        commands = [line for line in lines if line.startswith("$ ")]
        assert len(commands) == 1 and lines[0] == commands[0], f"{block.where}: one command first"
        found.append((block, commands[0][2:], "\n".join(lines[1:])))
    return found


RUNNABLE = [
    pytest.param(command, shown, id=block.where)
    for block, command, shown in console_examples()
    if not command.startswith(tuple(NOT_RUN))
]


def test_every_console_block_is_run_or_says_why_not() -> None:
    examples = console_examples()
    assert len(RUNNABLE) >= 4
    for block, command, _ in examples:
        runnable = command.startswith(("harness run -q docs/examples/", "harness validate"))
        assert runnable or command.startswith(tuple(NOT_RUN)), (
            f"{block.where}: `{command}` is neither run by this test nor listed in NOT_RUN"
        )


@pytest.mark.parametrize(("command", "shown"), RUNNABLE)
def test_a_shown_command_prints_what_the_page_shows(command: str, shown: str) -> None:
    assert normalized(run_shown(command)) == normalized(shown)
