"""The robustness report as files: report.html (one self-contained page: styles, figures as inline SVG, nothing
fetched from any host), report.pdf (the same sections at print quality: 7.2 in figures, 7 pt text, vector) and
report.json (every number, with the settings and the model card). Written to a temporary name and renamed, so a
report on disk is a whole one; a partial report says on its first line which sections are missing.

The figures are drawn with matplotlib from the result types only, in the app's colour-blind-safe looks.
"""

from __future__ import annotations

import html
import io
import json
from pathlib import Path

from ..core.errors import InvalidInputError
from ..core.paths import write_atomic
from ..experiments.report import SECTIONS, RobustnessReport
from ..experiments.robustness import ENSEMBLE
from .charts import CLEAN_COLOUR, style_for
from .paper import PT, paper_figure

WIDTH_IN = 7.2  # two columns
HALF_IN = 3.5  # one column
PAGE_IN = (8.27, 11.69)  # A4
MARKS = {
    "circle": "o",
    "square": "s",
    "diamond": "D",
    "triangle-up": "^",
    "x": "x",
    "star": "*",
    "hexagon": "h",
    "cross": "P",
    "circle-open": "o",
}
DASHES = {"solid": "-", "dash": "--", "dot": ":"}
ATTACK_OF = {m.label: m.attack for m in ENSEMBLE}  # a member's colour is its attack's
CSS = """body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:60rem;margin:2rem auto;
padding:0 1rem;color:#222;line-height:1.45}h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px
solid #ddd}table{border-collapse:collapse;font-size:.85rem;margin:.6rem 0}th,td{border:1px solid #ccc;padding:.2rem
.5rem;text-align:right}th:first-child,td:first-child{text-align:left}.note{color:#555;font-size:.85rem}
.partial{background:#fff3cd;border:1px solid #e0c36a;padding:.6rem}code{font-size:.8rem;word-break:break-all}
figure{margin:.6rem 0}svg{max-width:100%;height:auto}"""


def rc():
    import matplotlib

    matplotlib.rcParams.update(
        {
            "pdf.fonttype": 42,
            "svg.fonttype": "path",
            "font.size": PT,
            "axes.titlesize": PT,
            "axes.labelsize": PT,
            "xtick.labelsize": PT,
            "ytick.labelsize": PT,
            "legend.fontsize": PT,
        }
    )
    from matplotlib.figure import Figure

    return Figure


def look(attack: str | None) -> dict:
    s = style_for(attack)
    return {"color": s.color, "marker": MARKS.get(s.symbol, "o"), "linestyle": DASHES.get(s.dash, "-")}


# ----- the figures -------------------------------------------------------------------------------------------------
def clean_figure(report: RobustnessReport, fig):
    clean = report.clean
    left, right = fig.subplots(1, 2)
    left.plot(clean.pr_recall, clean.pr_precision, color=CLEAN_COLOUR, marker="o", markersize=2.5, linewidth=1)
    left.set(
        xlabel="recall",
        ylabel="precision",
        title="Precision-recall (Hamming radius 0..K)",
        xlim=(0, 1.02),
        ylim=(0, 1.02),
    )
    ns = list(clean.precision_at)
    right.bar([str(n) for n in ns], [clean.precision_at[n] for n in ns], color=CLEAN_COLOUR)
    right.set(xlabel="N (top retrieved)", ylabel="precision", title="Precision@N", ylim=(0, 1.02))


def worst_figure(report: RobustnessReport, fig):
    bars, shares = fig.subplots(1, 2)
    labels = list(report.worst[0].member_maps)
    width = 0.8 / len(report.worst)
    for i, w in enumerate(report.worst):
        xs = [j + (i - (len(report.worst) - 1) / 2) * width for j in range(len(labels))]
        bars.bar(
            xs,
            [w.member_maps[m] for m in labels],
            width,
            label=f"{w.eps:g}/255",
            color=["#56B4E9", "#0072B2", "#000000"][i % 3],
        )
    bars.set_xticks(range(len(labels)), labels, rotation=35, ha="right")
    bars.set(ylabel="MAP under the member", title="Each member's MAP", ylim=(0, 1))
    bars.legend(frameon=False, ncols=len(report.worst), loc="lower left", bbox_to_anchor=(0, 1.08))
    for i, w in enumerate(report.worst):
        bottom = 0.0
        for m in labels:
            share = w.wins.get(m, 0.0) / max(sum(w.wins.values()), 1e-9)
            shares.bar(
                i,
                share,
                bottom=bottom,
                color=style_for(ATTACK_OF.get(m)).color,
                hatch="//" if "APGD" in m else None,
                edgecolor="white",
                label=m if i == 0 else None,
            )
            bottom += share
    shares.set_xticks(range(len(report.worst)), [f"{w.eps:g}/255\n{w.map:.3f}" for w in report.worst])
    shares.set(ylabel="share of the queries", title="Which member was worst per query (worst MAP)", ylim=(0, 1))
    shares.legend(frameon=False, bbox_to_anchor=(1.0, 1.0), loc="upper left")


def breaking_figure(report: RobustnessReport, fig):
    b = report.breaking
    ax = fig.subplots()
    finite = [e for e in b.eps if e != float("inf")]
    ax.hist(finite, bins=range(0, b.largest + 2), color="#0072B2", edgecolor="white", align="left")
    if b.median != float("inf"):
        ax.axvline(b.median, color="#D55E00", linestyle="--", linewidth=1.2, label=f"median {b.median:g}/255")
        ax.legend(frameon=False)
    standing = len(b.eps) - len(finite)
    ax.set(
        xlabel="smallest breaking epsilon (1/255)",
        ylabel="queries",
        title=f"Breaking budget ({standing} of {len(b.eps)} still standing at {b.largest}/255)",
    )


def curves_figure(report: RobustnessReport, fig):
    plain, targeted = fig.subplots(1, 2)
    for ax, wanted, what in ((plain, False, "MAP"), (targeted, True, "t-MAP")):
        titles = list(dict.fromkeys(c.title for c in report.curves if c.targeted == wanted))
        for title in titles:
            mine = sorted((c for c in report.curves if c.title == title), key=lambda c: c.eps)
            ax.plot(
                [c.eps for c in mine],
                [c.value for c in mine],
                label=title,
                linewidth=1.2,
                markersize=4,
                **look(mine[0].attack),
            )
        if not wanted and report.clean is not None:
            ax.axhline(report.clean.map, color=CLEAN_COLOUR, linewidth=0.8, linestyle=":", label="clean")
        ax.set(xlabel="epsilon (1/255)", ylabel=what, title=f"{what} against epsilon", ylim=(0, 1))
        ax.legend(frameon=False)


def transfer_figure(report: RobustnessReport, fig):
    t = report.transfer
    target = t.targets[0]
    ax = fig.subplots()
    names = ["clean queries", *(f"from {t.labels[s]}" for s in t.sources)]
    values = [t.clean[target], *(t.values[s][target] for s in t.sources)]
    ax.barh(names, values, color=[CLEAN_COLOUR, *["#009E73"] * len(t.sources)])
    ax.invert_yaxis()
    ax.set(xlabel="MAP of this model", xlim=(0, 1), title=f"{t.attack} at {t.eps:g}/255 made on other models")


# each section's chart: how to draw it, its printed size (inches) and its margins (fractions of that size)
CHARTS = {
    "clean": (clean_figure, lambda r: (WIDTH_IN, 2.2), dict(left=0.08, right=0.98, bottom=0.18, top=0.88, wspace=0.3)),
    "worst": (worst_figure, lambda r: (WIDTH_IN, 2.6), dict(left=0.08, right=0.82, bottom=0.3, top=0.8, wspace=0.35)),
    "breaking": (breaking_figure, lambda r: (HALF_IN, 2.2), dict(left=0.17, right=0.97, bottom=0.18, top=0.88)),
    "curves": (
        curves_figure,
        lambda r: (WIDTH_IN, 2.4),
        dict(left=0.08, right=0.98, bottom=0.17, top=0.89, wspace=0.3),
    ),
    "transfer": (
        transfer_figure,
        lambda r: (HALF_IN, 0.8 + 0.28 * (len(r.transfer.sources) + 1)),
        dict(left=0.45, right=0.95, bottom=0.3, top=0.85),
    ),
}


def figures(report: RobustnessReport) -> dict[str, object]:
    """Each computed section's chart as a matplotlib Figure of its printed size (for the HTML)."""
    Figure = rc()
    out = {}
    for name, (draw, size, margins) in CHARTS.items():
        if getattr(report, name) is not None:
            fig = Figure(figsize=size(report))
            draw(report, fig)
            fig.subplots_adjust(**margins)
            out[name] = fig
    return out


def svg(fig) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    text = buffer.getvalue()
    return text[text.index("<svg") :]


# ----- the tables ----------------------------------------------------------------------------------------------------
def tables(report: RobustnessReport) -> dict[str, list[tuple[list[str], list[list[str]]]]]:
    """Each section's tables as (header, rows) of text, shared by the HTML and the PDF."""
    card = report.model
    out: dict[str, list] = {
        "card": [
            (
                ["field", "value"],
                [[k, "-" if v is None else str(v)] for k, v in card.describe().items()]
                + [
                    ["image size", str(card.image_size)],
                    ["queries", str(report.queries)],
                    ["clean MAP when written", str(card.clean_map)],
                ],
            )
        ]
    }
    if report.clean is not None:
        c = report.clean
        out["clean"] = [
            (
                ["MAP@" + str(c.topk), *(f"P@{n}" for n in c.precision_at)],
                [[f"{c.map:.4f}", *(f"{p:.4f}" for p in c.precision_at.values())]],
            )
        ]
    if report.worst is not None:
        labels = list(report.worst[0].member_maps)
        head = ["eps (1/255)", "worst-case MAP", *(f"{m} MAP (share)" for m in labels)]
        rows = [
            [f"{w.eps:g}", f"{w.map:.4f}", *(f"{w.member_maps[m]:.4f} ({w.wins[m]:g})" for m in labels)]
            for w in report.worst
        ]
        out["worst"] = [(head, rows)]
    if report.breaking is not None:
        b = report.breaking
        standing = sum(e == float("inf") for e in b.eps)
        out["breaking"] = [
            (
                ["median (1/255)", "queries", f"standing at {b.largest}/255", "rule"],
                [[f"{b.median:g}", str(len(b.eps)), str(standing), b.rule]],
            )
        ]
    if report.curves is not None:
        out["curves"] = [
            (
                ["member", "eps (1/255)", "MAP / t-MAP", "targeted"],
                [[c.title, f"{c.eps:g}", f"{c.value:.4f}", "t-MAP" if c.targeted else "MAP"] for c in report.curves],
            )
        ]
    if report.transfer is not None:
        t = report.transfer
        target = t.targets[0]
        out["transfer"] = [
            (
                ["perturbation made on", "MAP of this model", "change from clean"],
                [["clean queries", f"{t.clean[target]:.4f}", ""]]
                + [[t.labels[s], f"{t.values[s][target]:.4f}", f"{-t.change(s, target):+.4f}"] for s in t.sources],
            )
        ]
    if report.examples is not None:
        out["examples"] = [
            (
                ["query", "why", "worst-case AP", "attack", "P@10 before -> after", "RMSE"],
                [
                    [
                        e.run.request.query,
                        e.role,
                        f"{e.worst_ap:.4f}",
                        e.run.attack.title,
                        f"{e.run.numbers.p_clean:.2f} -> {e.run.numbers.p_adv:.2f}",
                        f"{e.run.numbers.perceptibility_rmse:.4f}",
                    ]
                    for e in report.examples
                ],
            )
        ]
    p = report.provenance
    out["provenance"] = [
        (
            ["what", "value"],
            [["command", report.command], ["protocol", report.choices.protocol], *[[k, str(v)] for k, v in p.items()]],
        )
    ]
    return out


TEXT = {
    "card": "What was attacked: the model card (its weights digest hashes the weight tensors, so it names this model "
    "wherever the folder lies).",
    "clean": "The model's own retrieval on the report's queries, before any attack.",
    "worst": "Per query the lowest AP@K over the ensemble counts; a query where several members tie is shared among "
    "them (the share column adds up to the queries).",
    "breaking": "Per query the smallest L-inf budget at which PgA (from the clean image) brings its P@10 to 0.2 or "
    "less, found by bisection.",
    "curves": "Each member alone at each budget: MAP for the non-targeted members (lower = stronger), t-MAP for the "
    "targeted ones (higher = stronger).",
    "transfer": "Perturbations computed on other zoo models (other networks or losses) and sent to this one: a "
    "black-box attack. A drop from the clean value means they carry over.",
    "examples": "The query the ensemble hurt most and the one it hurt least at the middle budget, each attacked again "
    "in the Attack Lab by the member that did worst on it, at the same target (one image, so its random start is "
    "the Lab's, not its batch's: its numbers may differ a little from the ensemble's).",
    "provenance": "The command below reproduces every number of this report (finished batches come from the cache).",
}


# ----- HTML ----------------------------------------------------------------------------------------------------------
def table_html(head: list[str], rows: list[list[str]]) -> str:
    cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{cells}</tr>{body}</table>"


def to_html(report: RobustnessReport, system=None) -> str:
    figs, tabs = figures(report), tables(report)
    title = f"Robustness report: {report.model.label}"
    parts = [
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>"
    ]
    if not report.complete:
        parts.append(
            f"<p class='partial'><b>Partial report</b>: missing {', '.join(report.missing)}. Run the "
            "command at the end again to complete it (finished batches are cached).</p>"
        )
    parts.append(
        "<p class='note'>" + " · ".join(f"<a href='#{n}'>{html.escape(t)}</a>" for n, t in SECTIONS.items()) + "</p>"
    )
    for name, heading in SECTIONS.items():
        parts.append(f"<h2 id='{name}'>{html.escape(heading)}</h2>")
        if name not in tabs and name not in figs:
            parts.append("<p class='partial'>Not computed yet.</p>")
            continue
        parts.append(f"<p class='note'>{html.escape(TEXT[name])}</p>")
        for head, rows in tabs.get(name, []):
            parts.append(table_html(head, rows))
        if name in figs:
            parts.append(f"<figure>{svg(figs[name])}</figure>")
        if name == "examples" and report.examples and system is not None:
            for example in report.examples:
                picture = paper_figure(system, example.run, WIDTH_IN, "svg").decode()
                parts.append(
                    f"<figure>{picture[picture.index('<svg') :]}<figcaption class='note'>"
                    f"{html.escape(example.role)}: {html.escape(example.run.query_caption)}</figcaption></figure>"
                )
    parts.append("</body></html>")
    return "\n".join(parts)


# ----- PDF -----------------------------------------------------------------------------------------------------------
def to_pdf(report: RobustnessReport, system=None) -> bytes:
    """Each section on an A4 page: its heading, text and tables, then its chart drawn on the page at its printed
    width (vector), the examples' figures at 300 dpi."""
    Figure = rc()
    from matplotlib.backends.backend_pdf import PdfPages

    tabs = tables(report)
    buffer = io.BytesIO()
    with PdfPages(buffer, metadata={"Title": f"hashdemo robustness report: {report.model.label}"}) as pdf:
        for name, heading in SECTIONS.items():
            page = Figure(figsize=PAGE_IN)
            y = 0.95
            if name == "card":
                page.text(0.08, y, f"Robustness report: {report.model.label}", fontsize=14, weight="bold")
                y -= 0.03
                if not report.complete:
                    missing = f"Partial report: missing {', '.join(report.missing)}"
                    page.text(0.08, y, missing, fontsize=PT + 1, color="#a05a00")
                    y -= 0.025
            page.text(0.08, y, heading, fontsize=11, weight="bold")
            y -= 0.025
            computed = name in tabs or getattr(report, name, None) is not None
            page.text(0.08, y, TEXT[name] if computed else "Not computed yet.", fontsize=PT + 1, wrap=True)
            y -= 0.03
            for head, rows in tabs.get(name, []):
                y = pdf_table(page, head, rows, y)
            if name in CHARTS and getattr(report, name) is not None:
                y = pdf_chart(page, report, name, y)
            for picture in example_figures(report, system, name):
                width, height = picture.get_size_inches()
                top = y * PAGE_IN[1]
                if top - height < 0.4:
                    pdf.savefig(page)
                    page, top = Figure(figsize=PAGE_IN), PAGE_IN[1] - 0.6
                ax = page.add_axes(place(width, height, top))
                ax.axis("off")
                ax.imshow(picture, interpolation="lanczos")
                y = (top - height - 0.15) / PAGE_IN[1]
            pdf.savefig(page)
    return buffer.getvalue()


def place(width: float, height: float, top: float) -> tuple[float, float, float, float]:
    """A box of `width` x `height` inches, centred, its top `top` inches above the page's bottom."""
    return ((PAGE_IN[0] - width) / 2 / PAGE_IN[0], (top - height) / PAGE_IN[1], width / PAGE_IN[0], height / PAGE_IN[1])


def pdf_chart(page, report: RobustnessReport, name: str, y: float) -> float:
    """The section's chart drawn into a sub-figure of the page at its printed size; returns the y below it."""
    draw, size, margins = CHARTS[name]
    width, height = size(report)
    top = y * PAGE_IN[1]
    side = (PAGE_IN[0] - width) / 2
    grid = page.add_gridspec(
        3,
        3,
        height_ratios=[PAGE_IN[1] - top, height, max(top - height, 0.01)],
        width_ratios=[side, width, side],
        left=0,
        right=1,
        bottom=0,
        top=1,
        hspace=0,
        wspace=0,
    )
    sub = page.add_subfigure(grid[1, 1])
    draw(report, sub)
    sub.subplots_adjust(**margins)
    return (top - height - 0.15) / PAGE_IN[1]


def example_figures(report: RobustnessReport, system, name: str) -> list:
    """The examples' paper figures as images (300 dpi) to place on a page, in their printed size."""
    if name != "examples" or not report.examples or system is None:
        return []
    from PIL import Image

    return [
        Picture(Image.open(io.BytesIO(paper_figure(system, example.run, WIDTH_IN, "png"))).convert("RGB"))
        for example in report.examples
    ]


class Picture:
    """A 300-dpi image with its printed size (what a page places)."""

    def __init__(self, image):
        self.image = image

    def get_size_inches(self) -> tuple[float, float]:
        return self.image.width / 300, self.image.height / 300

    def __array__(self, dtype=None, copy=None):
        import numpy as np

        return np.asarray(self.image, dtype=dtype)


def pdf_table(page, head: list[str], rows: list[list[str]], y: float) -> float:
    """A table as monospaced text lines (columns padded to their widest cell); returns the y below it."""
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    cap = 120 // max(len(head), 1)
    line = lambda cells: "  ".join(str(c)[:cap].ljust(min(w, cap)) for c, w in zip(cells, widths, strict=True))
    text = "\n".join([line(head), *(line(r) for r in rows)])
    page.text(0.08, y, text, fontsize=PT - 0.5, family="monospace", va="top")
    return y - 0.014 * (len(rows) + 1) - 0.02


# ----- the files -----------------------------------------------------------------------------------------------------
def writable(out: Path) -> Path:
    """`out` created if need be, and proved writable (an InvalidInputError in one line otherwise)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".hashdemo-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise InvalidInputError(f"cannot write to {out}: {exc.strerror or exc}") from None
    return out


def write_report(report: RobustnessReport, out: Path, system=None) -> dict[str, Path]:
    """report.html, report.pdf and report.json in `out` (created); an unwritable folder is one clear error."""
    out = writable(Path(out))
    files = {"html": out / "report.html", "pdf": out / "report.pdf", "json": out / "report.json"}
    write_atomic(files["json"], lambda p: p.write_text(json.dumps(report.to_json(), indent=2, default=str)))
    write_atomic(files["html"], lambda p: p.write_text(to_html(report, system)))
    write_atomic(files["pdf"], lambda p: p.write_bytes(to_pdf(report, system)))
    return files
