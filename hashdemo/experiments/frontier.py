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
    extra: tuple[Path, ...] = (),
    progress: Progress = silent,
    only_cached: bool = False,
) -> Frontier | None:
    """Every curve's points and every generator's (shipped beside the model, then `extra` ones), on the same
    queries and targets; each run goes through the driver's cache (only_cached: None unless every run is there)."""
    common = {"queries": queries}
    generators = [*(generator_files(system.folder) if system.folder else []), *extra]
    points = [  # (series, attack, eps, settings' overrides); a shipped generator by its name, another by its run
        *((c.title, c.attack, eps, {**c.loop, "eps": eps}) for c in curves for eps in c.budgets),
        *(
            (
                f"ProS-GAN {p.stem if p.parent == system.folder else p.parent.name}",
                "prosgan",
                None,
                {"generator": str(p)},
            )
            for p in generators
        ),
    ]
    frontier = Frontier(queries)
    for done, (series, attack, eps, overrides) in enumerate(points):
        progress(done, len(points) + 1, series if eps is None else f"{series} at {eps:g}/255")
        run = run_attack(
            system, resolve(PROTOCOL, attack, {**common, **overrides}, model=system.spec), only_cached=only_cached
        )
        if run is None:
            return None
        frontier.points.append(Point(series, attack, eps, run.report.perceptibility_rmse, run.report.t_map_adv))
    progress(len(points), len(points) + 1, "the reconstruction floor")
    index = run.query_index  # every run's: the protocol's queries
    x, y = system.dataset.query.images(index), system.dataset.query.labels[index]
    own = get_attack("prosgan", system)(x, None, target_labels=y, budget=Budget.from_255())
    frontier.floor = float(metrics.perceptibility_rmse(x, own.adversarial).mean())
    progress(len(points) + 1, len(points) + 1, "done")
    return frontier
