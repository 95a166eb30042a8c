"""Chapter 7, pages 175-176: softmax at the end of the network turns class scores into probabilities.

The notes' "dealing with the categorical input requires using different functions" is read as the book's
section 7.2.3: a classifier's labels are categories, not a quantity to regress with MSELoss, so its end differs
from a regression's: an output of one probability per class (here) and a loss for probabilities (p.180).
"""

import pytest
import torch
import torch.nn as nn
from hypothesis import given

from claims.book.cifar import first_cifar2_image
from claims.book.models import fc_small, seeded_notebook_classifiers
from claims.compat import assert_close
from claims.experiments.printed import HALF_A_UNIT_OF_4_DECIMALS, last_digits_that_differ, printed_tensor
from tests.strategies import logit_rows

CLAIM = "ch07.softmax-turns-class-scores-into-probabilities"

# What the notebooks' untrained classifiers printed for the first CIFAR-2 image, a bird (real data): the
# second model 2_birds_airplanes.ipynb builds after torch.manual_seed(123) (In[14]), and the first model the
# older p1ch6.ipynb builds after its second torch.manual_seed(123) (In[35]). The second edition's run on torch 2.x,
# normalizing with (0.4914, 0.4822, 0.4465), printed the same tensor([[0.4784, 0.5216]]).
BIRDS_PRINTED = "tensor([[0.4784, 0.5216]], grad_fn=<SoftmaxBackward>)"
P1CH6_PRINTED = "tensor([[0.3700, 0.6300]], grad_fn=<SoftmaxBackward>)"


@pytest.mark.claim(CLAIM)
def test_the_books_softmax_by_hand_of_1_2_3(device, evidence):
    """p.176: the book's softmax written by hand, torch.exp(x) / torch.exp(x).sum(), turns [1., 2., 3.] into
    tensor([0.0900, 0.2447, 0.6652]), probabilities whose sum prints as tensor(1.): what nn.Softmax computes."""

    def softmax(x):
        return torch.exp(x) / torch.exp(x).sum()

    x = torch.tensor([1.0, 2.0, 3.0], device=device)
    probs = softmax(x)
    total = probs.sum()
    evidence.record(probs=probs, sum=total)
    assert_close(probs, torch.tensor([0.0900, 0.2447, 0.6652], device=device), rtol=0, atol=5e-5)
    # On the CPU the sum is 1 exactly and prints tensor(1.), as in the book (torch 1.4 and 2.14 alike). On CUDA
    # exp and the sum round differently: one float32 step off 1, which prints tensor(1.0000), is allowed there.
    printed = ["tensor(1.)"] + (["tensor(1.0000)"] if device.type == "cuda" else [])
    assert str(total.cpu()) in printed, f"the probabilities sum to {total.item()!r}, printed {total.cpu()}"
    assert_close(nn.Softmax(dim=0)(x), probs, rtol=1e-6, atol=1e-7)


@pytest.mark.claim(CLAIM)
def test_softmax_of_1_2_3_is_the_books(device):
    """p.176: the book's softmax([1., 2., 3.]) = [0.0900, 0.2447, 0.6652], along dim=1 for a batch."""
    x = torch.tensor([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]], device=device)
    probs = nn.Softmax(dim=1)(x)
    assert_close(probs, torch.tensor([[0.0900, 0.2447, 0.6652]] * 2, device=device), rtol=0, atol=5e-5)
    assert_close(probs.sum(dim=1), torch.ones(2, device=device), rtol=0, atol=1e-6)


@pytest.mark.claim(CLAIM)
@given(rows=logit_rows())
def test_softmax_keeps_the_order_of_the_scores(device, one_cpu_thread, rows):
    """p.175: softmax keeps the scores' order: a higher score never gets a lower probability (float32 may
    round two close probabilities to the same value), so the most probable class is the highest-scoring
    one, and the probabilities of a row sum to 1."""
    scores = torch.tensor(rows, device=device)
    probs = nn.Softmax(dim=1)(scores)
    assert_close(probs.sum(dim=1), torch.ones(len(rows), device=device), rtol=0, atol=1e-5)
    higher = scores[:, :, None] > scores[:, None, :]  # [row, i, j]: score i above score j
    assert (probs[:, :, None] >= probs[:, None, :])[higher].all(), "softmax must not reverse two scores"
    # the class of the largest score has the largest probability (ties aside)
    assert (probs.gather(1, scores.argmax(dim=1, keepdim=True)) == probs.max(dim=1, keepdim=True)[0]).all()


@pytest.mark.claim(CLAIM)
def test_book_classifier_outputs_one_probability_per_class(device):
    """p.175-181: the book's classifier ends in (Log)Softmax over dim 1: for a batch of 4 flattened
    32x32 RGB images it gives 2 values per image whose exp are probabilities summing to 1, the softmax
    of the scores before it."""
    model = fc_small().to(device)
    x = torch.rand(4, 3 * 32 * 32, device=device)
    out = model(x)
    assert out.shape == (4, 2)
    probs = out.exp()
    assert ((probs >= 0) & (probs <= 1)).all()
    assert_close(probs.sum(dim=1), torch.ones(4, device=device), rtol=0, atol=1e-6)
    scores = model[:-1](x)
    assert_close(probs, nn.Softmax(dim=1)(scores), rtol=1e-5, atol=1e-6)


@pytest.mark.claim(CLAIM)
def test_the_notebooks_untrained_classifiers_on_the_first_bird(real_cifar10, evidence):
    """p.176-177, on the real CIFAR-10: the notebooks give the first CIFAR-2 image (a bird) to a classifier
    ending in nn.Softmax(dim=1), built after torch.manual_seed(123): 2_birds_airplanes.ipynb's second model
    printed tensor([[0.4784, 0.5216]]), p1ch6.ipynb's first tensor([[0.3700, 0.6300]]): one probability per
    class, summing to 1. The seed draws the same weights from torch 1.4 to 2.14 (within 3.7e-9)."""
    img, _ = first_cifar2_image(real_cifar10["train"])
    img_batch = img.view(-1).unsqueeze(0)
    built = seeded_notebook_classifiers()
    birds, p1ch6 = built["2_birds_airplanes"][1], built["p1ch6"][0]  # In[11]; In[32]: ending in Softmax
    # printed to 4 decimals: within half a unit of the last digit, and float32 rounding of the forward pass
    tolerance = HALF_A_UNIT_OF_4_DECIMALS + 1e-6
    for name, model, printed in (("2_birds_airplanes", birds, BIRDS_PRINTED), ("p1ch6", p1ch6, P1CH6_PRINTED)):
        out, book = model(img_batch).detach(), printed_tensor(printed)
        evidence.record(**{name: out, f"{name} last digits that differ": last_digits_that_differ(out, book)})
        worst = (out - book).abs().max().item()
        assert worst <= tolerance, f"{name}: {out} is {worst:.2e} from the printed {book}, over {tolerance}"
        assert_close(out.sum(dim=1), torch.ones(1), rtol=0, atol=1e-6)
