"""The deployer: dependency order, parallel creation, rollback, unsupported types, destroy.

These tests register a fake resource type, so they pin the deployer's own logic without any
AWS-compatible endpoint; the handlers for real types are exercised against the engine in
test_resources.py.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from harness.stack.deploy import Deployer
from harness.stack.errors import DeployFailed, DestroyIncomplete, TemplateError, UnsupportedResource
from harness.stack.package import FunctionPackager
from harness.stack.resources import HANDLERS, DeployOptions
from harness.stack.resources.base import Created, DeployContext, ResourceHandler
from harness.stack.sam import StackTemplate
from harness.stack.state import CreatedResource


class FakeThing(ResourceHandler):
    """Records what it creates and deletes; fails where told to."""

    type_name = "Test::Thing"
    properties = frozenset({"Name", "Needs", "Fail", "Barrier"})

    def __init__(self) -> None:
        self.events: list[str] = []
        self.lock = threading.Lock()
        self.fail_delete: set[str] = set()
        self.barrier: threading.Barrier | None = None

    def create(self, ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Created:
        if props.get("Barrier") and self.barrier is not None:
            self.barrier.wait()  # passes only when the other resource is being created too
        if props.get("Fail"):
            raise RuntimeError(f"{logical_id} refused")
        with self.lock:
            self.events.append(f"create {logical_id}")
        name = props.get("Name") or ctx.physical_name(logical_id, 20)
        return Created(name, {"Arn": f"arn:test:{name}", "Seen": props.get("Needs")})

    def delete(self, ctx: DeployContext, resource: CreatedResource) -> None:
        if resource.logical_id in self.fail_delete:
            raise RuntimeError(f"{resource.logical_id} will not go")
        with self.lock:
            self.events.append(f"delete {resource.logical_id}")


@pytest.fixture
def thing(monkeypatch: pytest.MonkeyPatch) -> FakeThing:
    handler = FakeThing()
    monkeypatch.setitem(HANDLERS, FakeThing.type_name, handler)
    return handler


def deployer(tmp_path: Path, parallelism: int = 1) -> Deployer:
    return Deployer(
        client=lambda service: None,
        stack_name="st",
        region="eu-west-1",
        target="test",
        packager=FunctionPackager(tmp_path / "cache"),
        options=DeployOptions(parallelism=parallelism),
        account_id="111122223333",
    )


def template(tmp_path: Path, resources: dict[str, Any], **extra: Any) -> StackTemplate:
    return StackTemplate(path=tmp_path / "template.yaml", resources=resources, **extra)


def thing_of(**props: Any) -> dict[str, Any]:
    return {"Type": "Test::Thing", "Properties": props}


def test_resources_are_created_after_what_they_reference(tmp_path: Path, thing: FakeThing) -> None:
    resources = {
        "C": thing_of(Needs={"Fn::Sub": "${B.Arn}"}),
        "B": thing_of(Needs={"Fn::GetAtt": ["A", "Arn"]}),
        "A": thing_of(Name={"Fn::Sub": "${AWS::StackName}-a-${AWS::Region}"}),
        "D": {**thing_of(), "DependsOn": "C"},
    }
    state = deployer(tmp_path).deploy(template(tmp_path, resources))
    assert thing.events == ["create A", "create B", "create C", "create D"]
    assert [r.logical_id for r in state.resources] == ["A", "B", "C", "D"]
    assert state.resources[0].physical_id == "st-a-eu-west-1"
    assert state.resources[2].attributes["Seen"] == "arn:test:st-B"


def test_independent_resources_are_created_in_parallel(tmp_path: Path, thing: FakeThing) -> None:
    thing.barrier = threading.Barrier(2, timeout=5)
    resources = {"A": thing_of(Barrier=True), "B": thing_of(Barrier=True)}
    state = deployer(tmp_path, parallelism=2).deploy(template(tmp_path, resources))
    assert {r.logical_id for r in state.resources} == {"A", "B"}


def test_a_failure_removes_what_was_created_newest_first(tmp_path: Path, thing: FakeThing) -> None:
    resources = {
        "A": thing_of(),
        "B": thing_of(Needs={"Ref": "A"}),
        "C": thing_of(Needs={"Ref": "B"}, Fail=True),
        "Later": thing_of(Needs={"Ref": "C"}),
    }
    with pytest.raises(
        DeployFailed, match=r"creating C \(Test::Thing\) failed: RuntimeError: C refused"
    ) as err:
        deployer(tmp_path).deploy(template(tmp_path, resources))
    assert err.value.logical_id == "C"
    assert thing.events == ["create A", "create B", "delete B", "delete A"]
    assert "everything created before it was removed" in str(err.value)


def test_a_rollback_that_cannot_remove_something_says_what_is_left(
    tmp_path: Path, thing: FakeThing
) -> None:
    thing.fail_delete = {"A"}
    resources = {"A": thing_of(), "B": thing_of(Needs={"Ref": "A"}, Fail=True)}
    with pytest.raises(DeployFailed, match="rollback left 1 resource") as err:
        deployer(tmp_path).deploy(template(tmp_path, resources))
    assert err.value.rollback_errors == ["A (Test::Thing) st-A: RuntimeError: A will not go"]


def test_unsupported_types_stop_the_deploy_before_anything_is_created(
    tmp_path: Path, thing: FakeThing
) -> None:
    resources = {"A": thing_of(), "Stream": {"Type": "AWS::Kinesis::Stream", "Properties": {}}}
    with pytest.raises(UnsupportedResource) as err:
        deployer(tmp_path).deploy(template(tmp_path, resources))
    message = str(err.value)
    assert "cannot deploy 1 resource" in message
    assert "  - Stream (AWS::Kinesis::Stream): Kinesis is not emulated" in message
    assert "To run the rest locally: give it a Condition that is false locally" in message
    assert "AWS::DynamoDB::Table" in message  # the supported types are listed
    assert thing.events == []


@pytest.mark.parametrize(
    ("resources", "message"),
    [
        ({"A": thing_of(Needs={"Ref": "Ghost"})}, "A refers to Ghost, which is neither"),
        (
            {"A": thing_of(Needs={"Ref": "B"}), "B": thing_of(Needs={"Ref": "A"})},
            "circular dependency",
        ),
        ({"A": {**thing_of(), "DependsOn": ["Nope"]}}, "DependsOn names unknown 'Nope'"),
        (
            {"A": thing_of(Colour="red")},
            r"A \(Test::Thing\): the property Colour is not supported by the harness deployer: "
            r"leave it out locally with `!If \[OnAws",
        ),
    ],
)
def test_template_mistakes_are_named(
    tmp_path: Path, thing: FakeThing, resources: dict[str, Any], message: str
) -> None:
    with pytest.raises(TemplateError, match=message):
        deployer(tmp_path).deploy(template(tmp_path, resources))
    assert thing.events == []


def test_an_attribute_a_resource_lacks_fails_the_deploy_and_rolls_back(
    tmp_path: Path, thing: FakeThing
) -> None:
    resources = {"A": thing_of(Needs={"Fn::GetAtt": ["B", "Nothing"]}), "B": thing_of()}
    with pytest.raises(
        DeployFailed, match=r"B \(Test::Thing\) has no attribute 'Nothing'; it has Arn"
    ):
        deployer(tmp_path).deploy(template(tmp_path, resources))
    assert thing.events == ["create B", "delete B"]


def test_conditions_skip_resources_and_outputs_are_resolved(
    tmp_path: Path, thing: FakeThing
) -> None:
    resources = {
        "A": thing_of(),
        "Debug": {**thing_of(), "Condition": "IsDev"},
    }
    stack = template(
        tmp_path,
        resources,
        parameters={"Env": {"Type": "String", "Default": "prod"}},
        conditions={"IsDev": {"Fn::Equals": [{"Ref": "Env"}, "dev"]}},
        outputs={
            "Name": {"Value": {"Ref": "A"}},
            "DebugName": {"Value": {"Ref": "Debug"}, "Condition": "IsDev"},
        },
    )
    state = deployer(tmp_path).deploy(stack)
    assert thing.events == ["create A"]
    assert state.outputs == {"Name": "st-A"}
    dev = deployer(tmp_path).deploy(stack, {"Env": "dev"})
    assert dev.outputs == {"Name": "st-A", "DebugName": "st-Debug"}


def test_destroy_goes_on_past_failures_and_reports_them(tmp_path: Path, thing: FakeThing) -> None:
    resources = {
        "A": thing_of(),
        "B": thing_of(Needs={"Ref": "A"}),
        "C": thing_of(Needs={"Ref": "B"}),
    }
    runner = deployer(tmp_path)
    state = runner.deploy(template(tmp_path, resources))
    thing.fail_delete = {"B"}
    with pytest.raises(DestroyIncomplete, match=r"1 resource\(s\) could not be removed"):
        runner.destroy(state)
    assert thing.events[-2:] == ["delete C", "delete A"]


def test_code_is_packaged_for_the_python_the_target_runs_it_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A function declaring python3.12 on a target that runs it on 3.11 gets 3.11 wheels, and
    the deploy says so once for that function."""
    from harness.stack import deploy as deploy_module
    from harness.stack.sam import LOCAL_CODE_BUCKET

    code = tmp_path / "fn"
    code.mkdir()
    (code / "app.py").write_text("def handler(e, c):\n    return 1\n")
    function = {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Runtime": "python3.12",
            "Handler": "app.handler",
            "Code": {"S3Bucket": LOCAL_CODE_BUCKET, "S3Key": "fn"},
        },
    }
    stack = template(tmp_path, {"Fn": function, "Other": dict(function)}, code_paths={"fn": code})
    packaged_for: list[str] = []
    original = FunctionPackager.package

    def spy(
        self: FunctionPackager,
        source: Any,
        runtime: str = "python3.11",
        architecture: str = "x86_64",
    ) -> Any:
        packaged_for.append(runtime)
        return original(self, source, runtime, architecture)

    monkeypatch.setattr(FunctionPackager, "package", spy)
    logged: list[str] = []
    target_deployer = Deployer(
        client=lambda service: None,
        stack_name="st",
        region="eu-west-1",
        target="test",
        packager=FunctionPackager(tmp_path / "cache"),
        account_id="111122223333",
        log=logged.append,
        python_for=lambda runtime: ("python3.11", f"{runtime} runs on 3.11 here"),
    )
    run = deploy_module._DeployRun(target_deployer, stack, {})
    run.package_code(run.plan())
    assert packaged_for == ["python3.11"], "one package per code folder, built for 3.11"
    assert target_deployer.notices == [
        "Fn declares python3.12: python3.12 runs on 3.11 here",
        "Other declares python3.12: python3.12 runs on 3.11 here",
    ]
    assert f"note: {target_deployer.notices[0]}" in logged
