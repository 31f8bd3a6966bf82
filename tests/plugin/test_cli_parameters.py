"""Template parameters for `harness run`: `-p NAME=VALUE`, HARNESS_PARAMETERS and
[tool.harness] parameters, merged by name, reach the deploy of the session's stack."""

from __future__ import annotations

import sys

import pytest
from plugin_support import INNER_RUN_TIMEOUT, write

pytest_plugins = ["pytester"]

#: an app whose template has parameters without defaults, as many SAM apps do
TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Parameters:
  Greeting:
    Type: String
  Stage:
    Type: String
    AllowedValues: [dev, test]
Resources:
  HelloFunction:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.11
      Handler: index.handler
      InlineCode: |
        import json, os
        def handler(event, context):
            body = {"greeting": os.environ["GREETING"], "stage": os.environ["STAGE"]}
            return {"statusCode": 200, "body": json.dumps(body)}
      Environment:
        Variables: {GREETING: !Ref Greeting, STAGE: !Ref Stage}
      Events:
        Hello: {Type: Api, Properties: {Path: /hello, Method: get}}
"""

SCENARIO = """\
name: the greeting comes from the template's parameters
steps:
  - request: {method: GET, path: /hello}
    expect: {status: 200, json: {greeting: "good day to you", stage: test}}
"""


@pytest.fixture
def app(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    write(
        pytester.path,
        {
            "template.yaml": TEMPLATE,
            "scenarios/hello.scenario.yaml": SCENARIO,
            "pyproject.toml": '[tool.harness]\nparameters = {Stage = "dev"}\n',
        },
    )
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    for name in ("HARNESS_TEMPLATE", "HARNESS_PARAMETERS", "PYTEST_XDIST_WORKER"):
        monkeypatch.delenv(name, raising=False)
    return pytester


def harness(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.run(sys.executable, "-m", "harness.cli", *args, timeout=INNER_RUN_TIMEOUT)


def test_run_deploys_with_parameters_from_every_source_merged_by_name(
    app: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # [tool.harness] says Stage=dev; the environment says test (SAM's quoting); -p gives Greeting
    monkeypatch.setenv("HARNESS_PARAMETERS", "Stage=test")
    result = harness(app, "run", "-q", "-p", "Greeting=good day to you")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["1 passed in *"])
    # the same under xdist: each worker deploys with them
    result = harness(app, "run", "-q", "-n", "2", "-p", "Greeting=good day to you")
    assert result.ret == 0, result.stdout.str()
    # validate plans the deploy with them too
    monkeypatch.setenv("HARNESS_PARAMETERS", 'Stage=test Greeting="good day to you"')
    assert harness(app, "validate").ret == 0


def test_a_missing_or_malformed_parameter_is_one_clear_error(app: pytest.Pytester) -> None:
    missing = harness(app, "run", "-q")
    assert missing.ret == 3, missing.stdout.str()
    output = missing.stdout.str() + missing.stderr.str()
    assert "template.yaml: parameter Greeting has no value and no Default: give it with " in (
        output
    )
    assert "-p Greeting=VALUE (or HARNESS_PARAMETERS, or [tool.harness] parameters)" in output
    assert "Traceback" not in output
    malformed = harness(app, "run", "-q", "-p", "Greeting")
    assert malformed.ret == 4
    assert "Invalid value for --parameter: expected NAME=VALUE, got 'Greeting'" in (
        malformed.stderr.str()
    )
