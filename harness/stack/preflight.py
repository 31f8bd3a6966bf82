"""Before anything is created: everything in a template the deployer cannot honour, found at once.

Unsupported types, properties a handler would drop, values it cannot serve (an image function, a
WebSocket API, a service integration), intrinsics the resolver cannot evaluate (only in the
branches conditions take), layer build methods it cannot run, and runtimes the target cannot
run. Resources whose Condition is false have already been left out by the caller.
"""

from __future__ import annotations

from typing import Any

from .errors import TemplateError
from .intrinsics import IntrinsicResolver, unsupported_functions
from .resources import HANDLERS
from .sam import LOCAL_LAYER_BUCKET, StackTemplate, placeholder_key
from .support import INTRINSIC_ADVICE, Refusal, why_unsupported


def find_refusals(
    template: StackTemplate,
    resources: dict[str, dict[str, Any]],
    resolver: IntrinsicResolver,
    *,
    runtimes: tuple[str, ...] = (),
    target: str = "",
) -> list[Refusal]:
    """Every refusal for ``resources`` (those to be created) and the template's Outputs."""
    refusals: list[Refusal] = []

    def condition(name: str) -> bool:
        return resolver.condition(name, f"Fn::If {name}")

    for logical_id, resource in resources.items():
        kind = str(resource["Type"])
        origin = template.origins.get(logical_id, "")
        handler = HANDLERS.get(kind)
        if handler is None:
            refusals.append(Refusal(logical_id, kind, why_unsupported(kind), origin, whole=True))
            continue
        props = resource.get("Properties") or {}
        reasons = handler.problems(logical_id, props)
        reasons += [
            f"{name} is not supported: {INTRINSIC_ADVICE[name]}"
            for name in sorted(unsupported_functions(props, condition))
        ]
        if kind == "AWS::Lambda::LayerVersion":
            reasons += _layer_build(template, logical_id, resource)
        if kind == "AWS::Lambda::Function" and runtimes:
            reasons += _runtime(resolver, logical_id, props, runtimes, target)
        refusals += [Refusal(logical_id, kind, why, origin) for why in reasons]
    for name, output in template.outputs.items():
        if "Condition" in output and not condition(str(output["Condition"])):
            continue
        for function in sorted(unsupported_functions(output.get("Value"), condition)):
            why = f"{function} is not supported: {INTRINSIC_ADVICE[function]}"
            refusals.append(Refusal(name, "Outputs", why))
    return refusals


def _runtime(
    resolver: IntrinsicResolver,
    logical_id: str,
    props: dict[str, Any],
    runtimes: tuple[str, ...],
    target: str,
) -> list[str]:
    if "Runtime" not in props:
        return []
    try:
        runtime = str(resolver.resolve(props["Runtime"], f"{logical_id}.Runtime"))
    except TemplateError:
        return []  # names a resource: known only at creation
    if runtime.startswith(runtimes):
        return []
    return [
        f"Runtime {runtime}: the {target} target runs "
        f"{', '.join(r + '*' for r in runtimes)} functions only; run this stack with "
        "--target localstack or --target aws"
    ]


def _layer_build(template: StackTemplate, logical_id: str, resource: dict[str, Any]) -> list[str]:
    key = placeholder_key(resource, LOCAL_LAYER_BUCKET)
    source = template.layer_sources.get(key) if key else None
    if source is None or source.build_method is None or source.build_method.startswith("python"):
        return []
    return [
        f"Metadata.BuildMethod {source.build_method} is not one the harness builds (only "
        "python3.x): build it with `sam build` and point ContentUri at "
        f".aws-sam/build/{logical_id}, without BuildMethod"
    ]
