"""Check a template without deploying it: read, translate, resolve parameters and plan.

What `harness validate` asks of the template, so that a template a deploy would refuse is
found before anything starts. Raises the same :class:`~harness.stack.errors.StackError` the
deploy would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..config import DEFAULT_ACCOUNT
from .deploy import Deployer
from .package import FunctionPackager
from .resources import DeployOptions
from .sam import StackTemplate, load_template


def _no_client(service: str) -> Any:
    raise AssertionError(f"checking a template calls no AWS API (asked for {service})")


def check_template(
    path: Path | str,
    parameters: dict[str, str] | None = None,
    region: str = "us-east-1",
    *,
    target: str = "embedded",
    options: DeployOptions | None = None,
) -> StackTemplate:
    """The template, translated and planned as a deploy to ``target`` (with its ``options``)
    would; raises StackError. Its ``notices`` say what the deploy would note."""
    template = load_template(path, parameters, region)
    deployer = Deployer(
        client=_no_client,
        stack_name="check",
        region=region,
        target=target,
        # never used: planning packages nothing
        packager=FunctionPackager(Path(template.path).parent / ".harness" / "cache"),
        options=options,
        account_id=DEFAULT_ACCOUNT,
    )
    deployer.plan(template, parameters)
    return template
