"""On a GPU, seconds per image of: every attack on the shipped default model (the `pgd` protocol, CUDA against
this machine's CPU on the same queries); PgA (T = 100) on 224-px AlexNet and ResNet-50 hash nets, beside the PgA
paper's 0.04 s per image (AlexNet, T = 100, Sec. 4.3); and one ProS-GAN generator pass at 224 px with the
authors' widths, beside ProS-GAN Table 2's 0.005 s. The 224-px nets have random weights: their speed does not
depend on the weights. Everything is measured in this one run.

    PYTHONPATH=. .venv/bin/python bench/gpu.py [--queries 200] [--batch 32] [--cpu-queries 50] [--smoke]

--smoke runs every part in seconds (2 queries, T = 3, batch 2, a 64-px AlexNet over 8 images), on the GPU when
there is one and on the CPU otherwise, so that CI runs this script's code on a machine without a GPU.
"""

import argparse
import sys
import time

import torch

from hashdemo import attacks
from hashdemo.attacks import ATTACKS
from hashdemo.models import IMAGENET_MEAN, IMAGENET_STD, build_model
from hashdemo.prosgan.networks import Generator, SemanticDecoder
from hashdemo.run.driver import attack_batch, run_attack
from hashdemo.run.protocols import DEFAULT_PROTOCOL
from hashdemo.run.settings import resolve
from hashdemo.systems.spec import ModelSpec
from hashdemo.systems.system import HashingSystem, load_system

PGA_PAPER, PROSGAN_PAPER = 0.04, 0.005  # s / image: PgA Sec. 4.3 (AlexNet, T = 100), ProS-GAN Table 2


def synchronise(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(fn, device: str, repeats: int = 3) -> float:
    """Best of `repeats` wall times of fn() on `device` (after one warm-up call), in seconds."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        synchronise(device)
        start = time.perf_counter()
        fn()
        synchronise(device)
        best = min(best, time.perf_counter() - start)
    return best


def zoo_attacks(device: str, queries: int, cpu_queries: int, given: dict) -> None:
    print(f"| attack on {ModelSpec().source} (pgd, T = 100) | {device} s / image | CPU s / image | CPU / {device} |")
    print("|---|---|---|---|")
    systems = {d: load_system(ModelSpec(device=d)) for d in (device, "cpu")}
    for name in ATTACKS.names():
        seconds = {}
        for where, n in ((device, queries), ("cpu", cpu_queries)):
            system = systems[where]
            settings = resolve(DEFAULT_PROTOCOL, name, {"queries": n, **given}, model=system.spec)
            seconds[where] = run_attack(system, settings, use_cache=False).report.seconds_per_image
        ratio = seconds["cpu"] / seconds[device] if seconds[device] else float("nan")
        print(f"| {name} | {seconds[device]:.5f} | {seconds['cpu']:.5f} | {ratio:.1f} |", flush=True)


def random_system(backbone: str, device: str, size: int, database: int, bits: int = 32, classes: int = 10):
    """A hash net of `size` px with random weights over random images and labels, on `device`."""
    g = torch.Generator().manual_seed(0)
    model = build_model(backbone, bits, 3, IMAGENET_MEAN, IMAGENET_STD, pretrained=False).to(device)
    images = torch.rand(database, 3, size, size, generator=g)
    labels = torch.nn.functional.one_hot(torch.randint(classes, (database,), generator=g), classes)
    queries = (images[:256], labels[:256])
    return HashingSystem.from_tensors(model, database=(images, labels), queries=queries, progress=lambda *a: None)


def big_nets(device: str, batch: int, size: int, database: int, given: dict, backbones=("alexnet", "resnet50")):
    print(f"\n| PgA, T = 100, {size} px, batch {batch} | s / image | PgA paper (AlexNet) |")
    print("|---|---|---|")
    for backbone in backbones:
        system = random_system(backbone, device, size, database)
        x = system.dataset.query.images(torch.arange(batch)).to(device)
        y = system.dataset.query.labels[:batch].to(device)
        attack = attacks.get("pga", system)
        settings = resolve(DEFAULT_PROTOCOL, "pga", given, model=system.spec)
        run = lambda a=attack, x=x, y=y, s=settings: attack_batch(a, x, y, None, s)
        seconds = timed(run, device, repeats=2) / batch
        print(f"| {backbone} | {seconds:.4f} | {PGA_PAPER} |", flush=True)


def generator_pass(device: str, batch: int, size: int) -> None:
    decoder = SemanticDecoder(512, (3, size, size), 128).to(device).eval()
    generator = Generator(3, size, ngf=64, blocks=6).to(device).eval()
    x = torch.rand(batch, 3, size, size, device=device) * 2 - 1
    r = torch.randn(batch, 512, device=device)
    with torch.no_grad():
        seconds = timed(lambda: generator(x, decoder(r)), device) / batch
    print(
        f"\nProS-GAN generator pass, {size} px, ngf 64, 6 blocks, batch {batch}: {seconds:.5f} s / image "
        f"(ProS-GAN Table 2: {PROSGAN_PAPER})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--cpu-queries", type=int, default=50)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--smoke", action="store_true", help="seconds, on the CPU when there is no GPU")
    args = parser.parse_args(argv)
    gpu = torch.cuda.is_available()
    if not gpu and not args.smoke:
        print("bench/gpu.py: no CUDA GPU is visible to torch on this machine", file=sys.stderr)
        return 2
    device = "cuda" if gpu else "cpu"
    size, database = (64, 8) if args.smoke else (224, 2000)
    if args.smoke:
        args.queries = args.cpu_queries = args.batch = 2
    print(f"{torch.cuda.get_device_name() if gpu else 'CPU'}, torch {torch.__version__}\n")
    given = {"steps": 3} if args.smoke else {}
    zoo_attacks(device, args.queries, args.cpu_queries, given)
    big_nets(device, args.batch, size, database, given, ("alexnet",) if args.smoke else ("alexnet", "resnet50"))
    generator_pass(device, args.batch, size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
