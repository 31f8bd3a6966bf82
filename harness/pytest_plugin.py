"""pytest11 entry point of the harness: options, scenario collection, fixtures.

Thin on purpose: scenario files become tests in :mod:`harness.scenario.plugin.collect`, the deployed
stack lives in :mod:`harness.scenario.plugin.session`, the HTML report in
:mod:`harness.scenario.plugin.run_report`. Nothing starts unless a scenario or fixture needs it.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .config import ConfigError, debug_enabled
from .scenario.plugin.session import STACK_SESSION, StackSession, StackUnavailable, resolve_settings

if TYPE_CHECKING:
    from .scenario.plugin.collect import ScenarioFile
    from .scenario.plugin.fixtures import ApiClient, NotificationCapture, StreamView, TableView
    from .scenario.plugin.session import DeployedStack

# the scenario modules (boto3, jsonschema...) are imported only once a scenario file or a
# fixture needs them: this plugin loads in every pytest run of the environment
_YAML_SUFFIXES = (".yaml", ".yml")
_log = logging.getLogger("harness")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "harness: scenarios on a deployed stack")
    group.addoption(
        "--target",
        default=None,
        help="where the stack runs: embedded (default), localstack, aws "
        "(or HARNESS_TARGET, or [tool.harness] target)",
    )
    group.addoption(
        "--harness-template",
        dest="harness_template",
        metavar="FILE",
        default=None,
        help="the SAM/CloudFormation template to deploy (or HARNESS_TEMPLATE, or "
        "[tool.harness] template; default template.yaml)",
    )
    group.addoption(
        "--harness-parameter",
        dest="harness_parameters",
        metavar="NAME=VALUE",
        action="append",
        default=None,
        help="a template parameter, repeatable (over HARNESS_PARAMETERS and [tool.harness] "
        "parameters, by name)",
    )
    group.addoption(
        "--harness-report",
        dest="harness_report",
        metavar="FILE.html",
        default=None,
        help="write an HTML report: summary and a timeline per scenario (long details of "
        "passing scenarios in FILE-details/)",
    )
    group.addoption(
        "--harness-scenarios-only",
        dest="harness_scenarios_only",
        action="store_true",
        default=False,
        help="collect scenario files only, no Python tests (what `harness run` does)",
    )


def pytest_configure(config: pytest.Config) -> None:
    session = StackSession(
        config.getoption("target"),
        template_option=config.getoption("harness_template"),
        parameter_options=config.getoption("harness_parameters"),
        log=_log.info,
    )
    config.stash[STACK_SESSION] = session
    # runs at the end of the session, also after Ctrl-C or an internal error
    config.add_cleanup(session.close)
    if not hasattr(config, "workerinput"):  # the process that prints the results
        from .scenario.plugin.setup_errors import SetupErrors

        config.pluginmanager.register(SetupErrors(), "harness-setup-errors")
    path = config.getoption("harness_report")
    if path and not hasattr(config, "workerinput"):  # xdist workers send theirs to the controller
        from .scenario.plugin.run_report import HtmlReportWriter

        try:
            target = resolve_settings(config.getoption("target")).target
        except ConfigError as err:
            raise pytest.UsageError(str(err)) from err
        config.pluginmanager.register(HtmlReportWriter(Path(path), target), "harness-html-report")


def _is_scenario_file(path: Path) -> bool:
    if path.suffix not in _YAML_SUFFIXES:
        return False
    from .scenario.language.loader import is_scenario_file

    return is_scenario_file(path)


def _named_on_command_line(file_path: Path, parent: pytest.Collector) -> bool:
    """A file given by name is a scenario file whatever its name: a YAML file under pytest,
    any file but Python under `harness run` (which collects scenarios only)."""
    if not parent.session.isinitpath(file_path) or file_path.suffix == ".py":
        return False
    return file_path.suffix in _YAML_SUFFIXES or bool(
        parent.config.getoption("harness_scenarios_only")
    )


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> ScenarioFile | None:
    if _is_scenario_file(file_path) or _named_on_command_line(file_path, parent):
        from .scenario.plugin.collect import ScenarioFile, node_id

        return ScenarioFile.from_parent(parent, path=file_path, nodeid=node_id(file_path, parent))
    return None


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if config.getoption("harness_scenarios_only") and collection_path.is_file():
        return not _is_scenario_file(collection_path)
    return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if call.excinfo is not None:
        from .scenario.plugin.collect import SETUP_ERROR, SessionSetupFailed

        if isinstance(call.excinfo.value, SessionSetupFailed):
            # the message says all; a traceback through the harness would bury it
            if not debug_enabled():
                report.longrepr = str(call.excinfo.value)
            setattr(report, SETUP_ERROR, str(call.excinfo.value))
    if not item.config.getoption("harness_report"):
        return report
    from .scenario.plugin.collect import ScenarioItem
    from .scenario.plugin.run_report import PAYLOAD

    if isinstance(item, ScenarioItem):
        payload = item.report_payload(report)
        if payload is not None:
            setattr(report, PAYLOAD, payload)
    return report


def pytest_report_header(config: pytest.Config) -> str | None:
    if not config.getoption("harness_scenarios_only"):
        return None
    try:
        settings = resolve_settings(
            config.getoption("target"),
            template=config.getoption("harness_template"),
            parameters=config.getoption("harness_parameters"),
        )
    except ConfigError:
        return None  # reported where the stack is deployed
    return f"harness: target {settings.target}, template {settings.template}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    stack = terminalreporter.config.stash[STACK_SESSION].deployed
    if stack is not None:  # under xdist, each worker deploys its own and reports nothing here
        terminalreporter.write_line(
            f"harness: stack {stack.outputs.stack_name} deployed to {stack.target.name} "
            f"in {stack.deploy_seconds:.2f} s"
        )
        if terminalreporter.config.get_verbosity() >= 0:  # -q keeps to the results
            for notice in stack.outputs.notices:
                terminalreporter.write_line(f"harness: note: {notice}")


# -- fixtures for Python tests ---------------------------------------------------------------


@pytest.fixture
def harness_stack(request: pytest.FixtureRequest) -> DeployedStack:
    """The stack deployed for this test process (once), emptied of earlier tests' data."""
    from .scenario.plugin.collect import SessionSetupFailed
    from .targets.base import TargetError

    try:
        stack = request.config.stash[STACK_SESSION].get()
    except StackUnavailable as err:
        # an error at the setup of each test that needs the stack, the same short message
        # each time; the session exits 3
        raise SessionSetupFailed(f"the stack could not be set up: {err}") from err
    try:
        stack.target.isolate()
    except TargetError as err:
        pytest.fail(str(err), pytrace=False)
    return stack


@pytest.fixture
def harness_api(harness_stack: DeployedStack) -> Iterator[ApiClient]:
    """A requests session on the stack's API: ``harness_api.get("/items/1")``."""
    from .scenario.plugin.fixtures import ApiClient

    with ApiClient(harness_stack.outputs.api_url) as client:
        yield client


@pytest.fixture
def harness_notifications(harness_stack: DeployedStack) -> NotificationCapture:
    """Notifications the stack publishes from now on: ``.views()``, ``.wait(count)``."""
    from .scenario.plugin.fixtures import NotificationCapture

    return NotificationCapture(harness_stack.target)


@pytest.fixture
def harness_table(harness_stack: DeployedStack) -> TableView:
    """The stack's table with plain values: ``.get(key)``, ``.put(item)``, ``.scan()``."""
    from .scenario.plugin.fixtures import TableView

    return TableView(harness_stack.target, harness_stack.outputs.table_name)


@pytest.fixture
def harness_stream(harness_stack: DeployedStack) -> StreamView:
    """The table's stream records from now on: ``.records()`` once the pipeline is idle."""
    from .scenario.plugin.fixtures import StreamView

    try:
        return StreamView(harness_stack.target, harness_stack.outputs)
    except LookupError as err:
        pytest.fail(str(err), pytrace=False)
