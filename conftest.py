"""Repository-level pytest configuration.

The harness's own plugin (scenario collection, fixtures, --target) is loaded through its pytest11
entry point (see pyproject.toml), so a project that installs the harness needs no conftest at all.
This file only enables pytester, which the plugin's own end-to-end tests (tests/plugin/) use.
"""

pytest_plugins = ["pytester"]
