"""hashdemo's Streamlit app (`make app`): the frame around every page, with the one page list."""

from hashdemo.ui import frame

page = frame.navigation()
frame.frame()
page.run()
