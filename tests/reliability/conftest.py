"""Settings shared by the reliability suite (tests/reliability/).

Hypothesis (the bad-input tests, ``test_bad_input_*.py``): the default profile ``ci`` runs a
modest, reproducible number of examples (``derandomize``: the same examples on every run, no
example database); ``HYPOTHESIS_PROFILE=explore`` runs many more, with fresh random examples
each time, to hunt for new failures.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    deadline=None,
    max_examples=20,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "explore",
    deadline=None,
    max_examples=1000,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
