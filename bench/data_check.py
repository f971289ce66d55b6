"""Seconds to open a list-file dataset of N images, which checks that every file exists and has a readable header
before anything is encoded (NUS-WIDE's database has about 190,000 images); measured in one run on N small JPEGs
written to a temporary folder, opened twice (both from the page cache the writing filled; a cold disk adds its
seek time). The goal: seconds for 200,000 files.

    PYTHONPATH=. .venv/bin/python bench/data_check.py [--files 200000] [--smoke]

--smoke: 500 files (seconds), so that CI runs this script.
"""

import argparse
import io
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from hashdemo.data import load_dataset


def write_dataset(root: Path, n: int) -> None:
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)).save(buffer, "JPEG")
    data = buffer.getvalue()
    lines = []
    for i in range(n):
        folder = root / "images" / f"{i // 10000:03d}"
        if i % 10000 == 0:
            folder.mkdir(parents=True)
        (folder / f"{i}.jpg").write_bytes(data)
        lines.append(f"images/{i // 10000:03d}/{i}.jpg {i % 2} {1 - i % 2}")
    third = n // 3
    (root / "train.txt").write_text("\n".join(lines[:third]) + "\n")
    (root / "test.txt").write_text("\n".join(lines[third : 2 * third]) + "\n")
    (root / "database.txt").write_text("\n".join(lines[2 * third :]) + "\n")


def opened(root: Path) -> float:
    start = time.perf_counter()
    load_dataset.__wrapped__("list", str(root), image_size=32)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=200_000)
    parser.add_argument("--smoke", action="store_true", help="500 files")
    args = parser.parse_args(argv)
    n = 500 if args.smoke else args.files
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_dataset(root, n)
        os.sync()
        first = opened(root)
        second = opened(root)
    print(
        f"{n:,} images checked (exists, readable header) on {os.cpu_count()} CPUs: {first:.2f} s, again {second:.2f} s"
    )
    print(f"rate: {n / min(first, second):,.0f} files/s")


if __name__ == "__main__":
    main()
