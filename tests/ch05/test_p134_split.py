"""Chapter 5, page 134: shuffle the indices with torch.randperm and keep 20% for validation."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from claims.book.thermometer import split_indices


@pytest.mark.claim("ch05.randperm-is-a-reproducible-permutation")
@given(n=st.integers(0, 300), seed=st.integers(0, 2**31 - 1))
def test_randperm_is_a_permutation_reproduced_by_its_seed(device, n, seed):
    """p.134: torch.randperm(n) holds each of 0..n-1 once; the same seed gives the same order."""
    perm = torch.randperm(n, generator=torch.Generator(device=device).manual_seed(seed), device=device)
    assert perm.dtype == torch.int64 and perm.shape == (n,)
    assert torch.equal(perm.sort().values, torch.arange(n, device=device)), f"not a permutation: {perm}"
    again = torch.randperm(n, generator=torch.Generator(device=device).manual_seed(seed), device=device)
    assert torch.equal(perm, again), "the same seed should give the same permutation"


@pytest.mark.claim("ch05.randperm-is-a-reproducible-permutation")
def test_manual_seed_reproduces_randperm_and_shuffles(device):
    """p.134: after torch.manual_seed the global generator repeats its permutation; 11 readings are
    really shuffled (not the identity) and different seeds give different orders."""
    torch.manual_seed(0)
    first = torch.randperm(11, device=device)
    torch.manual_seed(0)
    assert torch.equal(torch.randperm(11, device=device), first)
    assert not torch.equal(first, torch.arange(11, device=device)), f"not shuffled: {first}"
    orders = {
        tuple(torch.randperm(11, generator=torch.Generator(device=device).manual_seed(s), device=device).tolist())
        for s in range(20)
    }
    assert len(orders) == 20, f"20 seeds gave only {len(orders)} different orders"


@pytest.mark.claim("ch05.split-gives-disjoint-train-and-validation-sets")
def test_book_split_of_the_eleven_readings(thermometer, device, generator, evidence):
    """p.134: n_val = int(0.2 * 11) = 2; the shuffled indices split into 9 for training and 2 for
    validation, disjoint and together all 11; indexing t_u with them gives the two subsets."""
    train, val = split_indices(thermometer.t_u.shape[0], generator=generator, device=device)
    evidence.record(train_indices=train.tolist(), val_indices=val.tolist())

    assert (len(train), len(val)) == (9, 2)
    assert not set(train.tolist()) & set(val.tolist()), f"overlap: {train} {val}"
    assert sorted(train.tolist() + val.tolist()) == list(range(11))
    subsets = torch.cat([thermometer.t_u[train], thermometer.t_u[val]])
    assert torch.equal(subsets.sort().values, thermometer.t_u.sort().values), "every reading once"


@pytest.mark.claim("ch05.split-gives-disjoint-train-and-validation-sets")
@given(n=st.integers(1, 200), seed=st.integers(0, 2**31 - 1))
def test_split_is_disjoint_and_covers_every_sample(device, n, seed):
    """p.134: for any n the book's split is disjoint and covers 0..n-1; from 5 samples on it keeps
    int(0.2 * n) for validation and the rest for training. Below 5, n_val = int(0.2 * n) is 0 and the book's
    slices [:-0] and [-0:] leave the training set empty and put every sample into validation."""
    train, val = split_indices(n, generator=torch.Generator(device=device).manual_seed(seed), device=device)
    expected = (n - int(0.2 * n), int(0.2 * n)) if n >= 5 else (0, n)
    assert (len(train), len(val)) == expected, f"n={n}: {len(train)} for training, {len(val)} for validation"
    assert torch.equal(torch.cat([train, val]).sort().values, torch.arange(n, device=device))


@pytest.mark.claim("ch05.split-gives-disjoint-train-and-validation-sets")
def test_below_5_samples_the_book_split_trains_on_nothing(device, generator, evidence):
    """p.134, the book's code: with 4 samples n_val = int(0.8) = 0; shuffled_indices[:-0] is
    shuffled_indices[:0], empty, and shuffled_indices[-0:] is shuffled_indices[0:], all 4."""
    sizes = {}
    for n in range(1, 6):
        train, val = split_indices(n, generator=generator, device=device)
        sizes[n] = (len(train), len(val))
    evidence.record(train_and_val_sizes=sizes)

    assert sizes == {1: (0, 1), 2: (0, 2), 3: (0, 3), 4: (0, 4), 5: (4, 1)}, f"(train, val) by n: {sizes}"
