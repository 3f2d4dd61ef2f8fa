"""``attrix app`` served for real and driven in headless Chromium: type, explain, switch the target, screenshot.

Set ``ATTRIX_APP_SCREENSHOT=docs/images/app.png`` to also save the screenshot there (the README's picture).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
pytest.importorskip("playwright")
from helpers.browser import chromium_page  # noqa: E402

SENTENCE = "I love this movie, it is wonderful"
SCREENSHOT_ENV_VAR = "ATTRIX_APP_SCREENSHOT"
START_TIMEOUT = 120.0


pytestmark = [pytest.mark.browser, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_serving(url: str, server: subprocess.Popen, log: Path) -> None:
    """Poll Streamlit's health endpoint until it answers ``ok``; fail with the server's log if it dies or never does."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"attrix app exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"attrix app did not serve {url} within {START_TIMEOUT:.0f} s:\n{log.read_text()}")


@pytest.fixture
def app_url(default_model_dir_fixture, tmp_path) -> Iterator[str]:
    """``attrix app`` on the embedded model, on 127.0.0.1 at a free port; its whole process group stopped afterwards."""
    port, log = free_port(), tmp_path / "server.log"
    command = [sys.executable, "-m", "attrix.cli", "app", "--model", str(default_model_dir_fixture), "--port", str(port)]
    with log.open("w") as output:
        server = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(url, server, log)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def word_colours(frame) -> dict[str, str]:
    """Each highlighted word of the explanation frame and its computed background colour."""
    pieces = frame.locator(".words > span")
    pieces.first.wait_for()
    return dict(pieces.evaluate_all("pieces => pieces.map(p => [p.textContent, getComputedStyle(p).backgroundColor])"))


def rgb(colour: str) -> tuple[int, ...]:
    return tuple(int(part) for part in colour[colour.index("(") + 1 : colour.index(")")].split(",")[:3])


def save_screenshot(page, path: Path) -> None:
    """The page as it is into ``path``, and into ``$ATTRIX_APP_SCREENSHOT`` when that is set."""
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000
    if os.environ.get(SCREENSHOT_ENV_VAR):
        copy = Path(os.environ[SCREENSHOT_ENV_VAR])
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, copy)


def test_explain_in_the_browser_and_switch_the_target(app_url, tmp_path):
    with chromium_page(width=1280, height=1500) as page:
        page.set_default_timeout(90_000)
        page.goto(app_url)
        text = page.get_by_label("Text", exact=True)
        text.fill(SENTENCE)
        text.press("Control+Enter")
        page.get_by_role("button", name="Explain").click()
        page.get_by_text("Prediction: POSITIVE").wait_for()
        frame = page.frame_locator('iframe[title="attrix explanation"]')
        frame.get_by_role("heading", name="toward POSITIVE").wait_for()
        before = word_colours(frame)
        assert {"love", "wonderful"} <= set(before)
        # "love" pushes toward POSITIVE: green, the positive side of the diverging scale
        red, green, _ = rgb(before["love"])
        assert green > red
        bars = page.locator('[data-testid="stImage"] img').first
        bars.wait_for()
        page.wait_for_function("image => image.complete && image.naturalWidth > 0", arg=bars.element_handle())
        save_screenshot(page, tmp_path / "app.png")

        page.locator('[data-testid="stSelectbox"]').filter(has_text="Target").click()
        page.get_by_role("option", name="NEGATIVE", exact=True).click()
        frame.get_by_role("heading", name="toward NEGATIVE").wait_for()
        after = word_colours(frame)
        assert after.keys() == before.keys() and after != before
        red, green, _ = rgb(after["love"])
        assert red > green  # the same word now pushes against the explained class: pink
        page.screenshot(path=str(tmp_path / "app-negative.png"))
