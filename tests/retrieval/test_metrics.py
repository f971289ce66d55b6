import math

import numpy as np
import pytest
import torch
from conftest import random_codes

from hashdemo.retrieval import metrics


def codes(*rows):
    return torch.tensor(rows, dtype=torch.int8)


def onehot(*classes, n=3):
    return torch.nn.functional.one_hot(torch.tensor(classes), n).bool()


def brute_force_ap(q_code, q_label, db, db_labels, topk):
    """AP@K by the textbook definition over the stable ranking, in plain Python."""
    dist = [sum(a != b for a, b in zip(q_code, item, strict=True)) for item in db]
    order = [i for _, i in sorted((d, i) for i, d in enumerate(dist))][:topk]
    hits, total = 0, 0.0
    for rank, i in enumerate(order, start=1):
        if any(a and b for a, b in zip(q_label, db_labels[i], strict=True)):
            hits += 1
            total += hits / rank
    return total / hits if hits else 0.0


def test_map_hand_worked_example():
    # query code (1,1); database distances 0, 1, 1, 2 -> ranking 0, 1, 2, 3
    q = codes([1, 1])
    db = codes([1, 1], [1, -1], [-1, 1], [-1, -1])
    labels_db = onehot(0, 1, 0, 0)
    # relevant at ranks 1, 3, 4: AP = (1/1 + 2/3 + 3/4) / 3
    ap = metrics.average_precision(
        query_codes=q, database_codes=db, query_labels=onehot(0), database_labels=labels_db, topk=-1
    )
    assert ap.item() == pytest.approx((1 + 2 / 3 + 3 / 4) / 3)
    # top 2: only rank 1 relevant -> AP@2 = 1
    ap2 = metrics.average_precision(
        query_codes=q, database_codes=db, query_labels=onehot(0), database_labels=labels_db, topk=2
    )
    assert ap2.item() == pytest.approx(1.0)


def test_ties_follow_database_index():
    # both database items at distance 1: index 0 (irrelevant) must come before index 1 (relevant)
    ap = metrics.average_precision(
        query_codes=codes([1, 1]),
        database_codes=codes([1, -1], [-1, 1]),
        query_labels=onehot(0),
        database_labels=onehot(1, 0),
        topk=-1,
    )
    assert ap.item() == pytest.approx(0.5)


def test_query_without_relevant_item_in_top_k_counts_as_zero():
    value = metrics.mean_average_precision(
        query_codes=codes([1, 1], [1, 1]),
        database_codes=codes([1, 1], [-1, -1]),
        query_labels=onehot(0, 2),
        database_labels=onehot(0, 2),
        topk=1,
    )
    assert value == pytest.approx(0.5)  # first query AP 1, second AP 0 (its item is ranked 2nd)


def test_over_hit_averages_only_the_queries_with_a_relevant_item_in_the_top_k():
    """DHTA-master's count: the second query (no hit in its top 1) is left out, not counted as 0."""
    kw = dict(
        query_codes=codes([1, 1], [1, 1]),
        database_codes=codes([1, 1], [-1, -1]),
        query_labels=onehot(0, 2),
        database_labels=onehot(0, 2),
        topk=1,
    )
    assert metrics.mean_average_precision(**kw, over="hit") == pytest.approx(1.0)
    assert metrics.mean_average_precision(**{**kw, "query_labels": onehot(1, 1)}, over="hit") == 0.0  # no hit at all


@pytest.mark.parametrize("topk", [3, 20])
def test_over_hit_against_brute_force(topk):
    g = torch.Generator().manual_seed(topk)
    q, db = random_codes(30, 6, g), random_codes(40, 6, g)
    ql, dl = torch.rand(30, 5, generator=g) < 0.15, torch.rand(40, 5, generator=g) < 0.15
    per_query = [brute_force_ap(q[i].tolist(), ql[i].tolist(), db.tolist(), dl.tolist(), topk) for i in range(30)]
    hit = [ap for ap in per_query if ap > 0]
    assert 0 < len(hit) < 30
    kw = dict(query_codes=q, database_codes=db, query_labels=ql, database_labels=dl, topk=topk)
    assert metrics.mean_average_precision(**kw, over="hit") == pytest.approx(sum(hit) / len(hit))
    assert metrics.mean_average_precision(**kw) == pytest.approx(sum(per_query) / 30)


@pytest.mark.parametrize("topk", [1, 7, 50, -1])
def test_map_against_brute_force(topk):
    g = torch.Generator().manual_seed(topk + 10)
    q, db = random_codes(12, 8, g), random_codes(60, 8, g)
    ql = torch.rand(12, 4, generator=g) < 0.4
    dl = torch.rand(60, 4, generator=g) < 0.4
    ap = metrics.average_precision(query_codes=q, database_codes=db, query_labels=ql, database_labels=dl, topk=topk)
    k = 60 if topk < 0 else topk
    expected = [brute_force_ap(q[i].tolist(), ql[i].tolist(), db.tolist(), dl.tolist(), k) for i in range(12)]
    assert ap.tolist() == pytest.approx(expected)


def test_t_map_uses_target_labels():
    q = codes([1, 1])
    db = codes([1, 1], [-1, -1])
    kw = dict(query_codes=q, database_codes=db, database_labels=onehot(0, 1), topk=1)
    assert metrics.targeted_mean_average_precision(target_labels=onehot(1), **kw) == 0.0
    assert metrics.targeted_mean_average_precision(target_labels=onehot(0), **kw) == 1.0


def test_precision_at_n_hand_worked():
    q = codes([1, 1])
    db = codes([1, 1], [1, -1], [-1, 1], [-1, -1])
    p = metrics.precision_at(
        query_codes=q, database_codes=db, query_labels=onehot(0), database_labels=onehot(0, 1, 0, 0), ns=(1, 2, 4)
    )
    assert p.tolist() == pytest.approx([1.0, 0.5, 0.75])


def test_pr_curve_against_brute_force():
    g = torch.Generator().manual_seed(5)
    q, db = random_codes(6, 5, g), random_codes(40, 5, g)
    ql, dl = torch.rand(6, 3, generator=g) < 0.5, torch.rand(40, 3, generator=g) < 0.5
    ql[:, 0] = True
    precision, recall = metrics.pr_curve(query_codes=q, database_codes=db, query_labels=ql, database_labels=dl)
    dist = (q[:, None] != db[None]).sum(2)
    rel = (ql.float() @ dl.float().T) > 0
    for r in range(6):
        inside = dist <= r
        ps = [(inside[i] & rel[i]).sum().item() / inside[i].sum().item() for i in range(6) if inside[i].any()]
        rs = [(inside[i] & rel[i]).sum().item() / rel[i].sum().item() for i in range(6) if rel[i].any()]
        assert precision[r].item() == pytest.approx(sum(ps) / len(ps) if ps else 0.0)
        assert recall[r].item() == pytest.approx(sum(rs) / len(rs))
    assert recall[-1].item() == pytest.approx(1.0)


def test_perceptibility_definitions():
    x = torch.zeros(1, 1, 2, 2)
    x_adv = torch.tensor([[[[0.1, 0.0], [0.0, 0.3]]]])
    assert metrics.perceptibility_rmse(x, x_adv).item() == pytest.approx(math.sqrt(0.1 / 4))
    assert metrics.linf(x, x_adv).item() == pytest.approx(0.3)


def calc_top_map(database_codes, query_codes, database_labels, query_labels, topk):
    """DeepHash-pytorch's CalcTopMap as its code reads, written out here: float codes, Hamming distances
    0.5 (K - q . b), NumPy's default argsort, the first `topk` ranks sliced as [0:topk], AP over the hits found,
    divided by every query."""
    total = 0.0
    for q in range(query_codes.shape[0]):
        relevant = (query_labels[q] @ database_labels.T > 0).astype(np.float32)
        distance = 0.5 * (database_codes.shape[1] - query_codes[q] @ database_codes.T)
        hits = relevant[np.argsort(distance)][0:topk]
        ranks = [i + 1 for i, hit in enumerate(hits) if hit == 1]
        if ranks:
            total += sum((n + 1) / rank for n, rank in enumerate(ranks)) / len(ranks)
    return total / query_codes.shape[0]


@pytest.mark.parametrize("seed, bits, topk", [(0, 8, 50), (1, 16, -1), (2, 12, 200)])
def test_deephash_ties_equal_an_independent_calc_top_map(seed, bits, topk):
    g = torch.Generator().manual_seed(seed)
    db = random_codes(600, bits, g)
    queries = torch.cat([db[:20], random_codes(20, bits, g)])  # many exact ties: copies of database codes
    db_labels = torch.rand(600, 5, generator=g) < 0.3
    q_labels = torch.rand(40, 5, generator=g) < 0.3
    reference = calc_top_map(
        db.numpy().astype(np.float32),
        queries.numpy().astype(np.float32),
        db_labels.numpy().astype(np.float32),
        q_labels.numpy().astype(np.float32),
        topk,
    )
    common = dict(query_codes=queries, database_codes=db, query_labels=q_labels, database_labels=db_labels, topk=topk)
    assert metrics.mean_average_precision(**common, ties="deephash") == pytest.approx(reference, abs=1e-12)
    assert metrics.mean_average_precision(**common) != pytest.approx(reference, abs=1e-12)  # ties matter here
