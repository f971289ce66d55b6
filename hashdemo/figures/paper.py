"""The Attack Lab's figure for a paper: original | adversarial | perturbation, the codes, both top-k lists and a
caption, drawn once with matplotlib at a column width and saved as PNG (with its DPI), PDF or SVG.

Text is 7 pt at the printed size; SVG text is converted to paths and PDF embeds its TrueType font, so the
figure reads the same on any machine. Colours follow the app: blue solid + check = relevant, orange dashed +
cross = not, a black T = carries the target label.
"""

from __future__ import annotations

import io
import textwrap

import numpy as np

from ..experiments.lab import LabRun, Retrieval
from ..systems.system import HashingSystem
from . import panels

WIDTHS = {"3.5 in (one column)": 3.5, "7.2 in (two columns)": 7.2}
FORMATS = {"png": "image/png", "pdf": "application/pdf", "svg": "image/svg+xml"}
PT = 7  # every text in the figure, at the printed size
GAP = 0.06  # inches between rows


def rgb(colour: tuple[int, int, int]) -> tuple[float, float, float]:
    return tuple(c / 255 for c in colour)


def paper_figure(
    system: HashingSystem,
    run: LabRun,
    width_in: float = 7.2,
    fmt: str = "png",
    dpi: int = 300,
    k: int | None = None,
    text_as_paths: bool = True,
) -> bytes:
    """The figure `width_in` inches wide (3.5 = one column, 7.2 = two) as PNG at `dpi`, PDF or SVG bytes.

    SVG text becomes paths (text_as_paths=False keeps it as <text>, which needs the font on the reader's machine)."""
    import matplotlib

    matplotlib.rcParams["pdf.fonttype"] = 42  # TrueType in the PDF: text stays text
    matplotlib.rcParams["svg.fonttype"] = "path" if text_as_paths else "none"
    from matplotlib.figure import Figure

    r, s, n = run.result, run.settings, run.numbers
    k = min(k or len(run.clean.indices), len(run.clean.indices))
    per_row = 10 if width_in >= 5 else 5
    tile = (width_in - 0.1) / per_row * 0.82
    grid_rows = -(-k // per_row)
    panel = min(1.45, (width_in - 0.2) / 3 * 0.8)
    code_rows = 2 + (r.target_codes is not None)
    strip_h = 0.075 * -(-r.clean_codes.shape[1] // 32)
    caption = caption_lines(system, run, width_in)
    rows = (
        [("images", panel + 0.16)]
        + [("code", strip_h + 0.14)] * code_rows
        + [("grid-title", 0.12), ("grid", grid_rows * (tile + 0.16))] * 2
        + [("caption", len(caption) * PT / 72 * 1.3 + 0.04)]
    )
    height = sum(h for _, h in rows) + GAP * (len(rows) + 1)
    fig = Figure(figsize=(width_in, height), dpi=dpi)
    cursor = GAP

    def axes(x: float, y: float, w: float, h: float):
        ax = fig.add_axes((x / width_in, 1 - (y + h) / height, w / width_in, h / height))
        ax.set_xticks([])
        ax.set_yticks([])
        return ax

    scale = panels.perturbation_scale(s.budget.eps, float(r.linf[0]))
    delta = r.perturbation[0].cpu().numpy()
    gain = 0.5 / scale
    left = (width_in - 3 * panel - 0.3) / 2
    codes = [
        ("clean code", r.clean_codes[0], None),
        (
            f"adversarial code ({n.hamming_clean_adv} of {system.bits} bits flipped, framed)",
            r.adversarial_codes[0],
            r.clean_codes[0],
        ),
    ]
    if r.target_codes is not None:
        kind = run.attack.target_kind or "target"
        codes.append((f"{kind} code ({n.hamming_target_adv} bits from the adversarial code)", r.target_codes[0], None))
    grids = [(f"top-{k}, original query", run.clean), (f"top-{k}, adversarial query", run.adversarial)]
    for kind, h in rows:
        if kind == "images":
            for i, (title, image) in enumerate(
                (("original", r.images[0]), ("adversarial", r.adversarial[0]), (f"perturbation x{gain:.1f}", None))
            ):
                ax = axes(left + i * (panel + 0.15), cursor, panel, panel)
                if image is None:
                    ax.imshow(
                        np.clip(delta.mean(0) * gain, -0.5, 0.5),
                        cmap="RdBu_r",
                        vmin=-0.5,
                        vmax=0.5,
                        interpolation="nearest",
                    )
                else:
                    ax.imshow(
                        image.permute(1, 2, 0).numpy().squeeze(), cmap="gray", vmin=0, vmax=1, interpolation="nearest"
                    )
                ax.set_xlabel(title, fontsize=PT, labelpad=1.5)
        elif kind == "code":
            title, code, reference = codes.pop(0)
            draw_code(axes(0.05, cursor + 0.11, width_in - 0.1, strip_h), code, reference, title)
        elif kind == "grid-title":
            title, ret = grids[0]
            fig.text(0.05 / width_in, 1 - (cursor + 0.1) / height, title, fontsize=PT, weight="bold")
        elif kind == "grid":
            title, ret = grids.pop(0)
            draw_grid(system, ret, k, per_row, tile, cursor, axes)
        else:
            fig.text(
                0.05 / width_in,
                1 - (cursor + 0.02) / height,
                "\n".join(caption),
                fontsize=PT,
                va="top",
                color=rgb(panels.MUTED),
                linespacing=1.3,
            )
        cursor += h + GAP
    buffer = io.BytesIO()
    fig.savefig(
        buffer,
        format=fmt,
        dpi=dpi,
        metadata={"Title": f"hashdemo: {r.attack} on {system.name}"} if fmt == "pdf" else None,
    )
    return buffer.getvalue()


def draw_code(ax, code, reference, title: str) -> None:
    """A code as cells (+1 dark, -1 light), 32 per row; bits that differ from `reference` framed vermillion."""
    from matplotlib.patches import Rectangle

    bits = code.numpy().astype(float)
    per = min(32, len(bits))
    grid = np.full(-(-len(bits) // per) * per, np.nan)
    grid[: len(bits)] = bits
    grid = grid.reshape(-1, per)
    ax.pcolormesh(grid, cmap="Greys", vmin=-1.6, vmax=1.2, edgecolors="white", linewidth=0.6)
    ax.set_xlim(0, per)
    ax.set_ylim(grid.shape[0], 0)
    if reference is not None:
        for i in np.nonzero(code.numpy() != reference.numpy())[0]:
            row, col = divmod(int(i), per)
            ax.add_patch(
                Rectangle((col + 0.08, row + 0.1), 0.84, 0.8, fill=False, lw=1.2, edgecolor=rgb(panels.FLIPPED))
            )
    ax.set_title(title, fontsize=PT, loc="left", pad=1.5)
    for spine in ax.spines.values():
        spine.set_visible(False)


def draw_grid(system: HashingSystem, ret: Retrieval, k: int, per_row: int, tile: float, top: float, axes) -> None:
    """k retrieved items as framed tiles with a check or cross, a T for the target label, d under each."""
    images = system.dataset.database.images(ret.indices[:k])
    step = tile / 0.82
    for i in range(k):
        row, col = divmod(i, per_row)
        ax = axes(0.05 + col * step, top + row * (tile + 0.16), tile, tile)
        ax.imshow(images[i].permute(1, 2, 0).numpy().squeeze(), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        relevant = bool(ret.relevant[i])
        colour = rgb(panels.RELEVANT if relevant else panels.IRRELEVANT)
        for spine in ax.spines.values():
            spine.set_edgecolor(colour)
            spine.set_linewidth(1.6)
            spine.set_linestyle("-" if relevant else (0, (2, 1.2)))
        ax.text(
            0.02,
            0.98,
            "\u2713" if relevant else "\u2717",
            transform=ax.transAxes,
            fontsize=PT,
            va="top",
            ha="left",
            color="white" if relevant else "black",
            weight="bold",
            bbox=dict(boxstyle="square,pad=0.1", fc=colour, ec="none"),
        )
        if ret.target_hit is not None and bool(ret.target_hit[i]):
            ax.text(
                0.98,
                0.98,
                "T",
                transform=ax.transAxes,
                fontsize=PT,
                va="top",
                ha="right",
                color="white",
                weight="bold",
                bbox=dict(boxstyle="square,pad=0.1", fc="black", ec="none"),
            )
        ax.set_xlabel(f"d = {int(ret.distances[i])}", fontsize=PT, labelpad=1)


def caption_lines(system: HashingSystem, run: LabRun, width_in: float) -> list[str]:
    """The settings and the reading key, wrapped to the figure's width (7 pt DejaVu: about 19 characters/in)."""
    d, n = run.system, run.numbers
    parts = [
        f"{d['model']} ({d['dataset']}, {d['split']}; {d['backbone']} {d['method']} {d['bits']} bits; weights "
        f"{d['weights']}; {d['device']}, torch {d['torch']})",
        f"{run.attack.title}: {run.settings.describe()}",
        f"perceptibility (RMSE) {n.perceptibility_rmse:.4f}, L-inf {n.linf_255:.2f}/255",
    ]
    if run.target_caption:
        parts.append(f"target label: {run.target_caption}")
    full = "+-eps" if run.attack.uses_budget else "+-eps of the budget (beyond it, full colour)"
    key = (
        f"Perturbation: red brightened, blue darkened, {full} = full scale. Frames: blue solid with a check = "
        "shares a label with the query; orange dashed with a cross = does not"
        + ("; T = carries the target label" if run.result.target_labels is not None else "")
        + "; d = Hamming distance."
    )
    width = int(width_in * 19)
    return [line for part in parts + [key] for line in textwrap.wrap(part, width)]
