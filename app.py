"""hashdemo's Streamlit app (`make app`): the landing page; the tools are in pages/."""

import streamlit as st

from hashdemo import ui

ui.page("hashdemo")
st.title("hashdemo")
st.write(
    "An interactive lab for adversarial attacks on deep-hashing image retrieval: a hashing model maps an image "
    "to a K-bit code sign(tanh(f(x))) and returns the database items nearest in Hamming distance; an attacker "
    "adds a perturbation of at most epsilon per pixel so the system returns irrelevant items (HAG, SDHA, PgA) or "
    "items of a chosen label (P2P, DHTA, THA, ProS-GAN)."
)
for path, text, icon in (
    (
        "pages/0_How_hashing_works.py",
        "How hashing works: one query, its code, the Hamming ranking",
        ":material/school:",
    ),
    ("pages/1_Attack_Lab.py", "Attack Lab: one query under attack, every view a lecture needs", ":material/biotech:"),
    ("pages/2_Compare.py", "Compare: attacks side by side, the papers' tables and curves", ":material/table_chart:"),
    ("pages/3_Sweep.py", "Sweep: MAP against epsilon, step, iterations, bit length or margin", ":material/show_chart:"),
    (
        "pages/4_ProS-GAN.py",
        "ProS-GAN: the generative attack, any query and any target at once",
        ":material/auto_awesome:",
    ),
    ("pages/5_Robustness.py", "Robustness: defences, worst case, breaking budget, leaderboard", ":material/shield:"),
    (
        "pages/6_Transfer.py",
        "Transfer: perturbations from one model used on another; open-set targets",
        ":material/swap_horiz:",
    ),
    (
        "pages/9_Lecture.py",
        "Lecture: eight steps from clean retrieval to defences and the papers' tables",
        ":material/co_present:",
    ),
):
    st.page_link(path, label=text, icon=icon)
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
                "training (s, 1 thread)": e["train_seconds"],
            }
            for e in entries
        ],
        hide_index=True,
    )
else:
    st.error("The model zoo is empty: run `make zoo`.")
st.caption("Data: Fashion-MNIST (Zalando Research, MIT licence), shipped in assets/. Everything runs on a laptop CPU.")
