"""Chapter 10, page 275: the training/validation split with ``val_stride``.

On the synthetic tree the sorted list holds 20 candidates on disk: 8 nodules then 12 non-nodules.
"""

from __future__ import annotations

import pytest

from claims.book.luna.cache import RawCandidateCache
from claims.book.luna.dataset import LunaDataset

STRIDE = "ch10.val-stride-takes-every-tenth-candidate"
REPRESENT = "ch10.both-splits-represent-every-kind-of-input"
REAL = "ch10.val-stride-gives-both-luna16-splits-both-kinds"


def kinds(ds) -> list[int]:
    """[nodules, non-nodules] in a dataset."""
    nodules = sum(c.isNodule_bool for c in ds.candidateInfo_list)
    return [nodules, len(ds.candidateInfo_list) - nodules]


def split(root, cache, val_stride=10):
    return (
        LunaDataset(root, cache, val_stride=val_stride, isValSet_bool=True),
        LunaDataset(root, cache, val_stride=val_stride, isValSet_bool=False),
        LunaDataset(root, cache),
    )


@pytest.mark.claim(STRIDE)
def test_validation_is_every_tenth_candidate(luna_tree, luna_cache, evidence):
    """p.275: val_stride=10: validation is list[::10], training the rest; disjoint, and together all."""
    val, train, everything = split(luna_tree.root, luna_cache)
    whole = everything.candidateInfo_list
    evidence.record(val=len(val), train=len(train), total=len(whole))
    assert val.candidateInfo_list == whole[::10] and len(val) == 2
    assert train.candidateInfo_list == [c for i, c in enumerate(whole) if i % 10 != 0] and len(train) == 18
    assert not set(val.candidateInfo_list) & set(train.candidateInfo_list)
    assert sorted(val.candidateInfo_list + train.candidateInfo_list) == sorted(whole)


@pytest.mark.claim(REPRESENT)
def test_both_sets_hold_nodules_and_non_nodules(luna_tree, luna_cache, evidence):
    """p.275: striding through the sorted list (nodules first) gives both sets nodules and non-nodules;
    a cut of the list in one place (the first 10% for validation) gives validation nodules only."""
    val, train, everything = split(luna_tree.root, luna_cache)
    counts = {name: kinds(ds) for name, ds in (("val", val), ("train", train))}
    cut = everything.candidateInfo_list[: len(val)]
    evidence.record(nodules_and_non_nodules=counts, cut_val_nodules=sum(c.isNodule_bool for c in cut))
    assert all(n > 0 and m > 0 for n, m in counts.values()), f"each set needs both kinds: {counts}"
    assert all(c.isNodule_bool for c in cut), "a one-place cut would give validation nodules only"


@pytest.mark.claim(REAL)
def test_luna16_split_holds_both_kinds(real_luna, tmp_path, evidence):
    """p.275: on the real data, with val_stride=10, both sets hold nodules and non-nodules, the validation set
    about a tenth of each (one in ten of the sorted list, so a tenth of each kind give or take one)."""
    val, train, everything = split(real_luna, RawCandidateCache(tmp_path / "cache"))
    counts = {name: kinds(ds) for name, ds in (("val", val), ("train", train), ("all", everything))}
    evidence.record(**counts)
    assert len(val) + len(train) == len(everything)
    for kind in (0, 1):
        n_all, n_val = counts["all"][kind], counts["val"][kind]
        assert abs(n_val - n_all / 10) <= 1 and counts["train"][kind] == n_all - n_val > 0, counts
