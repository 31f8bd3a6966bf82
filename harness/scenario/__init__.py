"""Scenario files: loader, schema, matchers, steps, runner, report."""
