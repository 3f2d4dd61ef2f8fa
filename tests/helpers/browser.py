"""Headless Chromium for browser tests: Debian's chromium driven by Playwright, installed with apt-get where missing."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
ARGUMENTS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def ensure_chromium() -> Path:
    """The Chromium binary, installing the Debian packages ``chromium`` and ``chromium-driver`` first if it is missing."""
    if not CHROMIUM.exists():
        sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
        if sudo and shutil.which("sudo") is None:
            raise RuntimeError("chromium is missing and apt-get needs root: run apt-get install chromium chromium-driver")
        environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run([*sudo, "apt-get", "update", "-q"], check=True, env=environment, capture_output=True)
        subprocess.run([*sudo, "apt-get", "install", "-y", "-q", "chromium", "chromium-driver"], check=True, env=environment, capture_output=True)
    return CHROMIUM


@contextmanager
def chromium_page(width: int = 1200, height: int = 900) -> Iterator[Page]:
    """A fresh page in headless Chromium, closed afterwards."""
    from playwright.sync_api import sync_playwright

    executable = ensure_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), args=ARGUMENTS, headless=True)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            yield page
        finally:
            browser.close()
