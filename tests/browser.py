"""Headless Chromium (Debian's package) driven by Playwright, for the pages the pipeline writes."""

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"  # left for a person to open (git ignores it)
LOCAL = ("file://", "data:", "blob:", "about:")


class Visit:
    """What a page asked for and complained about while it was open."""

    def __init__(self):
        self.requests, self.errors = [], []

    @property
    def remote(self):
        return [url for url in self.requests if not url.startswith(LOCAL)]


@contextmanager
def browser_page(width=1280, height=800):
    """(page, visit): a fresh headless Chromium tab that refuses every request leaving the machine."""
    if not Path(CHROMIUM).is_file():
        message = f"no Chromium at {CHROMIUM}: `apt-get install chromium` (.ci/run installs it)"
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    visit = Visit()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": width, "height": height})
            context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(LOCAL)
                          else route.abort())
            page = context.new_page()
            page.on("request", lambda request: visit.requests.append(request.url))
            page.on("console", lambda message: message.type == "error" and visit.errors.append(message.text))
            page.on("pageerror", lambda error: visit.errors.append(str(error)))
            yield page, visit
        finally:
            browser.close()


def screenshot(page, name):
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


DRAWN = """() => [...document.querySelectorAll('.vega-embed')].map(embed => {
    const canvas = embed.querySelector('canvas.marks');
    if (!canvas) return embed.querySelector('svg.marks') ? -1 : 0;
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let inked = 0;
    for (let i = 0; i < pixels.length; i += 4)
        if (pixels[i + 3] > 0 && (pixels[i] < 250 || pixels[i + 1] < 250 || pixels[i + 2] < 250)) inked++;
    return inked;
})"""
IMAGES = "() => [...document.images].map(image => image.complete ? image.naturalWidth : 0)"


def plots_drawn(page, expected, timeout=60_000):
    """Each Vega plot's count of inked pixels (-1 for an SVG) once all `expected` have drawn, and
    each image's width."""
    page.wait_for_function(f"() => document.querySelectorAll('.vega-embed .marks').length >= {expected}",
                           timeout=timeout)
    return page.evaluate(DRAWN), page.evaluate(IMAGES)
