"""The scenario ``fault`` step: function faults and SNS API faults, checked at load time."""

from __future__ import annotations

import pytest

from harness.scenario.language.errors import ScenarioFileError
from harness.scenario.language.loader import load_text
from harness.scenario.language.model import FaultStep


def fault_scenario(fault: str) -> str:
    return f"name: a fault\nsteps:\n  - fault: {fault}\n"


def test_an_sns_fault_step_loads_with_its_body() -> None:
    text = fault_scenario(
        "{service: sns, action: Publish, error: AuthorizationError, times: 2, "
        'match: {TopicArn: "{topic_arn}"}}'
    )
    (scenario,) = load_text(text, "f.scenario.yaml")
    (step,) = scenario.steps
    assert isinstance(step, FaultStep)
    assert step.body == {
        "service": "sns",
        "action": "Publish",
        "error": "AuthorizationError",
        "times": 2,
        "match": {"TopicArn": "{topic_arn}"},
    }


@pytest.mark.parametrize(
    ("fault", "complaint"),
    [
        ("{service: s3, action: Publish, error: NotFound}", 'fault.service: expected one of "sns"'),
        (
            "{service: sns, action: Publish, error: NotFound, times: 0}",
            "fault.times: expected a number >= 1",
        ),
        ("{service: sns, action: Publish}", "or {service: sns, action, error: AWS error code"),
        ("{service: sns, action: Publish, error: NotFound, function: f}", "expected a fault"),
    ],
)
def test_a_bad_sns_fault_step_names_the_field(fault: str, complaint: str) -> None:
    with pytest.raises(ScenarioFileError) as caught:
        load_text(fault_scenario(fault), "f.scenario.yaml")
    assert complaint in str(caught.value)
    assert "f.scenario.yaml:3" in str(caught.value)
