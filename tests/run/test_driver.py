"""run_attack: numbers, the on-disk cache (hit, miss, stop, what the key holds) and the sweep that reads it."""

import shutil
from dataclasses import replace

import numpy as np
import pytest
import torch

from hashdemo.core.errors import InvalidInputError
from hashdemo.core.paths import cache_dir
from hashdemo.core.progress import Stopped
from hashdemo.experiments.sweep import run_sweep
from hashdemo.run import driver as evaluation
from hashdemo.run.settings import Choices, resolve

SMALL = {"queries": 24, "steps": 8, "eps": 8}


def small(attack: str, **more):
    return resolve("pgd", attack, {**SMALL, **more})


def test_run_attack_report_and_cache(system, monkeypatch):
    first = evaluation.run_attack(system, small("pga", seed=11))
    r = first.report
    assert r.queries == 24 and r.linf_max <= 8 + 1e-4 and r.map_adv < r.map_clean
    assert r.settings["overridden"] == ["eps", "queries", "seed", "steps"]
    assert r.system["weights"] == system.spec.digest and r.system["dataset"] == "fashion"
    assert (cache_dir() / "results" / f"{first.key}.json").is_file()
    assert (cache_dir() / "curves" / f"{first.key}.json").is_file()  # the Compare page's curves too

    def no_compute(*args, **kwargs):
        raise AssertionError("a cached run was recomputed")

    monkeypatch.setattr(evaluation.attacks.ATTACKS.get("pga"), "__call__", no_compute)
    again = evaluation.run_attack(system, small("pga", seed=11))
    assert again.report == r
    assert evaluation.run_attack(system, small("pga", seed=12), only_cached=True) is None  # a miss
    # the batch size sets each batch's random start, so it is part of the key
    assert evaluation.run_attack(system, small("pga", seed=11, batch_size=8), only_cached=True) is None


def test_the_key_holds_the_weights_the_data_and_the_device(system):
    settings = small("pga")
    key = evaluation.run_key(evaluation.Job(system, settings))
    identity = system.identity()
    assert set(identity) == {"weights", "codes", "data", "device"} and identity["device"] == "cpu"
    assert identity["weights"] == system.spec.digest and identity["data"]["sizes"] == [10000, 1000, 60000]
    retrained = replace(system.spec, digest="0" * 16)  # the same name, retrained weights
    other = type(system)(**{**system.__dict__, "spec": retrained})
    assert evaluation.run_key(evaluation.Job(other, settings)) != key


def test_targeted_report_has_t_map(system):
    r = evaluation.run_attack(system, small("dhta")).report
    assert r.targeted and r.t_map_adv > r.t_map_clean
    assert r.target_code.title == "Anchor code" and r.target_code.t_map > r.t_map_adv


def test_targeted_precision_at_10_by_brute_force(system):
    """t-P@10: the share of the 10 nearest database items (stable sort: ties by index) carrying the target label."""
    run = evaluation.run_attack(system, small("p2p"))
    db = system.database_codes.float()
    db_labels = system.dataset.database.labels.float()
    for name, codes in (("clean", run.clean_codes), ("adv", run.adversarial_codes)):
        hits = []
        for code, target in zip(codes.float(), run.target_labels.float(), strict=True):
            hamming = 0.5 * (db.shape[1] - db @ code)
            top = np.argsort(hamming.numpy(), kind="stable")[:10]
            hits.append(float(((db_labels[top] @ target) > 0).float().mean()))
        assert getattr(run.report, f"t_precision_at_10_{name}") == pytest.approx(np.mean(hits), abs=1e-4)
    assert run.report.t_precision_at_10_adv > run.report.t_precision_at_10_clean


def test_stopped_run_leaves_no_cache_entry(system):
    calls = iter([False, True])
    with pytest.raises(Stopped):
        evaluation.run_attack(system, small("hag", seed=99, batch_size=8), stop=lambda: next(calls))
    assert evaluation.run_attack(system, small("hag", seed=99, batch_size=8), only_cached=True) is None
    assert not list((cache_dir() / "results").glob("*.tmp"))


def test_more_queries_than_the_data_holds_is_one_sentence(system):
    with pytest.raises(InvalidInputError, match="queries must be between 1 and 1000, got 5000"):
        evaluation.run_attack(system, resolve("pgd", "hag", {"queries": 5000}))


def test_sweep_applies_every_setting_and_refuses_unknown_ones(system):
    base = {"queries": 12, "steps": 6}
    plain = run_sweep(system, "eps", [8], ["hag"], Choices.of("pgd", base))[0].report
    scheduled = run_sweep(system, "eps", [8], ["hag"], Choices.of("pgd", {**base, "schedule": "none"}))[0]
    sgd = run_sweep(
        system,
        "eps",
        [8],
        ["hag"],
        Choices.of("pgd", {**base, "optimiser": "sgd", "lr": 0.0077, "random_start": True}),
    )[0].report
    assert plain.settings["schedule"] == "hag" and scheduled.report.settings["schedule"] == "none"
    assert sgd.optimiser == "sgd" and sgd.settings["lr"] == 0.0077 and sgd.random_start is True
    with pytest.raises(InvalidInputError, match="no setting gamma"):
        run_sweep(system, "eps", [8], ["hag"], Choices.of("pgd", {**base, "gamma": 1}))
    with pytest.raises(InvalidInputError, match="n_t is not a setting of hag"):
        run_sweep(system, "eps", [8], ["hag"], Choices.of("pgd", {**base, "n_t": 3}))


def test_steps_sweep_is_one_run_per_attack_with_snapshots(system, monkeypatch):
    from hashdemo.experiments import sweep

    calls = []
    real = sweep.execute

    def counting(jobs, **kwargs):
        calls.extend(job.settings for job in jobs)
        return real(jobs, **kwargs)

    monkeypatch.setattr(sweep, "execute", counting)
    rows = sweep.run_sweep(system, "steps", [2, 5, 9], ["pga", "dhta"], Choices.of("pgd", {"queries": 12}))
    assert [(s.attack, s.budget.steps, s.record_at) for s in calls] == [("pga", 9, (2, 5, 9)), ("dhta", 9, (2, 5, 9))]
    assert [(r.value, r.report.attack) for r in rows] == [(n, a) for n in (2, 5, 9) for a in ("pga", "dhta")]
    last = {r.report.attack: r for r in rows if r.value == 9}
    assert last["pga"].report.map_adv == evaluation.run_attack(system, calls[0]).report.map_adv
    # a separate 5-step PgA run (no schedule) has the numbers of the snapshot at 5
    five = evaluation.run_attack(system, resolve("pgd", "pga", {"queries": 12, "steps": 5})).report
    assert next(r for r in rows if r.value == 5 and r.report.attack == "pga").report.map_adv == five.map_adv


def test_a_bit_length_sweep_keeps_the_device_and_data_root(system):
    from hashdemo.experiments.sweep import points

    planned = points(system, "bits", [16, 64], ["hag"], Choices.of("pgd", {"queries": 4}))
    assert [p.system.bits for p in planned] == [16, 64]
    assert all(p.system.spec.device == system.spec.device and p.settings.model == p.system.spec for p in planned)


def test_a_stopped_run_keeps_its_finished_batches_and_resumes_from_them(system, tmp_path, monkeypatch):
    settings = small("pga", seed=5, batch_size=4)  # 6 batches of 4
    monkeypatch.setenv("HASHDEMO_CACHE", str(tmp_path / "whole"))
    whole = evaluation.run_attack(system, settings)
    monkeypatch.setenv("HASHDEMO_CACHE", str(tmp_path / "stopped"))
    batches = lambda: len(list((cache_dir() / evaluation.BATCHES).glob("*.json")))
    with pytest.raises(Stopped):
        evaluation.run_attack(system, settings, stop=lambda: batches() >= 1)
    assert batches() == 1 and evaluation.run_attack(system, settings, only_cached=True) is None
    computed = []
    real = evaluation.compute_batch
    monkeypatch.setattr(
        evaluation, "compute_batch", lambda job, p, first, **kw: computed.append(first) or real(job, p, first, **kw)
    )
    resumed = evaluation.run_attack(system, settings)
    assert computed == [4, 8, 12, 16, 20]  # the first batch came from the cache
    assert (
        torch.equal(resumed.adversarial_codes, whole.adversarial_codes)
        and resumed.report.map_adv == whole.report.map_adv
    )
    assert batches() == 0  # a finished run keeps its joined entry, not its batches


def test_unset_threads_take_the_cpus_no_other_process_is_running_on(tmp_path, monkeypatch):
    import os

    from hashdemo.core import devices

    usable = len(os.sched_getaffinity(0))
    loadavg, tasks = tmp_path / "loadavg", tmp_path / "task"
    for thread, state in ((1, "R"), (2, "S"), (3, "R")):  # two of this process's threads running (torch spins)
        (tasks / str(thread)).mkdir(parents=True)
        (tasks / str(thread) / "stat").write_text(f"{thread} (python (worker)) {state} 1 2 3\n")
    monkeypatch.setattr(devices, "LOADAVG", loadavg)
    monkeypatch.setattr(devices, "OWN_THREADS", tasks)
    assert devices.own_running() == 2
    for running, expected in ((2, usable), (3, usable - 1), (usable + 9, 1)):
        loadavg.write_text(f"0.50 0.40 0.30 {running}/120 4242\n")
        assert devices.idle_cpus(cap=64, interval=0) == max(1, expected)
    loadavg.write_text("0.50 0.40 0.30 2/120 4242\n")
    assert devices.idle_cpus(cap=1, interval=0) == 1  # never above torch's own count
    monkeypatch.setattr(devices, "LOADAVG", tmp_path / "none")
    assert devices.idle_cpus(cap=3) == 3  # no /proc: torch's default


def test_the_thread_count_changes_no_adversarial_image(system):
    """Threads are a runtime setting (outside the cache key), so they must not change a number."""
    base = resolve("pga", "pga", {"queries": 6, "steps": 10}, model=system.spec)
    one, two = (
        evaluation.run_attack(system, replace(base, threads=t), use_cache=False, keep_images=True) for t in (1, 2)
    )
    assert torch.equal(one.adversarial_images, two.adversarial_images)


def test_an_entry_read_again_is_the_one_on_disk_and_its_tensors_are_the_callers(monkeypatch, tmp_path):
    """cache.load keeps what it read (a class opening one step reads the same entries 20 times), but a store or a
    remove is seen at once, and a caller that changes its tensors changes no one else's."""
    from hashdemo.run import cache

    monkeypatch.setenv("HASHDEMO_CACHE", str(tmp_path))
    cache.store("results", "k", {"n": 1}, {"codes": torch.ones(3)})
    first = cache.load("results", "k")
    first[1]["codes"][0] = 5
    first[0]["n"] = 9
    reads = []
    with monkeypatch.context() as patched:
        patched.setattr(cache, "load_file", lambda path: reads.append(path))  # a second read would go here
        again = cache.load("results", "k")
    assert again[0] == {"n": 1} and torch.equal(again[1]["codes"], torch.ones(3)) and reads == []
    cache.store("results", "k", {"n": 2}, {"codes": torch.zeros(2)})
    newer = cache.load("results", "k")
    assert newer[0] == {"n": 2} and torch.equal(newer[1]["codes"], torch.zeros(2))
    cache.remove("results", "k")
    assert cache.load("results", "k") is None


def test_the_entries_kept_stay_under_their_budget(monkeypatch, tmp_path):
    from hashdemo.run import cache

    monkeypatch.setenv("HASHDEMO_CACHE", str(tmp_path))
    monkeypatch.setattr(cache, "MEMO_BYTES", 10_000)
    for i in range(12):  # 4,000 bytes of tensor each: the oldest are let go
        cache.store("results", f"k{i}", {"i": i}, {"codes": torch.zeros(1000)})
        assert cache.load("results", f"k{i}")[0] == {"i": i}
    assert cache._held[0] <= 10_000 and len([m for m in cache._read if m[0].parent == tmp_path / "results"]) == 2
    assert cache.load("results", "k0")[0] == {"i": 0}  # read again from disk


def test_a_replaced_generator_or_prototype_table_is_not_answered_from_the_cache(system, tmp_path):
    """The key holds the content of the files an attack reads besides the model (Attack.resources): a
    retrained generator under the same name, or other shipped prototypes, is a different run."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    copy = tmp_path / "prosgan.safetensors"
    shutil.copy(system.folder / copy.name, copy)
    moved = type(system)(**{**system.__dict__, "folder": tmp_path})
    settings = resolve("prosgan", "prosgan", {"queries": 4})
    key = evaluation.run_key(evaluation.Job(moved, settings))
    assert key == evaluation.run_key(evaluation.Job(moved, settings))
    tensors = load_file(str(copy))
    with safe_open(str(copy), "pt") as f:
        header = f.metadata()
    name = next(n for n, t in tensors.items() if t.is_floating_point())
    tensors[name] = tensors[name] + 1  # retrained: the same name, the same settings in its header
    save_file(tensors, str(copy), metadata=header)
    assert evaluation.run_key(evaluation.Job(moved, settings)) != key

    tha = small("tha")
    key = evaluation.run_key(evaluation.Job(system, tha))
    table = system.prototypes
    flipped = replace(table, codes=-table.codes)
    other = type(system)(**{**system.__dict__, "prototypes": flipped})
    assert evaluation.run_key(evaluation.Job(other, tha)) != key
