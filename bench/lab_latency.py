"""Attack Lab click-to-result on the embedded default (T = 100): the same calls the page makes after a click
(run_lab, then the panels and the paper figure), timed over several queries."""

import statistics
import time

import torch

from hashdemo import lab
from hashdemo.figures import charts, panels
from hashdemo.system import load_system

MODEL = "zoo:fashion-dpsh-smallcnn-32"


def click(system, position: int, attack: str) -> float:
    data = system.dataset
    start = time.perf_counter()
    run = lab.run_lab(system, attack, data.query.images([position]), data.query.labels[[position]], eps=16, steps=100)
    lab.paper_figure(system, run)
    for ret in (run.clean, run.adversarial):
        panels.retrieval_grid(data.database.images(ret.indices), ret.relevant.tolist(), ret.distances.tolist())
    charts.trace_figure(run.result.trace, system.bits).to_json()
    return time.perf_counter() - start


def main() -> None:
    system = load_system(MODEL)
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for attack in ("pga", "dhta", "hag"):
            click(system, 0, attack)  # warm-up
            times = [click(system, p, attack) for p in range(0, 1000, 100)]
            print(f"{threads} thread(s) {attack:5s}: click-to-result median {statistics.median(times):.3f} s, "
                  f"max {max(times):.3f} s over {len(times)} queries")


if __name__ == "__main__":
    main()
