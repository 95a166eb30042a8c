"""Chapter 8, pages 205-210: the book's Net as nn.Sequential (which cannot run: it has no step from the
conv part to the linear part), as an nn.Module subclass of submodules, and as a subclass with
nn.functional in forward (claims.book.models.Net); the subclasses, and the Sequential once nn.Flatten
fills its gap, are one and the same function."""

from __future__ import annotations

import pytest
import torch

from claims.book.models import Net, book_sequential, net_as_sequential
from claims.book.net_styles import NetModules, sequential_state_from_net
from claims.compat import assert_close, full_float32, matmul_shape_error

CLAIM = "ch08.subclass-and-sequential-nets-compute-the-same-function"
# What the book's Sequential says when its Linear(512, 32) gets the [1, 8, 8, 8] pool output: torch 1.4 printed
# "size mismatch, m1: [64 x 8], m2: [512 x 32]" (dlwpt-code p1ch8/1_convolution.ipynb In[25]); the wording of
# each release and device comes from claims.compat.matmul_shape_error (today's: "mat1 and mat2 shapes cannot be
# multiplied (64x8 and 512x32)", which dlwpt-code-2e prints too, In[26]).
ROWS_TIMES_WEIGHT = ((64, 8), (512, 32))  # the [1, 8, 8, 8] output read as 64 rows of 8, Linear(512, 32)'s weight.t()


@pytest.mark.claim(CLAIM)
def test_the_books_sequential_fails_at_its_first_linear_layer(device, evidence):
    """p.205-207 (dlwpt-code In[23]-In[25]): the book's nn.Sequential has nothing between its second
    pool and Linear(512, 32), so model(img.unsqueeze(0)) hands that layer the [1, 8, 8, 8] pool output,
    which it multiplies as 64 rows of 8 by its [512 x 32] weight (transposed), and fails: torch 1.4
    printed "size mismatch, m1: [64 x 8], m2: [512 x 32]" (so does 1.6.0); on the CPU 1.7.0 and every later
    release run here say "mat1 and mat2 shapes cannot be multiplied (64x8 and 512x32)", from 2.15 after
    "addmm: ". No CUDA message was
    measured: claims.compat.matmul_shape_error says what each release's CUDA library holds, and on 1.9.0,
    whose CUDA mm checks no shapes itself, cuBLAS's refusal as issue reports give it. That is why the book
    writes forward by hand."""
    model = book_sequential().to(device)
    linear, received = model[6], []
    linear.register_forward_pre_hook(lambda module, inputs: received.append(tuple(inputs[0].shape)))
    img = torch.randn(3, 32, 32, device=device)

    with pytest.raises(RuntimeError) as error:
        model(img.unsqueeze(0))
    message = str(error.value).strip().splitlines()[0]
    evidence.record(message=message)
    assert received == [(1, 8, 8, 8)] and tuple(linear.weight.t().shape) == (512, 32), (
        f"expected Linear(512, 32) to receive [1, 8, 8, 8], it received {received}"
    )
    expected = matmul_shape_error(*ROWS_TIMES_WEIGHT, device_type=torch.device(device).type)
    assert expected is not None, "8 columns by 512 rows: compat knows every release's words for it"
    assert expected in message, f"expected {expected!r} on this torch, got {message!r}"


@pytest.mark.claim(CLAIM)
def test_three_styles_of_net_give_the_same_outputs_with_the_same_weights(device, evidence):
    """p.208-210: load one Net's weights into the all-modules subclass (same names) and into the
    nn.Sequential with nn.Flatten added (layers renamed 0, 3, 7, 9): all three return the same logits
    for a batch of images."""
    functional = Net().to(device)
    modules, sequential = NetModules().to(device), net_as_sequential().to(device)
    assert list(modules.state_dict()) == list(functional.state_dict()), (
        f"expected Net's keys {list(functional.state_dict())}, NetModules has {list(modules.state_dict())}"
    )
    modules.load_state_dict(functional.state_dict())
    sequential.load_state_dict(sequential_state_from_net(functional.state_dict()))
    x = torch.randn(8, 3, 32, 32, device=device)

    with full_float32(deterministic=True):  # the same kernels in the same order: exact on every backend
        expected, by_modules, by_sequential = functional(x), modules(x), sequential(x)
    evidence.record(max_logit=expected.abs().max().item())
    assert_close(by_modules, expected, rtol=0, atol=0)
    assert_close(by_sequential, expected, rtol=0, atol=0)
    assert expected.std() > 0, "outputs should vary across images"


@pytest.mark.claim(CLAIM)
def test_the_styles_hold_the_same_parameters():
    """p.205-210: the book's nn.Sequential, the subclass of submodules and the functional Net have the
    same parameter shapes in the same order (the book's 18,090 parameters each; nn.Flatten adds none),
    and the subclass of submodules has exactly the functional Net's state_dict keys: its tanh and
    pooling modules add none."""
    styles = [Net(), NetModules(), book_sequential(), net_as_sequential()]
    shapes = [[tuple(p.shape) for p in m.parameters()] for m in styles]
    assert all(s == shapes[0] for s in shapes), f"expected equal parameter shapes, measured {shapes}"
    totals = [sum(p.numel() for p in m.parameters()) for m in styles]
    assert totals == [18_090] * 4, f"expected 18,090 parameters in each style, counted {totals}"
    assert list(styles[1].state_dict()) == list(styles[0].state_dict()), (
        f"expected Net's keys {list(styles[0].state_dict())}, NetModules has {list(styles[1].state_dict())}"
    )
