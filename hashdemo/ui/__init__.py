"""The Streamlit app's shared parts: frame (navigation, presentation mode), state (settings in the URL), controls
(generated from the declarations), exports, resources (cached systems, errors). The package core never imports
this."""
