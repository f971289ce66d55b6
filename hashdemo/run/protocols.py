"""The papers' protocols: named, frozen bundles of every setting a seed's table uses, and hashdemo's own.

`settings.resolve(protocol, attack, overrides)` turns a protocol plus the user's explicit settings into the one
RunSettings object that runs, caches and is written into every JSON report.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..attacks.base import Attack, PaperSetting
from ..attacks.dhta import SIGN_STEPS
from ..core.errors import InvalidInputError
from ..core.units import from_255, to_255


@dataclass(frozen=True)
class Protocol:
    """Every setting behind a table: budget, optimiser per attack, top-K, queries, targets, snapshots."""

    name: str
    title: str
    source: str  # where each value is stated
    eps: float  # 1/255 units
    step: float  # 1/255 units
    steps: int
    topk: int  # MAP@K (-1: the whole database)
    t_topk: int  # t-MAP@K
    optimiser: str  # "pgd": every attack by PGD at this budget; "paper": each attack's own (Attack.paper_setting)
    attacks: tuple[str, ...]  # the rows of the table it reproduces
    queries: int | None = None  # None: all of the query split
    random_start: bool | None = None  # None: each attack's paper default
    record_at: tuple[int, ...] = ()  # iterations at which MAP is also reported (HAG Table I)
    ours: bool = False  # hashdemo's own choice, not a paper's
    notes: tuple[str, ...] = field(default=())
    own: tuple[tuple[str, PaperSetting], ...] = ()  # (attack, setting): replaces that attack's paper setting here

    def paper_setting(self, cls: type[Attack]) -> PaperSetting | None:
        """The optimiser and iterations `cls` runs with here when the protocol takes each paper's own."""
        if self.optimiser != "paper":
            return None
        return dict(self.own).get(cls.name, cls.paper_setting)

    def lines(self) -> list[str]:
        """What the protocol sets, one line each, in the user's units (shown by the app and the CLI help)."""
        k = lambda v: "the whole database" if v < 0 else str(v)
        out = [
            f"epsilon {self.eps:g}/255 (= {from_255(self.eps):.4f} on [0,1] pixels)",
            "each attack with its own paper's optimiser and iterations"
            if self.optimiser == "paper"
            else f"PGD for every attack: step {self.step:g}/255, T = {self.steps}",
            "random start: "
            + (
                "each attack's paper default (PgA yes, the others no)"
                if self.random_start is None
                else "yes, for every attack"
                if self.random_start
                else "no"
            ),
            f"MAP@{k(self.topk)}, t-MAP@{k(self.t_topk)}",
            f"queries: {'all of the query split' if self.queries is None else self.queries}, targets drawn per query "
            "from labels that share no class with it",
        ]
        if self.record_at:
            out.append("MAP also at iterations " + ", ".join(map(str, self.record_at)) + " of the same run")
        return out + list(self.notes)


PGD = Protocol(
    "pgd",
    "hashdemo's comparison setting",
    "hashdemo's own (the papers' common budget, one optimiser)",
    eps=8,
    step=1,
    steps=100,
    topk=1000,
    t_topk=1000,
    optimiser="pgd",
    attacks=("noise", "hag", "sdha", "pga", "pga-dagger", "p2p", "dhta", "tha", "prosgan"),
    ours=True,
    notes=("every attack by PGD, so that rows differ only in target code and loss",),
)

PROSGAN = Protocol(
    "prosgan",
    "ProS-GAN Tables 1-2",
    "ProS-GAN Sec. 4.2 and Table 2 caption; DHTA/P2P 'same as [2]'",
    eps=8,
    step=1,
    steps=100,
    topk=-1,
    t_topk=-1,
    optimiser="paper",
    attacks=("noise", "p2p", "dhta", "fgsm", "ifgsm", "prosgan"),
    notes=(
        "P2P/DHTA as the ProS-GAN authors' DHTA script runs them: from x, 2000 plain gradient steps (SGD, lr 1/32 "
        "per query: step 1 on a loss averaged over 32 queries) with HAG's schedule; FGSM one step of 8/255; "
        "I-FGSM 100 steps of 1/255; ProS-GAN one forward pass, no L-inf bound (bound=8 picks the bounded "
        "generator, projection=true clips the unbounded one)",
    ),
)
PROSGAN_SIGN = replace(
    PROSGAN,
    name="prosgan-sign",
    title="ProS-GAN Tables 1-2, P2P/DHTA by sign steps",
    source="ProS-GAN Sec. 4.2, with hashdemo's former P2P/DHTA optimiser",
    own=(("p2p", SIGN_STEPS), ("dhta", SIGN_STEPS)),
    ours=True,
    notes=(
        "P2P/DHTA 2000 PGD sign steps of 1/255 with HAG's schedule (a stronger, more visible attack than the "
        "script's gradient steps); the other rows as `prosgan`",
    ),
)

PROTOCOLS: dict[str, Protocol] = {
    p.name: p
    for p in (
        PGD,
        Protocol(
            "pga",
            "PgA Table 1 / Table 3",
            "PgA Sec. 4.1 (Protocols, Baselines, Implementation Details), Eq. 15",
            eps=8,
            step=1,
            steps=100,
            topk=5000,
            t_topk=5000,
            optimiser="paper",
            attacks=("p2p", "dhta", "prosgan", "tha", "hag", "sdha", "pga-dagger", "pga"),
            notes=(
                "PgA and PgA† by PGD-100 with random start (Eq. 15); the others 'consistent with the original "
                "literature' (Sec. 4.1): HAG SGD 2000 it., SDHA Adam 1500 it., P2P/DHTA 2000 sign steps of 1/255 "
                "with HAG's schedule (PgA does not say which step; hashdemo's choice)",
                "t-MAP@5000 is hashdemo's choice (PgA reports MAP only)",
            ),
            own=(("p2p", SIGN_STEPS), ("dhta", SIGN_STEPS)),
        ),
        Protocol(
            "pga-t5",
            "PgA Table 5",
            "PgA Sec. 4.3, Table 5 (PGD-20 for every attack)",
            eps=8,
            step=1,
            steps=20,
            topk=5000,
            t_topk=5000,
            optimiser="pgd",
            random_start=True,
            attacks=("p2p", "dhta", "tha", "hag", "sdha", "pga"),
            notes=("'all adopt PGD ... T = 20 and eta = 1/255'; PGD as PgA Eq. 15 defines it, with random start",),
        ),
        PROSGAN,
        PROSGAN_SIGN,
        Protocol(
            "hag",
            "HAG Tables I-II",
            "HAG Sec. IV-A (200 test queries), IV-B (MAP@1000), IV-C (optimiser, eps)",
            eps=to_255(0.039, places=None),
            step=1,
            steps=2000,
            topk=1000,
            t_topk=1000,
            optimiser="paper",
            queries=200,
            attacks=("hag",),
            record_at=(10, 100, 500, 1000, 1500, 2000),
            notes=(
                "SGD, momentum 0.9, lr 500 on 0-255 pixels (= 500/255^2 on [0,1]), 2000 iterations, "
                "alpha 0.1 for 1000 then 0.2, 0.3, 0.5, 0.7, 1.0 every 200; eps 0.039 in [0,1]",
            ),
        ),
        replace(
            PGD,
            name="lab",
            title="the Attack Lab's default",
            source="hashdemo's own (a budget where every attack kind visibly works)",
            eps=16,
            notes=("pgd at eps 16/255: the small grey models need twice the papers' budget for a visible effect",),
        ),
    )
}
DEFAULT_PROTOCOL = "pgd"


def get_protocol(name: str) -> Protocol:
    if name not in PROTOCOLS:
        raise InvalidInputError(f"unknown protocol {name!r}; choose one of {', '.join(PROTOCOLS)}")
    return PROTOCOLS[name]


__all__ = ["DEFAULT_PROTOCOL", "PROTOCOLS", "Protocol", "get_protocol"]
