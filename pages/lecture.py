"""A guided lecture: each step opens the right page with the right settings, ready to project."""

import streamlit as st

from hashdemo.lecture import LECTURE

st.title("A guided lecture")
st.caption(
    "Eight steps from clean retrieval to defences and the papers' tables. Each link opens a page with its "
    "settings (and runs the attack); come back here for the next step. Switch on presentation mode in the sidebar "
    "for a projector."
)
for step in LECTURE:
    with st.container(border=True):
        st.subheader(step.title)
        st.write(step.text)
        st.page_link(step.page, label="Open", icon=":material/arrow_forward:", query_params=step.params)
