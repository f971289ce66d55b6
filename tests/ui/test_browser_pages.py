"""A real browser: every page loads at a laptop's and a projector's size with nothing clipped (screenshots
saved to .cache/screenshots/)."""

import pytest
from browsertools import CLIPPED, PAGES, SCREENS, browser_mark, screenshot, settle

pytestmark = browser_mark()


@pytest.fixture(scope="module")
def contexts(browser):
    """One browser context per screen (its cache shared, as a user's tabs share theirs): a new tab per page."""
    opened = {
        name: browser.new_context(viewport=size, device_scale_factor=scale) for name, (size, scale) in SCREENS.items()
    }
    yield opened
    for context in opened.values():
        context.close()


@pytest.mark.parametrize("screen", list(SCREENS))
@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_loads_with_nothing_clipped(server, contexts, name, screen):
    page = contexts[screen].new_page()
    page.goto(f"{server}/{PAGES[name]}")
    settle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.get_by_text("Page not found").count() == 0  # deep links work on first load
    assert page.locator("h1").count() >= 1
    assert page.get_by_role("button", name="Deploy").count() == 0
    clipped = page.evaluate(CLIPPED)
    screenshot(page, f"{name}_{screen}")
    page.close()
    assert clipped == []
