"""The `harness` command. Thin: each command resolves its settings and calls a module."""

from __future__ import annotations

import gc
import os
import sys
import traceback
from pathlib import Path
from typing import Any

import click

from . import __version__
from .config import (
    ConfigError,
    Settings,
    debug_enabled,
    interpreter_paths,
    load_settings,
    parameter_options,
)
from .exit_codes import ExitCode


class SetupFailed(click.ClickException):
    """The stack or target could not be set up (exit 3); the cause's traceback with --debug."""

    exit_code = ExitCode.SETUP_FAILED

    def __init__(self, message: str, cause: BaseException | None = None):
        super().__init__(message)
        self.cause = cause

    def show(self, file: Any = None) -> None:
        if self.cause is not None and debug_enabled():
            traceback.print_exception(self.cause, file=sys.stderr)
        super().show(file)


class HarnessGroup(click.Group):
    """click's group with the harness's exit codes: a usage error is 4 (click's own is 2, which
    means "a scenario file is invalid" here) and Ctrl-C is 130."""

    def main(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if kwargs.get("standalone_mode", True) is False:
            return super().main(*args, **kwargs)
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.UsageError as err:
            err.show()
            sys.exit(ExitCode.USAGE_ERROR)
        except click.ClickException as err:
            err.show()
            sys.exit(err.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(ExitCode.INTERRUPTED)
        sys.exit(code if isinstance(code, int) else ExitCode.OK)


def _settings(**cli: Any) -> Settings:
    """Settings with this command line on top (command line > env > pyproject > default)."""
    try:
        settings = load_settings(cli)
    except ConfigError as err:
        raise click.UsageError(str(err)) from err
    _apply_loopback_only(settings)
    return settings


def _apply_loopback_only(settings: Settings) -> None:
    """With ``loopback_only``, nothing this process (or a worker it starts) does leaves the host."""
    if settings.loopback_only:
        from .engine.kernel import loopback_guard

        loopback_guard.install()


def _set_debug(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        os.environ["HARNESS_DEBUG"] = "1"  # also seen by the pytest session `harness run` starts


def debug_option(command: Any) -> Any:
    """``--debug``: show the traceback of a failure; accepted before or after the command."""
    return click.option(
        "--debug",
        is_flag=True,
        default=False,
        expose_value=False,
        is_eager=True,
        callback=_set_debug,
        help="Show the traceback of a failure (or HARNESS_DEBUG=1).",
    )(command)


@click.group(cls=HarnessGroup)
@click.version_option(__version__, prog_name="harness")
@debug_option
def main() -> None:
    """Offline emulation and end-to-end testing for event-driven serverless apps on AWS.

    Exit codes: 0 passed, 1 a scenario failed, 2 a scenario file is invalid, 3 the stack or
    target could not be set up, 4 usage error, 5 no scenario found, 130 interrupted.
    """
    from .engine.allocator import limit_arenas

    limit_arenas()  # this process is ours: keep the engine's freed memory from piling up


@main.command()
@debug_option
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
        code = serve_engine(
            settings.host,
            settings.port,
            settings.region,
            interpreters=interpreter_paths(settings),
        )
    except ServeError as err:
        raise SetupFailed(str(err), err.__cause__) from err
    # the engine has stopped: skip the collector's walk over moto's object graph at exit,
    # which otherwise takes 0.3 to 1 s
    gc.freeze()
    sys.exit(code)


def _parameter_options(pairs: tuple[str, ...]) -> dict[str, str] | None:
    try:
        return parameter_options(pairs)
    except ConfigError as err:
        message = str(err).removeprefix("--parameter: ")
        raise click.BadParameter(message, param_hint="--parameter") from err


_TARGET_HELP = "embedded (default), localstack, or aws (a real account: only when named)."

_PARAMETER_OPTION = click.option(
    "--parameter",
    "-p",
    "parameters",
    metavar="NAME=VALUE",
    multiple=True,
    help="A template parameter, repeatable (over HARNESS_PARAMETERS and [tool.harness] "
    "parameters, by name).",
)


@main.command()
@debug_option
@click.option("--target", default=None, help=_TARGET_HELP)
@click.option(
    "--template", default=None, help="SAM/CloudFormation template. [default: template.yaml]"
)
@_PARAMETER_OPTION
@click.option(
    "--stack-prefix",
    default=None,
    help="Stack name (AWS adds a unique suffix). [default: the template's folder name]",
)
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
        target=target,
        template=template,
        stack_prefix=stack_prefix,
        region=region,
        port=port,
        parameters=_parameter_options(parameters),
    )
    from .stack.errors import StackError
    from .targets.base import TargetError
    from .targets.commands import up as deploy_up

    try:
        deploy_up(settings, {}, click.echo)
    except (StackError, TargetError) as err:
        raise SetupFailed(str(err), err) from err


@main.command()
@debug_option
@click.option("--target", default=None, help=_TARGET_HELP)
@click.option(
    "--template", default=None, help="The template `up` deployed. [default: template.yaml]"
)
@click.option(
    "--stack-prefix",
    default=None,
    help="Stack name given to `up`. [default: the template's folder name]",
)
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
        raise SetupFailed(str(err), err) from err


class PytestPassThrough(click.Command):
    """A command whose arguments after ``--`` go to pytest as they are (``-- -x --lf``)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            at = args.index("--")
            args, ctx.meta["pytest_args"] = args[:at], tuple(args[at + 1 :])
        return super().parse_args(ctx, args)


_TEMPLATE_OPTION = click.option(
    "--template",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="SAM/CloudFormation template to deploy (or HARNESS_TEMPLATE). [default: template.yaml]",
)


@main.command(cls=PytestPassThrough)
@debug_option
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--target", default=None, help=_TARGET_HELP)
@_TEMPLATE_OPTION
@_PARAMETER_OPTION
@click.option(
    "--report",
    "report",
    metavar="FILE.html",
    help="Write an HTML report (long details of passing scenarios in FILE-details/).",
)
@click.option("--junitxml", metavar="FILE", help="Write a JUnit XML report.")
@click.option(
    "-k", "keyword", metavar="EXPR", help="Only scenarios whose name matches (pytest -k)."
)
@click.option("-m", "marks", metavar="EXPR", help="Only scenarios whose marks match (pytest -m).")
@click.option("-n", "workers", metavar="N", help="Run in N processes (pytest-xdist; or auto).")
@click.option("-v", "--verbose", count=True, help="One line per scenario (repeat for more).")
@click.option("-q", "--quiet", count=True, help="Less output (pytest -q).")
@click.pass_context
def run(
    ctx: click.Context,
    paths: tuple[str, ...],
    target: str | None,
    template: str | None,
    parameters: tuple[str, ...],
    report: str | None,
    junitxml: str | None,
    keyword: str | None,
    marks: str | None,
    workers: str | None,
    verbose: int,
    quiet: int,
) -> None:
    """Deploy the stack and run scenario files (default: the `scenarios` folder) through pytest.

    A file named here runs whatever its name; in folders, *.scenario.yaml files are collected.
    Options after `--` go to pytest as they are: `harness run -- -x --lf --maxfail 3`.

    Exits like pytest: 0 all passed, 1 some failed, 2 a file could not be used (the others
    still ran), 3 the stack could not be set up, 4 bad options or settings, 5 no scenario found.
    """
    from .scenario.commands.run_command import EXIT_USAGE, RunRequest, RunUsageError
    from .scenario.commands.run_command import run as run_scenarios

    try:
        settings = load_settings(
            {"target": target, "template": template, "parameters": _parameter_options(parameters)}
        )
    except ConfigError as err:
        click.echo(f"Error: {err}", err=True)
        sys.exit(EXIT_USAGE)
    _apply_loopback_only(settings)

    request = RunRequest(
        paths=paths,
        template=template,
        parameters=parameters,
        report=report,
        junitxml=junitxml,
        keyword=keyword,
        workers=workers,
        marks=marks,
        verbosity=verbose - quiet,
        extra=ctx.meta.get("pytest_args", ()),
    )
    try:
        code = run_scenarios(request, settings)
    except RunUsageError as err:
        # pytest's code for a usage error (click's own, 2, means "a file could not be used" here)
        click.echo(f"Error: {err}", err=True)
        sys.exit(EXIT_USAGE)
    # the engine has stopped: skip the collector's walk over moto's objects at exit
    gc.freeze()
    sys.exit(code)


@main.command()
@debug_option
@click.argument("paths", nargs=-1, type=click.Path())
@_TEMPLATE_OPTION
@_PARAMETER_OPTION
def validate(paths: tuple[str, ...], template: str | None, parameters: tuple[str, ...]) -> None:
    """Check scenario files and the template without deploying anything.

    Files are checked as `harness run` collects them (the same errors, with file, line and
    field); the template is read, translated and planned as a deploy would. Exits 0 when all is
    valid, 2 when a scenario file is invalid, 3 when the template is, 4 for a path that does not
    exist, 5 when no scenario file is found.
    """
    settings = _settings(template=template, parameters=_parameter_options(parameters))
    from .scenario.commands.validate_command import ValidateUsageError
    from .scenario.commands.validate_command import validate as validate_files

    try:
        result = validate_files(paths, settings, click.echo)
    except ValidateUsageError as err:
        raise click.UsageError(str(err)) from err
    sys.exit(result.exit_code)


@main.group(invoke_without_command=True)
@debug_option
@click.option("--target", default=None, help=_TARGET_HELP)
@click.option(
    "--template", default=None, help="SAM/CloudFormation template. [default: template.yaml]"
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Scenario file to write. [default: scenarios/recorded/session-TIME.scenario.yaml]",
)
@click.option(
    "--port",
    type=int,
    default=None,
    help="Port of the recording proxy; 0 picks a free one. [default: 4567]",
)
@click.option(
    "--from-har",
    "har",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Replay the API calls of this HAR file instead of serving the proxy.",
)
@click.option(
    "--har-base", default=None, help="The part of the HAR's URLs before the API's routes."
)
@click.option(
    "--update",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Replay this recording's requests on a fresh stack and rewrite its expectations "
    "(prints the change as a diff).",
)
@click.option(
    "--redact",
    "redact",
    metavar="NAME",
    multiple=True,
    help="A header or JSON field whose values stay out of the file (written as !any, or sent "
    "from vars); repeatable: --redact Authorization --redact password.",
)
@click.option("--name", default=None, help="The scenario's name. [default: from the file name]")
@click.option("--overwrite", is_flag=True, help="Replace the --out file if it exists.")
@click.option("--engine-port", type=int, default=None, help="Embedded engine port. [default: 4566]")
@_PARAMETER_OPTION
@click.pass_context
def record(
    ctx: click.Context,
    target: str | None,
    template: str | None,
    parameters: tuple[str, ...],
    out: Path | None,
    port: int | None,
    har: Path | None,
    har_base: str | None,
    update: Path | None,
    redact: tuple[str, ...],
    name: str | None,
    overwrite: bool,
    engine_port: int | None,
) -> None:
    """Record a session against the deployed stack as a scenario file.

    Deploys the stack, serves a recording proxy on 127.0.0.1 in front of its API and records
    every request, its response and the notifications and table changes that followed. Ctrl-C
    (or `harness record stop` from another shell) writes the scenario and removes the stack.
    With --from-har, replays a HAR file's API calls instead; with --update, the requests of a
    recording, whose expectations it rewrites.
    """
    if ctx.invoked_subcommand is not None:
        return
    if update is not None and (har is not None or out is not None or name is not None):
        raise click.UsageError("--update rewrites the file it names: no --from-har, --out, --name")
    settings = _settings(
        target=target,
        template=template,
        port=engine_port,
        parameters=_parameter_options(parameters),
    )
    from .record.command import DEFAULT_PROXY_PORT, RecordOptions
    from .record.command import record as record_session
    from .record.control import RecordError
    from .stack.errors import StackError
    from .targets.base import TargetError

    options = RecordOptions(
        out=out,
        proxy_port=DEFAULT_PROXY_PORT if port is None else port,
        name=name,
        overwrite=overwrite,
        har=har,
        har_base=har_base,
        update=update,
        redact=redact,
    )
    try:
        written = record_session(settings, options, click.echo)
    except RecordError as err:
        raise click.ClickException(str(err)) from err
    except (StackError, TargetError) as err:
        raise SetupFailed(str(err), err) from err
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    if written is None and har is not None:
        sys.exit(1)


@record.command("stop")
def record_stop() -> None:
    """End the recording running from this directory; it writes its scenario file."""
    from .record.control import RecordError, stop_recording

    try:
        answer = stop_recording()
    except RecordError as err:
        raise click.ClickException(str(err)) from err
    if answer.get("saved"):
        click.echo(f"recording saved to {answer['saved']} ({answer.get('requests', 0)} requests)")
    else:
        click.echo("the recording ended with no requests: no scenario written")


if __name__ == "__main__":
    main()
