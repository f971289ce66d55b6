"""The Attack Lab's figure for a paper: original | adversarial | perturbation, code strips, both top-k grids."""

from __future__ import annotations

import io

from PIL import Image

from ..budget import UNIT
from ..lab import LabRun
from ..system import HashingSystem
from . import panels


def paper_figure(system: HashingSystem, run: LabRun, k: int | None = None, dpi: int = 300) -> bytes:
    """PNG at `dpi`: original | adversarial | amplified perturbation, code strips, both top-k grids, caption."""
    r = run.result
    size = 168
    eps = run.settings["eps"] * UNIT
    perturbation, gain = panels.perturbation_image(r.perturbation[0], eps)
    images = panels.stack(
        [
            panels.caption_below(panels.upscale(panels.to_pil(r.images[0]), size), ["original"]),
            panels.caption_below(panels.upscale(panels.to_pil(r.adversarial[0]), size), ["adversarial"]),
            panels.caption_below(
                panels.stamp(panels.upscale(perturbation, size), f"x{gain:.1f}"), [f"perturbation x{gain:.1f}"]
            ),
        ],
        "horizontal",
        gap=16,
    )
    strips = [
        panels.titled(panels.code_strip(r.clean_codes[0]), "clean code"),
        panels.titled(
            panels.code_strip(r.adversarial_codes[0], r.clean_codes[0]),
            f"adversarial code ({run.numbers['hamming_clean_adv']} bits flipped, red)",
        ),
    ]
    if r.target_codes is not None:
        strips.append(panels.titled(panels.code_strip(r.target_codes[0]), "target code"))
    k = k or len(run.clean.indices)
    db = system.dataset.database
    grids = [
        panels.titled(
            panels.retrieval_grid(
                db.images(ret.indices[:k]),
                ret.relevant[:k].tolist(),
                ret.distances[:k].tolist(),
                None if ret.target_hit is None else ret.target_hit[:k].tolist(),
                tile=56,
            ),
            title,
        )
        for ret, title in ((run.clean, f"top-{k}, original query"), (run.adversarial, f"top-{k}, adversarial query"))
    ]
    s = run.settings
    caption = (
        f"{s['model']} | {r.attack} | eps {s['eps']:g}/255, step {s['step']:g}/255, T = {s['steps']}, "
        f"seed {s['seed']} | Hamming {run.numbers['hamming_clean_adv']} bits | perceptibility (RMSE) "
        f"{run.numbers['perceptibility_rmse']:.4f}"
    )
    if "target_label" in s:
        caption += f" | target: {s['target_label']}"
    figure = panels.stack([images, panels.stack(strips, gap=6), *grids])
    legend = "frames: green = shares a label with the query, red = does not"
    if r.target_labels is not None:
        legend += "; T = carries the target label"
    figure = panels.caption_below(figure, [caption, legend + "; d = Hamming distance"], size=12, color=panels.MUTED)
    canvas = Image.new("RGB", (figure.width + 40, figure.height + 40), panels.PAPER)
    canvas.paste(figure, (20, 20))
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG", dpi=(dpi, dpi))
    return buffer.getvalue()
