"""The guided lecture in one session, step after step: each shows its own result and what its text says, each
link is its page's own URL (Back returns in one press), and after the walk every step is ready and every claim
its text makes holds on the numbers it shows."""

import json

from apptools import ROOT
from streamlit.testing.v1 import AppTest

from hashdemo.experiments import lecture
from hashdemo.experiments.lecture import LECTURE
from hashdemo.ui.frame import VIEWS


def test_every_step_links_to_a_page_that_exists():
    assert len(LECTURE) == 8
    for step in LECTURE:
        assert (ROOT / VIEWS[step.view]).is_file(), VIEWS[step.view]


def test_the_lecture_steps_one_after_another_in_one_session():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).run()
    at.switch_page("pages/lecture.py").run()
    ready = all(lecture.status(step).ready for step in LECTURE if not step.live)
    assert [b.label for b in at.button] == ([] if ready else ["Prepare this lecture"])  # offered while needed
    for step in LECTURE:
        for key in list(at.query_params):
            at.query_params.pop(key)
        for key, value in step.params.items():
            at.query_params[key] = value
        at.switch_page(VIEWS[step.view]).run()
        assert not at.exception, (step.title, [e.value for e in at.exception])
        assert not at.warning and not at.error, (step.title, [w.value for w in at.warning])
        as_lists = lambda query: {k: v if isinstance(v, list) else [v] for k, v in query.items()}
        # the link is the page's own URL: arriving adds no browser history entry (Back returns in one press)
        assert as_lists(at.query_params) == as_lists(step.params), step.title
        if step.live:  # run=1: the Attack Lab ran this step's attack on arrival, on its query
            run = at.session_state["lab"]
            assert run.settings.attack == step.params["attack"], step.title
            n = run.numbers
            assert n.p_clean >= 0.8, (step.title, n)  # the query is retrieved well before the attack
            assert (n.t_p_adv >= 0.8) if n.t_p_adv is not None else (n.p_adv <= 0.2), (step.title, n)
            for claim in step.claims:  # what its text says, on what the page shows
                assert claim.holds(run), (step.title, claim.text, n)
        elif step.runs():  # run=1: arriving computed what the step shows
            assert lecture.status(step).ready, step.title
        at.switch_page("pages/lecture.py").run()
        assert not at.exception


def test_after_the_walk_every_step_is_ready_and_its_claims_hold(cli):
    rows = json.loads(cli("lecture", "--json").stdout)
    assert [r["step"] for r in rows] == [s.title for s in LECTURE]
    assert all(r["live"] or r["ready"] for r in rows), rows
    claims = [(step, claim) for step in LECTURE for claim in step.claims]
    assert len(claims) >= 14 and any(step.view == "robustness" for step, _ in claims)  # step 7 states results too
    for step, claim in claims:
        checked = lecture.lab_run(step) if step.live else lecture.claim_reports(step)
        assert claim.holds(checked), claim.text
    assert "ready" in cli("lecture", "--prepare").stdout  # nothing left: prepare only reads the cache


def test_steps_2_and_3_show_different_queries_and_pgas_pharos_code_is_not_the_query_code():
    hag, pga = (lecture.lab_run(step) for step in LECTURE[1:3])
    assert hag.request.query != pga.request.query and hag.query_caption != pga.query_caption
    assert pga.numbers.hamming_target_clean > 0
    targets = [step.params.get("target") for step in LECTURE[3:6]]
    assert len(set(targets)) == 3  # steps 4-6 aim at three labels: three different top-10s


def test_a_claim_is_checked_against_the_numbers():
    table = lecture.LECTURE[-1]
    lecture.prepare(steps=(table,))  # nothing to do after the walk above; this test also runs on its own
    reports = lecture.claim_reports(table)
    stronger = table.claims[0]
    swapped = lecture.Claim("swapped", stronger.key, stronger.weaker, stronger.stronger)
    assert stronger.holds(reports) and not swapped.holds(reports)
    assert table.claims[-1].holds(reports)  # every row but ProS-GAN's at L-inf = eps
    assert not lecture.Claim("noise unbounded", unbounded=("noise",)).holds(reports)


def test_preparing_keeps_every_steps_card_in_view(monkeypatch, tmp_path):
    """While "Prepare this lecture" runs, its progress and Stop sit above the cards, which stay drawn."""
    monkeypatch.setenv("HASHDEMO_CACHE", str(tmp_path))  # an empty cache: the button is offered
    seen = []

    def prepare(progress):
        progress(1, 2, "preparing")
        seen.append(True)

    monkeypatch.setattr(lecture, "prepare", prepare)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("pages/lecture.py").run()
    at.button[0].click().run()
    assert seen and not at.exception
    assert len(at.subheader) == len(LECTURE)  # every step's card drawn in the run that prepared
