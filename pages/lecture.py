"""A guided lecture: each step opens the right page with the right settings, ready to project; "Prepare this
lecture" computes ahead what the steps read from the cache (the same as `python -m hashdemo lecture --prepare`)."""

import streamlit as st

from hashdemo.experiments import lecture
from hashdemo.ui import frame, resources

st.title("A guided lecture")
frame.intro(
    "Eight steps from clean retrieval to defences and the papers' tables. Each link opens a page with its "
    "settings and runs it; come back here for the next step. Presentation mode (sidebar) is for a projector."
)
statuses = {step.title: lecture.status(step) for step in lecture.LECTURE if not step.live}
preparing = False
waiting = {title: s for title, s in statuses.items() if not s.ready}
if waiting:
    total = sum(s.estimate_s for s in waiting.values())
    left, right = st.columns([3, 2], vertical_alignment="center")
    left.info(
        f"{len(waiting)} steps read results that are not computed yet (about {max(1, round(total))} s on this "
        "machine). Prepare them before class, and every step opens in seconds."
    )
    preparing = right.button("Prepare this lecture", type="primary", icon=":material/download_done:")
    progress_slot = st.container()  # the progress and Stop show here; the steps' cards stay in view below
else:
    st.success("Prepared: every step opens in seconds.", icon=":material/task_alt:")

for number, step in enumerate(lecture.LECTURE, 1):
    with st.container(border=True):
        head, link = st.columns([4, 1], vertical_alignment="center")
        head.subheader(step.title, anchor=f"step-{number}")
        # presentation mode travels in the link: the page then finds its URL as it is and adds no history entry
        page, params = frame.step_link(number, frame.presenting())
        link.page_link(page, label="Open", icon=":material/arrow_forward:", query_params=params)
        st.write(step.text)
        if step.live:
            st.caption("Computed on arrival: one query, about a second.")
        else:
            st.caption(statuses[step.title].text().capitalize() + ".")

if preparing:
    with progress_slot:
        done = resources.run_with_stop(
            "Preparing", "finished batches stay cached; preparing again resumes from them", lecture.prepare
        )
    if done is not None:
        st.rerun()

came_back = st.query_params.get("step")  # "Back to the lecture" from a step: its card in view
if (came_back or "").isdigit():
    st.iframe(
        f"<script>window.parent.document.getElementById('step-{int(came_back)}')?.scrollIntoView();</script>", height=1
    )
