"""Exports every page offers the same way: charts (SVG / PDF / PNG at a paper's width), tables (CSV with its
settings, Markdown, booktabs LaTeX with a settable label), and a run's settings and numbers as JSON."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from ..figures import charts, tables

EXPORT_WIDTHS = {"as on screen": None, "one column (3.5 in)": 3.5, "two columns (7.2 in)": 7.2}
CHART_FORMATS = {"svg": "image/svg+xml", "pdf": "application/pdf", "png": "image/png"}
TABLE_FORMATS = (
    ("csv", "CSV", "text/csv", "csv"),
    ("md", "Markdown", "text/markdown", "md"),
    ("latex", "LaTeX", "application/x-tex", "tex"),
)


def export_settings(container=st.sidebar) -> None:
    """How charts and tables are exported on this page: the printed width (300 dpi, text of 7 pt or more), titles,
    and the LaTeX label of tables."""
    with container.expander("Exports"):
        st.selectbox(
            "Chart width",
            list(EXPORT_WIDTHS),
            index=2,
            key="export_width",
            help="A paper's column: text stays 7 pt or larger; PNG carries its DPI (300).",
        )
        st.toggle("Chart titles", True, key="export_titles", help="Off: a figure caption usually says it instead.")
        st.text_input("LaTeX label of tables", "tab:hashdemo", key="export_label")


def chart(fig, key: str, file_stem: str) -> None:
    """A plotly chart with its own template and a 3x SVG camera button; SVG / PDF / PNG downloads at the printed
    width chosen under "Exports" when kaleido can run (it needs a Chromium)."""
    st.plotly_chart(
        fig, theme=None, key=key, config={"toImageButtonOptions": {"format": "svg", "filename": file_stem, "scale": 3}}
    )
    if not charts.static_export_available():
        st.caption(
            "Download the chart with the camera icon in its toolbar (SVG at 3x); server-side export needs a "
            "Chromium (Debian: apt-get install chromium)."
        )
        return
    width = EXPORT_WIDTHS[st.session_state.get("export_width", "two columns (7.2 in)")]
    title = st.session_state.get("export_titles", True)
    for column, (fmt, mime) in zip(st.columns(3), CHART_FORMATS.items(), strict=True):
        column.download_button(
            f"Chart as {fmt.upper()}",
            lambda fmt=fmt: charts.to_image(fig, fmt, width_in=width, title=title),
            f"{file_stem}.{fmt}",
            mime,
            key=f"{key}-{fmt}",
            on_click="ignore",
            use_container_width=True,
        )


def table_downloads(table: tables.Table, what: str, stem: str) -> None:
    """One download button per format, side by side: CSV (with its settings preamble), Markdown, booktabs LaTeX.
    Each file is made when its button is clicked (as the charts' are): a class opening a page makes none."""
    table.label = st.session_state.get("export_label") or table.label
    for column, (fmt, name, mime, ext) in zip(st.columns(len(TABLE_FORMATS)), TABLE_FORMATS, strict=True):
        column.download_button(
            f"{what} as {name}",
            lambda fmt=fmt: tables.render_table(table, fmt),
            f"{stem}.{ext}",
            mime,
            on_click="ignore",
            use_container_width=True,
        )


def json_download(container, label: str, make: Callable[[], str], stem: str, key: str) -> None:
    """A JSON file made by `make()` when its button is clicked."""
    container.download_button(
        label, make, f"{stem}.json", "application/json", key=key, on_click="ignore", use_container_width=True
    )
