"""Plotly charts built from result objects; the app shows them and exports them as SVG, PDF or PNG.

Colour-blind safe: the Okabe-Ito palette, and every series also has its own marker and dash, so a chart
reads in grey and under any colour-vision deficiency.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Sequence
from dataclasses import dataclass

import plotly.graph_objects as go
from PIL import Image
from plotly.subplots import make_subplots

from ..attacks.result import Trace
from ..retrieval.codemap import CodeMap

# Okabe & Ito (2008), without yellow (too light on white) and black (kept for the clean queries)
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9"]
MARKERS = ["circle", "square", "diamond", "triangle-up", "x", "star", "hexagon", "cross"]
DASHES = ["solid", "dash", "dot", "dashdot"]
CLEAN_COLOUR = "#000000"
FONT = "DejaVu Sans, Arial, Helvetica, sans-serif"  # fonts a reader has; SVG text stays text
PRINT_PT = 7  # smallest text in an exported figure, in points
PX_PER_INCH = 96  # plotly's layout units


@dataclass(frozen=True)
class Style:
    color: str
    symbol: str
    dash: str


# one look per attack everywhere (Okabe-Ito colour, marker, dash), fixed per attack, never by order: adding one
# recolours nothing; the clean queries are black
STYLES = {
    "noise": Style("#009E73", "circle", "dash"),
    "hag": Style("#0072B2", "circle", "solid"),
    "sdha": Style("#D55E00", "square", "solid"),
    "pga": Style("#009E73", "diamond", "solid"),
    "pga-dagger": Style("#E69F00", "triangle-up", "solid"),
    "p2p": Style("#CC79A7", "x", "solid"),
    "dhta": Style("#56B4E9", "star", "solid"),
    "dhta-master": Style("#56B4E9", "star", "dot"),
    "tha": Style("#0072B2", "hexagon", "dash"),
    "prosgan": Style("#D55E00", "cross", "dash"),
    "fgsm": Style("#E69F00", "square", "dash"),
    "ifgsm": Style("#CC79A7", "diamond", "dash"),
    "feature": Style("#56B4E9", "triangle-up", "dash"),
}
UNSTYLED = Style("#999999", "circle", "dot")  # an attack added without a line here (tests/figures fails on it)


def style_for(attack: str | None) -> Style:
    if attack is None:
        return Style(CLEAN_COLOUR, "circle-open", "solid")
    return STYLES.get(attack, UNSTYLED)


def line(attack: str | None, width: float = 2.5) -> dict:
    s = style_for(attack)
    return {"line": {"color": s.color, "dash": s.dash, "width": width}, "marker": {"symbol": s.symbol, "size": 7}}


LAYOUT = dict(
    template="plotly_white",
    font=dict(size=14, family=FONT),
    margin=dict(l=60, r=20, t=95, b=50),
    legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
)


def layout(title: str, **more) -> dict:
    """The shared look, a title with room above the plot (automargin; a long one is split with <br> by its
    caller: plotly does not wrap), and the chart's own settings."""
    return {**LAYOUT, "title": {"text": title, "y": 0.97, "automargin": True}, **more}


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
            x=steps, y=trace.loss[:, query].tolist(), name="loss", line=dict(color="#666", width=1.5, dash="dot")
        ),
        secondary_y=True,
    )
    fig.update_layout(**layout(title, height=400))
    fig.update_xaxes(title_text="iteration t")
    fig.update_yaxes(title_text="Hamming distance (bits)", range=[0, bits], secondary_y=False)
    fig.update_yaxes(title_text="loss", secondary_y=True, showgrid=False, tickmode="auto", nticks=6, tickformat=".2~g")
    return fig


Series = dict[str | None, tuple[str, Sequence]]  # attack name (None: clean) -> (legend label, values)


def pr_figure(curves: Series, title: str = "Precision-recall") -> go.Figure:
    """One line per attack: (precision, recall) over Hamming radius 0..K."""
    fig = go.Figure()
    for attack, (label, (precision, recall)) in curves.items():
        fig.add_trace(go.Scatter(x=list(recall), y=list(precision), name=label, mode="lines+markers", **line(attack)))
    fig.update_layout(**layout(title, xaxis_title="recall", yaxis_title="precision", height=420))
    fig.update_xaxes(range=[0, 1])
    fig.update_yaxes(range=[0, 1.02])
    return fig


def precision_at_n_figure(
    ns: Sequence[int], series: Series, title: str = "Precision@N", y_title: str = "precision"
) -> go.Figure:
    fig = go.Figure()
    for attack, (label, values) in series.items():
        fig.add_trace(go.Scatter(x=list(ns), y=list(values), name=label, mode="lines+markers", **line(attack)))
    fig.update_layout(**layout(title, xaxis_title="N (top retrieved)", yaxis_title=y_title, height=420))
    fig.update_yaxes(range=[0, 1.02])
    return fig


def sweep_figure(rows: list, axis: str, title: str = "") -> go.Figure:
    """MAP (non-targeted) or t-MAP (targeted) against the swept setting (SweepRows), one line per attack."""
    fig = go.Figure()
    for name in dict.fromkeys(r.report.attack for r in rows):
        mine = [r for r in rows if r.report.attack == name]
        report = mine[0].report
        fig.add_trace(
            go.Scatter(
                x=[r.value for r in mine],
                y=[r.report.value for r in mine],
                mode="lines+markers",
                name=f"{report.title} ({'t-MAP' if report.targeted else 'MAP'})",
                **line(name, 3),
            )
        )
    fig.update_layout(**layout(title, xaxis_title=axis, yaxis_title="MAP / t-MAP", height=420))
    fig.update_yaxes(range=[0, 1.02])
    return fig


def output_bars_figure(outputs: Sequence[float], title: str = "") -> go.Figure:
    """The K real-valued outputs tanh(f(x)) as bars; each bar's sign is one bit of the code."""
    k = list(range(1, len(outputs) + 1))
    colours = [PALETTE[0] if v > 0 else PALETTE[1] for v in outputs]
    fig = go.Figure(
        go.Bar(
            x=k,
            y=list(outputs),
            marker_color=colours,
            marker_pattern_shape=["" if v > 0 else "/" for v in outputs],
            name="tanh(f(x))",
        )
    )
    fig.update_layout(
        **layout(
            title,
            xaxis_title="bit k",
            yaxis_title="tanh(f(x))_k",
            height=300,
            showlegend=False,
            margin=dict(l=60, r=20, t=60, b=50),
        )
    )
    fig.update_yaxes(range=[-1.05, 1.05], zeroline=True, zerolinewidth=2, zerolinecolor="#444")
    return fig


def distance_histogram(distances: Sequence[int], relevant: Sequence[bool], bits: int, title: str = "") -> go.Figure:
    """How many database items lie at each Hamming distance from the query, relevant ones and the rest stacked."""
    counts = {True: [0] * (bits + 1), False: [0] * (bits + 1)}
    for d, r in zip(distances, relevant, strict=True):
        counts[bool(r)][int(d)] += 1
    fig = go.Figure()
    for rel, name, colour, pattern in (
        (True, "shares a label with the query", PALETTE[0], ""),
        (False, "does not", "#E69F00", "/"),
    ):
        fig.add_trace(
            go.Bar(x=list(range(bits + 1)), y=counts[rel], name=name, marker_color=colour, marker_pattern_shape=pattern)
        )
    fig.update_layout(
        **layout(
            title,
            barmode="stack",
            xaxis_title="Hamming distance to the query's code",
            yaxis_title="database items",
            height=340,
            margin=dict(l=60, r=20, t=80, b=50),
        )
    )
    return fig


def code_map_figure(
    code_map: CodeMap,
    class_names: Sequence[str],
    marks: dict[str, Sequence[float]] | None = None,
    path: Sequence[Sequence[float]] | None = None,
    title: str = "",
) -> go.Figure:
    """The database codes on their first two principal axes, one colour and marker per class (an item with
    several labels is drawn in its first); `marks` are labelled points (the query), `path` a trajectory."""
    fig = go.Figure()
    first = code_map.labels.float().argmax(1)
    for c, name in enumerate(class_names):
        members = code_map.points[first == c]
        if len(members):
            fig.add_trace(
                go.Scattergl(
                    x=members[:, 0].tolist(),
                    y=members[:, 1].tolist(),
                    mode="markers",
                    name=name,
                    marker=dict(
                        size=4,
                        opacity=0.45,
                        color=(PALETTE + ["#777777", "#000000", "#A0522D", "#F0E442"])[c % 10],
                        symbol=MARKERS[c % len(MARKERS)],
                    ),
                )
            )
    if path is not None and len(path) > 1:
        fig.add_trace(
            go.Scatter(
                x=[p[0] for p in path],
                y=[p[1] for p in path],
                mode="lines",
                name="attack path",
                line=dict(color="#000000", width=2, dash="dot"),
            )
        )
    for label, (x, y) in (marks or {}).items():
        fig.add_trace(
            go.Scatter(
                x=[x],
                y=[y],
                mode="markers+text",
                name=label,
                text=[label],
                textposition="top center",
                marker=dict(size=16, symbol="star", color="#000000", line=dict(color="#FFFFFF", width=1.5)),
            )
        )
    fig.update_layout(
        **layout(
            title,
            height=560,
            xaxis_title=f"principal axis 1 ({code_map.explained[0]:.0%} of variance)",
            yaxis_title=f"principal axis 2 ({code_map.explained[1]:.0%})",
            legend=dict(orientation="h", yanchor="top", y=-0.2, x=0),
            margin=dict(l=60, r=20, t=50, b=60),
        )
    )
    return fig


def training_figure(epochs: list[dict], keys: dict[str, str], title: str, y_title: str) -> go.Figure:
    """Per-epoch values from a training log (one line per key the log has; `keys` maps log keys to legend names)."""
    fig = go.Figure()
    x = [e["epoch"] for e in epochs]
    present = {k: v for k, v in keys.items() if epochs and all(k in e for e in epochs)}
    for i, (key, name) in enumerate(present.items()):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[e[key] for e in epochs],
                name=name,
                mode="lines+markers",
                line=dict(color=PALETTE[i % len(PALETTE)], dash=DASHES[i % len(DASHES)], width=2.5),
                marker=dict(symbol=MARKERS[i % len(MARKERS)], size=7),
            )
        )
    fig.update_layout(
        **layout(
            title,
            xaxis_title="epoch",
            yaxis_title=y_title,
            height=420,
            legend=dict(orientation="h", yanchor="top", y=-0.25, x=0),
            margin=dict(l=60, r=20, t=60, b=90),
        )
    )
    return fig


def robustness_figure(rows: list, title: str = "") -> go.Figure:
    """MAP (t-MAP for targeted attacks) against eps (CurvePoints): colour and marker by attack, dash by model
    (PgA Fig. 5 style)."""
    fig = go.Figure()
    models = list(dict.fromkeys(r.model.source for r in rows))
    for model in models:
        for attack in dict.fromkeys(r.attack for r in rows if r.model.source == model):
            mine = [r for r in rows if r.model.source == model and r.attack == attack]
            look = style_for(attack)
            fig.add_trace(
                go.Scatter(
                    x=[r.eps for r in mine],
                    y=[r.value for r in mine],
                    mode="lines+markers",
                    name=f"{mine[0].title}, {mine[0].label}",
                    line=dict(color=look.color, dash=DASHES[models.index(model) % len(DASHES)], width=2.5),
                    marker=dict(symbol=look.symbol, size=8),
                )
            )
    return legend_below(fig, title, "epsilon (1/255)", "MAP / t-MAP", 460, 1.02)


def legend_below(fig: go.Figure, title: str, x_title: str, y_title: str, height: int, y_top: float) -> go.Figure:
    """The shared look of a y-in-[0, y_top] chart whose legend sits below the plot (long series names)."""
    fig.update_layout(
        **layout(
            title,
            xaxis_title=x_title,
            yaxis_title=y_title,
            height=height,
            legend=dict(orientation="h", yanchor="top", y=-0.2, x=0),
            margin=dict(l=60, r=20, t=60, b=60),
        )
    )
    fig.update_yaxes(range=[0, y_top])
    return fig


def frontier_figure(frontier, title: str = "") -> go.Figure:
    """t-MAP against RMSE (a Frontier): one line per iterative attack over eps (labelled with eps), one marker per
    ProS-GAN generator, the reconstruction floor as a dotted vertical line."""
    fig = go.Figure()
    for series in dict.fromkeys(p.series for p in frontier.points if p.eps is not None):
        mine = sorted((p for p in frontier.points if p.series == series), key=lambda p: p.rmse)
        look = style_for(mine[0].attack)
        fig.add_trace(
            go.Scatter(
                x=[p.rmse for p in mine],
                y=[p.t_map for p in mine],
                mode="lines+markers+text",
                text=[f"{p.eps:g}" for p in mine],
                textposition="top left",
                name=series + " (eps /255)",
                line=dict(color=look.color, dash=DASHES[len(fig.data) % len(DASHES)], width=2.5),
                marker=dict(symbol=MARKERS[len(fig.data) % len(MARKERS)], size=8),
            )
        )
    for i, g in enumerate(frontier.generators()):
        fig.add_trace(
            go.Scatter(
                x=[g.rmse],
                y=[g.t_map],
                mode="markers",
                name=g.series,
                marker=dict(color=PALETTE[(i + 1) % len(PALETTE)], symbol="star", size=16, line=dict(width=1)),
            )
        )
    fig.add_vline(x=frontier.floor, line=dict(color=CLEAN_COLOUR, dash="dot", width=1.5))
    fig.add_annotation(x=frontier.floor, y=1.0, text="reconstruction floor", showarrow=False, xanchor="left")
    title = title or f"t-MAP against RMSE, {frontier.queries} queries (ProS-GAN protocol)"
    return legend_below(fig, title, "RMSE on [0,1] pixels", "t-MAP (whole database)", 480, 1.05)


def breaking_figure(values: dict[str, Sequence[float]], largest: int, title: str = "") -> go.Figure:
    """How many queries each model (by label) loses at each budget: the distribution of the smallest breaking eps
    (queries still standing at the largest budget in their own bar, "> largest")."""
    fig = go.Figure()
    for i, (label, eps) in enumerate(values.items()):
        finite = [e for e in eps if e != float("inf")]
        counts = [sum(1 for e in finite if e == b) for b in range(largest + 1)] + [len(eps) - len(finite)]
        fig.add_trace(
            go.Bar(
                x=[str(b) for b in range(largest + 1)] + [f"> {largest}"],
                y=counts,
                name=label,
                marker_color=PALETTE[i % len(PALETTE)],
                marker_pattern_shape=["", "/", ".", "x", "-", "|"][i % 6],
            )
        )
    fig.update_layout(
        **layout(
            title,
            barmode="group",
            xaxis_title="smallest eps (1/255) with P@10 <= 0.2",
            yaxis_title="queries",
            height=400,
        )
    )
    return fig


def transfer_figure(result, title: str = "") -> go.Figure:
    """Sources by targets (a TransferResult): colour = the change from the target's clean value (Cividis, readable
    in grey), text = the value and that change."""
    rows = [*result.sources, *result.combined]
    targets = result.targets
    values = [[(result.values.get(r) or result.combined[r])[t] for t in targets] for r in rows]
    change = [[v - result.clean[t] for v, t in zip(line, targets, strict=True)] for line in values]
    text = [[f"{v:.3f}<br>({c:+.3f})" for v, c in zip(a, b, strict=True)] for a, b in zip(values, change, strict=True)]
    fig = go.Figure(
        go.Heatmap(
            z=change,
            x=[result.labels[t] for t in targets],
            y=[result.labels.get(r, r) for r in rows],
            text=text,
            texttemplate="%{text}",
            colorscale="Cividis",
            reversescale=not result.targeted,
            colorbar=dict(title="change"),
        )
    )
    metric = "t-MAP" if result.targeted else "MAP"
    fig.update_layout(
        **layout(
            title or f"{metric} on the attacked model (rows: where the perturbation was made)",
            height=140 + 60 * len(rows),
            xaxis_title="model attacked",
            yaxis_title="perturbation from",
            margin=dict(l=260, r=20, t=60, b=60),
        )
    )
    fig.update_yaxes(autorange="reversed")
    return fig


def static_export_available() -> bool:
    """kaleido needs a Chromium at run time (Debian's works); without one, use the chart's own download button."""
    return any(shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome"))


def for_print(fig: go.Figure, width_in: float | None = None, title: bool = True) -> go.Figure:
    """A copy sized for a paper: `width_in` inches wide (3.5 = one column, 7.2 = two) with text of at least
    7 pt, and without its title when asked (a caption usually replaces it)."""
    out = go.Figure(fig)
    if not title:
        out.update_layout(title=None, margin=dict(t=40))
    if width_in:
        pt = PX_PER_INCH / 72
        out.update_layout(
            width=width_in * PX_PER_INCH,
            height=width_in * PX_PER_INCH * 0.72,
            font=dict(size=max(PRINT_PT, 8) * pt),
            legend=dict(font=dict(size=PRINT_PT * pt)),
            margin=dict(l=45, r=10, t=40 if not title else 60, b=40),
        )
    return out


def to_image(fig: go.Figure, fmt: str, width_in: float | None = None, dpi: int = 300, title: bool = True) -> bytes:
    """SVG, PDF or PNG bytes of a chart. PNG carries its DPI: `dpi` when a print width is given, else a 3x
    render of the screen size at 288 dpi."""
    import plotly.io as pio

    printed = for_print(fig, width_in, title)
    scale = dpi / PX_PER_INCH if width_in else 3.0
    data = pio.to_image(printed, format=fmt, scale=scale if fmt == "png" else 1)
    if fmt != "png":
        return data
    buffer = io.BytesIO()
    Image.open(io.BytesIO(data)).save(buffer, format="PNG", dpi=(scale * PX_PER_INCH,) * 2)
    return buffer.getvalue()
