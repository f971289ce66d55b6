"""Attack Lab click-to-result on the embedded default (T = 100): the same calls the page makes after a click
(run_lab, then the panels and the chart), timed over several queries, on a worker thread as Streamlit runs page
scripts; and, apart, the figure for a paper, which the page draws only when its download button is pressed."""

import argparse
import statistics
import threading
import time

import torch

from hashdemo.experiments import lab
from hashdemo.figures import charts, panels
from hashdemo.figures.paper import paper_figure
from hashdemo.run.protocols import LAB_PROTOCOL
from hashdemo.run.settings import resolve
from hashdemo.systems.spec import ModelSpec
from hashdemo.systems.system import load_system


def click(system, position: int, attack: str) -> tuple[float, float]:
    """Seconds from the click to every view, then seconds for the paper figure (PNG, 7.2 in, 300 dpi)."""
    data = system.dataset
    start = time.perf_counter()
    request = lab.LabRequest(resolve(LAB_PROTOCOL, attack, model=system.spec), f"query-{position}", None, lab.K.default)
    run = lab.run_lab(system, request, data.query.images([position]), data.query.labels[[position]])
    for ret in (run.clean, run.adversarial):
        panels.retrieval_grid(data.database.images(ret.indices), ret.relevant.tolist(), ret.distances.tolist())
    charts.trace_figure(run.result.trace, system.bits).to_json()
    views = time.perf_counter()
    paper_figure(system, run)
    return views - start, time.perf_counter() - views


def measure(system, positions: range, attacks: tuple[str, ...]) -> None:
    for attack in attacks:
        click(system, 0, attack)  # warm-up
        views, figures = zip(*[click(system, p, attack) for p in positions], strict=True)
        print(
            f"{attack:5s}: click-to-result median {statistics.median(views):.3f} s, max {max(views):.3f} s; "
            f"paper figure on export median {statistics.median(figures):.3f} s, over {len(views)} queries"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true", help="seconds: PgA on two queries")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)  # the process default; the driver attacks one image on one thread
    system = load_system(ModelSpec())
    positions = range(0, 1000, 500) if args.smoke else range(0, 1000, 100)
    attacks = ("pga",) if args.smoke else ("pga", "dhta", "hag")
    worker = threading.Thread(
        target=measure, args=(system, positions, attacks)
    )  # Streamlit runs page scripts on a worker
    worker.start()
    worker.join()


if __name__ == "__main__":
    main()
