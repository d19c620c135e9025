"""A real browser for the console's tests: Debian's Chromium driven by Playwright, axe-core injected into a
page to check its accessibility, and screenshots at a phone's and a desktop's width.

Chromium comes from the machine (`apt-get install -y chromium`, as .ci/run does), axe-core from the npm
registry (`npm ci` in tests/browser/). Playwright's own browser download is never used: it needs a
network this project's tests do not have. A missing piece fails the test with what to install.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
AXE = Path(__file__).with_name("browser") / "node_modules" / "axe-core" / "axe.min.js"
DOCS = Path(__file__).parent.parent / "docs"
# Headless and offline: without the background-networking flags Chromium reaches out for updates,
# field trials and sync at start, and those connections fail here; the sandbox needs a non-root user.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
DOCS_HEIGHT = 1400  # README shows the top of a long page
# axe-core's impact levels that fail the check; "moderate" and "minor" are printed by nothing.
FAILING = ("serious", "critical")


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"Chromium is missing at {CHROMIUM}: apt-get install -y chromium (as .ci/run does)"
    if not AXE.exists():
        return f"axe-core is missing at {AXE}: run `npm ci` in {AXE.parents[2]} (as .ci/run does)"
    return None


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Chromium, headless, for the block; fails (never skips) the test when Chromium or axe-core is absent."""
    missing = _missing()
    if missing is not None:
        pytest.fail(missing, pytrace=False)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def accessibility(page: Page) -> list[str]:
    """The page's serious and critical violations found by axe-core, one readable line per element.

    axe is evaluated through the browser's debugging protocol, which the page's Content-Security-Policy
    (no scripts at all) does not govern, so the page is checked as it is served."""
    if not await page.evaluate("typeof axe !== 'undefined'"):
        await page.evaluate(AXE.read_text(encoding="utf-8"))
    results: dict[str, Any] = await page.evaluate("axe.run(document)")
    assert results["passes"], "axe-core ran no check: is it loaded?"
    found = []
    for violation in results["violations"]:
        if violation["impact"] not in FAILING:
            continue
        for node in violation["nodes"]:
            how = "; ".join(line.strip() for line in node["failureSummary"].splitlines())
            found.append(
                f"{page.url}: {violation['impact']} {violation['id']} ({violation['help']}) at "
                f"{' '.join(node['target'])}: {how}"
            )
    return found


async def screenshots(page: Page, name: str, folder: Path, *, docs: bool = True) -> list[Path]:
    """The whole page at a phone's and a desktop's width, into `folder`; with UPDATE_SCREENSHOTS=1 (and
    `docs`), the top of the desktop one also into docs/console-<name>.png, which README shows."""
    taken = []
    for width, size in (("phone", PHONE), ("desktop", DESKTOP)):
        await page.set_viewport_size(size)
        await _images_loaded(page)
        path = folder / f"console-{name}-{width}.png"
        await page.screenshot(path=str(path), full_page=True)
        taken.append(path)
    if docs and os.environ.get("UPDATE_SCREENSHOTS") == "1":
        height = min(await page.evaluate("document.documentElement.scrollHeight"), DOCS_HEIGHT)
        top = {"x": 0, "y": 0, "width": DESKTOP["width"], "height": height}
        await page.screenshot(path=str(DOCS / f"console-{name}.png"), full_page=True, clip=top)
    return taken


async def _images_loaded(page: Page) -> None:
    """Every image on the page drawn (lazy ones too: the page is scrolled through first). Polled here:
    Playwright's wait_for_function evaluates a string in the page, which the page's policy forbids."""
    await page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    for _ in range(100):
        if await page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)"):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(f"{page.url}: an image did not load")
    await page.evaluate("window.scrollTo(0, 0)")
