"""Fixtures of the plugin's tests: a clean environment for inner pytest runs that deploy the
small app (tests/plugin/app), and a headless Chromium page.

Test modules here declare ``pytest_plugins = ["pytester"]`` themselves: pytest refuses that
variable in a conftest.py below the rootdir.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from plugin_support import APP_TEMPLATE

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Inner runs deploy the small app, load only the harness plugin, and inherit nothing of
    this (xdist) process."""
    monkeypatch.setenv("HARNESS_TEMPLATE", str(APP_TEMPLATE))
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "HARNESS_TARGET"):
        monkeypatch.delenv(name, raising=False)
    return APP_TEMPLATE


@pytest.fixture
def browser_page() -> Iterator[Any]:
    """A page of headless Chromium (skipped, with the reason, when it is not installed)."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run installs it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is a dev dependency")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield browser.new_page()
        finally:
            browser.close()
