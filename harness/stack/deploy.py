"""Create a template's resources on a target through boto3, in dependency order, with rollback.

The order comes from the references between resources (Ref, Fn::GetAtt, Fn::Sub) and DependsOn;
independent resources may be created in parallel, as CloudFormation does. If any resource fails,
the ones already created are deleted in reverse order and the deploy raises ``DeployFailed``
naming the resource. ``destroy`` removes what a ``StackState`` lists, newest first.
"""

from __future__ import annotations

import threading
import uuid
import zipfile
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from graphlib import CycleError, TopologicalSorter
from io import BytesIO
from typing import Any

from .errors import DeployFailed, DestroyIncomplete, StackError, TemplateError, UnsupportedResource
from .intrinsics import IntrinsicResolver, referenced_names
from .package import FunctionPackager, PackagedCode
from .parameters import resolve_parameters
from .preflight import find_refusals
from .resources import HANDLERS, DeployContext, DeployOptions, supported_types
from .sam import LOCAL_CODE_BUCKET, LOCAL_LAYER_BUCKET, StackTemplate, placeholder_key
from .state import CreatedResource, StackState
from .support import refusal_message

ClientFactory = Callable[[str], Any]
_INLINE_FILE = {"python": "index.py", "nodejs": "index.js"}


class Deployer:
    """Deploys one stack to one target (given as a boto3 client factory)."""

    def __init__(
        self,
        *,
        client: ClientFactory,
        stack_name: str,
        region: str,
        target: str,
        packager: FunctionPackager,
        endpoint_url: str | None = None,
        options: DeployOptions | None = None,
        account_id: str | None = None,
        log: Callable[[str], None] | None = None,
        python_for: Callable[[str], tuple[str, str | None]] | None = None,
    ):
        """``python_for(runtime)``: the Python the target runs a ``python3.x`` runtime on (the
        version to package dependencies for) and why, when it is not the one named."""
        self.client = client
        self.stack_name = stack_name
        self.region = region
        self.target = target
        self.packager = packager
        self.endpoint_url = endpoint_url
        self.options = options or DeployOptions()
        self._account_id = account_id
        self.log = log or (lambda message: None)
        self.python_for = python_for or (lambda runtime: (runtime, None))
        self.notices: list[str] = []

    @property
    def account_id(self) -> str:
        """The account resources go to (asked of STS once when not given)."""
        if self._account_id is None:
            self._account_id = str(self.client("sts").get_caller_identity()["Account"])
        return self._account_id

    def notice(self, message: str) -> None:
        """Something the user should know about this deploy (kept in the stack's state)."""
        self.notices.append(message)  # list.append is atomic: handlers run in threads
        self.log(f"note: {message}")

    # -- deploy --------------------------------------------------------------------------------

    def deploy(
        self, template: StackTemplate, parameters: dict[str, str] | None = None
    ) -> StackState:
        """Create every resource; on failure remove what was created and raise DeployFailed."""
        self.notices = list(template.notices)
        values = resolve_parameters(template.parameters, parameters or {}, str(template.path))
        run = _DeployRun(self, template, values)
        plan = run.plan()
        run.package_code(plan)
        state = StackState(
            stack_name=self.stack_name,
            target=self.target,
            region=self.region,
            account_id=self.account_id,
            endpoint_url=self.endpoint_url,
            template=str(template.path),
            parameters=values,
        )
        run.create_all(plan, state)
        try:
            state.outputs = run.outputs()
            state.output_details = run.output_details()
        except StackError as err:
            run.fail(state, f"resolving the Outputs failed: {err}", err)
        state.notices = list(self.notices)
        state.stack_id = run.stack_id
        return state

    def plan(
        self, template: StackTemplate, parameters: dict[str, str] | None = None
    ) -> dict[str, set[str]]:
        """What a deploy would create (resource -> the resources it needs), checked as a deploy
        checks it (parameters, supported types, references, properties, cycles); nothing is
        packaged or created."""
        values = resolve_parameters(template.parameters, parameters or {}, str(template.path))
        return _DeployRun(self, template, values).plan()

    # -- destroy -------------------------------------------------------------------------------

    def destroy(self, state: StackState) -> None:
        """Delete what ``state`` lists, newest first; keep going past failures, then report."""
        ctx = self.context(lambda *_: {})
        errors = _delete_all(ctx, state.resources, self.log)
        if errors:
            raise DestroyIncomplete(
                f"stack {state.stack_name}: {len(errors)} resource(s) could not be removed:\n"
                + "\n".join(f"  - {error}" for error in errors)
            )

    def context(
        self, code: Callable[[str, dict[str, Any], dict[str, Any]], dict[str, Any]]
    ) -> DeployContext:
        """The context handlers work in; ``code`` turns a Code property into CreateFunction's."""
        return DeployContext(
            client=self.client,
            stack_name=self.stack_name,
            region=self.region,
            account_id=self.account_id,
            code=code,
            options=self.options,
            notice=self.notice,
        )


class _DeployRun:
    """The state of one deploy: resolved values, created resources, packaged code."""

    def __init__(self, deployer: Deployer, template: StackTemplate, parameters: dict[str, Any]):
        self.deployer = deployer
        self.template = template
        self.created: dict[str, CreatedResource] = {}
        self.lock = threading.Lock()
        self.code_zips: dict[str, bytes] = {}
        self.layer_zips: dict[str, bytes] = {}
        self.stack_id = ""  # set with the pseudo parameters
        self.resolver = IntrinsicResolver(
            parameters=parameters,
            pseudo=self._pseudo_parameters(),
            lookup=self._lookup,
            conditions=template.conditions,
            mappings=template.mappings,
            exports=self._import_value,
        )
        self.ctx = deployer.context(self._code_for)
        #: the target's exports (ListExports), read at the first Fn::ImportValue
        self._exports: dict[str, str] | None = None

    def _pseudo_parameters(self) -> dict[str, Any]:
        d = self.deployer
        self.stack_id = (
            f"arn:aws:cloudformation:{d.region}:{d.account_id}:stack/{d.stack_name}/{uuid.uuid4()}"
        )
        return {
            "AWS::Region": d.region,
            "AWS::AccountId": d.account_id,
            "AWS::StackName": d.stack_name,
            "AWS::StackId": self.stack_id,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NotificationARNs": [],
        }

    def _import_value(self, name: str, where: str) -> str:
        """``Fn::ImportValue``: what a stack already on the target exports as ``name`` (on the
        embedded target, the stacks ``harness up`` deployed to the same engine)."""
        with self.lock:
            if self._exports is None:
                self._exports = _list_exports(self.deployer.client("cloudformation"), where)
            exports = self._exports
        if name not in exports:
            known = ", ".join(sorted(exports)) or "none"
            raise TemplateError(
                f"{where}: Fn::ImportValue {name!r}: no stack on the {self.deployer.target} "
                f"target exports it (exports there: {known}); deploy the stack that exports it "
                "to the same target first, or declare a parameter and pass the value with "
                "-p NAME=VALUE"
            )
        return exports[name]

    # -- planning ------------------------------------------------------------------------------

    def plan(self) -> dict[str, set[str]]:
        """Resource -> the resources it needs; only resources whose Condition holds."""
        resources = {
            logical_id: resource
            for logical_id, resource in self.template.resources.items()
            if "Condition" not in resource
            or self.resolver.condition(str(resource["Condition"]), f"resource {logical_id}")
        }
        refusals = find_refusals(
            self.template,
            resources,
            self.resolver,
            runtimes=self.deployer.options.runtimes,
            target=self.deployer.target,
        )
        if refusals:
            raise UnsupportedResource(
                refusal_message(str(self.template.path), refusals, supported_types())
            )
        names = set(resources)
        known = names | set(self.resolver.parameters) | set(self.resolver.pseudo)
        graph: dict[str, set[str]] = {}
        for logical_id, resource in resources.items():
            props = resource.get("Properties") or {}
            needed = referenced_names(props)
            missing = needed - known
            skipped = {name for name in missing if name in self.template.resources}
            if missing - skipped:
                raise TemplateError(
                    f"resource {logical_id} refers to {', '.join(sorted(missing - skipped))}, "
                    "which is neither a parameter nor a resource"
                )
            depends = resource.get("DependsOn") or []
            depends = [depends] if isinstance(depends, str) else list(depends)
            for name in depends:
                if name not in self.template.resources:
                    raise TemplateError(f"resource {logical_id}: DependsOn names unknown {name!r}")
            graph[logical_id] = (needed & names) | (set(depends) & names)
        try:
            TopologicalSorter(graph).prepare()
        except CycleError as err:
            cycle = " -> ".join(err.args[1])
            raise TemplateError(f"{self.template.path}: circular dependency: {cycle}") from err
        return graph

    def package_code(self, plan: dict[str, set[str]]) -> None:
        """Package every local code directory before anything is created (no rollback needed)."""
        for logical_id in plan:
            resource = self.template.resources[logical_id]
            if resource["Type"] == "AWS::Lambda::LayerVersion":
                self._package_layer(logical_id, resource)
                continue
            if resource["Type"] != "AWS::Lambda::Function":
                continue
            props = resource.get("Properties") or {}
            key = placeholder_key(resource, LOCAL_CODE_BUCKET)
            if key is None:
                continue
            runtime = str(props.get("Runtime", "python3.11"))
            if runtime.startswith("python"):
                declared, (runtime, note) = runtime, self.deployer.python_for(runtime)
                if note:
                    self.deployer.notice(f"{logical_id} declares {declared}: {note}")
            if key in self.code_zips:
                continue
            path = self.template.code_paths.get(key)
            if path is None:
                raise TemplateError(f"resource {logical_id}: no local code recorded for {key!r}")
            architecture = str((props.get("Architectures") or ["x86_64"])[0])
            packaged = self.deployer.packager.package(path, runtime, architecture)
            self._packaged(key, packaged)
            self.code_zips[key] = packaged.read()

    def _package_layer(self, logical_id: str, resource: dict[str, Any]) -> None:
        key = placeholder_key(resource, LOCAL_LAYER_BUCKET)
        if key is None or key in self.layer_zips:
            return
        source = self.template.layer_sources.get(key)
        if source is None:
            raise TemplateError(f"resource {logical_id}: no local layer content for {key!r}")
        if source.build_method is None and source.path.is_dir():
            unbuilt = source.path / "requirements.txt"
            if unbuilt.is_file() and not (source.path / "python").is_dir():
                self.deployer.notice(
                    f"layer {logical_id}: {unbuilt} is not installed, because the layer has no "
                    "Metadata.BuildMethod (sam build would not install it either); add "
                    "`Metadata: {BuildMethod: python3.12}` to build it into python/"
                )
        build_method = source.build_method
        if build_method is not None and build_method.startswith("python"):
            # built for the Python that will import it, as the functions' own dependencies are
            declared, (build_method, note) = build_method, self.deployer.python_for(build_method)
            if note:
                self.deployer.notice(f"layer {logical_id} builds for {declared}: {note}")
        packaged = self.deployer.packager.package_layer(
            source.path, build_method, source.architecture
        )
        self._packaged(key, packaged)
        self.layer_zips[key] = packaged.read()

    def _packaged(self, key: str, packaged: PackagedCode) -> None:
        self.deployer.log(
            f"packaged {key} ({packaged.size / 1024:.0f} KiB, "
            f"{'cached' if packaged.reused else 'built'})"
        )

    # -- creation ------------------------------------------------------------------------------

    def create_all(self, plan: dict[str, set[str]], state: StackState) -> None:
        """Create in dependency order, up to ``parallelism`` at once; roll back on a failure."""
        sorter = TopologicalSorter(plan)
        sorter.prepare()
        failure: tuple[str, BaseException] | None = None
        workers = max(1, self.deployer.options.parallelism)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="deploy") as pool:
            running: dict[Future[None], str] = {}
            while failure is None and (sorter.is_active() or running):
                for logical_id in sorter.get_ready():
                    running[pool.submit(self._create_one, logical_id, state)] = logical_id
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    logical_id = running.pop(future)
                    error = future.exception()
                    if error is None:
                        sorter.done(logical_id)
                    elif failure is None:
                        failure = (logical_id, error)
            for future in running:  # let in-flight creations finish so they can be removed
                future.exception()
        if failure is not None:
            self._rollback(state, *failure)

    def _create_one(self, logical_id: str, state: StackState) -> None:
        resource = self.template.resources[logical_id]
        kind = resource["Type"]
        props = self.resolver.resolve(resource.get("Properties") or {}, f"{logical_id}.Properties")
        created = HANDLERS[kind].create(self.ctx, logical_id, props)
        record = CreatedResource(
            logical_id, kind, created.physical_id, dict(created.attributes), dict(created.memo)
        )
        with self.lock:
            self.created[logical_id] = record
            state.resources.append(record)
        self.deployer.log(f"created {logical_id} ({kind}): {created.physical_id}")

    def _rollback(self, state: StackState, logical_id: str, error: BaseException) -> None:
        kind = self.template.resources[logical_id]["Type"]
        self.deployer.log(f"{logical_id} ({kind}) failed: {error}; rolling back")
        errors = _delete_all(self.ctx, state.resources, self.deployer.log)
        state.resources.clear()
        detail = (
            f"; rollback left {len(errors)} resource(s): {'; '.join(errors)}"
            if errors
            else ("; everything created before it was removed")
        )
        raise DeployFailed(
            f"stack {self.deployer.stack_name}: creating {logical_id} ({kind}) failed: "
            f"{_describe(error)}{detail}{_name_taken_hint(error, self.deployer.stack_name)}",
            logical_id=logical_id,
            rollback_errors=errors,
        ) from error

    def fail(self, state: StackState, reason: str, error: BaseException) -> None:
        """Remove everything created and raise DeployFailed (a failure after the last resource)."""
        errors = _delete_all(self.ctx, state.resources, self.deployer.log)
        state.resources.clear()
        left = f"; rollback left {len(errors)} resource(s): {'; '.join(errors)}" if errors else ""
        raise DeployFailed(
            f"stack {self.deployer.stack_name}: {reason}{left}",
            logical_id="",
            rollback_errors=errors,
        ) from error

    def _lookup(self, logical_id: str, attribute: str | None) -> Any:
        with self.lock:
            record = self.created.get(logical_id)
        if record is None:
            if logical_id in self.template.resources:
                raise TemplateError(
                    f"{logical_id} is referenced but not created (its Condition is false?)"
                )
            raise TemplateError(f"{logical_id} is neither a parameter nor a resource")
        if attribute is None:
            return record.physical_id
        if attribute not in record.attributes:
            raise TemplateError(
                f"{logical_id} ({record.type}) has no attribute {attribute!r}; it has "
                f"{', '.join(sorted(record.attributes)) or 'none'}"
            )
        return record.attributes[attribute]

    def _code_for(
        self, logical_id: str, code: dict[str, Any], props: dict[str, Any]
    ) -> dict[str, Any]:
        """The Code (Content) parameter of CreateFunction (PublishLayerVersion) for a template's
        Code (Content) property."""
        if code.get("S3Bucket") == LOCAL_CODE_BUCKET:
            return {"ZipFile": self.code_zips[str(code["S3Key"])]}
        if code.get("S3Bucket") == LOCAL_LAYER_BUCKET:
            return {"ZipFile": self.layer_zips[str(code["S3Key"])]}
        if "ZipFile" in code:
            return {"ZipFile": _inline_zip(str(code["ZipFile"]), str(props.get("Runtime", "")))}
        return {k: v for k, v in code.items() if k in ("S3Bucket", "S3Key", "S3ObjectVersion")}

    # -- outputs -------------------------------------------------------------------------------

    def outputs(self) -> dict[str, Any]:
        """The template's Outputs, resolved (those whose Condition is false are left out)."""
        values: dict[str, Any] = {}
        for name, output in self.template.outputs.items():
            if "Condition" in output and not self.resolver.condition(str(output["Condition"])):
                continue
            values[name] = self.resolver.resolve(output.get("Value"), f"Outputs.{name}")
        return values

    def output_details(self) -> dict[str, dict[str, str]]:
        """Each Output's Description and Export name, resolved, where the template gives them."""
        details: dict[str, dict[str, str]] = {}
        for name, output in self.template.outputs.items():
            if "Condition" in output and not self.resolver.condition(str(output["Condition"])):
                continue
            detail: dict[str, str] = {}
            if "Description" in output:
                detail["description"] = str(
                    self.resolver.resolve(output["Description"], f"Outputs.{name}.Description")
                )
            export = (output.get("Export") or {}).get("Name")
            if export is not None:
                detail["exportName"] = str(
                    self.resolver.resolve(export, f"Outputs.{name}.Export.Name")
                )
            if detail:
                details[name] = detail
        return details


def _delete_all(
    ctx: DeployContext, resources: list[CreatedResource], log: Callable[[str], None]
) -> list[str]:
    errors: list[str] = []
    for resource in reversed(list(resources)):
        try:
            HANDLERS[resource.type].delete(ctx, resource)
            log(f"deleted {resource.logical_id} ({resource.type}): {resource.physical_id}")
        except Exception as err:  # keep deleting the rest; report every failure at the end
            errors.append(
                f"{resource.logical_id} ({resource.type}) {resource.physical_id}: {_describe(err)}"
            )
    return errors


def _inline_zip(source: str, runtime: str) -> bytes:
    """CloudFormation's inline ZipFile: the text becomes index.py / index.js in a zip."""
    name = next((file for prefix, file in _INLINE_FILE.items() if runtime.startswith(prefix)), None)
    if name is None:
        raise TemplateError(f"inline ZipFile code is not supported for runtime {runtime!r}")
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o100644 << 16
        archive.writestr(info, source)
    return buffer.getvalue()


#: error codes that mean "a resource of that name exists": usually another stack of the same name
_NAME_TAKEN = frozenset(
    {"EntityAlreadyExists", "ResourceInUseException", "ResourceConflictException"}
)


def _name_taken_hint(error: BaseException, stack_name: str) -> str:
    code = getattr(error, "response", {}).get("Error", {}).get("Code")
    if code not in _NAME_TAKEN:
        return ""
    return (
        f". Resources are named {stack_name}-LogicalId: is a stack named {stack_name} already "
        "deployed here from another folder? Give this one its own name with --stack-prefix NAME"
    )


def _describe(error: BaseException) -> str:
    if isinstance(error, StackError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def _list_exports(cloudformation: Any, where: str) -> dict[str, str]:
    """Every export the target's CloudFormation lists: name -> value."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        pages = cloudformation.get_paginator("list_exports").paginate()
        return {e["Name"]: e["Value"] for page in pages for e in page.get("Exports", [])}
    except ClientError as err:
        error = err.response.get("Error", {})
        raise TemplateError(
            f"{where}: Fn::ImportValue: CloudFormation's ListExports failed: "
            f"{error.get('Code', '?')}: {error.get('Message', err)}"
        ) from err
    except BotoCoreError as err:
        raise TemplateError(
            f"{where}: Fn::ImportValue: CloudFormation's ListExports failed: {err}"
        ) from err
