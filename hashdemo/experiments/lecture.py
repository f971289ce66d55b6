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
from ..run.driver import Job, StopCheck, execute, never
from ..run.protocols import DEFAULT_PROTOCOL, LAB_PROTOCOL, PROTOCOLS
from ..run.results import AttackReport
from ..run.settings import Choices, resolve
from ..systems.spec import ModelSpec
from ..systems.system import HashingSystem, load_system
from .lab import K, LabRequest, LabRun, run_lab
from .report import REPORT_EPS
from .robustness import curve_jobs

# each Attack Lab step's query, chosen (measured on the default model, lab protocol) so that its point shows: HAG
# and DHTA on a sandal every attack kind moves; PgA on a shirt whose pharos code is 6 bits from its own code
QUERY = {"qclass": "Sandal", "qindex": "0"}
PGA_QUERY = {"qclass": "Shirt", "qindex": "73"}
DEFENDED = (
    "zoo:fashion-dph-smallcnn-32",
    "zoo:fashion-dph-smallcnn-32-atrdh",
    "zoo:fashion-dph-smallcnn-32-pharos-at",
)
CURVE_EPS = REPORT_EPS  # the budgets of a robustness report: 4, 8 and 16/255
# queries per cached step: what keeps a cold step under 30 s on a 2-core CPU (bench/lecture.py measures it); the
# curves take 50, on 12 the defended models' ordering at 4/255 was noise
CURVE_QUERIES = 50
TABLE_QUERIES = 12
TABLE_ATTACKS = PROTOCOLS[DEFAULT_PROTOCOL].attacks


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
class LabClaim:
    """A sentence about a live step's one query, checked on the Attack Lab's result for it."""

    text: str
    check: Callable[[LabRun], bool]

    def holds(self, run: LabRun) -> bool:
        return bool(self.check(run))


@dataclass(frozen=True)
class Step:
    title: str
    view: str  # the page that shows it: "how", "lab", "compare", "robustness" (the app maps views to pages)
    params: dict[str, str | list[str]] = field(default_factory=dict)  # the page's URL; run=1 runs on arrival
    text: str = ""
    runs: Callable[[], list[Job]] = list  # the cached runs its page reads
    claims: tuple[Claim | LabClaim, ...] = ()
    key: Callable[[Job], str] = lambda job: job.settings.attack  # how its claims name its runs

    @property
    def live(self) -> bool:
        """Computed on arrival (one query in the Attack Lab), nothing to prepare."""
        return self.view == "lab"


def default_system() -> HashingSystem:
    return load_system(ModelSpec())


def table_runs(attacks=TABLE_ATTACKS, queries=TABLE_QUERIES) -> list[Job]:
    system, choices = default_system(), Choices.of(overrides={"queries": queries})
    return [Job(system, choices.settings(name, system.spec)) for name in attacks]


def curve_runs(models=DEFENDED, eps_values=CURVE_EPS, queries=CURVE_QUERIES) -> list[Job]:
    systems = [load_system(ModelSpec(source)) for source in models]
    return curve_jobs(systems, ["pga"], list(eps_values), Choices.of(overrides={"queries": queries}))


def lab_step(
    title: str, attack: str, text: str, claims: tuple[LabClaim, ...], query=QUERY, target: str | None = None
) -> Step:
    params = {"attack": attack, **query, **({"target": target} if target else {}), "run": "1"}
    return Step(title, "lab", params, text, claims=claims)


def lab_run(step: Step) -> LabRun:
    """What a live step's page shows: the Attack Lab's run of its attack on its query (and target)."""
    system = default_system()
    data, names = system.dataset, list(system.dataset.class_names)
    members = torch.nonzero(data.query.labels[:, names.index(step.params["qclass"])]).flatten()
    position = int(members[int(step.params["qindex"])])
    wanted = step.params.get("target")
    target = None if wanted is None else tuple(i == names.index(wanted) for i in range(len(names)))
    request = LabRequest(
        resolve(LAB_PROTOCOL, step.params["attack"], model=system.spec), f"query-{position}", target, K.default
    )
    return run_lab(system, request, data.query.images([position]), data.query.labels[[position]])


def curve_name(job: Job) -> str:
    """A step-7 run by model and budget: 'dph-smallcnn-32-atrdh@8'."""
    return f"{job.system.card.label}@{job.settings.eps:g}"


def defence_claims() -> tuple[Claim, ...]:
    """Under PgA at every budget of the step, each defended model keeps a higher MAP than the undefended one."""
    base, *defended = (source.removeprefix("zoo:fashion-") for source in DEFENDED)
    return tuple(
        Claim(
            f"{d} keeps a higher MAP than {base} under PgA at {eps:g}/255 (step 7)",
            "map_adv",
            f"{base}@{eps:g}",
            f"{d}@{eps:g}",
        )
        for eps in CURVE_EPS
        for d in defended
    )


LECTURE: tuple[Step, ...] = (
    Step(
        "1. Clean retrieval",
        "how",
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
        (
            LabClaim("most bits flip", lambda r: r.numbers.hamming_clean_adv > r.result.clean_codes.shape[1] / 2),
            LabClaim("the top 10 fill with other classes", lambda r: r.numbers.p_adv <= 0.1 < r.numbers.p_clean),
        ),
    ),
    lab_step(
        "3. PgA and its pharos code",
        "pga",
        "PgA asks where the query's class lives: the pharos code is the code closest to the codes of relevant "
        "training items and farthest from the rest (a weighted vote, PgA Eq. 7). On this shirt it is not the "
        "query's own code: several bits differ (the code strips). Fleeing it instead of the query's own code is "
        "stronger in the same 100 PGD steps (step 8's table: PgA's MAP below HAG's).",
        (
            LabClaim(
                "on this shirt the pharos code is not the query's own code",
                lambda r: r.numbers.hamming_target_clean > 0,
            ),
            LabClaim("the top 10 fill with other classes", lambda r: r.numbers.p_adv <= 0.1 < r.numbers.p_clean),
        ),
        query=PGA_QUERY,
    ),
    lab_step(
        "4. DHTA and its anchor vote",
        "dhta",
        "A targeted attack picks the label to return. DHTA's anchor code is the bitwise majority vote of nine "
        "codes of that label, provably the code nearest to all nine; the attack pulls the query's code to it: "
        "the top 10 become bags.",
        (LabClaim("the top 10 become bags", lambda r: r.numbers.t_p_adv >= 0.9),),
        target="Bag",
    ),
    lab_step(
        "5. THA: a learned prototype",
        "tha",
        "THA trains a small network that maps a label to its prototype code, fitted to every training code "
        "(shipped with each zoo model, so nothing trains here). On these small models the prototype, used as a "
        "query, retrieves the target class a little less well than DHTA's anchor, and THA's attack is the weaker "
        "of the two (step 8's table).",
        (),
        target="Trouser",
    ),
    lab_step(
        "6. ProS-GAN: one forward pass",
        "prosgan",
        "A generator trained once against the model turns any query and any target label into an adversarial "
        "query without a single gradient step at attack time. The paper bounds no L-inf norm, and it shows: "
        "look at the perturbation and its L-inf, far past the other steps' 16/255. The ProS-GAN page also has a "
        "generator bounded to 8/255.",
        (LabClaim("its L-inf is far past 16/255", lambda r: r.numbers.linf_255 > 2 * r.settings.eps),),
        target="Dress",
    ),
    Step(
        "7. Defences: adversarial training",
        "robustness",
        {
            "models": list(DEFENDED),
            "attacks": ["pga"],
            "eps_values": ", ".join(f"{e:g}" for e in CURVE_EPS),
            "queries": str(CURVE_QUERIES),
            "run": "1",
        },
        "Training on adversarial examples (ATRDH; pharos codes, PgA Eq. 16) keeps MAP higher under PgA at every "
        f"budget shown. MAP against epsilon on {CURVE_QUERIES} queries, side by side; clean MAP under the chart.",
        runs=curve_runs,
        claims=defence_claims(),
        key=curve_name,
    ),
    Step(
        "8. The papers' table",
        "compare",
        {"protocol": DEFAULT_PROTOCOL, "queries": str(TABLE_QUERIES), "run": "1"},
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
    key = system.spec.digest + str(system.device)
    if key not in _COST:
        x = system.dataset.query.images(torch.arange(16)).to(system.device).requires_grad_(True)
        torch.autograd.grad(system.model.pre_tanh(x).sum(), x)  # warm-up
        start = time.perf_counter()
        for _ in range(3):
            torch.autograd.grad(system.model.pre_tanh(x).sum(), x)
        _COST[key] = (time.perf_counter() - start) / (3 * len(x))
    return _COST[key]


def missing_runs(step: Step) -> list[Job]:
    jobs = step.runs()
    return [job for job, run in zip(jobs, execute(jobs, only_cached=True), strict=True) if run is None]


def status(step: Step) -> StepStatus:
    """Ready when every run the step's page reads is cached; else how many are missing and how long they take."""
    missing = missing_runs(step)
    estimate = sum(
        len_queries(job)
        * max(1, job.settings.attack_class.steps_for(job.settings.budget))
        * seconds_per_image_step(job.system)
        for job in missing
    )
    return StepStatus(not missing, len(missing), estimate)


def len_queries(job: Job) -> int:
    available = len(job.system.dataset.query)
    return min(job.settings.queries or available, available)


def prepare(progress: Progress = silent, steps: tuple[Step, ...] = LECTURE, stop: StopCheck = never) -> int:
    """Compute every step's runs ahead of class (cached on disk, batch by batch: a stopped preparation resumes);
    returns how many runs it computed."""
    missing = [job for step in steps for job in missing_runs(step)]
    execute(missing, progress=progress, stop=stop)
    progress(1, 1, "the lecture is ready")
    return len(missing)


def claim_reports(step: Step) -> dict[str, AttackReport] | None:
    """The step's cached reports by attack name (None until prepared)."""
    jobs = step.runs()
    runs = execute(jobs, only_cached=True)
    if any(run is None for run in runs):
        return None
    return {step.key(job): run.report for job, run in zip(jobs, runs, strict=True)}
