"""The exit codes of every `harness` command and of a pytest session that runs scenarios.

One table, so that CI can tell a failing scenario from a broken setup:

====  ===========================================================================
0     everything passed (or the command did what it was asked)
1     a scenario failed
2     a scenario file is invalid (the other files still ran)
3     the stack or target could not be set up: the engine did not start, the template
      could not be read, translated or deployed, no Docker engine for LocalStack...
4     usage error: an unknown option, a bad value, a setting that cannot be used
5     no scenario was collected
130   interrupted (Ctrl-C)
====  ===========================================================================
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What a `harness` command's exit status means."""

    OK = 0
    SCENARIO_FAILED = 1
    SCENARIO_INVALID = 2
    SETUP_FAILED = 3
    USAGE_ERROR = 4
    NO_SCENARIOS = 5
    INTERRUPTED = 130
