"""On a GPU, seconds per image of: every attack on the shipped default model (the `pgd` protocol, CUDA against
this machine's CPU on the same queries); PgA (T = 100) on 224-px AlexNet and ResNet-50 hash nets, beside the PgA
paper's 0.04 s per image (AlexNet, T = 100, Sec. 4.3); and one ProS-GAN generator pass at 224 px with the
authors' widths, beside ProS-GAN Table 2's 0.005 s. The 224-px nets have random weights: their speed does not
depend on the weights. Everything is measured in this one run.

    PYTHONPATH=. .venv/bin/python bench/gpu.py [--queries 200] [--batch 32] [--cpu-queries 50]
"""

import argparse
import sys
import time

import torch

from hashdemo import attacks
from hashdemo.attacks import ATTACKS
from hashdemo.attacks.budget import Budget
from hashdemo.models import IMAGENET_MEAN, IMAGENET_STD, build_model
from hashdemo.prosgan.networks import Generator, SemanticDecoder
from hashdemo.run.driver import run_attack
from hashdemo.run.settings import resolve
from hashdemo.systems.spec import DEFAULT_MODEL, ModelSpec
from hashdemo.systems.system import HashingSystem, load_system

PGA_PAPER, PROSGAN_PAPER = 0.04, 0.005  # s / image: PgA Sec. 4.3 (AlexNet, T = 100), ProS-GAN Table 2


def timed(fn, repeats: int = 3) -> float:
    """Best of `repeats` wall times of fn() on the GPU (after one warm-up call), in seconds."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best


def zoo_attacks(queries: int, cpu_queries: int) -> None:
    print(f"| attack on {DEFAULT_MODEL} (pgd, T = 100) | CUDA s / image | CPU s / image | CPU / CUDA |")
    print("|---|---|---|---|")
    systems = {d: load_system(ModelSpec(DEFAULT_MODEL, device=d)) for d in ("cuda", "cpu")}
    for name in ATTACKS.names():
        seconds = {}
        for device, n in (("cuda", queries), ("cpu", cpu_queries)):
            system = systems[device]
            settings = resolve("pgd", name, {"queries": n}, model=system.spec)
            seconds[device] = run_attack(system, settings, use_cache=False).report.seconds_per_image
        ratio = seconds["cpu"] / seconds["cuda"] if seconds["cuda"] else float("nan")
        print(f"| {name} | {seconds['cuda']:.5f} | {seconds['cpu']:.5f} | {ratio:.1f} |", flush=True)


def random_system(backbone: str, bits: int = 32, database: int = 2000, classes: int = 10) -> HashingSystem:
    """A 224-px hash net with random weights over random images and labels, on the GPU."""
    g = torch.Generator().manual_seed(0)
    model = build_model(backbone, bits, 3, IMAGENET_MEAN, IMAGENET_STD, pretrained=False).cuda()
    images = torch.rand(database, 3, 224, 224, generator=g)
    labels = torch.nn.functional.one_hot(torch.randint(classes, (database,), generator=g), classes)
    return HashingSystem.from_tensors(model, database=(images, labels), queries=(images[:256], labels[:256]))


def big_nets(batch: int) -> None:
    budget = Budget.from_255(eps=8, step=1, steps=100, random_start=True)
    print(f"\n| PgA, T = 100, 224 px, batch {batch} | s / image | PgA paper (AlexNet) |")
    print("|---|---|---|")
    for backbone in ("alexnet", "resnet50"):
        system = random_system(backbone)
        x = system.dataset.query.images(torch.arange(batch)).cuda()
        y = system.dataset.query.labels[:batch].cuda()
        attack = attacks.get("pga", system)
        seconds = timed(lambda a=attack, x=x, y=y: a(x, y, budget=budget), repeats=2) / batch
        print(f"| {backbone} | {seconds:.4f} | {PGA_PAPER} |", flush=True)


def generator_pass(batch: int) -> None:
    decoder = SemanticDecoder(512, (3, 224, 224), 128).cuda().eval()
    generator = Generator(3, 224, ngf=64, blocks=6).cuda().eval()
    x = torch.rand(batch, 3, 224, 224, device="cuda") * 2 - 1
    r = torch.randn(batch, 512, device="cuda")
    with torch.no_grad():
        seconds = timed(lambda: generator(x, decoder(r))) / batch
    print(
        f"\nProS-GAN generator pass, 224 px, ngf 64, 6 blocks, batch {batch}: {seconds:.5f} s / image "
        f"(ProS-GAN Table 2: {PROSGAN_PAPER})"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--cpu-queries", type=int, default=50)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("bench/gpu.py: no CUDA GPU is visible to torch on this machine", file=sys.stderr)
        return 2
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}\n")
    zoo_attacks(args.queries, args.cpu_queries)
    big_nets(args.batch)
    generator_pass(args.batch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
