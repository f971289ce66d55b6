"""Lecture mode: the "How hashing works" page, the iteration scrubber, presentation mode, and the guided lecture,
whose every step is opened with its own settings and must show what its text says."""

from pathlib import Path

import pytest
from test_app import click, lab, open_page

from hashdemo.lecture import LECTURE

ROOT = Path(__file__).resolve().parent.parent


def test_how_hashing_works_shows_every_stage():
    at = open_page("0_How_hashing_works.py", {"qclass": "Trouser", "qindex": "2"})
    assert not at.exception and not at.error
    headers = [h.value for h in at.subheader]
    assert headers[:5] == [
        "1. The network's K outputs",
        "2. Their signs are the code",
        "3. Hamming distance to every database item",
        "4. The top-k",
        "5. The map of Hamming space",
    ]
    assert len(at.get("plotly_chart")) == 3  # outputs, distance histogram, map
    assert len(at.image) >= 3  # query, code, top-k


def test_the_scrubber_steps_through_the_iterations():
    at = click(lab({"attack": "pga", "steps": "30"}), "Run attack")
    assert at.slider(key="scrub").max == 30 and at.slider(key="scrub").value == 30
    at.slider(key="scrub").set_value(0).run()
    assert any(img.caption == "x_0" for img in at.image) if hasattr(at.image[0], "caption") else True
    run = at.session_state["lab"]["run"]
    assert len(run.result.snapshots) == 31 and run.result.snapshots[0].images is not None
    assert (run.result.snapshots[30].codes == run.result.adversarial_codes).all()
    assert not at.exception


def test_presentation_mode_enlarges_and_hides_the_header():
    """(A link with ?present=true switches it on too: the browser test opens one.)"""
    at = lab()
    assert not any("font-size: 22px" in m.value for m in at.markdown)
    at.sidebar.toggle(key="present").set_value(True).run()
    assert any("font-size: 22px" in m.value and "stHeader" in m.value for m in at.markdown)
    assert not at.exception
    at.sidebar.toggle(key="present").set_value(False).run()
    assert not any("font-size: 22px" in m.value for m in at.markdown)


def test_every_step_links_to_a_page_that_exists():
    assert 6 <= len(LECTURE) <= 8
    for step in LECTURE:
        assert (ROOT / step.page).is_file(), step.page


@pytest.mark.parametrize("step", [s for s in LECTURE if s.page.endswith("Attack_Lab.py")], ids=lambda s: s.title)
def test_each_attack_step_shows_what_its_text_says(step):
    at = open_page("1_Attack_Lab.py", step.params)
    assert not at.exception and not at.error and not at.warning
    n = at.session_state["lab"]["run"].numbers  # run=1: the link ran the attack on arrival
    assert n["p_clean"] >= 0.8  # the query is retrieved well before the attack
    if "t_p_adv" in n:
        assert n["t_p_adv"] >= 0.8, n
    else:
        assert n["p_adv"] <= 0.2, n


def test_the_first_step_shows_a_well_retrieved_query():
    step = LECTURE[0]
    at = open_page(step.page.split("/")[-1], step.params)
    assert not at.exception and not at.warning
