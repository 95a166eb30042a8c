"""Chapter 8, page 205: the receptive field of an output neuron; numel per layer; nn.Flatten."""
import pytest
import torch
import torch.nn as nn
from claims.compat import assert_close

from claims.book.models import Net, n_parameters, net_as_sequential

NET_COUNTS = [432, 16, 1152, 8, 16384, 32, 64, 2]  # book-reference.md: Net's parameters per tensor


def analytic_fields(layers) -> list[int]:
    """Receptive-field side after each layer: r += (kernel - 1) * jump; jump *= stride."""
    r, jump, fields = 1, 1, []
    for layer in layers:
        kernel, stride = (v[0] if isinstance(v, tuple) else v for v in (layer.kernel_size, layer.stride))
        r, jump = r + (kernel - 1) * jump, jump * stride
        fields.append(r)
    return fields


def measured_field(stage: nn.Module, device, row: int, col: int, n_images: int = 64) -> torch.Tensor:
    """Which input pixels reach output neuron (row, col) of ``stage`` (any channel): a [n_images, 32, 32]
    mask per image. A gradient through max-pooling follows only each window's maximum, so one image can
    miss part of the field; the union over many random images sees all of it."""
    x = torch.randn(n_images, 3, 32, 32, device=device, requires_grad=True)
    stage(x)[:, :, row, col].sum().backward()  # images are independent, so one backward serves them all
    return (x.grad != 0).any(dim=1)  # [n_images, 32, 32]


@pytest.mark.claim("ch08.receptive-field-grows-with-depth-and-pooling")
def test_receptive_field_of_net_grows_3_4_8_10(device, evidence):
    """p.205: in the book's Net an output neuron of conv1 sees 3x3 input pixels, after the first pool 4x4,
    after conv2 8x8, after the second pool 10x10: measured as the window of pixels that reach neuron
    (3, 3) of each stage, it is a full square of the analytic side."""
    net = net_as_sequential().to(device)
    ends = {"conv1": 1, "pool1": 3, "conv2": 4, "pool2": 6}  # net[:end] is the net up to that layer
    expected = dict(zip(ends, analytic_fields([net[0], net[2], net[3], net[5]])))
    measured, one_image = {}, {}
    for name, end in ends.items():
        masks = measured_field(net[:end], device, 3, 3)
        field = masks.any(dim=0)
        rows, cols = field.any(dim=1).nonzero().flatten(), field.any(dim=0).nonzero().flatten()
        side = (rows.max() - rows.min() + 1).item()
        assert side == (cols.max() - cols.min() + 1).item() and field.sum().item() == side * side, (
            f"{name}: expected a full square, measured {field.nonzero().tolist()}")
        measured[name], one_image[name] = side, masks[0].sum().item()
    evidence.record(analytic=expected, measured=measured, pixels_seen_by_one_image=one_image)

    assert expected == {"conv1": 3, "pool1": 4, "conv2": 8, "pool2": 10}, f"analytic rule gives {expected}"
    assert measured == expected, f"expected fields {expected}, measured {measured}"


@pytest.mark.claim("ch08.receptive-field-grows-with-depth-and-pooling")
def test_the_nets_output_sees_the_whole_image(device):
    """p.205: after flattening, fc1 mixes all 8x8 pooled positions, so each of Net's two outputs depends
    on every one of the 32x32 input pixels."""
    net = Net().to(device)
    x = torch.randn(64, 3, 32, 32, device=device, requires_grad=True)
    net(x)[:, 0].sum().backward()
    seen = (x.grad != 0).any(dim=1).any(dim=0)
    assert seen.all(), f"expected all 1024 pixels to reach the output, {seen.sum().item()} did"


@pytest.mark.claim("ch08.numel-counts-the-parameters-of-each-layer")
def test_numel_gives_the_books_counts_per_tensor_and_18090_in_all(device, evidence):
    """p.205: [p.numel() for p in model.parameters()] is [432, 16, 1152, 8, 16384, 32, 64, 2] for Net
    and for its nn.Sequential version, 18,090 in total."""
    for model in (Net().to(device), net_as_sequential().to(device)):
        counts = [p.numel() for p in model.parameters()]
        evidence.record(**{type(model).__name__: counts})
        assert counts == NET_COUNTS, f"expected {NET_COUNTS}, measured {counts}"
        assert n_parameters(model) == sum(counts) == 18_090, f"expected 18,090, measured {n_parameters(model)}"


@pytest.mark.claim("ch08.flatten-bridges-conv-output-to-linear")
def test_flatten_is_view_minus_one_512(device):
    """p.205: nn.Flatten() on the [N, 8, 8, 8] output of the second pool gives the same [N, 512] tensor
    as the hand-written out.view(-1, 8 * 8 * 8), for any batch size."""
    for n in (1, 5):
        out = torch.randn(n, 8, 8, 8, device=device)
        assert_close(nn.Flatten()(out), out.view(-1, 8 * 8 * 8), rtol=0, atol=0)


@pytest.mark.claim("ch08.flatten-bridges-conv-output-to-linear")
def test_without_flatten_the_sequential_net_cannot_reach_its_linear_layer(device):
    """p.205: drop nn.Flatten from the book's nn.Sequential and the Linear(512, 32) receives [N, 8, 8, 8]:
    it multiplies the last dimension (8) by its 512 inputs and fails."""
    layers = list(net_as_sequential())
    assert isinstance(layers[6], nn.Flatten), f"expected nn.Flatten at index 6, found {layers[6]}"
    without = nn.Sequential(*layers[:6], *layers[7:]).to(device)
    with pytest.raises(RuntimeError, match="cannot be multiplied|size mismatch|shapes"):
        without(torch.randn(2, 3, 32, 32, device=device))
    assert net_as_sequential().to(device)(torch.randn(2, 3, 32, 32, device=device)).shape == (2, 2)


@pytest.mark.claim("ch08.net-pools-with-maxpool2d-not-maxpool3d")
def test_maxpool3d_would_also_pool_over_channels(device, evidence):
    """p.205 errata: "MaxPool3d" should read "MaxPool2d". MaxPool2d(2) halves height and width of
    [5, 16, 32, 32]; MaxPool3d(2) takes the 4-D tensor as one unbatched [C, D, H, W] volume and halves
    the 16 channels too, so conv2, which expects 16 channels, would fail on its output."""
    x = torch.randn(5, 16, 32, 32, device=device)
    shapes = {"MaxPool2d": tuple(nn.MaxPool2d(2)(x).shape), "MaxPool3d": tuple(nn.MaxPool3d(2)(x).shape)}
    evidence.record(**shapes)
    assert shapes == {"MaxPool2d": (5, 16, 16, 16), "MaxPool3d": (5, 8, 16, 16)}, f"measured {shapes}"
    assert [type(m).__name__ for m in net_as_sequential() if "Pool" in type(m).__name__] == ["MaxPool2d"] * 2
    with pytest.raises(RuntimeError):
        nn.Conv2d(16, 8, kernel_size=3, padding=1).to(device)(nn.MaxPool3d(2)(x))
