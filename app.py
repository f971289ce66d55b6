"""hashdemo's Streamlit app (`make app`): the landing page; the three tools are in pages/."""

import streamlit as st

from hashdemo import ui

st.set_page_config(page_title="hashdemo", layout="wide")
ui.sidebar_nav()

st.title("hashdemo")
st.write(
    "An interactive lab for adversarial attacks on deep-hashing image retrieval: a hashing model maps an image "
    "to a K-bit code sign(tanh(f(x))) and returns the database items nearest in Hamming distance; an attacker "
    "adds a perturbation of at most epsilon per pixel so the system returns irrelevant items (HAG, SDHA, PgA) or "
    "items of a chosen label (P2P, DHTA, THA)."
)
st.page_link(
    "pages/1_Attack_Lab.py",
    label="Attack Lab: one query under attack, every view a lecture needs",
    icon=":material/biotech:",
)
st.page_link(
    "pages/2_Compare.py",
    label="Compare: attacks side by side, the papers' tables and curves",
    icon=":material/table_chart:",
)
st.page_link(
    "pages/3_Sweep.py",
    label="Sweep: MAP against epsilon, margin t, iterations or bit length",
    icon=":material/show_chart:",
)
st.subheader("Models shipped in the zoo")
entries = ui.zoo_entries()
if entries:
    st.dataframe(
        [
            {
                "model": f"zoo:{e['name']}",
                "dataset": e["dataset"],
                "backbone": e["backbone"],
                "method": e["method"],
                "bits": e["bits"],
                f"clean MAP@{e['topk']}": e["clean_map"],
                "training (s)": e["train_seconds"],
            }
            for e in entries
        ],
        hide_index=True,
    )
else:
    st.error("The model zoo is empty: run `make zoo`.")
st.caption("Data: Fashion-MNIST (Zalando Research, MIT licence), shipped in assets/. Everything runs on a laptop CPU.")
