"""Image panels built with Pillow: upscaled images, amplified perturbations, code strips, retrieval grids."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from ..data.pil import to_pil

# Okabe-Ito blue and orange: they differ in lightness under every colour-vision deficiency (L* 44 vs 73 in a
# deuteranopia simulation, tested); frames also differ by line (solid / dashed) and by a mark (check / cross).
RELEVANT, IRRELEVANT, FLIPPED = (0, 114, 178), (230, 159, 0), (213, 94, 0)
INK, PAPER, MUTED = (20, 20, 20), (255, 255, 255), (110, 110, 110)


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def font(size: int = 14) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def upscale(image: Image.Image, size: int) -> Image.Image:
    """Nearest-neighbour upscaling to `size` pixels wide, so each pixel stays a crisp square."""
    factor = max(1, size // image.width)
    return image.resize((image.width * factor, image.height * factor), Image.NEAREST)


def perturbation_scale(eps: float, linf: float) -> float:
    """The perturbation's full scale (the value drawn at full colour): +-eps of the page's budget, for every
    attack alike, so that one amplification serves every panel and a larger perturbation looks larger (an
    unbounded ProS-GAN's saturates); the largest change when there is no budget. Every view uses this rule."""
    return eps if eps > 0 else (linf or 1.0)


def perturbation_image(delta: torch.Tensor, eps: float) -> tuple[Image.Image, float]:
    """Perturbation amplified so +-eps spans the full range: grey images on a blue-white-red scale,
    colour images as 0.5 + delta * gain per channel. Returns (image, gain)."""
    gain = 0.5 / eps if eps > 0 else 1.0
    d = (delta.detach().cpu() * gain).clamp(-0.5, 0.5)
    if d.shape[0] == 1:
        v = d[0].numpy()
        rgb = np.stack([1 - np.clip(-2 * v, 0, 1), 1 - 2 * np.abs(v), 1 - np.clip(2 * v, 0, 1)], axis=2)
        return Image.fromarray((rgb.clip(0, 1) * 255).round().astype(np.uint8), "RGB"), gain
    return to_pil(d + 0.5), gain


def wrap(text: str, width: float, f: ImageFont.FreeTypeFont, separator: str = " | ") -> list[str]:
    """Split text into lines no wider than `width` pixels, breaking at separators, then at spaces."""
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1))).textlength
    lines: list[str] = []
    for part in text.split(separator):
        candidate = f"{lines[-1]}{separator}{part}" if lines else part
        if lines and measure(candidate, font=f) <= width:
            lines[-1] = candidate
            continue
        words, current = part.split(" "), ""
        for word in words:
            trial = f"{current} {word}".strip()
            if current and measure(trial, font=f) > width:
                lines.append(current)
                current = word
            else:
                current = trial
        lines.append(current)
    return lines


def caption_below(image: Image.Image, lines: Sequence[str], size: int = 14, color=INK) -> Image.Image:
    """The image with centred text lines under it (long lines wrapped to the image width)."""
    f = font(size)
    lines = [piece for line in lines for piece in wrap(line, image.width - 4, f)]
    line_h = size + 4
    out = Image.new("RGB", (image.width, image.height + line_h * len(lines) + 4), PAPER)
    out.paste(image, (0, 0))
    draw = ImageDraw.Draw(out)
    for i, line in enumerate(lines):
        w = draw.textlength(line, font=f)
        draw.text(((image.width - w) / 2, image.height + 2 + i * line_h), line, fill=color, font=f)
    return out


def stamp(image: Image.Image, text: str, size: int = 13) -> Image.Image:
    """Write `text` on a white band across the top-left corner of the image itself."""
    out = image.copy()
    draw = ImageDraw.Draw(out)
    f = font(size)
    w = draw.textlength(text, font=f)
    draw.rectangle((0, 0, w + 8, size + 6), fill=PAPER)
    draw.text((4, 2), text, fill=INK, font=f)
    return out


def code_strip(
    code: torch.Tensor, reference: torch.Tensor | None = None, cell: int = 16, max_per_row: int = 32
) -> Image.Image:
    """A K-bit code as cells (+1 dark, -1 light); bits differing from `reference` get a thick vermillion frame."""
    bits = code.tolist()
    rows = -(-len(bits) // max_per_row)
    per_row = min(len(bits), max_per_row)
    out = Image.new("RGB", (per_row * cell + 2, rows * cell + 2), PAPER)
    draw = ImageDraw.Draw(out)
    for i, bit in enumerate(bits):
        r, c = divmod(i, max_per_row)
        x0, y0 = 1 + c * cell, 1 + r * cell
        draw.rectangle((x0, y0, x0 + cell - 2, y0 + cell - 2), fill=(40, 40, 40) if bit > 0 else (225, 225, 225))
        if reference is not None and bit != int(reference[i]):
            draw.rectangle((x0, y0, x0 + cell - 2, y0 + cell - 2), outline=FLIPPED, width=3)
    return out


def framed(image: Image.Image, color, width: int = 4, dashed: bool = False) -> Image.Image:
    """The image inside a frame `width` pixels wide: solid, or dashes of `3 * width` pixels along each edge."""
    out = Image.new("RGB", (image.width + 2 * width, image.height + 2 * width), PAPER if dashed else color)
    if dashed:
        draw = ImageDraw.Draw(out)
        dash = 3 * width
        for start in range(0, out.width, 2 * dash):
            draw.rectangle((start, 0, start + dash - 1, width - 1), fill=color)
            draw.rectangle((start, out.height - width, start + dash - 1, out.height - 1), fill=color)
        for start in range(0, out.height, 2 * dash):
            draw.rectangle((0, start, width - 1, start + dash - 1), fill=color)
            draw.rectangle((out.width - width, start, out.width - 1, start + dash - 1), fill=color)
    out.paste(image, (width, width))
    return out


def mark(image: Image.Image, relevant: bool, size: int) -> Image.Image:
    """A check (relevant) or a cross (not) in a badge at the top-left corner, drawn as lines (no font needed)."""
    out = image.copy()
    draw = ImageDraw.Draw(out)
    draw.rectangle((0, 0, size, size), fill=RELEVANT if relevant else IRRELEVANT)
    w = max(2, size // 6)
    if relevant:
        draw.line(
            [(size * 0.2, size * 0.55), (size * 0.42, size * 0.78), (size * 0.82, size * 0.25)], fill=PAPER, width=w
        )
    else:
        draw.line([(size * 0.25, size * 0.25), (size * 0.75, size * 0.75)], fill=INK, width=w)
        draw.line([(size * 0.25, size * 0.75), (size * 0.75, size * 0.25)], fill=INK, width=w)
    return out


def retrieval_grid(
    images: torch.Tensor,
    relevant: Sequence[bool],
    distances: Sequence[int],
    target_hit: Sequence[bool] | None = None,
    tile: int = 84,
    per_row: int = 10,
) -> Image.Image:
    """Top-k results as tiles: relevant to the query = blue solid frame and a check, not = orange dashed frame
    and a cross; Hamming distance under each; for targeted attacks a black "T" badge marks results that carry
    the target label."""
    tiles = []
    side, text = max(14, tile // 4), max(11, round(tile * 0.16))  # badges and labels scale with the tile
    for i, image in enumerate(images):
        picture = mark(upscale(to_pil(image), tile), bool(relevant[i]), side)
        picture = framed(picture, RELEVANT if relevant[i] else IRRELEVANT, max(3, tile // 20), not relevant[i])
        if target_hit is not None and target_hit[i]:
            draw = ImageDraw.Draw(picture)
            draw.rectangle((picture.width - side - 1, 0, picture.width - 1, side), fill=INK)
            draw.text((picture.width - side / 2 - 1, side / 2), "T", fill=PAPER, font=font(side - 4), anchor="mm")
        tiles.append(caption_below(picture, [f"d = {int(distances[i])}"], text))
    cols = min(per_row, len(tiles))
    rows = -(-len(tiles) // cols)
    w, h = tiles[0].width + 6, tiles[0].height + 6
    out = Image.new("RGB", (cols * w, rows * h), PAPER)
    for i, t in enumerate(tiles):
        r, c = divmod(i, cols)
        out.paste(t, (c * w + 3, r * h + 3))
    return out


def stack(panels: Sequence[Image.Image], direction: str = "vertical", gap: int = 12) -> Image.Image:
    """Concatenate panels with a white gap, left/top aligned."""
    if direction == "vertical":
        size = (max(p.width for p in panels), sum(p.height for p in panels) + gap * (len(panels) - 1))
    else:
        size = (sum(p.width for p in panels) + gap * (len(panels) - 1), max(p.height for p in panels))
    out = Image.new("RGB", size, PAPER)
    offset = 0
    for p in panels:
        out.paste(p, (0, offset) if direction == "vertical" else (offset, 0))
        offset += (p.height if direction == "vertical" else p.width) + gap
    return out


def titled(image: Image.Image, title: str, size: int = 16) -> Image.Image:
    f = font(size)
    out = Image.new(
        "RGB",
        (max(image.width, int(ImageDraw.Draw(image).textlength(title, font=f)) + 4), image.height + size + 10),
        PAPER,
    )
    ImageDraw.Draw(out).text((2, 2), title, fill=INK, font=f)
    out.paste(image, (0, size + 8))
    return out


def queries_by_targets(
    queries: Sequence[Image.Image],
    query_names: Sequence[str],
    target_names: Sequence[str],
    cells: dict[tuple[int, int], tuple[Image.Image, Image.Image, str]],
    gap: int = 12,
    text: int = 14,
) -> Image.Image:
    """A grid, one row per query and one column per target label: each cell is the adversarial image above its
    top-k retrieval with a caption; `cells[(row, column)] = (adversarial, retrieval, caption)`, absent = not asked
    (the query carries that label). `text`: the labels' size in pixels (drawn at the grid's own resolution)."""
    blocks = {key: stack([adv, caption_below(ret, [t], text)], gap=4) for key, (adv, ret, t) in cells.items()}
    width = max([b.width for b in blocks.values()] + [9 * text])
    height = max([b.height for b in blocks.values()] + [q.height + 2 * text + 2 for q in queries])
    head = text + 10
    left = max(q.width for q in queries) + gap
    out = Image.new("RGB", (left + len(target_names) * (width + gap), head + len(queries) * (height + gap)), PAPER)
    draw = ImageDraw.Draw(out)
    f = font(text)
    for c, name in enumerate(target_names):
        draw.text((left + c * (width + gap), 2), f"target: {name}", fill=INK, font=f)
    for r, (image, name) in enumerate(zip(queries, query_names, strict=True)):
        top = head + r * (height + gap)
        out.paste(caption_below(image, [name], text), (0, top))
        for c in range(len(target_names)):
            block = blocks.get((r, c))
            if block is None:
                draw.text((left + c * (width + gap) + 8, top + 8), "(the query's own label)", fill=MUTED, font=f)
            else:
                out.paste(block, (left + c * (width + gap), top))
    return out
