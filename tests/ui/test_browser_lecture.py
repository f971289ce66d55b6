"""A real browser: the lecture click by click in one tab, in presentation mode, at a laptop's and a projector's
size (screenshots of what the class sees saved to .cache/screenshots/)."""

import pytest
from browsertools import CLIPPED, SCREENS, SHOTS, browser_mark, settle

pytestmark = browser_mark()


def result_box(page, step):
    """Where a step's result starts on screen: the Lab's numbers, Compare's table, the robustness chart, the
    first page's top-k."""
    if step.live:
        return page.locator('[data-testid="stMetric"]').first.bounding_box()
    if step.view == "compare":
        return page.locator("table").first.bounding_box()
    if step.view == "robustness":
        return page.locator(".js-plotly-plot").first.bounding_box()
    return page.locator('[data-testid="stImage"] img').first.bounding_box()


@pytest.mark.parametrize("screen", list(SCREENS))
def test_the_lecture_click_by_click_in_one_tab(server, browser, prepared, screen):
    """Presentation mode, one tab: each step's Open link, its result on the first screen (screenshot of what the
    class sees), Back returns to the Lecture in one press; no exception and no 404 on the way."""
    from hashdemo.experiments.lecture import LECTURE

    viewport, scale = SCREENS[screen]
    context = browser.new_context(viewport=viewport, device_scale_factor=scale)
    page = context.new_page()
    missing = []  # Streamlit probes /<Page>/_stcore/{health,host-config} to find its base URL: those 404s are its own
    probe = lambda url: url.split("?")[0].endswith(("/_stcore/health", "/_stcore/host-config"))
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 and not probe(r.url) else None)
    page.goto(f"{server}/Lecture?present=true")
    settle(page)
    for i, step in enumerate(LECTURE):
        page.get_by_role("link", name="Open").nth(i).click()
        settle(page)
        assert page.locator('[data-testid="stException"]').count() == 0, step.title
        box = result_box(page, step)
        page.screenshot(path=str(SHOTS / f"lecture_step{i + 1}_{screen}.png"))
        assert box is not None and box["y"] < viewport["height"] - 40, (step.title, box)
        assert page.evaluate(CLIPPED) == [], step.title
        page.go_back()
        settle(page)
        assert page.url.split("?")[0].endswith("/Lecture"), (step.title, page.url)
    assert missing == []
    context.close()
