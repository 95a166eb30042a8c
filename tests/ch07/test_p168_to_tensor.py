"""Chapter 7, page 168: ToTensor makes C x H x W floats in [0, 1]; matplotlib wants H x W x C.

The book's ToTensor against torchvision's newer transforms.v2 is a claim of its own, so that a change in v2
never marks the book's claim as failed.
"""

import warnings

import numpy as np
import pytest
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image
from torchvision import transforms

from claims.compat import assert_close
from fixtures.cifar import open_cifar10

TO_TENSOR = "ch07.to-tensor-gives-chw-float-in-0-1"
STILL_CURRENT = "ch07.to-tensor-is-not-deprecated-and-v2-gives-the-same-tensor"
PERMUTE = "ch07.matplotlib-wants-hwc-so-permute"


@pytest.mark.claim(TO_TENSOR)
def test_to_tensor_on_a_dataset_gives_chw_floats_pixel_over_255(cifar10_generated, evidence):
    """p.168: CIFAR10(..., transform=transforms.ToTensor()) applies it to every item: each of the 40
    generated images comes as a tensor, printed as the book's torch.Tensor, torch.Size([3, 32, 32]) and
    torch.float32, whose values are exactly the file's uint8 pixels / 255, so they lie in [0, 1]."""
    gen = cifar10_generated
    tensor_cifar10 = open_cifar10(
        gen.root, train=True, transform=transforms.ToTensor(), dataset_class=gen.dataset_class()
    )
    items = [img_t for img_t, _ in tensor_cifar10]
    img_t = items[7]
    evidence.record(items=len(items), shape=list(img_t.shape), dtype=str(img_t.dtype))
    assert len(items) == len(gen.train_images) == 40
    assert {type(t) for t in items} == {torch.Tensor}
    printed = {(str(t.shape), str(t.dtype)) for t in items}
    assert printed == {("torch.Size([3, 32, 32])", "torch.float32")}, f"the book printed (3, 32, 32) float32: {printed}"
    hwc = torch.from_numpy(gen.train_images)  # N x H x W x C uint8, as the files hold them
    assert_close(torch.stack(items), hwc.permute(0, 3, 1, 2).float() / 255, rtol=0, atol=0)
    assert 0.0 <= min(t.min() for t in items) and max(t.max() for t in items) <= 1.0


@pytest.mark.claim(TO_TENSOR)
@pytest.mark.parametrize("source", ["PNG file", "numpy array"])
def test_to_tensor_of_a_png_file_or_a_numpy_array(tmp_path, rng, source):
    """p.168: the same for an image file read with PIL, and for a numpy H x W x C uint8 array: a 5 x 7
    RGB image becomes [3, 5, 7]; pixel (row 1, column 4) of channel c is the image's value / 255;
    0 -> 0.0 and 255 -> 1.0."""
    pixels = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    pixels[0, 0] = [0, 255, 128]
    if source == "PNG file":
        Image.fromarray(pixels).save(tmp_path / "img.png")
        image = Image.open(tmp_path / "img.png")
    else:
        image = pixels
    img_t = transforms.ToTensor()(image)
    assert img_t.shape == (3, 5, 7) and img_t.dtype == torch.float32, f"got {img_t.shape}, {img_t.dtype}"
    assert_close(img_t[:, 1, 4], torch.tensor(pixels[1, 4]) / 255.0, rtol=0, atol=0)
    assert_close(img_t[:, 0, 0], torch.tensor([0.0, 1.0, 128 / 255]), rtol=0, atol=0)


@pytest.mark.claim(STILL_CURRENT)
def test_the_books_to_tensor_is_not_deprecated(rng):
    """p.168: the book's transforms.ToTensor() runs on this torchvision without a deprecation warning (only
    transforms.v2.ToTensor is deprecated, from torchvision 0.15: see the next test), and gives pixel / 255."""
    img = Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        img_t = transforms.ToTensor()(img)
    assert [str(w.message) for w in caught] == [], "the book's ToTensor should warn of nothing"
    assert_close(img_t, torch.from_numpy(np.array(img)).permute(2, 0, 1).float() / 255, rtol=0, atol=0)


def transforms_v2():
    """torchvision.transforms.v2, or a skip where this torchvision has none (it came in torchvision 0.15)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torchvision 0.15 and 0.16 warn that v2 is in beta when imported
            from torchvision.transforms import v2
    except ImportError:
        pytest.skip("this torchvision has no transforms.v2 (added in torchvision 0.15)")
    return v2


@pytest.mark.claim(STILL_CURRENT)
def test_v2_to_tensor_warns_that_it_is_deprecated():
    """p.168: where transforms.v2 exists (torchvision 0.15 on, its first release) its ToTensor is the
    deprecated one: building it warns that ToTensor() is deprecated and will be removed."""
    v2 = transforms_v2()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        v2.ToTensor()
    said = [str(w.message) for w in caught]
    assert any("ToTensor()` is deprecated" in message for message in said), f"v2.ToTensor() should warn so: {said}"


@pytest.mark.claim(STILL_CURRENT)
def test_v2_to_image_and_to_dtype_match_to_tensor(rng):
    """p.168: transforms.v2 (ToImage then ToDtype(float32, scale=True)) gives the same tensor as the book's
    ToTensor to within float rounding (it multiplies by 1/255 where ToTensor divides by 255: at most one
    ulp, about 6e-8)."""
    v2 = transforms_v2()
    if not hasattr(v2, "ToImage"):
        pytest.skip("this torchvision's transforms.v2 has no ToImage (added in torchvision 0.16)")
    img = Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8))
    old = transforms.ToTensor()(img)
    new = v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True)])(img)
    assert new.shape == (3, 32, 32) and new.dtype == torch.float32
    assert_close(torch.as_tensor(new), old, rtol=0, atol=1e-7)


def _render(image_hwc) -> np.ndarray:
    """Draw an image with matplotlib's Agg backend (no pyplot state), one screen pixel per image pixel;
    returns the drawing as H x W x 3 uint8."""
    h, w = image_hwc.shape[:2]
    fig = Figure(figsize=(w / 10, h / 10), dpi=10)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_axis_off()
    ax.imshow(image_hwc, interpolation="nearest")
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


@pytest.mark.claim(PERMUTE)
def test_imshow_of_permuted_tensor_draws_the_original_pixels(cifar10_generated, evidence):
    """p.168: plt.imshow(img_t.permute(1, 2, 0)) draws the image: rendered with Agg, every pixel is the
    original uint8 pixel (within 1 for the float -> 8 bit rounding). img_t is a C x H x W image, as
    CIFAR-10's files hold it (1,024 red values, then green, then blue). matplotlib draws on the host."""
    hwc = cifar10_generated.train_images[5]  # 32 x 32 x 3 uint8
    chw = torch.from_numpy(np.ascontiguousarray(hwc.transpose(2, 0, 1)))  # numpy moves the channels first
    img_t = chw.float() / 255
    drawn = _render(img_t.permute(1, 2, 0).numpy())
    diff = np.abs(drawn.astype(int) - hwc.astype(int)).max()
    evidence.record(max_pixel_difference=int(diff))
    assert drawn.shape == (32, 32, 3) and diff <= 1, f"expected the original pixels, max difference {diff}"


@pytest.mark.claim(PERMUTE)
def test_imshow_refuses_what_to_tensor_gives(cifar10_generated):
    """p.168: ToTensor gives PyTorch's C x H x W layout, [3, 32, 32]; imshow refuses it ("Invalid
    shape"): matplotlib reads the first axis as rows."""
    img_t = transforms.ToTensor()(Image.fromarray(cifar10_generated.train_images[5]))
    assert img_t.shape == (3, 32, 32), f"PyTorch puts the channels first, got {list(img_t.shape)}"
    ax = Figure().add_subplot()
    with pytest.raises(TypeError, match="Invalid shape"):
        ax.imshow(img_t.numpy())
