import pytest
import torch
from conftest import random_codes

from hashdemo.retrieval import ranking as retrieval


def brute_force_rank(q: torch.Tensor, db: torch.Tensor) -> list[list[int]]:
    """Sort (Hamming distance, database index) pairs in pure Python."""
    out = []
    for code in q.tolist():
        dist = [sum(a != b for a, b in zip(code, item, strict=True)) for item in db.tolist()]
        out.append([i for _, i in sorted((d, i) for i, d in enumerate(dist))])
    return out


def test_hamming_distance_matches_bit_count():
    g = torch.Generator().manual_seed(0)
    q, db = random_codes(5, 12, g), random_codes(40, 12, g)
    expected = (q[:, None, :] != db[None, :, :]).sum(2)
    assert torch.equal(retrieval.hamming_distance(q, db), expected.int())


def test_rank_is_stable_by_database_index():
    g = torch.Generator().manual_seed(1)
    q, db = random_codes(7, 6, g), random_codes(120, 6, g)  # 6 bits: many ties
    idx, dist = retrieval.rank(q, db)
    assert idx.tolist() == brute_force_rank(q, db)
    assert torch.all(dist[:, 1:] >= dist[:, :-1])


def test_topk_is_prefix_of_full_ranking():
    g = torch.Generator().manual_seed(2)
    q, db = random_codes(9, 8, g), random_codes(300, 8, g)
    full, _ = retrieval.rank(q, db)
    top, _ = retrieval.rank(q, db, topk=25)
    assert torch.equal(top, full[:, :25])


def test_chunked_ranking_equals_unchunked(monkeypatch):
    g = torch.Generator().manual_seed(3)
    q, db = random_codes(33, 16, g), random_codes(500, 16, g)
    whole, _ = retrieval.rank(q, db, topk=50)
    monkeypatch.setattr(retrieval, "QUERY_CHUNK", 4)
    chunked, _ = retrieval.rank(q, db, topk=50)
    assert torch.equal(whole, chunked)


@pytest.mark.parametrize("bits", [1, 7, 64, 65, 130, 300])
def test_distances_for_any_bit_length(bits):
    g = torch.Generator().manual_seed(bits)
    q, db = random_codes(5, bits, g), random_codes(9, bits, g)
    expected = (q[:, None, :] != db[None, :, :]).sum(2)
    assert torch.equal(retrieval.hamming_distance(q, db), expected.int())


def test_bit_length_mismatch_is_a_clear_error():
    import pytest

    from hashdemo.core.errors import InvalidInputError

    g = torch.Generator().manual_seed(4)
    with pytest.raises(InvalidInputError, match="bit length mismatch"):
        retrieval.hamming_distance(random_codes(2, 16, g), random_codes(3, 32, g))


def test_a_million_item_database():
    g = torch.Generator().manual_seed(7)
    db = random_codes(1_000_000, 32, g)
    q = db[[123_456, 999_999]].clone()
    idx, dist = retrieval.rank(q, db, topk=5)
    assert dist[:, 0].tolist() == [0, 0]
    assert idx[0, 0] == 123_456 or (dist[0, 0] == 0 and int(idx[0, 0]) < 123_456)
