"""The Attack Lab's computation for one query: attack, retrieval lists, per-query numbers, paper figure.

The Streamlit page only reads controls and shows what this module returns.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from . import attacks, metrics
from .attacks import AttackResult
from .errors import InvalidInputError
from .figures import panels
from .progress import Progress, silent
from .retrieval import rank
from .system import HashingSystem

UNIT = 1 / 255
MAX_UPLOAD_BYTES = 20 * 2**20
MAX_UPLOAD_PIXELS = 40_000_000


@dataclass
class Retrieval:
    """The top-k database items for one code."""

    indices: torch.Tensor
    distances: torch.Tensor
    relevant: torch.Tensor  # shares a label with the query
    target_hit: torch.Tensor | None  # carries the target label (targeted attacks)


@dataclass
class LabRun:
    settings: dict
    result: AttackResult
    clean: Retrieval
    adversarial: Retrieval
    numbers: dict = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {
                "settings": self.settings,
                "numbers": self.numbers,
                "clean_code": self.result.clean_codes[0].tolist(),
                "adversarial_code": self.result.adversarial_codes[0].tolist(),
                "target_code": None if self.result.target_codes is None else self.result.target_codes[0].tolist(),
            },
            indent=2,
        )


def retrieve(
    system: HashingSystem, code: torch.Tensor, labels: torch.Tensor | None, target_labels: torch.Tensor | None, k: int
) -> Retrieval:
    idx, dist = rank(code[None], system.database_codes, topk=k)
    db_labels = system.dataset.database.labels[idx[0]].float()
    relevant = (db_labels @ labels[0].float() > 0) if labels is not None else torch.zeros(len(idx[0]), dtype=torch.bool)
    hit = (db_labels @ target_labels[0].float() > 0) if target_labels is not None else None
    return Retrieval(idx[0], dist[0], relevant, hit)


def query_numbers(system: HashingSystem, result: AttackResult, labels, k: int) -> dict:
    """Per-query numbers before and after: AP@k, precision@k (and against the target), bits flipped, perceptibility."""
    common = {"database_codes": system.database_codes, "database_labels": system.dataset.database.labels}
    out = {"hamming_clean_adv": int(result.hamming[0]), "k": k}
    for name, codes in (("clean", result.clean_codes), ("adv", result.adversarial_codes)):
        if labels is not None:
            out[f"ap_{name}"] = float(
                metrics.average_precision(query_codes=codes, query_labels=labels, topk=k, **common)[0]
            )
            out[f"p_{name}"] = float(metrics.precision_at(query_codes=codes, query_labels=labels, ns=(k,), **common)[0])
        if result.target_labels is not None:
            out[f"t_ap_{name}"] = float(
                metrics.average_precision(query_codes=codes, query_labels=result.target_labels, topk=k, **common)[0]
            )
            out[f"t_p_{name}"] = float(
                metrics.precision_at(query_codes=codes, query_labels=result.target_labels, ns=(k,), **common)[0]
            )
    if result.target_codes is not None:
        out["hamming_target_clean"] = int((result.clean_codes[0] != result.target_codes[0]).sum())
        out["hamming_target_adv"] = int((result.adversarial_codes[0] != result.target_codes[0]).sum())
    out.update(
        {
            "perceptibility_rmse": float(result.perceptibility_rmse[0]),
            "perceptibility_mse": float(result.perceptibility_mse[0]),
            "linf_255": float(result.linf[0]) / UNIT,
            "seconds": result.seconds,
            "setup_seconds": result.setup_seconds,
        }
    )
    return out


@contextmanager
def one_thread() -> Iterator[None]:
    """One intra-op thread while attacking a single image: off the main thread (as in Streamlit) two threads
    made a 100-step attack 2.7x slower on this 2-core CPU (0.26 s against 0.13 s, bench/lab_latency.py)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def run_lab(
    system: HashingSystem,
    attack_name: str,
    image: torch.Tensor,
    labels: torch.Tensor | None,
    *,
    target_labels: torch.Tensor | None = None,
    eps: float = 16,
    alpha: float = 1,
    steps: int = 100,
    seed: int = 0,
    k: int = 10,
    params: dict | None = None,
    extra: dict | None = None,
    progress: Progress = silent,
) -> LabRun:
    """Attack one query image (1, C, H, W) with eps and alpha in 1/255 units; rank both codes."""
    if not 1 <= k <= len(system.dataset.database):
        raise InvalidInputError(f"k must be between 1 and {len(system.dataset.database)}")
    attack = attacks.get(
        attack_name, system, eps=eps * UNIT, alpha=alpha * UNIT, steps=steps, seed=seed, **(params or {})
    )
    with one_thread():
        result = attack(image, labels, target_labels if attack.targeted else None, progress=progress)
    target = result.target_labels
    settings = {
        "model": system.spec,
        "attack": attack_name,
        "eps_255": eps,
        "alpha_255": alpha,
        "steps": steps,
        "seed": seed,
        "k": k,
        "params": attack.settings(),
        **(extra or {}),
    }
    if target is not None:
        settings["target_label"] = system.dataset.label_names(target[0])
    return LabRun(
        settings,
        result,
        retrieve(system, result.clean_codes[0], labels, target, k),
        retrieve(system, result.adversarial_codes[0], labels, target, k),
        query_numbers(system, result, labels, k),
    )


# ----- uploads -----------------------------------------------------------------------------------------
@dataclass
class Upload:
    tensor: torch.Tensor  # (1, C, H, W) in [0,1], the dataset's format
    original: Image.Image  # a thumbnail of what was uploaded
    converted: Image.Image  # what the model sees
    steps: list[str]  # the conversion, in words


def convert_upload(data: bytes, shape: tuple[int, int, int], invert: bool | None = None) -> Upload:
    """Any common image file -> the dataset's format (channels, size); every step is reported.

    invert=None decides by the border: Fashion-MNIST items are light on a black background, so a photo on a
    light background is inverted.
    """
    if not data:
        raise InvalidInputError("the uploaded file is empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInputError(f"the file is {len(data) / 2**20:.1f} MB; the limit is {MAX_UPLOAD_BYTES // 2**20} MB")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.width * probe.height > MAX_UPLOAD_PIXELS:
                raise InvalidInputError(
                    f"the image is {probe.width}x{probe.height} pixels; the limit is "
                    f"{MAX_UPLOAD_PIXELS // 1_000_000} megapixels"
                )
            probe.verify()
        image = Image.open(io.BytesIO(data))
        image.load()
    except InvalidInputError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidInputError(f"not a readable image file ({type(exc).__name__}: {exc})") from exc
    steps = [f"read {image.format or 'image'} {image.width}x{image.height}, mode {image.mode}"]
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image.convert("RGBA")).convert("RGB")
        steps.append("transparency composited on white")
    elif image.mode == "CMYK":
        image = image.convert("RGB")
        steps.append("CMYK converted to RGB")
    elif image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
        steps.append("converted to RGB")
    original = image.copy()
    original.thumbnail((256, 256))
    channels, height, width = shape
    if channels == 1 and image.mode != "L":
        image = image.convert("L")
        steps.append("converted to grey (ITU-R 601 luma)")
    elif channels == 3 and image.mode != "RGB":
        image = image.convert("RGB")
        steps.append("grey repeated on three channels")
    side = min(image.size)
    if image.width != image.height:
        left, top = (image.width - side) // 2, (image.height - side) // 2
        image = image.crop((left, top, left + side, top + side))
        steps.append(f"centre-cropped to {side}x{side}")
    image = image.resize((width, height), Image.LANCZOS)
    steps.append(f"resized to {width}x{height}")
    tensor = torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0)
    tensor = tensor[None] if tensor.ndim == 2 else tensor.permute(2, 0, 1)
    if invert is None:
        border = torch.cat([tensor[:, 0], tensor[:, -1], tensor[:, :, 0], tensor[:, :, -1]], dim=1)
        invert = channels == 1 and float(border.mean()) > 0.5
    if invert:
        tensor = 1 - tensor
        steps.append("inverted (Fashion-MNIST items are light on black)")
    return Upload(tensor[None].clamp(0, 1), original, panels.to_pil(tensor), steps)


# ----- the figure for a paper ----------------------------------------------------------------------------
def paper_figure(system: HashingSystem, run: LabRun, k: int | None = None, dpi: int = 300) -> bytes:
    """PNG at `dpi`: original | adversarial | amplified perturbation, code strips, both top-k grids, caption."""
    r = run.result
    size = 168
    eps = run.settings["eps_255"] * UNIT
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
        f"{s['model']} | {r.attack} | eps {s['eps_255']:g}/255, step {s['alpha_255']:g}/255, T = {s['steps']}, "
        f"seed {s['seed']} | Hamming {run.numbers['hamming_clean_adv']} bits | RMSE (HAG) "
        f"{run.numbers['perceptibility_rmse']:.4f}, MSE (ProS-GAN) {run.numbers['perceptibility_mse']:.5f}"
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
