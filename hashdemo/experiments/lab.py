"""The Attack Lab's computation for one query: attack, retrieval lists and per-query numbers, behind one call.

The Streamlit page only reads controls and shows what this module returns. A LabRequest is everything a Lab
result depends on; a page shows a stored LabRun only when its request equals the current one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import torch

from .. import attacks
from ..attacks import AttackResult
from ..core.errors import InvalidInputError
from ..core.params import Param
from ..core.progress import Progress, silent
from ..core.units import to_255
from ..retrieval import metrics
from ..retrieval.ranking import rank
from ..run.driver import StopCheck, attack_batch, check_open_set, never
from ..run.results import QueryNumbers
from ..run.settings import RunSettings
from ..systems.system import HashingSystem

K = Param("k", 10, "how many results are shown (and AP@k, P@k)", 5, 50, integer=True, label="results shown (k)")


@dataclass(frozen=True)
class LabRequest:
    """One Lab run: the settings, which query (an id: its position in the query split, or an upload's digest),
    the target label chosen (None: drawn with the seed) and how many results are shown."""

    settings: RunSettings
    query: str
    target: tuple[bool, ...] | None
    k: int

    def same(self, other: LabRequest | None) -> bool:
        """Whether `other` shows the same result (runtime settings such as threads aside)."""
        return (
            other is not None
            and self.settings.same_result(other.settings)
            and (self.query, self.target, self.k) == (other.query, other.target, other.k)
        )


@dataclass
class Retrieval:
    """The top-k database items for one code."""

    indices: torch.Tensor
    distances: torch.Tensor
    relevant: torch.Tensor  # shares a label with the query
    target_hit: torch.Tensor | None  # carries the target label (targeted attacks)


@dataclass
class LabRun:
    request: LabRequest
    system: dict  # what was attacked (HashingSystem.describe)
    result: AttackResult
    clean: Retrieval
    adversarial: Retrieval
    numbers: QueryNumbers
    query_labels: torch.Tensor | None
    query_caption: str
    target_caption: str | None

    @property
    def settings(self) -> RunSettings:
        return self.request.settings

    @property
    def attack(self) -> type[attacks.Attack]:
        return self.settings.attack_class

    def to_json(self) -> str:
        return json.dumps(
            {
                "system": self.system,
                "settings": {**self.settings.to_json(), "effective": self.result.settings},
                "query": self.request.query,
                "query_labels": self.query_caption,
                "target_label": self.target_caption,
                "numbers": self.numbers.to_json(),
                "clean_code": self.result.clean_codes[0].tolist(),
                "adversarial_code": self.result.adversarial_codes[0].tolist(),
                "target_code": None if self.result.target_codes is None else self.result.target_codes[0].tolist(),
            },
            indent=2,
        )


def retrieve(
    system: HashingSystem, code: torch.Tensor, labels: torch.Tensor | None, target_labels: torch.Tensor | None, k: int
) -> Retrieval:
    idx, dist = rank(code[None].cpu(), system.database_codes, topk=k)
    db_labels = system.dataset.database.labels[idx[0]].float()
    relevant = (db_labels @ labels[0].float() > 0) if labels is not None else torch.zeros(len(idx[0]), dtype=torch.bool)
    hit = (db_labels @ target_labels[0].cpu().float() > 0) if target_labels is not None else None
    return Retrieval(idx[0], dist[0], relevant, hit)


def query_numbers(system: HashingSystem, result: AttackResult, labels, k: int) -> QueryNumbers:
    """Per-query numbers before and after: AP@k, precision@k (and against the target), bits flipped, perceptibility."""
    common = {"database_codes": system.database_codes, "database_labels": system.dataset.database.labels}
    out: dict = {}
    for name, codes in (("clean", result.clean_codes), ("adv", result.adversarial_codes)):
        for prefix, relevance in (("", labels), ("t_", result.target_labels)):
            if relevance is not None:
                relevance = relevance.cpu()
                ap = metrics.average_precision(query_codes=codes, query_labels=relevance, topk=k, **common)
                p = metrics.precision_at(query_codes=codes, query_labels=relevance, ns=(k,), **common)
                out[f"{prefix}ap_{name}"], out[f"{prefix}p_{name}"] = float(ap[0]), float(p[0])
    if result.target_codes is not None:
        out["hamming_target_clean"] = int((result.clean_codes[0] != result.target_codes[0]).sum())
        out["hamming_target_adv"] = int((result.adversarial_codes[0] != result.target_codes[0]).sum())
    return QueryNumbers(
        k=k,
        hamming_clean_adv=int(result.hamming[0]),
        perceptibility_rmse=float(result.perceptibility_rmse[0]),
        linf_255=to_255(float(result.linf[0]), None),
        seconds=result.seconds,
        setup_seconds=result.setup_seconds,
        **out,
    )


def at_iteration(system: HashingSystem, run: LabRun, t: int) -> Retrieval:
    """The top-k of the iterate x_t of a Lab run (its image and code: run.result.snapshots[t])."""
    code = run.result.snapshots[t].codes[0]
    return retrieve(system, code, run.query_labels, run.result.target_labels, len(run.clean.indices))


def advice(run: LabRun) -> str | None:
    """When an attack visibly failed on this query, say so in the user's terms and what to change."""
    n, cls, budget = run.numbers, run.attack, run.settings.budget
    hints = []
    if cls.uses_budget and cls.steps_for(budget) < 500:
        hints.append(f"more iterations (T = {min(2000, budget.steps * 4)})")
    if cls.uses_budget and budget.eps_255 < 32:
        hints.append(f"a larger epsilon ({min(64, budget.eps_255 * 2):g}/255)")
    if cls.targeted and n.t_p_adv is not None and n.t_p_adv < 0.5:
        gap = n.hamming_target_adv
        where = (
            f"; its code ends {gap} of {run.result.clean_codes.shape[1]} bits from the {cls.target_kind} code"
            if gap is not None
            else ""
        )
        return (
            f"The target label {run.target_caption} was not reached: {round(n.t_p_adv * n.k)} of the top {n.k} "
            f"carry it{where}. Some pairs of classes lie far apart in Hamming space. Try "
            + ", ".join([*hints, "another target label", "DHTA + I-FGSM (no tanh schedule)"])
            + "."
        )
    if not cls.targeted and cls.group != "baseline" and n.p_adv is not None and n.p_adv > 0.5:
        return (
            f"The attack left {round(n.p_adv * n.k)} of the top {n.k} relevant. Try "
            + ", ".join(hints or ["PgA†"])
            + "."
        )
    return None


@dataclass(frozen=True)
class Metric:
    """One number as a page shows it: label, value, the value before the attack (None: no before) and help."""

    label: str
    value: str
    before: str | None = None
    help: str = ""


def headline(run: LabRun) -> list[Metric]:
    """What a click visibly changes, first: precision at k (and against the target), bits flipped, RMSE, time."""
    n, k = run.numbers, run.numbers.k
    out = []
    if n.p_clean is not None:
        out.append(
            Metric(
                f"P@{k}",
                f"{n.p_adv:.2f}",
                f"{n.p_clean:.2f}",
                "share of the top k that share a label with the query, after the attack (before: under the number)",
            )
        )
    if n.t_p_clean is not None:
        out.append(
            Metric(
                f"t-P@{k}",
                f"{n.t_p_adv:.2f}",
                f"{n.t_p_clean:.2f}",
                "share of the top k that carry the "
                f"target label {run.target_caption}, after the attack (before: under the number)",
            )
        )
    out.append(Metric("Bits flipped", f"{n.hamming_clean_adv} / {run.result.clean_codes.shape[1]}"))
    out.append(
        Metric("RMSE", f"{n.perceptibility_rmse:.4f}", help="perceptibility: sqrt(mean (x - x')^2), pixels in [0,1]")
    )
    setup = f"; one-off setup before it: {n.setup_seconds:.1f} s" if n.setup_seconds >= 0.05 else ""
    out.append(Metric("Time", f"{n.seconds:.2f} s", help=f"the attack itself{setup}"))
    return out


def details(run: LabRun) -> list[Metric]:
    """The per-query numbers of the papers' tables: AP@k (and t-AP@k), L-inf."""
    n, k = run.numbers, run.numbers.k
    out = []
    if n.ap_clean is not None:
        out.append(
            Metric(
                f"AP@{k}",
                f"{n.ap_adv:.3f}",
                f"{n.ap_clean:.3f}",
                "AP@k averages the precision at each "
                "relevant hit over the relevant items found in the top k, so it stays 1.000 when the few "
                "relevant items left are ranked first; P@k counts them.",
            )
        )
    if n.t_ap_clean is not None:
        out.append(Metric(f"t-AP@{k}", f"{n.t_ap_adv:.3f}", f"{n.t_ap_clean:.3f}", f"target: {run.target_caption}"))
    out.append(Metric("L-inf (1/255)", f"{n.linf_255:.2f}", help="the largest change of any pixel"))
    if n.setup_seconds >= 0.05:
        out.append(
            Metric(
                "Setup time",
                f"{n.setup_seconds:.1f} s",
                help="one-off work before the attack (THA's "
                "PrototypeNet when it is not shipped; a ProS-GAN generator's training)",
            )
        )
    return out


def run_lab(
    system: HashingSystem,
    request: LabRequest,
    image: torch.Tensor,
    labels: torch.Tensor | None,
    *,
    keep_images: bool = False,
    progress: Progress = silent,
    stop: StopCheck = never,
    watch=None,
) -> LabRun:
    """Attack one query image (1, C, H, W) as `request` says (through the driver's one attack call); rank both
    codes. keep_images stores every iterate (the iteration scrubber)."""
    settings, k = request.settings, request.k
    if not 1 <= k <= len(system.dataset.database):
        raise InvalidInputError(f"k must be between 1 and {len(system.dataset.database)}")
    attack = attacks.get(settings.attack, system, **settings.method_params)
    target_labels = None if request.target is None else torch.tensor([request.target], dtype=torch.bool)
    unseen = list(system.card.held_out_classes)
    check_open_set(attack, target_labels is not None and bool(unseen) and bool(target_labels[:, unseen].any()))
    steps = attack.steps_for(settings.budget)

    def step(t: int, total: int, text: str) -> None:
        progress(t, total, text if " " in text else f"iteration {t}/{total}")

    result = attack_batch(
        attack,
        image,
        labels,
        target_labels if attack.targeted else None,
        settings,
        record_at=range(steps + 1) if keep_images else (),
        keep_images=keep_images,
        progress=step,
        stop=stop,
        watch=watch,
    )
    target = result.target_labels
    data = system.dataset
    return LabRun(
        request,
        system.describe(),
        result,
        retrieve(system, result.clean_codes[0], labels, target, k),
        retrieve(system, result.adversarial_codes[0], labels, target, k),
        query_numbers(system, result, labels, k),
        labels,
        data.label_names(labels[0]) if labels is not None else "",
        None if target is None else data.label_names(target[0]),
    )
