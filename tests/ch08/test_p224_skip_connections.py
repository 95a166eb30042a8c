"""Chapter 8, pages 224-227: skip connections keep early-layer gradients alive in deep networks.

Each stack is 8 images of 32 channels at 16x16; the loss is the mean output; we compare the first
block's weight-gradient norm at depth 100 with depth 10. Margins were set from seeds 0-3 on the CPU:
without skips the ratio was 0 (tanh, underflow) or 6e6-1e7 (the book's block, train mode); with skips
it was 11-14 (tanh) and 4.9-5.7 (the book's block). "Within a factor of 100" is the suite's margin.
"""
import pytest
import torch

from claims.book.depth import first_layer_grad_norm, stack

CLAIM = "ch08.skip-connections-ease-vanishing-gradients"
DEPTHS = (10, 50, 100)
FACTOR = 100.0  # with skips, depth 100's gradient stays within this factor of depth 10's


def grad_norms(block: str, skip: bool, device, train: bool = True) -> dict[int, float]:
    x = torch.randn(8, 32, 16, 16)
    norms = {}
    for depth in DEPTHS:
        model = stack(block, depth, n_chans=32, skip=skip).to(device)
        norms[depth] = first_layer_grad_norm(model, x.to(device), train=train)
    return norms


@pytest.mark.claim(CLAIM)
def test_plain_tanh_stack_vanishes_and_skips_keep_it(device, evidence):
    """p.224: a plain conv + tanh stack (default init, no normalization) loses its first layer's
    gradient by orders of magnitude from 10 to 100 layers; the same stack with `+ x` does not."""
    plain = grad_norms("tanh", skip=False, device=device)
    skipped = grad_norms("tanh", skip=True, device=device)
    evidence.record(without_skips=plain, with_skips=skipped)

    assert plain[100] < 1e-6 * plain[10], f"expected vanishing, measured {plain}"
    assert 1 / FACTOR < skipped[100] / skipped[10] < FACTOR, f"expected within {FACTOR}x, measured {skipped}"


@pytest.mark.claim(CLAIM)
def test_book_resblock_explodes_without_its_skip_and_holds_with_it(device, evidence):
    """p.227: the book's ResBlock (conv, BatchNorm, ReLU, kaiming init) in training mode: without its
    `+ x` the first layer's gradient does not vanish but explodes (BatchNorm renormalizes the forward
    pass, not the backward one); with the skip it stays within the factor."""
    without = grad_norms("resblock", skip=False, device=device)
    with_skip = grad_norms("resblock", skip=True, device=device)
    evidence.record(without_skips=without, with_skips=with_skip)

    assert without[100] > 1e3 * without[10], f"expected explosion without the skip, measured {without}"
    assert 1 / FACTOR < with_skip[100] / with_skip[10] < FACTOR, f"expected within {FACTOR}x, measured {with_skip}"


@pytest.mark.claim(CLAIM)
def test_book_resblock_in_eval_mode_with_fresh_statistics(device, evidence):
    """p.227, what the claim does not cover: in eval mode with untrained running statistics the
    BatchNorm is a fixed scale of 0.5, and the skips no longer protect the gradient: without them it
    vanishes, with them it explodes (each block adds its output to its input). Training uses train mode."""
    without = grad_norms("resblock", skip=False, device=device, train=False)
    with_skip = grad_norms("resblock", skip=True, device=device, train=False)
    evidence.record(without_skips=without, with_skips=with_skip)

    assert without[100] < 1e-6 * without[10], f"expected vanishing, measured {without}"
    assert with_skip[100] > 1e3 * with_skip[10], f"expected explosion, measured {with_skip}"
