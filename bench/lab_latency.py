"""Attack Lab click-to-result on the embedded default (T = 100): the same calls the page makes after a click
(run_lab, then the panels and the paper figure), timed over several queries, on a worker thread as Streamlit
runs page scripts."""

import statistics
import threading
import time

import torch

from hashdemo import lab
from hashdemo.figures import charts, panels
from hashdemo.figures.paper import paper_figure
from hashdemo.protocols import resolve
from hashdemo.system import load_system

MODEL = "zoo:fashion-dpsh-smallcnn-32"


def click(system, position: int, attack: str) -> float:
    data = system.dataset
    start = time.perf_counter()
    settings = resolve("lab", attack)
    run = lab.run_lab(system, settings, data.query.images([position]), data.query.labels[[position]])
    paper_figure(system, run)
    for ret in (run.clean, run.adversarial):
        panels.retrieval_grid(data.database.images(ret.indices), ret.relevant.tolist(), ret.distances.tolist())
    charts.trace_figure(run.result.trace, system.bits).to_json()
    return time.perf_counter() - start


def measure(system) -> None:
    for attack in ("pga", "dhta", "hag"):
        click(system, 0, attack)  # warm-up
        times = [click(system, p, attack) for p in range(0, 1000, 100)]
        print(
            f"{attack:5s}: click-to-result median {statistics.median(times):.3f} s, max {max(times):.3f} s "
            f"over {len(times)} queries"
        )


def main() -> None:
    torch.set_num_threads(2)  # the process default; run_lab itself attacks one image on one thread
    system = load_system(MODEL)
    worker = threading.Thread(target=measure, args=(system,))  # Streamlit runs page scripts on a worker thread
    worker.start()
    worker.join()


if __name__ == "__main__":
    main()
