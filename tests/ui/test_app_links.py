"""Settings in the URL: a link reproduces a run in a fresh session, a link's settings win over what the session
held, malformed links name the control, its range and its unit, a page shows a result only for the settings it
was computed with (the lecture walked step by step: tests/test_lecture.py)."""

from apptools import click, lab, metrics, open_page

from hashdemo.experiments.lecture import LECTURE
from hashdemo.ui.frame import VIEWS


def test_a_link_reproduces_the_numbers_in_a_fresh_session():
    params = {"attack": "hag", "eps": "12", "steps": "30", "seed": "3", "qclass": "Coat", "qindex": "4", "step": "2"}
    first = click(lab(params), "Run attack")
    assert first.query_params["run"] == "1" and first.query_params["attack"] == "hag"
    second = lab({**params, "run": "1"})  # a new session from the same link runs by itself
    assert not second.exception
    numbers = {k: v for k, v in metrics(first).items() if k != "Time"}
    assert {k: v for k, v in metrics(second).items() if k != "Time"} == numbers
    a, b = first.session_state["lab"].result, second.session_state["lab"].result
    assert (a.adversarial == b.adversarial).all()


def test_malformed_links_name_the_control_its_range_and_unit_and_nothing_runs():
    bad = {"eps": "abc", "attack": "nope", "qclass": "Nope", "steps": "0", "qindex": "999", "alpha": "0", "run": "1"}
    at = lab(bad)
    assert not at.exception
    text = " ".join(w.value for w in at.warning)
    for piece in (
        "Epsilon (1/255) (eps; in [0, 255] (1/255)",
        "the link's abc is not allowed",
        "Attack (attack): the link's nope",
        "Class (qclass): the link's Nope",
        "Iterations T (steps; a whole number in [1, 5000]",
        "the link's 999 is not allowed",
        "alpha=0 is not a setting of this page",
        "Nothing runs by itself",
    ):
        assert piece in text, piece
    assert "lab" not in at.session_state  # run=1 did not run the defaults


def test_a_valid_link_runs_what_it_asks_k_included():
    at = lab({"attack": "hag", "k": "7", "steps": "20", "run": "1"})
    assert not at.warning
    run = at.session_state["lab"]
    assert len(run.clean.indices) == 7 and run.settings.budget.steps == 20


def test_switching_the_attack_never_shows_another_runs_settings():
    """Before any run the page waits; after a run (run=1 now in the URL) a new attack waits for its button too:
    run=1 runs a page once, when a link arrives, never on a control's change."""
    at = lab()
    for name in ("pga", "tha"):
        at.sidebar.selectbox(key="lab:attack").set_value(name).run()
        assert not at.exception and not at.metric and any("Press **Run attack**" in i.value for i in at.info)
    for name in ("hag", "dhta", "prosgan", "pga"):
        at = click(at, "Run attack")
        assert not at.exception and at.session_state["lab"].settings.attack == at.session_state["lab:attack"]
        assert at.query_params.get("run") == "1"
        at.sidebar.selectbox(key="lab:attack").set_value(name).run()
        assert not at.exception and not at.metric and any("Press **Run attack**" in i.value for i in at.info)
    at = click(at, "Run attack")
    assert at.session_state["lab"].settings.attack == "pga"
    assert any(e.label == f"The attack: {controls_title('pga')}" for e in at.expander)


def controls_title(name: str) -> str:
    from hashdemo.attacks import ATTACKS

    return ATTACKS.get(name).title


def test_a_links_settings_win_over_the_sessions():
    """Lab at 16/255, then the papers' table by a link without eps: the link's protocol value (8/255), not 16."""
    at = click(lab({"attack": "hag"}), "Run attack")
    assert at.sidebar.number_input(key="lab:eps").value == 16.0
    step = LECTURE[-1]
    for key in list(at.query_params):
        at.query_params.pop(key)
    for key, value in step.params.items():
        at.query_params[key] = value
    at.switch_page(VIEWS[step.view]).run()
    assert at.sidebar.number_input(key="compare:eps").value == 8.0
    assert "eps" not in at.query_params


def test_a_link_opened_again_after_other_pages_shows_its_settings_again():
    """Step 7 of a lecture walked twice: the same link, after other pages dropped its controls' state, shows the
    link's settings again, not the page's defaults."""
    step = next(s for s in LECTURE if VIEWS[s.view] == "pages/robustness.py")
    link = {k: v for k, v in step.params.items() if k != "run"}  # the settings, not the run (tested above)
    at = open_page("robustness.py", link)
    first = at.multiselect(key="robustness:models").value
    assert first == link["models"]
    for key in list(at.query_params):
        at.query_params.pop(key)
    at.switch_page("pages/how_hashing_works.py").run()
    for key, value in link.items():
        at.query_params[key] = value
    at.switch_page("pages/robustness.py").run()
    assert not at.exception and at.multiselect(key="robustness:models").value == first
