"""ProS-GAN on the t-MAP / RMSE frontier: the iterative targeted attacks over eps and every generator of a model,
on the same queries and target labels (the `prosgan` protocol: t-MAP over the whole database), so that they are
compared at equal perceptibility rather than by a ratio of RMSEs (ProS-GAN Table 2's comparison)."""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..attacks import get as get_attack
from ..attacks.budget import STEPS, Budget
from ..attacks.loop import LR, MOMENTUM, OPTIMISER
from ..core.progress import Progress, silent
from ..prosgan.gallery import generator_files
from ..retrieval import metrics
from ..run.driver import run_attack
from ..run.settings import resolve

PROTOCOL = "prosgan"
PGD_100 = {
    "optimiser": OPTIMISER.default,
    "lr": LR.default,
    "momentum": MOMENTUM.default,
    "schedule": "hag",
    "steps": STEPS.default,
}
SIGN_2000 = {**PGD_100, "steps": 2000}  # the DHTA paper's iterations, by PGD's sign step


@dataclass(frozen=True)
class Curve:
    """One iterative attack over budgets: its title, attack, loop settings and budgets (1/255)."""

    title: str
    attack: str
    loop: dict
    budgets: tuple[float, ...]


CURVES = (
    Curve(f"DHTA, PGD-{STEPS.default} (HAG schedule)", "dhta", PGD_100, (8, 16, 24, 32, 48)),
    Curve("DHTA, 2000 sign steps", "dhta", SIGN_2000, (8, 16, 32, 48)),
    Curve("DHTA + I-FGSM (100 steps)", "ifgsm", {}, (8, 16, 32, 48)),
    Curve("DHTA + FGSM", "fgsm", {}, (8, 16, 32, 48)),
)
QUICK = tuple(c for c in CURVES if c.loop.get("steps", STEPS.default) <= STEPS.default)  # the page's: a minute


@dataclass(frozen=True)
class Point:
    series: str  # a curve's title, or "ProS-GAN <generator>"
    attack: str
    eps: float | None  # None: a generator (no L-inf budget)
    rmse: float
    t_map: float


@dataclass
class Frontier:
    queries: int
    points: list[Point] = field(default_factory=list)
    floor: float = 0.0  # the faithful generator's RMSE for the query's own label: what redrawing alone costs

    def curve(self, series: str) -> list[tuple[float, float]]:
        return sorted((p.rmse, p.t_map) for p in self.points if p.series == series)

    def generators(self) -> list[Point]:
        return [p for p in self.points if p.eps is None]

    def verdicts(self) -> list[str]:
        """At each generator's RMSE, its t-MAP against each curve's there (linear between the curve's points)."""
        out = []
        for g in self.generators():
            for title in dict.fromkeys(p.series for p in self.points if p.eps is not None):
                there = interpolate(self.curve(title), g.rmse)
                if there is not None:
                    winner = g.series if g.t_map > there else title
                    out.append(
                        f"at RMSE {g.rmse:.4f}: {g.series} t-MAP {g.t_map:.4f}, {title} {there:.4f}: {winner} wins"
                    )
        return out

    def to_json(self) -> dict:
        return {"queries": self.queries, "floor": self.floor, "points": [asdict(p) for p in self.points]}


def interpolate(curve: list[tuple[float, float]], rmse: float) -> float | None:
    """The curve's t-MAP at this RMSE, linear between its points (None outside them)."""
    for (r0, t0), (r1, t1) in itertools.pairwise(sorted(curve)):
        if r0 <= rmse <= r1:
            return t0 + (t1 - t0) * (rmse - r0) / (r1 - r0) if r1 > r0 else max(t0, t1)
    return None


def measure(
    system,
    queries: int,
    curves: tuple[Curve, ...] = CURVES,
    generators: list[Path] | None = None,
    progress: Progress = silent,
    only_cached: bool = False,
) -> Frontier | None:
    """Every curve's points and every generator's (shipped beside the model, or given), on the same queries and
    targets; each run goes through the driver's cache (only_cached: None unless every run is there)."""
    common = {"queries": queries}
    frontier = Frontier(queries)
    jobs = [(c, eps) for c in curves for eps in c.budgets]
    paths = generator_files(system.folder) if generators is None and system.folder else list(generators or [])
    total = len(jobs) + len(paths) + 1
    for done, (c, eps) in enumerate(jobs):
        progress(done, total, f"{c.title} at {eps:g}/255")
        settings = resolve(PROTOCOL, c.attack, {**common, **c.loop, "eps": eps}, model=system.spec)
        if (run := run_attack(system, settings, only_cached=only_cached)) is None:
            return None
        report = run.report
        frontier.points.append(Point(c.title, c.attack, eps, report.perceptibility_rmse, report.t_map_adv))
    for done, path in enumerate(paths, len(jobs)):
        progress(done, total, f"ProS-GAN {path.stem}")
        settings = resolve(PROTOCOL, "prosgan", {**common, "generator": str(path)}, model=system.spec)
        if (run := run_attack(system, settings, only_cached=only_cached)) is None:
            return None
        report = run.report
        name = path.stem if path.parent == system.folder else path.parent.name  # shipped: its name; else its run
        point = Point(f"ProS-GAN {name}", "prosgan", None, report.perceptibility_rmse, report.t_map_adv)
        frontier.points.append(point)
    progress(total - 1, total, "the reconstruction floor")
    index = run_attack(system, resolve(PROTOCOL, "prosgan", common, model=system.spec)).query_index
    x, y = system.dataset.query.images(index), system.dataset.query.labels[index]
    own = get_attack("prosgan", system)(x, None, target_labels=y, budget=Budget.from_255())
    frontier.floor = float(metrics.perceptibility_rmse(x, own.adversarial).mean())
    progress(total, total, "done")
    return frontier
