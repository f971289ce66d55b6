"""Plotly charts built from result objects; the app shows them and exports them as SVG/PNG."""

from __future__ import annotations

import shutil
import zlib
from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..attacks.result import Trace

PALETTE = [
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#17becf",
    "#bcbd22",
    "#393b79",
    "#637939",
]
CLEAN_COLOUR = "#222222"


def colour_for(label: str) -> str:
    """One colour per attack everywhere (by registry order); the clean queries in near-black."""
    from ..attacks import ATTACKS

    titles = [cls.title for cls in ATTACKS.values()]
    if label.startswith("Clean"):
        return CLEAN_COLOUR
    for i, title in enumerate(titles):
        if label.startswith(title):
            return PALETTE[i % len(PALETTE)]
    return PALETTE[zlib.crc32(label.encode()) % len(PALETTE)]


LAYOUT = dict(
    template="plotly_white",
    font=dict(size=14),
    margin=dict(l=60, r=20, t=95, b=50),
    legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
    title_y=0.97,
)


def trace_figure(trace: Trace, bits: int, query: int = 0, title: str = "", target_name: str = "target") -> go.Figure:
    """Hamming distance to the clean and target codes over the iterations, and the loss (right axis)."""
    steps = list(range(trace.loss.shape[0]))
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Scatter(
            x=steps,
            y=trace.hamming_to_clean[:, query].tolist(),
            name="Hamming to clean code",
            line=dict(color=PALETTE[1], width=3),
        ),
        secondary_y=False,
    )
    if trace.hamming_to_target is not None:
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=trace.hamming_to_target[:, query].tolist(),
                name=f"Hamming to {target_name} code",
                line=dict(color=PALETTE[0], width=3, dash="dash"),
            ),
            secondary_y=False,
        )
    fig.add_trace(
        go.Scatter(
            x=steps, y=trace.loss[:, query].tolist(), name="loss", line=dict(color="#888", width=1.5, dash="dot")
        ),
        secondary_y=True,
    )
    fig.update_layout(title=title, height=400, **LAYOUT)
    fig.update_xaxes(title_text="iteration t")
    fig.update_yaxes(title_text="Hamming distance (bits)", range=[0, bits], secondary_y=False)
    fig.update_yaxes(title_text="loss", secondary_y=True, showgrid=False, tickmode="auto", nticks=6, tickformat=".2~g")
    return fig


def pr_figure(curves: dict[str, tuple[Sequence[float], Sequence[float]]], title: str = "Precision-recall") -> go.Figure:
    """One line per label: (precision, recall) over Hamming radius 0..K."""
    fig = go.Figure()
    for label, (precision, recall) in curves.items():
        fig.add_trace(
            go.Scatter(
                x=list(recall),
                y=list(precision),
                name=label,
                mode="lines+markers",
                marker=dict(size=4),
                line=dict(color=colour_for(label)),
            )
        )
    fig.update_layout(title=title, xaxis_title="recall", yaxis_title="precision", height=420, **LAYOUT)
    fig.update_xaxes(range=[0, 1])
    fig.update_yaxes(range=[0, 1.02])
    return fig


def precision_at_n_figure(
    ns: Sequence[int], series: dict[str, Sequence[float]], title: str = "Precision@N", y_title: str = "precision"
) -> go.Figure:
    fig = go.Figure()
    for label, values in series.items():
        fig.add_trace(
            go.Scatter(x=list(ns), y=list(values), name=label, mode="lines+markers", line=dict(color=colour_for(label)))
        )
    fig.update_layout(title=title, xaxis_title="N (top retrieved)", yaxis_title=y_title, height=420, **LAYOUT)
    fig.update_yaxes(range=[0, 1.02])
    return fig


def sweep_figure(rows: list[dict], param: str, title: str = "") -> go.Figure:
    """MAP (non-targeted) or t-MAP (targeted) against the swept parameter, one line per attack."""
    labels = {"eps": "epsilon (1/255)", "t": "margin t", "steps": "iterations T", "bits": "bit length"}
    fig = go.Figure()
    for name in dict.fromkeys(r["attack"] for r in rows):
        mine = [r for r in rows if r["attack"] == name]
        metric = "t_map_adv" if mine[0]["targeted"] else "map_adv"
        fig.add_trace(
            go.Scatter(
                x=[r["value"] for r in mine],
                y=[r[metric] for r in mine],
                mode="lines+markers",
                name=f"{mine[0]['title']} ({'t-MAP' if mine[0]['targeted'] else 'MAP'})",
                line=dict(color=colour_for(mine[0]["title"]), width=3),
            )
        )
    fig.update_layout(
        title=title, xaxis_title=labels.get(param, param), yaxis_title="MAP / t-MAP", height=420, **LAYOUT
    )
    fig.update_yaxes(range=[0, 1.02])
    return fig


def static_export_available() -> bool:
    """kaleido needs a Chromium at run time (Debian's works); without one, use the chart's own download button."""
    return any(shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome"))


def to_image(fig: go.Figure, fmt: str, scale: float = 3.0) -> bytes:
    """SVG or PNG bytes of a chart (PNG at `scale` times the on-screen size)."""
    import plotly.io as pio

    return pio.to_image(fig, format=fmt, scale=scale if fmt == "png" else 1)
