"""The conformance job's own parts (conformance/): the expected-outcome file, the comparison, and
its two pytest plugins. The job itself runs moto's tests and is too slow for this suite (it runs
in CI when the moto pin moves: .ci/conformance)."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.engine import Engine

CONFORMANCE = Path(__file__).resolve().parent.parent / "conformance"


@pytest.fixture(autouse=True)
def _conformance_on_path() -> Iterator[None]:
    sys.path.insert(0, str(CONFORMANCE))
    yield
    sys.path.remove(str(CONFORMANCE))


def test_the_expected_file_gives_every_failure_a_reason_and_every_aws_one_a_citation() -> None:
    from outcomes import load_expected

    expected = load_expected(CONFORMANCE / "expected.yaml")
    assert expected, "expected.yaml lists the tests the engine fails on purpose"
    for entry in expected.values():
        assert entry.test.startswith("tests/test_") and "::" in entry.test
        assert entry.why
        if entry.because == "aws":
            assert entry.see and entry.see.startswith("https://")


def test_an_aws_reason_without_a_citation_is_refused_naming_the_file_and_the_test(
    tmp_path: Path,
) -> None:
    from outcomes import ExpectedFileError, load_expected

    path = tmp_path / "expected.yaml"
    path.write_text("tests/test_x.py::test_y:\n  because: aws\n  why: AWS says so\n")
    with pytest.raises(ExpectedFileError, match=r"expected\.yaml: tests/test_x\.py::test_y: .*see"):
        load_expected(path)
    path.write_text("tests/test_x.py::test_y:\n  because: flaky\n  why: sometimes\n")
    with pytest.raises(ExpectedFileError, match="because must be one of aws, moto-only"):
        load_expected(path)


def test_failures_are_sorted_into_expected_and_new_and_stale_expectations_are_found() -> None:
    from outcomes import ExpectedFailure, SuiteRun, compare

    def expect(test: str) -> ExpectedFailure:
        return ExpectedFailure(test, "moto-only", "why", None)

    expected = {
        test: expect(test)
        for test in (
            "tests/test_dynamodb/test_a.py::test_listed_fails",
            "tests/test_dynamodb/test_a.py::test_listed_passes",
            "tests/test_dynamodb/test_a.py::test_listed_gone",
            "tests/test_dynamodbstreams/test_s.py::test_other_suite",
        )
    }
    run = SuiteRun(
        "dynamodb",
        "engine",
        {
            "tests/test_dynamodb/test_a.py::test_listed_fails": "failed",
            "tests/test_dynamodb/test_a.py::test_listed_passes": "passed",
            "tests/test_dynamodb/test_a.py::test_new_failure": "error",
            "tests/test_dynamodb/test_a.py::test_fine": "passed",
            "tests/test_dynamodb/test_a.py::test_skipped": "skipped",
        },
    )
    comparison = compare(run, expected, ("tests/test_dynamodb",))
    assert comparison.unexpected == ["tests/test_dynamodb/test_a.py::test_new_failure"]
    assert comparison.expected == ["tests/test_dynamodb/test_a.py::test_listed_fails"]
    assert comparison.now_passing == ["tests/test_dynamodb/test_a.py::test_listed_passes"]
    # the streams suite's entry is not "not run" in the dynamodb suite, whose path prefixes it
    assert comparison.not_run == ["tests/test_dynamodb/test_a.py::test_listed_gone"]
    assert (run.passed, run.failed, run.ran) == (2, 2, 4)


def _run_with_plugin(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    plugin: str,
    env: dict[str, str],
    source: str,
) -> Any:
    pytester.makepyfile(test_sample=textwrap.dedent(source))
    for name, value in {**env, "PYTHONPATH": str(CONFORMANCE)}.items():
        monkeypatch.setenv(name, value)  # the child process inherits the environment
    return pytester.runpytest_subprocess("-p", plugin, "-p", "no:harness", "-q")


def test_the_outcome_plugin_writes_one_outcome_per_test_id(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = pytester.path / "outcomes.json"
    result = _run_with_plugin(
        pytester,
        monkeypatch,
        "record_outcomes",
        {"HARNESS_CONFORMANCE_OUTCOMES": str(target)},
        """
        import pytest

        @pytest.fixture
        def broken():
            raise RuntimeError("setup broke")

        def test_passes(): pass
        def test_fails(): assert 1 == 2, "one is not two"
        def test_errors(broken): pass
        def test_skips(): pytest.skip("not here")
        @pytest.mark.xfail(reason="known")
        def test_xfails(): assert False
        @pytest.mark.parametrize("n", [1, 2])
        def test_param(n): assert n == 1
        """,
    )
    result.assert_outcomes(passed=2, failed=2, errors=1, skipped=1, xfailed=1)
    written = json.loads(target.read_text())
    assert written["outcomes"] == {
        "test_sample.py::test_passes": "passed",
        "test_sample.py::test_fails": "failed",
        "test_sample.py::test_errors": "error",
        "test_sample.py::test_skips": "skipped",
        "test_sample.py::test_xfails": "xfailed",
        "test_sample.py::test_param[1]": "passed",
        "test_sample.py::test_param[2]": "failed",
    }
    assert "one is not two" in written["messages"]["test_sample.py::test_fails"]
    assert "setup broke" in written["messages"]["test_sample.py::test_errors"]


def test_the_settle_plugin_lets_a_test_read_a_queue_right_after_publish(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, engine: Engine
) -> None:
    """An SNS -> SQS delivery is asynchronous on the engine, as on AWS; with the plugin, the
    test's next call finds the message, and the plugin names the test it settled."""
    settled = pytester.path / "settled.json"
    result = _run_with_plugin(
        pytester,
        monkeypatch,
        "settle_after_publish",
        {
            "HARNESS_CONFORMANCE_SETTLE_URL": engine.url,
            "HARNESS_CONFORMANCE_SETTLED": str(settled),
        },
        f"""
        import boto3

        URL = {engine.url!r}
        KEYS = dict(aws_access_key_id="testing", aws_secret_access_key="testing",
                    region_name="us-east-1", endpoint_url=URL)

        def test_publish_then_read():
            sns = boto3.client("sns", **KEYS)
            sqs = boto3.client("sqs", **KEYS)
            topic = sns.create_topic(Name="conformance-settle")["TopicArn"]
            queue = sqs.create_queue(QueueName="conformance-settle")["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
            sns.subscribe(TopicArn=topic, Protocol="sqs",
                          Endpoint=arn["Attributes"]["QueueArn"])
            for n in range(20):
                sns.publish(TopicArn=topic, Message=f"m{{n}}")
            got = []
            for _ in range(2):
                got += sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
            assert len(got) == 20
        """,
    )
    result.assert_outcomes(passed=1)
    assert json.loads(settled.read_text()) == {"test_sample.py::test_publish_then_read": 20}
