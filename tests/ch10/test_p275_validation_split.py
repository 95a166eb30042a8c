"""Chapter 10, page 275: the training/validation split with ``val_stride``, and why it strides.

Both sets should represent every kind of input. The book's candidate list is sorted (nodules first, largest
first, then the non-nodules), so each kind of candidate is one run of the list: the non-nodules, and the
nodules of each size. ``val_stride=10`` takes every tenth candidate for validation, so a tenth of every run; a
validation set cut from the list in one place takes whole runs, or parts of them, and leaves the others out.
Nodules are told apart by size in fifths (``SIZE_CLASSES``): six kinds in all.

The tree (``write_split_tree`` in ``fixtures/luna.py``) has 3,000 candidates over 10 scans, 300 of them
nodules of 3 to 30 mm: a validation set of 300 candidates, 30 of them nodules.
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


def cuts_that_give_both_sets_every_kind(sorted_list, kind, n_val: int) -> int:
    """How many of the validation sets cut from the list in one place (``sorted_list[s:s + n_val]``, every s)
    leave both it and the training set (the rest) at least one candidate of every kind."""
    names = sorted(set(map(kind, sorted_list)))
    counts = np.eye(len(names), dtype=np.int64)[[names.index(kind(c)) for c in sorted_list]]
    before = np.concatenate([np.zeros((1, len(names)), np.int64), counts.cumsum(axis=0)])
    in_val = before[n_val:] - before[: len(sorted_list) - n_val + 1]  # one row per start s, one column per kind
    in_train = before[-1] - in_val
    return int(((in_val > 0) & (in_train > 0)).all(axis=1).sum())


def assert_stride_represents_every_kind(val, train, everything, evidence) -> None:
    """Both sets hold every kind, validation a tenth of it (give or take one); no one-place cut does as well."""
    whole = everything.candidateInfo_list
    kind = kind_of(whole)
    counts = {name: Counter(map(kind, ds.candidateInfo_list)) for name, ds in (("val", val), ("train", train))}
    total = Counter(map(kind, whole))
    good_cuts = cuts_that_give_both_sets_every_kind(whole, kind, len(val))
    evidence.record(
        kinds={k: [counts["val"][k], counts["train"][k]] for k in sorted(total)},
        one_place_cuts=len(whole) - len(val) + 1,
        cuts_giving_both_sets_every_kind=good_cuts,
    )
    for k, n in total.items():
        assert counts["val"][k] > 0 and counts["train"][k] > 0, f"{k}: {counts['val'][k]} in val, of {n}"
        assert abs(counts["val"][k] - n / 10) < 1, f"{k}: {counts['val'][k]} of {n} in validation, not a tenth"
    assert good_cuts == 0, f"{good_cuts} validation sets cut in one place give both sets every kind"


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
def test_striding_gives_both_sets_every_kind_where_no_one_place_cut_does(luna_split_tree, luna_cache, evidence):
    """p.275: with val_stride=10 the validation set holds a tenth of the non-nodules and a tenth of the nodules
    of each size, the training set the rest; of the 2,701 validation sets of the same size cut from the sorted
    list in one place (from the head to the tail), none leaves both sets every kind."""
    assert_stride_represents_every_kind(*split(luna_split_tree, luna_cache), evidence)


@pytest.mark.claim(REAL)
def test_luna16_split_gives_both_sets_every_kind(real_luna, tmp_path, evidence):
    """p.275: on the real data (the candidates of the scans on disk), with val_stride=10, both sets hold
    non-nodules and nodules of every size, the validation set a tenth of each; no one-place cut does that."""
    val, train, everything = split(real_luna, RawCandidateCache(tmp_path / "cache"))
    assert len(val) + len(train) == len(everything)
    assert_stride_represents_every_kind(val, train, everything, evidence)
