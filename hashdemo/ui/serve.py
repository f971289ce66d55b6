"""`python -m hashdemo.ui.serve [streamlit options]`: `streamlit run app.py` with one fix.

app.py declares its pages with st.navigation, but Streamlit (1.67) runs the first session of a fresh server in its
legacy mode for apps with a pages/ folder, which cannot resolve a deep link such as /Attack_Lab?attack=dhta and
shows "Page not found" over the right page (measured: the first browser only; every later one is fine). Telling
Streamlit before it starts that this app uses st.navigation removes that first-session dialog.
"""

import sys
from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

APP = Path(__file__).resolve().parents[2] / "app.py"


def main() -> int:
    PagesManager.uses_pages_directory = False  # what st.navigation itself sets on its first call
    sys.argv = ["streamlit", "run", str(APP), *sys.argv[1:]]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
