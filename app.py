"""hashdemo's Streamlit app: `streamlit run app.py` (or `make app`)."""

import streamlit as st

st.set_page_config(page_title="hashdemo", page_icon="#", layout="wide")
st.navigation([
    st.Page("pages/home.py", title="Home", default=True),
    st.Page("pages/1_Attack_Lab.py", title="Attack Lab", url_path="attack-lab"),
    st.Page("pages/2_Compare.py", title="Compare", url_path="compare"),
    st.Page("pages/3_Sweep.py", title="Sweep", url_path="sweep"),
]).run()
