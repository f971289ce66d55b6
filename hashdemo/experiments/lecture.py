"""A guided lecture: steps that each open a page with the settings that show one idea, with a short text, what the
step computes (so it can be prepared before class) and the claims its text makes about the numbers.

Each step's link is the page's own URL for those settings (so Back returns in one press); tests/test_lecture.py
opens every step, and recomputes every claim from the prepared results.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from ..core.progress import Progress, silent
from ..run.driver import run_attack
from ..run.protocols import PROTOCOLS
from ..run.results import AttackReport
from ..run.settings import RunSettings, resolve
from ..systems.spec import DEFAULT_MODEL, ModelSpec
from ..systems.system import HashingSystem, load_system

QUERY = {"qclass": "Sandal", "qindex": "0"}
TARGET = {"target": "Bag"}
DEFENDED = (
    "zoo:fashion-dph-smallcnn-32",
    "zoo:fashion-dph-smallcnn-32-atrdh",
    "zoo:fashion-dph-smallcnn-32-pharos-at",
)
CURVE_EPS = (4.0, 8.0, 16.0)
# queries per cached step: what keeps a cold step under 30 s on a 2-core CPU (bench/lecture.py measures it)
CURVE_QUERIES = 12
TABLE_QUERIES = 12
TABLE_ATTACKS = PROTOCOLS["pgd"].attacks


@dataclass(frozen=True)
class Claim:
    """'`stronger` beats `weaker` on `key`' (higher t-MAP, or lower MAP), or with `equal_budget`: every row of
    the table but those in `unbounded` has L-inf = eps; checked against the step's results."""

    text: str
    key: str = ""
    stronger: str = ""
    weaker: str = ""
    code_rows: bool = False  # compare the target codes as queries (the table's code rows) instead of attacks
    unbounded: tuple[str, ...] = ()

    def holds(self, reports: dict[str, AttackReport]) -> bool:
        if self.unbounded:
            bounded = [r for name, r in reports.items() if name not in self.unbounded]
            eps = bounded[0].eps
            return all(abs(r.linf_max - eps) < 1e-3 for r in bounded) and all(
                reports[name].linf_max > eps for name in self.unbounded
            )
        a, b = (self.value(reports[name]) for name in (self.stronger, self.weaker))
        return a > b if self.key.startswith("t_map") else a < b

    def value(self, report: AttackReport) -> float:
        if self.code_rows:
            return report.target_code.t_map if self.key.startswith("t_map") else report.target_code.map
        return getattr(report, self.key)


@dataclass(frozen=True)
class Step:
    title: str
    page: str  # a file under pages/
    params: dict[str, str | list[str]] = field(default_factory=dict)  # the page's URL; run=1 runs on arrival
    text: str = ""
    runs: Callable[[], list[tuple[ModelSpec, RunSettings]]] = list  # the cached runs its page reads
    claims: tuple[Claim, ...] = ()

    @property
    def live(self) -> bool:
        """Computed on arrival (one query in the Attack Lab), nothing to prepare."""
        return self.page.endswith("attack_lab.py")


def table_runs(attacks=TABLE_ATTACKS, queries=TABLE_QUERIES, protocol="pgd") -> list[tuple[ModelSpec, RunSettings]]:
    spec = ModelSpec(DEFAULT_MODEL)
    return [(spec, resolve(protocol, name, {"queries": queries}, model=spec)) for name in attacks]


def curve_runs(models=DEFENDED, eps_values=CURVE_EPS, queries=CURVE_QUERIES) -> list[tuple[ModelSpec, RunSettings]]:
    specs = [ModelSpec(source) for source in models]
    return [
        (spec, resolve("pgd", "pga", {"eps": eps, "queries": queries}, model=spec))
        for spec in specs
        for eps in eps_values
    ]


def lab_step(title: str, attack: str, text: str, target: bool = False) -> Step:
    return Step(
        title, "pages/attack_lab.py", {"attack": attack, **QUERY, **(TARGET if target else {}), "run": "1"}, text
    )


LECTURE: tuple[Step, ...] = (
    Step(
        "1. Clean retrieval",
        "pages/how_hashing_works.py",
        dict(QUERY),
        "A query becomes K numbers, their signs a K-bit code; the system returns the database items with the "
        "fewest differing bits. Items of the query's class crowd the smallest distances.",
    ),
    lab_step(
        "2. HAG: flee your own code",
        "hag",
        "The first attack on hashing (Yang et al. 2018) maximises the Hamming distance between the adversarial "
        "code and the query's own code, with a tanh(alpha H) schedule against vanishing gradients. Within "
        "16/255 per pixel, most bits flip and the top 10 fill with other classes.",
    ),
    lab_step(
        "3. PgA and its pharos code",
        "pga",
        "PgA asks where the query's class lives: the pharos code is the code closest to the codes of relevant "
        "training items and farthest from the rest (a weighted vote, PgA Eq. 7). Fleeing it instead of the "
        "query's own code is stronger in the same 100 PGD steps (step 8's table: PgA's MAP below HAG's).",
    ),
    lab_step(
        "4. DHTA and its anchor vote",
        "dhta",
        "A targeted attack picks the label to return. DHTA's anchor code is the bitwise majority vote of nine "
        "codes of that label, provably the code nearest to all nine; the attack pulls the query's code to it.",
        target=True,
    ),
    lab_step(
        "5. THA: a learned prototype",
        "tha",
        "THA trains a small network that maps a label to its prototype code, fitted to every training code "
        "(shipped with each zoo model, so nothing trains here). On these small models the prototype, used as a "
        "query, retrieves the target class a little less well than DHTA's anchor, and THA's attack is the weaker "
        "of the two (step 8's table).",
        target=True,
    ),
    lab_step(
        "6. ProS-GAN: one forward pass",
        "prosgan",
        "A generator trained once against the model turns any query and any target label into an adversarial "
        "query without a single gradient step at attack time. The paper bounds no L-inf norm, and it shows: "
        "look at the perturbation and its L-inf. The ProS-GAN page also has a generator bounded to 8/255.",
        target=True,
    ),
    Step(
        "7. Defences: adversarial training",
        "pages/robustness.py",
        {
            "models": list(DEFENDED),
            "attacks": ["pga"],
            "eps_values": ", ".join(f"{e:g}" for e in CURVE_EPS),
            "queries": str(CURVE_QUERIES),
            "run": "1",
        },
        "Training on adversarial examples (ATRDH; pharos codes, PgA Eq. 16) keeps MAP higher under PgA, at some "
        f"cost in clean MAP (under the chart). MAP against epsilon on {CURVE_QUERIES} queries, side by side.",
        runs=curve_runs,
    ),
    Step(
        "8. The papers' table",
        "pages/compare.py",
        {"protocol": "pgd", "queries": str(TABLE_QUERIES), "run": "1"},
        f"Every attack on the same {TABLE_QUERIES} queries: MAP (lower = stronger non-targeted attack), t-MAP "
        "(higher = stronger targeted attack), and the target codes themselves as queries. All share the budget "
        "of 8/255 but ProS-GAN, which the paper leaves unbounded: its L-inf column shows it, and it is not ranked.",
        runs=table_runs,
        claims=(
            Claim("PgA's MAP is below HAG's (step 3)", "map_adv", "pga", "hag"),
            Claim("DHTA's t-MAP is above THA's (step 5)", "t_map_adv", "dhta", "tha"),
            Claim(
                "the anchor code, as a query, retrieves the target better than THA's prototype (step 5)",
                "t_map_adv",
                "dhta",
                "tha",
                code_rows=True,
            ),
            Claim("every attack but ProS-GAN has L-inf = eps (step 8)", unbounded=("prosgan",)),
        ),
    ),
)


@dataclass(frozen=True)
class StepStatus:
    ready: bool
    missing: int  # runs still to compute
    estimate_s: float  # on this machine, from a timing of the model

    def text(self) -> str:
        if self.ready:
            return "ready"
        runs = "1 run" if self.missing == 1 else f"{self.missing} runs"
        return f"not prepared: {runs}, about {max(1, round(self.estimate_s))} s on this machine"


_COST: dict[str, float] = {}


def seconds_per_image_step(system: HashingSystem) -> float:
    """One forward + backward to the input per image, timed on 16 queries (the unit of an estimate)."""
    key = system.digest + str(system.device)
    if key not in _COST:
        x = system.dataset.query.images(torch.arange(16)).to(system.device).requires_grad_(True)
        torch.autograd.grad(system.model.pre_tanh(x).sum(), x)  # warm-up
        start = time.perf_counter()
        for _ in range(3):
            torch.autograd.grad(system.model.pre_tanh(x).sum(), x)
        _COST[key] = (time.perf_counter() - start) / (3 * len(x))
    return _COST[key]


def missing_runs(step: Step) -> list[tuple[HashingSystem, RunSettings]]:
    out = []
    for spec, settings in step.runs():
        system = load_system(spec)
        if run_attack(system, settings, only_cached=True) is None:
            out.append((system, settings))
    return out


def status(step: Step) -> StepStatus:
    """Ready when every run the step's page reads is cached; else how many are missing and how long they take."""
    missing = missing_runs(step)
    estimate = sum(
        len_queries(system, s) * max(1, s.attack_class.steps_for(s.budget)) * seconds_per_image_step(system)
        for system, s in missing
    )
    return StepStatus(not missing, len(missing), estimate)


def len_queries(system: HashingSystem, settings: RunSettings) -> int:
    return min(settings.queries or len(system.dataset.query), len(system.dataset.query))


def prepare(progress: Progress = silent, steps: tuple[Step, ...] = LECTURE) -> list[dict]:
    """Compute every step's runs ahead of class (cached on disk); per step: runs computed and seconds taken."""
    out = []
    todo = [(step, missing_runs(step)) for step in steps]
    total, done = sum(len(m) for _, m in todo), 0
    for step, missing in todo:
        start = time.perf_counter()
        for system, settings in missing:
            progress(done, total, f"{step.title}: {settings.attack_class.title}")
            run_attack(system, settings)
            done += 1
        out.append({"step": step.title, "computed": len(missing), "seconds": round(time.perf_counter() - start, 1)})
    progress(total, total, "the lecture is ready")
    return out


def claim_reports(step: Step) -> dict[str, AttackReport] | None:
    """The step's cached reports by attack name (None until prepared)."""
    reports = {}
    for spec, settings in step.runs():
        run = run_attack(load_system(spec), settings, only_cached=True)
        if run is None:
            return None
        reports[settings.attack] = run.report
    return reports
