"""The landing page: what hashdemo is, where to start, and every model the pickers offer."""

import streamlit as st

from hashdemo.systems.zoo import all_cards, models_dir
from hashdemo.ui.frame import PAGES

st.title("hashdemo")
st.write(
    "An interactive lab for adversarial attacks on deep-hashing image retrieval: a hashing model maps an image "
    "to a K-bit code sign(tanh(f(x))) and returns the database items nearest in Hamming distance; an attacker "
    "adds a perturbation of at most epsilon per pixel so the system returns irrelevant items (HAG, SDHA, PgA) or "
    "items of a chosen label (P2P, DHTA, THA, ProS-GAN)."
)
for page in PAGES[1:]:
    st.page_link(page.path, label=f"{page.title}: {page.blurb}", icon=page.icon)
st.subheader("Models")
entries = all_cards()
if entries:
    st.dataframe(
        [
            {
                "model": e.source if e.origin == "zoo" else e.name,
                "dataset": e.dataset,
                "backbone": e.backbone,
                "method": e.method,
                "bits": e.bits,
                "variant": e.variant,
                f"clean MAP@{e.topk}": e.clean_map,
                "training (s, 1 thread)": e.record.get("train_seconds"),
                "where": "zoo" if e.origin == "zoo" else e.source,
            }
            for e in entries
        ],
        hide_index=True,
    )
else:
    st.error("No models: the zoo is empty (run `make zoo`).")
st.caption(
    f"Your own models: folders written by `python -m hashdemo import` or `train` under {models_dir()} "
    "($HASHDEMO_MODELS) are listed here and in every page's picker. Data: Fashion-MNIST (Zalando Research, MIT "
    "licence), shipped in assets/. Everything runs on a laptop CPU."
)
