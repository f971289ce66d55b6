"""`python -m hashdemo.ui.serve [streamlit options]`: `streamlit run app.py` with one fix.

app.py declares its pages with st.navigation, but Streamlit (1.67) runs the first session of a fresh server in its
legacy mode for apps with a pages/ folder, which cannot resolve a deep link such as /Attack_Lab?attack=dhta and
shows "Page not found" over the right page (measured: the first browser only; every later one is fine). Telling
Streamlit before it starts that this app uses st.navigation removes that first-session dialog.
"""

import os
import sys
import threading
from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

from .frame import CLASS_MODE

APP = Path(__file__).resolve().parents[2] / "app.py"


CLASS_FLAG = "--class"
DEFAULT_PORT = 8501  # Streamlit's


def main() -> int:
    """`--class` serves a class (frame.CLASS_MODE): links cannot open model folders or data roots the server was
    not started with, and each ready lecture step is opened once as the server starts (ui.warm); every other
    option goes to `streamlit run`."""
    PagesManager.uses_pages_directory = False  # what st.navigation itself sets on its first call
    import altair  # noqa: F401  the Lab's live chart needs it: imported now, not while a class waits for a step

    options = sys.argv[1:]
    if CLASS_FLAG in options:
        options.remove(CLASS_FLAG)
        os.environ[CLASS_MODE] = "1"
        from .warm import warm

        threading.Thread(target=warm, args=(port_of(options),), daemon=True, name="warm-lecture").start()
    sys.argv = ["streamlit", "run", str(APP), *options]
    return cli.main()


def port_of(options: list[str]) -> int:
    """The port `streamlit run` will serve on: --server.port N (or =N), else Streamlit's default."""
    for i, option in enumerate(options):
        if option.startswith("--server.port="):
            return int(option.split("=", 1)[1])
        if option == "--server.port" and i + 1 < len(options):
            return int(options[i + 1])
    return DEFAULT_PORT


if __name__ == "__main__":
    sys.exit(main())
