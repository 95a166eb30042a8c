"""Chapter 8, page 205: the receptive field of an output neuron, and page 203's other way to widen it (a
bigger kernel); numel per layer; nn.Flatten; the errata."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from claims.book.models import Net, book_sequential, n_parameters, net_as_sequential
from claims.book.net_styles import NetModules
from claims.compat import assert_close

# dlwpt-code p1ch8/1_convolution.ipynb In[24] and In[27], (sum(numel_list), numel_list) as printed
BOOK_NET_COUNTS = "(18090, [432, 16, 1152, 8, 16384, 32, 64, 2])"
POOL_STRIDE = 2  # the book's MaxPool2d(2) steps 2 pixels: it downsamples
BIG_KERNEL = 6  # the side of a conv2 kernel that sees as far with no pool before it as 3x3 does after one
# A pixel reaches a neuron when its gradient is above this fraction of the image's largest one. Over
# seeds 0-49 (the sweep below: Net's stages, the bigger kernel's and Net's output) every pixel of a field
# reached at least 0.059 in one of the 64 images, pixels outside it 0 on the CPU; cuDNN's FFT or Winograd
# backward on cuda may leave rounding noise of about 1e-6 there.
REACHES = 1e-3
# Neuron (3, 3) of every stage below sees pixels within the top-left 19x19 (rows and columns 0-18), so a
# 24x24 image holds its whole field with pixels to spare around it; Net's output needs its 32x32.
STAGE_SIDE = 24


def analytic_fields(layers) -> list[int]:
    """Receptive-field side after each layer: r += (kernel - 1) * jump; jump *= stride."""
    r, jump, fields = 1, 1, []
    for layer in layers:
        kernel, stride = (v[0] if isinstance(v, tuple) else v for v in (layer.kernel_size, layer.stride))
        r, jump = r + (kernel - 1) * jump, jump * stride
        fields.append(r)
    return fields


def reach(neuron, device, side: int = 32, n_images: int = 64) -> torch.Tensor:
    """[side, side]: how strongly each input pixel reaches ``neuron(x)`` (a [n_images] output), in any channel:
    its gradient as a fraction of the image's largest, the most over the images. A gradient through
    max-pooling follows only each window's maximum, so one image can miss part of the field; the most
    over many random images sees all of it."""
    x = torch.randn(n_images, 3, side, side, device=device, requires_grad=True)
    neuron(x).sum().backward()  # images are independent, so one backward serves them all
    grad = x.grad.abs().max(dim=1).values  # [n_images, side, side]
    return (grad / grad.flatten(1).max(dim=1).values[:, None, None]).max(dim=0).values


def measured_field(neuron, device, side: int = 32) -> torch.Tensor:
    """The [side, side] mask of the input pixels that reach ``neuron``."""
    return reach(neuron, device, side) > REACHES


def book_net_as_sequential(device) -> nn.Sequential:
    """The book's Net as nn.Sequential (with nn.Flatten), its two MaxPool2d(2) written out with their
    stride, POOL_STRIDE (2, the kernel size, as MaxPool2d(2) defaults to)."""
    net = net_as_sequential()
    net[2], net[5] = nn.MaxPool2d(2, stride=POOL_STRIDE), nn.MaxPool2d(2, stride=POOL_STRIDE)
    return net.to(device)


def net_stages(net: nn.Sequential):
    """The book's Net (as nn.Sequential) cut after each layer whose field we measure, and the conv and
    pool layers up to there (for the analytic rule)."""
    stages = {
        "conv1": net[:1],
        "pool1": net[:3],
        "conv2": net[:4],
        "pool2": net[:6],
        "conv2_without_pool1": nn.Sequential(net[0], net[1], net[3]),
    }
    layers = {
        "conv1": [net[0]],
        "pool1": [net[0], net[2]],
        "conv2": [net[0], net[2], net[3]],
        "pool2": [net[0], net[2], net[3], net[5]],
        "conv2_without_pool1": [net[0], net[3]],
    }
    return stages, layers


def field_side(stage, device) -> int:
    """The side of the square of input pixels that reach neuron (3, 3) of ``stage``'s output (summed over
    its channels), or -1 where they do not form a square."""
    return square_side(measured_field(lambda x: stage(x)[:, :, 3, 3].sum(dim=1), device, STAGE_SIDE))


def square_side(field: torch.Tensor) -> int:
    """The side of the square ``field`` is, or -1 if it is empty or not a full square."""
    rows, cols = field.any(dim=1).nonzero().flatten(), field.any(dim=0).nonzero().flatten()
    if rows.numel() == 0:
        return -1
    side = (rows.max() - rows.min() + 1).item()
    return side if side == (cols.max() - cols.min() + 1).item() and field.sum().item() == side * side else -1


@pytest.mark.claim("ch08.receptive-field-grows-with-depth-and-pooling")
def test_receptive_field_of_net_grows_3_4_8_10_and_the_output_sees_everything(device, evidence):
    """p.205: in the book's Net a neuron of conv1 sees 3x3 input pixels, after the first pool 4x4, after
    conv2 8x8 (5x5 if conv2 followed conv1 with no pool between), after the second pool 10x10 (measured
    at neuron (3, 3) of each stage as the square of pixels that reach it); after flattening, fc1 mixes
    every position, so Net's output sees all 32x32."""
    net = book_net_as_sequential(device)
    stages, layers = net_stages(net)
    expected = {name: analytic_fields(stack)[-1] for name, stack in layers.items()}
    expected["output"] = 32
    measured = {name: field_side(stage, device) for name, stage in stages.items()}
    measured["output"] = square_side(measured_field(lambda x: Net().to(device)(x)[:, 0], device))
    evidence.record(analytic=expected, measured=measured)

    assert expected == {"conv1": 3, "pool1": 4, "conv2": 8, "pool2": 10, "conv2_without_pool1": 5, "output": 32}, (
        f"analytic rule: {expected}"
    )
    assert measured == expected, f"expected square fields {expected}, measured {measured} (-1: not a square)"


BIGGER = "ch08.a-bigger-kernel-widens-the-view-as-downsampling-does"


@pytest.mark.claim(BIGGER)
def test_a_6x6_conv2_sees_as_far_as_the_books_3x3_conv2_after_a_pool(device, evidence):
    """p.203: after the book's conv1 (3x3), a neuron of conv2 sees 8x8 input pixels either way: with the
    book's MaxPool2d(2) before a 3x3 conv2, or with no pool and a 6x6 conv2. The pool's price is the map:
    conv2's is 16x16 after it, 29x29 with the bigger kernel (padding 1 both)."""
    conv1 = nn.Conv2d(3, 16, kernel_size=3, padding=1)
    pooled = nn.Sequential(conv1, nn.Tanh(), nn.MaxPool2d(2, stride=POOL_STRIDE), nn.Conv2d(16, 8, 3, padding=1))
    bigger = nn.Sequential(conv1, nn.Tanh(), nn.Conv2d(16, 8, kernel_size=BIG_KERNEL, padding=1))
    pooled, bigger = pooled.to(device), bigger.to(device)
    fields = {"pooled": field_side(pooled, device), "bigger_kernel": field_side(bigger, device)}
    maps = {
        name: list(stack(torch.zeros(1, 3, 32, 32, device=device)).shape[-2:])
        for name, stack in (("pooled", pooled), ("bigger_kernel", bigger))
    }
    evidence.record(fields=fields, maps=maps)

    assert fields == {"pooled": 8, "bigger_kernel": 8}, f"expected 8x8 fields both ways, measured {fields}"
    assert maps == {"pooled": [16, 16], "bigger_kernel": [29, 29]}, f"measured conv2's maps {maps}"


@pytest.mark.claim(BIGGER)
def test_the_bigger_kernel_costs_four_times_the_parameters_and_the_pool_none(evidence):
    """p.203: MaxPool2d(2) has no parameters, so conv2 stays at 16*8*3*3 + 8 = 1,160; a 6x6 conv2 needs
    16*8*6*6 + 8 = 4,616: a kernel's weights grow with its area, (6/3)^2 = 4 times as many."""
    counts = {
        "pool": n_parameters(nn.MaxPool2d(2, stride=POOL_STRIDE)),
        "conv2_3x3": n_parameters(nn.Conv2d(16, 8, kernel_size=3, padding=1)),
        "conv2_bigger": n_parameters(nn.Conv2d(16, 8, kernel_size=BIG_KERNEL, padding=1)),
    }
    evidence.record(**counts)
    assert counts == {"pool": 0, "conv2_3x3": 1160, "conv2_bigger": 4616}, f"counted {counts}"


@pytest.mark.claim("ch08.numel-counts-the-parameters-of-each-layer")
def test_numel_gives_the_books_counts_per_tensor_and_18090_in_all(evidence):
    """p.205: numel_list = [p.numel() for p in model.parameters()]; sum(numel_list), numel_list gives
    (18090, [432, 16, 1152, 8, 16384, 32, 64, 2]) for the book's nn.Sequential (In[24]), for its
    all-modules Net (In[27]) and for the functional Net."""
    printed = {}
    for model in (book_sequential(), NetModules(), Net()):
        numel_list = [p.numel() for p in model.parameters()]
        printed[type(model).__name__] = str((sum(numel_list), numel_list))
    evidence.record(**printed)
    expected = dict.fromkeys(("Sequential", "NetModules", "Net"), BOOK_NET_COUNTS)
    assert printed == expected, f"expected the book's counts, measured {printed}"
    assert n_parameters(Net()) == 18090, f"expected 18,090 parameters, measured {n_parameters(Net())}"


@pytest.mark.claim("ch08.flatten-bridges-conv-output-to-linear")
def test_flatten_is_view_minus_one_512(device):
    """p.205: nn.Flatten() on the [N, 8, 8, 8] output of the second pool gives the same [N, 512] tensor
    as the hand-written out.view(-1, 8 * 8 * 8), for any batch size."""
    for n in (1, 5):
        out = torch.randn(n, 8, 8, 8, device=device)
        assert_close(nn.Flatten()(out), out.view(-1, 8 * 8 * 8), rtol=0, atol=0)


@pytest.mark.claim("ch08.flatten-bridges-conv-output-to-linear")
def test_without_flatten_the_sequential_net_cannot_reach_its_linear_layer(device):
    """p.205: the book's nn.Sequential has nothing between its second pool and Linear(512, 32), which
    then receives [N, 8, 8, 8], multiplies the last dimension (8) by its 512 inputs and fails; the same
    layers with nn.Flatten between give [N, 2]."""
    x = torch.randn(2, 3, 32, 32, device=device)
    with pytest.raises(RuntimeError, match="cannot be multiplied|size mismatch|must match"):
        book_sequential().to(device)(x)
    assert net_as_sequential().to(device)(x).shape == (2, 2)


@pytest.mark.claim("ch08.net-pools-with-maxpool2d-not-maxpool3d")
def test_maxpool3d_would_also_pool_over_channels(device, evidence):
    """p.205 errata: "MaxPool3d" should read "MaxPool2d". MaxPool2d(2) halves height and width of
    [5, 16, 32, 32]; MaxPool3d(2) takes the 4-D tensor as one unbatched [C, D, H, W] volume and halves
    the 16 channels too, so the book's nn.Sequential with MaxPool3d fails at conv2, which expects 16."""
    x = torch.randn(5, 16, 32, 32, device=device)
    shapes = {"MaxPool2d": tuple(nn.MaxPool2d(2)(x).shape), "MaxPool3d": tuple(nn.MaxPool3d(2)(x).shape)}
    evidence.record(**shapes)
    assert shapes == {"MaxPool2d": (5, 16, 16, 16), "MaxPool3d": (5, 8, 16, 16)}, f"measured {shapes}"

    as_printed = nn.Sequential(
        *(nn.MaxPool3d(2) if isinstance(layer, nn.MaxPool2d) else layer for layer in net_as_sequential())
    ).to(device)
    with pytest.raises(RuntimeError):
        as_printed(torch.randn(5, 3, 32, 32, device=device))


@pytest.mark.sweep
def test_sweep_how_strongly_a_field_reaches_its_neuron(one_cpu_thread):
    """Measures REACHES's margin on the CPU, where a pixel outside the field has a gradient of exactly 0:
    over seeds 0-49, how weakly the weakest pixel of any field (in its best image) reaches its neuron."""
    weakest = 1.0
    for seed in range(50):
        torch.manual_seed(seed)
        stages, _ = net_stages(book_net_as_sequential("cpu"))
        conv1 = nn.Conv2d(3, 16, kernel_size=3, padding=1)
        stages["bigger_kernel"] = nn.Sequential(conv1, nn.Tanh(), nn.Conv2d(16, 8, kernel_size=BIG_KERNEL, padding=1))
        neurons = [lambda x, stage=stage: stage(x)[:, :, 3, 3].sum(dim=1) for stage in stages.values()]
        neurons.append(lambda x, net=Net(): net(x)[:, 0])  # noqa: B008 - one fresh Net per seed, bound here
        for neuron, side in zip(neurons, [STAGE_SIDE] * len(stages) + [32]):
            strength = reach(neuron, "cpu", side)
            weakest = min(weakest, strength[strength > 0].min().item())
    print(f"the weakest pixel of a field reached its neuron at {weakest:.2e} of its image's largest gradient")
    assert weakest > 10 * REACHES, f"REACHES {REACHES} is too close to the weakest pixel of a field, {weakest}"
