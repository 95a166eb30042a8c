"""Chapter 8, page 227: the book's deep ResNet, NetResDeep, built as
``nn.Sequential(*(n_blocks * [ResBlock(n_chans=n_chans1)]))``: what that construction holds, and the
first conv's gradient at 100 blocks with and without the blocks' skips, in train and eval mode.

The gradient measure: 2 ``bars`` images, loss = mean output, norm of conv1's weight gradient at 100
blocks divided by the same at 10 blocks. Without its skip the book's (shared) block is switched with
``resblocks[0].skip = False``, which switches all 100 entries since they are one block.
Seeds 0-5 on the CPU, train mode: with skips 13-25, without 1.4e5-1.9e7; eval mode with fresh running
statistics: with skips 1e13-3e16, without exactly 0.
"""
import copy

import pytest
import torch
import torch.nn as nn
from claims.compat import assert_close

from claims.book.models import NetResDeep, ResBlock, n_parameters
from fixtures.images import bars


# Many small ops: one CPU thread (the conftest fixture says why).
pytestmark = pytest.mark.usefixtures("one_cpu_thread")


@pytest.mark.claim("ch08.book-netresdeep-repeats-one-block")
def test_book_construction_repeats_one_block(device, evidence):
    """p.227, refuted: `100 * [ResBlock(32)]` is one block listed 100 times, so NetResDeep(32, 100) has
    the 75,810 parameters of NetResDeep(32, 1); 100 distinct blocks would make 994,530."""
    book = NetResDeep(n_chans1=32, n_blocks=100).to(device)
    distinct = nn.Sequential(*[ResBlock(32) for _ in range(100)])
    counts = {"book_100": n_parameters(book), "book_1": n_parameters(NetResDeep(32, 1)),
              "distinct_100_blocks": n_parameters(distinct) - n_parameters(ResBlock(32)) + n_parameters(book)}
    evidence.record(**counts, distinct_block_objects=len({id(b) for b in book.resblocks}))

    assert len({id(b) for b in book.resblocks}) == 1, "expected one block object repeated"
    assert counts == {"book_100": 75_810, "book_1": 75_810, "distinct_100_blocks": 994_530}, counts
    state = book.state_dict()  # 100 names per tensor, all one storage
    assert state["resblocks.0.conv.weight"].data_ptr() == state["resblocks.99.conv.weight"].data_ptr()


@pytest.mark.claim("ch08.book-netresdeep-repeats-one-block")
def test_shared_block_sums_gradients_and_updates_statistics_per_use(device):
    """p.227: the shared conv's gradient is the sum of what 3 separate copies of it would get, and one
    train-mode forward updates the shared BatchNorm's running statistics 3 times."""
    book = NetResDeep(n_chans1=8, n_blocks=3).to(device)
    untied = copy.deepcopy(book)
    untied.resblocks = nn.Sequential(*[copy.deepcopy(book.resblocks[0]) for _ in range(3)])
    x = torch.rand(2, 3, 32, 32, device=device)
    book(x).sum().backward()
    untied(x).sum().backward()
    summed = sum(block.conv.weight.grad for block in untied.resblocks)
    assert_close(book.resblocks[0].conv.weight.grad, summed, rtol=1e-4, atol=1e-6)
    assert int(book.resblocks[0].batch_norm.num_batches_tracked) == 3


def grad_ratio(skip: bool, train: bool, device) -> float:
    """conv1's gradient norm at 100 blocks over 10 blocks; same seed, so the same initial weights."""
    x, _ = bars(2, torch.Generator().manual_seed(torch.initial_seed() % 2**31))
    norms = []
    for n_blocks in (10, 100):
        torch.manual_seed(torch.initial_seed())
        model = NetResDeep(n_chans1=32, n_blocks=n_blocks).to(device).train(train)
        model.resblocks[0].skip = skip
        model(x.to(device)).mean().backward()
        norms.append(model.conv1.weight.grad.norm().item())
    return norms[1] / norms[0]


@pytest.mark.claim("ch08.netresdeep-skips-keep-the-first-layer-gradient-in-training")
def test_netresdeep_100_blocks_train_mode_gradient(device, evidence):
    """p.227: in training (train mode), the first conv's gradient at 100 blocks is within 100x of its
    value at 10 blocks with the skips, and more than 1,000x larger without them (it explodes: the
    BatchNorm renormalizes the forward pass, not the backward one)."""
    with_skips, without = grad_ratio(True, True, device), grad_ratio(False, True, device)
    evidence.record(ratio_100_over_10_with_skips=with_skips, ratio_without_skips=without)
    assert 1 / 100 < with_skips < 100, f"expected within 100x with skips, measured {with_skips}"
    assert without > 1e3, f"expected an explosion without skips, measured {without}"


@pytest.mark.claim("ch08.netresdeep-skips-keep-the-first-layer-gradient-in-training")
def test_netresdeep_100_blocks_eval_mode_with_fresh_statistics(device, evidence):
    """p.227, outside the claim: in eval mode before any training the BatchNorm is a fixed 0.5 scale, and
    then the skips do not protect the gradient: with them it explodes (beyond 1e6), without them it
    vanishes (below 1e-6). The claim is about training, which runs in train mode."""
    with_skips, without = grad_ratio(True, False, device), grad_ratio(False, False, device)
    evidence.record(ratio_100_over_10_with_skips=with_skips, ratio_without_skips=without)
    assert with_skips > 1e6, f"expected an explosion with skips in eval mode, measured {with_skips}"
    assert without < 1e-6, f"expected vanishing without skips in eval mode, measured {without}"
