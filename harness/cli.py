"""The `harness` command. Thin: each command resolves its settings and calls a module."""

from __future__ import annotations

import gc
import sys
from typing import Any

import click

from . import __version__
from .config import ConfigError, Settings, load_settings


def _settings(**cli: Any) -> Settings:
    """Settings with this command line on top (command line > env > pyproject > default)."""
    try:
        return load_settings(cli)
    except ConfigError as err:
        raise click.UsageError(str(err)) from err


@click.group()
@click.version_option(__version__, prog_name="harness")
def main() -> None:
    """Offline emulation and end-to-end testing for event-driven serverless apps on AWS."""


@main.command()
@click.option("--host", default=None, help="Address to bind. [default: 127.0.0.1]")
@click.option(
    "--port", type=int, default=None, help="Port to bind; 0 picks a free one. [default: 4566]"
)
@click.option("--region", default=None, help="Default region of the engine. [default: us-east-1]")
def serve(host: str | None, port: int | None, region: str | None) -> None:
    """Run the embedded engine in the foreground until Ctrl-C or SIGTERM.

    Prints one line `ready http://HOST:PORT` once it answers requests.
    """
    settings = _settings(host=host, port=port, region=region)
    # imported here: the engine pulls in moto, which `harness --help` does not need
    from .engine.serve import ServeError
    from .engine.serve import serve as serve_engine

    try:
        code = serve_engine(settings.host, settings.port, settings.region)
    except ServeError as err:
        raise click.ClickException(str(err)) from err
    # the engine has stopped: skip the collector's walk over moto's object graph at exit,
    # which otherwise takes 0.3 to 1 s
    gc.freeze()
    sys.exit(code)


def _parameters(pairs: tuple[str, ...]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"expected NAME=VALUE, got {pair!r}", param_hint="--parameter")
        values[name] = value
    return values


_TARGET_HELP = "embedded (default), localstack, or aws (a real account: only when named)."


@main.command()
@click.option("--target", default=None, help=_TARGET_HELP)
@click.option(
    "--template", default=None, help="SAM/CloudFormation template. [default: template.yaml]"
)
@click.option("--parameter", "-p", "parameters", multiple=True, help="NAME=VALUE, repeatable.")
@click.option("--stack-prefix", default=None, help="Stack name (AWS adds a unique suffix).")
@click.option("--region", default=None, help="Region to deploy to. [default: us-east-1]")
@click.option("--port", type=int, default=None, help="Embedded engine port. [default: 4566]")
def up(
    target: str | None,
    template: str | None,
    parameters: tuple[str, ...],
    stack_prefix: str | None,
    region: str | None,
    port: int | None,
) -> None:
    """Deploy the stack to a target and print its API URL, table, topic and queue.

    On embedded, deploys to the engine `harness serve` runs; with none running, starts one
    in this process and serves until Ctrl-C.
    """
    settings = _settings(
        target=target, template=template, stack_prefix=stack_prefix, region=region, port=port
    )
    from .stack.errors import StackError
    from .targets.base import TargetError
    from .targets.commands import up as deploy_up

    try:
        deploy_up(settings, _parameters(parameters), click.echo)
    except (StackError, TargetError) as err:
        raise click.ClickException(str(err)) from err


@main.command()
@click.option("--target", default=None, help=_TARGET_HELP)
@click.option(
    "--template", default=None, help="The template `up` deployed. [default: template.yaml]"
)
@click.option("--stack-prefix", default=None, help="Stack name given to `up`.")
@click.option("--region", default=None, help="Region of the stack. [default: us-east-1]")
@click.option("--port", type=int, default=None, help="Embedded engine port. [default: 4566]")
def down(
    target: str | None,
    template: str | None,
    stack_prefix: str | None,
    region: str | None,
    port: int | None,
) -> None:
    """Remove everything `harness up` deployed on the target."""
    settings = _settings(
        target=target, template=template, stack_prefix=stack_prefix, region=region, port=port
    )
    from .stack.errors import StackError
    from .targets.base import TargetError
    from .targets.commands import down as remove_stack

    try:
        remove_stack(settings, click.echo)
    except (StackError, TargetError) as err:
        raise click.ClickException(str(err)) from err


if __name__ == "__main__":
    main()
