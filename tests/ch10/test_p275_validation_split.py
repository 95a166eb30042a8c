"""Chapter 10, page 275: the training/validation split with ``val_stride``, and why it strides.

Both sets should represent every kind of input (why: ``test_p275_every_kind.py``). The book's candidate list is
sorted (nodules first, largest first, then the non-nodules), so each kind of candidate is one run of the list: the
non-nodules, and the nodules of each size. ``val_stride=10`` takes every tenth candidate for validation, and a run
of n candidates holds n/10 multiples of ten, give or take one: the validation set gets a tenth of every kind. That
follows from the ordering, not from chance (and for the same reason a validation set cut from the list in one place
would take whole runs and leave kinds out of one set or the other). What is measured is what the ordering buys: a
validation set of the same size drawn at random gets each kind's tenth only on average. Nodules are told apart by
size in fifths (``SIZE_CLASSES``): six kinds in all.

The tree (``write_split_tree`` in ``fixtures/luna.py``) has 3,000 candidates over 10 scans, 300 of them
nodules of 3 to 30 mm: a validation set of 300 candidates, 30 of them nodules, 6 of each size.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from claims.book.luna.cache import RawCandidateCache
from claims.book.luna.dataset import LunaDataset

STRIDE = "ch10.val-stride-takes-every-tenth-candidate"
REPRESENT = "ch10.both-splits-represent-every-kind-of-input"
REAL = "ch10.val-stride-gives-both-luna16-splits-both-kinds"
SIZE_CLASSES = 5  # nodules told apart by size: the largest fifth, the next fifth, ...
RANDOM_WITHIN_A_TENTH = 5  # of 50 random validation sets, at most this many get every kind's tenth give or take
# one candidate (50 seeds of 50 draws: 0-3)


def split(root, cache, val_stride=10):
    """The book's split: (validation, training, every candidate) LunaDatasets."""
    return (
        LunaDataset(root, cache, val_stride=val_stride, isValSet_bool=True),
        LunaDataset(root, cache, val_stride=val_stride, isValSet_bool=False),
        LunaDataset(root, cache),
    )


def kind_of(sorted_list):
    """A function giving each candidate of ``sorted_list`` (sorted as the book sorts it) its kind: "non-nodule",
    or "nodule, size k" for the k-th fifth of the nodules by diameter (1: the largest)."""
    nodules = [c for c in sorted_list if c.isNodule_bool]
    starts = [nodules[len(nodules) * k // SIZE_CLASSES].diameter_mm for k in range(1, SIZE_CLASSES)]
    return lambda c: f"nodule, size {1 + sum(c.diameter_mm <= d for d in starts)}" if c.isNodule_bool else "non-nodule"


def within_a_tenth(in_val: np.ndarray, totals: np.ndarray) -> bool:
    """Every kind's count in the validation set is a tenth of its total, give or take one candidate (off by exactly
    one counts as within)."""
    return bool((np.abs(in_val - totals / 10) <= 1).all())


def assert_stride_represents_every_kind(val, train, everything, evidence) -> None:
    """Both sets hold every kind, validation a tenth of it (give or take one: the stride's count is a tenth rounded up
    or down, so it is asserted closer than one candidate)."""
    whole = everything.candidateInfo_list
    kind = kind_of(whole)
    counts = {name: Counter(map(kind, ds.candidateInfo_list)) for name, ds in (("val", val), ("train", train))}
    total = Counter(map(kind, whole))
    evidence.record(kinds={k: [counts["val"][k], counts["train"][k]] for k in sorted(total)})
    for k, n in total.items():
        assert counts["val"][k] > 0 and counts["train"][k] > 0, f"{k}: {counts['val'][k]} in val, of {n}"
        assert abs(counts["val"][k] - n / 10) < 1, f"{k}: {counts['val'][k]} of {n} in validation, not a tenth"


@pytest.mark.claim(STRIDE)
def test_validation_is_every_tenth_candidate(luna_split_tree, luna_cache, evidence):
    """p.275: val_stride=10: validation is list[::10], training the rest; disjoint, and together all."""
    val, train, everything = split(luna_split_tree, luna_cache)
    whole = everything.candidateInfo_list
    evidence.record(val=len(val), train=len(train), total=len(whole))
    assert val.candidateInfo_list == whole[::10] and len(val) == 300
    assert train.candidateInfo_list == [c for i, c in enumerate(whole) if i % 10 != 0] and len(train) == 2700
    assert not set(val.candidateInfo_list) & set(train.candidateInfo_list)
    assert sorted(val.candidateInfo_list + train.candidateInfo_list) == sorted(whole)


@pytest.mark.claim(REPRESENT)
def test_striding_gives_both_sets_a_tenth_of_every_kind(luna_split_tree, luna_cache, rng, evidence):
    """p.275: with val_stride=10 the validation set holds a tenth of the non-nodules and a tenth of the nodules
    of each size, give or take one, and the training set the rest. Of 50 validation sets of the same size drawn at
    random, at most RANDOM_WITHIN_A_TENTH do that (measured: 0-3): the others miss some kind's tenth by more than one
    candidate; they get each kind's tenth only on average."""
    val, train, everything = split(luna_split_tree, luna_cache)
    assert_stride_represents_every_kind(val, train, everything, evidence)
    whole = everything.candidateInfo_list
    kind = kind_of(whole)
    names = sorted(set(map(kind, whole)))
    labels = np.array([names.index(kind(c)) for c in whole])
    totals = np.bincount(labels, minlength=len(names))
    drawn = [np.bincount(labels[rng.permutation(len(whole))[: len(val)]], minlength=len(names)) for _ in range(50)]
    misses = [float(np.abs(in_val - totals / 10).max()) for in_val in drawn]
    random_within = sum(within_a_tenth(in_val, totals) for in_val in drawn)
    evidence.record(random_within_a_tenth=random_within, random_largest_miss=[min(misses), max(misses)])
    assert random_within <= RANDOM_WITHIN_A_TENTH, (
        f"{random_within} of 50 random validation sets got every kind's tenth, give or take one"
    )


@pytest.mark.sweep
def test_random_splits_within_a_tenth_over_50_seeds(luna_split_tree, luna_cache):
    """RANDOM_WITHIN_A_TENTH over 50 seeds of 50 random draws each (python -m pytest tests/ch10 -m sweep -s)."""
    whole = LunaDataset(luna_split_tree, luna_cache).candidateInfo_list
    kind = kind_of(whole)
    names = sorted(set(map(kind, whole)))
    labels = np.array([names.index(kind(c)) for c in whole])
    totals = np.bincount(labels, minlength=len(names))
    counts = []
    for seed in range(50):
        rng = np.random.default_rng(seed)
        draws = [np.bincount(labels[rng.permutation(len(whole))[:300]], minlength=len(names)) for _ in range(50)]
        counts.append(sum(within_a_tenth(in_val, totals) for in_val in draws))
    print(f"\n50 seeds: {min(counts)}-{max(counts)} of 50 random validation sets within a tenth of every kind")
    assert max(counts) <= RANDOM_WITHIN_A_TENTH


@pytest.mark.claim(REAL)
def test_luna16_split_gives_both_sets_every_kind(real_luna, tmp_path, evidence):
    """p.275: on the real data (the candidates of the scans on disk), with val_stride=10, both sets hold
    non-nodules and nodules of every size, the validation set a tenth of each, give or take one."""
    val, train, everything = split(real_luna, RawCandidateCache(tmp_path / "cache"))
    assert len(val) + len(train) == len(everything)
    assert_stride_represents_every_kind(val, train, everything, evidence)
