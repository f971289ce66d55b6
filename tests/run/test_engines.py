"""The Ray engine: a small bench on a local Ray with 2 CPUs, its runs split over several tasks, gives exactly the
reports of the in-process run (timings aside) and fills the same cache."""

import pytest

from hashdemo.run.driver import InProcess, Job, execute
from hashdemo.run.engines import RayEngine
from hashdemo.run.settings import resolve

TIMING = ("seconds_per_image", "setup_seconds")


def without_timing(report) -> dict:
    return {k: v for k, v in report.to_json().items() if k not in TIMING}


def test_ray_bench_equals_the_in_process_one(system, tmp_path, monkeypatch):
    ray = pytest.importorskip("ray")
    jobs = [
        Job(system, resolve("pgd", name, {"queries": 12, "steps": 5, "batch_size": 4}, model=system.spec))
        for name in ("pga", "dhta", "noise")
    ]
    monkeypatch.setenv("HASHDEMO_CACHE", str(tmp_path / "ray"))
    try:
        execute(jobs, engine=RayEngine(num_cpus=2))  # 3 runs of 3 batches: 9 tasks
        on_ray = [run.report for run in execute(jobs, only_cached=True)]
    finally:
        ray.shutdown()
    monkeypatch.setenv("HASHDEMO_CACHE", str(tmp_path / "local"))
    here = [run.report for run in execute(jobs, engine=InProcess())]
    assert [without_timing(r) for r in on_ray] == [without_timing(r) for r in here]
    assert on_ray[1].t_map_adv > on_ray[1].t_map_clean


def test_missing_ray_or_engine_is_one_clear_line(cli):
    out = cli("bench", "--engine", "spark", "--queries", "4")
    assert out.returncode == 2 and "invalid choice" in out.stderr
