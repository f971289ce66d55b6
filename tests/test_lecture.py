"""The guided lecture: every step links to a page that exists and shows what its text says."""

import pytest
from apptools import ROOT, open_page

from hashdemo.lecture import LECTURE


def test_every_step_links_to_a_page_that_exists():
    assert 6 <= len(LECTURE) <= 8
    for step in LECTURE:
        assert (ROOT / step.page).is_file(), step.page


@pytest.mark.parametrize("step", [s for s in LECTURE if s.page.endswith("attack_lab.py")], ids=lambda s: s.title)
def test_each_attack_step_shows_what_its_text_says(step):
    at = open_page("attack_lab.py", step.params)
    assert not at.exception and not at.error and not at.warning
    n = at.session_state["lab"].numbers  # run=1: the link ran the attack on arrival
    assert n.p_clean >= 0.8  # the query is retrieved well before the attack
    if n.t_p_adv is not None:
        assert n.t_p_adv >= 0.8, n
    else:
        assert n.p_adv <= 0.2, n


def test_the_first_step_shows_a_well_retrieved_query():
    step = LECTURE[0]
    at = open_page(step.page.split("/")[-1], step.params)
    assert not at.exception and not at.warning
