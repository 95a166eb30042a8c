"""Chapter 7, page 180: negative log-likelihood in theory, and PyTorch's NLLLoss, which takes no log."""

import pytest
import torch
import torch.nn as nn

from claims.book.cifar import first_cifar2_image
from claims.book.models import seeded_notebook_classifiers
from claims.compat import assert_close
from claims.experiments.printed import assert_printed

NLL = "ch07.nll-is-minus-log-p-of-the-true-class-added-over-the-batch"
TAKES_NO_LOG = "ch07.nllloss-takes-log-probabilities-so-the-model-ends-in-logsoftmax"

# NLLLoss of the first CIFAR-2 image, a bird (real data), through untrained models ending in LogSoftmax built
# after torch.manual_seed(123): 2_birds_airplanes.ipynb's third (In[32]) and the older p1ch6.ipynb's second
# after its second seed (In[43]), whose weights are those of 2_birds_airplanes.ipynb's second model. The second
# edition's run on torch 2.x, normalizing with (0.4914, 0.4822, 0.4465), printed 0.5079 for its third model.
BIRDS_NLL = "tensor(0.5077, grad_fn=<NllLossBackward>)"
P1CH6_NLL = "tensor(0.6509, grad_fn=<NllLossBackward>)"
SCORE_GAP = 104.0  # the book's scores [0, 104]: exp(-104) is below float32's smallest number (1.4e-45)


@pytest.mark.claim(NLL)
def test_nll_adds_minus_log_p_of_the_correct_class_over_the_batch(device, evidence):
    """p.180: for each sample take the probability p the model gave the correct class (0.7, 0.6, 0.3
    here), compute -log p, and add these up for the batch: NLLLoss on the log-probabilities gives that
    sum with reduction='sum', and by default the mean (the sum over 3)."""
    probs = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.5, 0.3, 0.2]], device=device)
    correct = torch.tensor([0, 2, 1], device=device)
    p_correct = torch.tensor([0.7, 0.6, 0.3], device=device)  # probs[i, correct[i]], read off by hand
    by_hand = -torch.log(p_correct).sum()
    summed = nn.NLLLoss(reduction="sum")(torch.log(probs), correct)
    averaged = nn.NLLLoss()(torch.log(probs), correct)
    evidence.record(by_hand=by_hand, summed=summed, averaged=averaged)
    assert_close(summed, by_hand, rtol=1e-6, atol=0)
    assert_close(averaged, by_hand / 3, rtol=1e-6, atol=0)


@pytest.mark.claim(NLL)
def test_minus_log_p_is_high_when_p_is_low(device, evidence):
    """p.180: -log p is high when the probability of the correct class is low and falls to 0 as it nears
    1: 6.9 at p = 0.001, 2.3 at 0.1, 0.69 at 0.5, 0.105 at 0.9, 0 at 1."""
    p = torch.tensor([0.001, 0.1, 0.5, 0.9, 1.0], device=device)
    log_probs = torch.log(torch.stack([p, 1 - p], dim=1))  # two classes; the correct one is class 0
    nll = nn.NLLLoss(reduction="none")(log_probs, torch.zeros(5, dtype=torch.long, device=device))
    evidence.record(p=p, nll=nll)
    assert_close(nll, torch.tensor([6.9078, 2.3026, 0.6931, 0.1054, 0.0], device=device), rtol=0, atol=1e-4)
    assert (nll[:-1] > nll[1:]).all(), f"-log p should fall as p rises, measured {nll.tolist()}"


@pytest.mark.claim(NLL)
def test_the_notebooks_four_predictions(device, evidence):
    """p.180, worked in the companion notebook (2_birds_airplanes.ipynb In[16]-In[24]): four predictions
    of two classes whose correct classes get p = 0.6, 0.9, 0.7, 0.8 (out.gather). Their likelihood, the
    product, is 0.3024, and its negative log, 1.1960, is the sum of -log p over the batch. Moving the first
    prediction's p to 0.9, 0.6, 0.4, 0.1 takes the NLL through 0.7905, 1.1960, 1.6015, 2.9878 (-33.9016%
    to +149.8121%), while the notebook's MSE goes 0.0750, 0.1500, 0.2500, 0.4750 (-50% to +216.6667%)."""
    out = torch.tensor([[0.6, 0.4], [0.9, 0.1], [0.3, 0.7], [0.2, 0.8]], device=device)
    class_index = torch.tensor([0, 0, 1, 1], device=device).unsqueeze(1)
    truth = torch.zeros((4, 2), device=device).scatter_(dim=1, index=class_index, value=1.0)
    assert str(truth.cpu()) == "tensor([[1., 0.],\n        [1., 0.],\n        [0., 1.],\n        [0., 1.]])", truth
    p = out.gather(dim=1, index=class_index)
    assert_close(p.squeeze(1), torch.tensor([0.6000, 0.9000, 0.7000, 0.8000], device=device), rtol=0, atol=0)
    # Printed to 4 decimals: on the CPU every value below is within half a unit of the last digit (5e-5) of the
    # printout (at most 4.0e-5, torch 1.4 and 2.14 alike). On CUDA log rounds within a few float32 steps of the
    # CPU's, which the percentages multiply by 100: 1e-4 there, to be measured on a GPU run.
    printed = 5e-5 if device.type == "cpu" else 1e-4
    assert_close(p.prod(), torch.tensor(0.3024, device=device), rtol=0, atol=printed)
    assert_close(-p.prod().log(), torch.tensor(1.1960, device=device), rtol=0, atol=printed)

    batches = [
        torch.cat([torch.tensor([first], device=device), out[1:]])
        for first in ([0.9, 0.1], [0.6, 0.4], [0.4, 0.6], [0.1, 0.9])
    ]
    nll = torch.stack([nn.NLLLoss(reduction="sum")(b.log(), class_index.squeeze(1)) for b in batches])
    mse = torch.stack([((b - truth) ** 2).sum(dim=1).mean() for b in batches])
    evidence.record(nll=nll, mse=mse)
    assert_close(nll, torch.tensor([0.7905, 1.1960, 1.6015, 2.9878], device=device), rtol=0, atol=printed)
    assert_close(
        (nll / nll[1] - 1) * 100,
        torch.tensor([-33.9016, 0.0000, 33.9016, 149.8121], device=device),
        rtol=0,
        atol=printed,
    )
    assert_close(mse, torch.tensor([0.0750, 0.1500, 0.2500, 0.4750], device=device), rtol=0, atol=5e-6)
    assert_close(
        (mse / mse[1] - 1) * 100,
        torch.tensor([-50.0000, 0.0000, 66.6667, 216.6667], device=device),
        rtol=0,
        atol=printed,
    )
    assert (nll[1:] > nll[:-1]).all(), f"the NLL should rise as p of the correct class falls: {nll.tolist()}"


@pytest.mark.claim(NLL)
def test_the_notebooks_nll_of_the_first_bird(real_cifar10, evidence):
    """p.181, on the real CIFAR-10: loss = nn.NLLLoss(), loss(out, torch.tensor([label])) for the first CIFAR-2
    image (a bird, label 1) through the notebooks' untrained models ending in LogSoftmax, built after
    torch.manual_seed(123): 2_birds_airplanes.ipynb's third model printed tensor(0.5077), p1ch6.ipynb's second
    tensor(0.6509). Each is -log p, p the probability softmax gives the bird from the same weights: p1ch6's
    second model has the weights of 2_birds_airplanes' second, which printed p = 0.5216, and -ln 0.5216 = 0.6509."""
    img, label = first_cifar2_image(real_cifar10["train"])
    img_batch = img.view(-1).unsqueeze(0)
    built = seeded_notebook_classifiers()
    birds, p1ch6 = built["2_birds_airplanes"][2], built["p1ch6"][1]  # In[30]; In[41]: ending in LogSoftmax
    loss = nn.NLLLoss()
    for name, model, printed in (("2_birds_airplanes", birds, BIRDS_NLL), ("p1ch6", p1ch6, P1CH6_NLL)):
        nll = loss(model(img_batch), torch.tensor([label])).detach()
        p = nn.Softmax(dim=1)(model[:-1](img_batch)).detach()[0, label]
        evidence.record(**{name: nll, f"{name} p": p})
        # printed to 4 decimals: within half a unit of the last digit, plus float32 rounding of the forward pass
        assert_printed([nll.item()], [printed.partition("(")[2].partition(",")[0]], rtol=2e-6, what=name)
        assert_close(nll, -torch.log(p), rtol=1e-5, atol=0)
    assert label == 1, f"the first CIFAR-2 image should be a bird (label 1), it has label {label}"


@pytest.mark.claim(TAKES_NO_LOG)
def test_nllloss_does_not_take_the_log(device):
    """p.180: NLLLoss(p, y) is -mean(p[i, y_i]): it takes its input as log-probabilities and applies no
    log itself, so fed probabilities it does not compute -log p; fed their log, it does."""
    p = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]], device=device)
    y = torch.tensor([0, 2], device=device)
    loss = nn.NLLLoss()(p, y)
    true_nll = -torch.log(torch.tensor([0.7, 0.6], device=device)).mean()
    assert_close(loss, -(0.7 + 0.6) / 2 * torch.ones((), device=device), rtol=1e-6, atol=0)
    assert not torch.isclose(loss, true_nll), f"NLLLoss of probabilities is {loss}, not -log p = {true_nll}"
    assert_close(nn.NLLLoss()(p.log(), y), true_nll, rtol=1e-6, atol=0)


@pytest.mark.claim(TAKES_NO_LOG)
def test_model_ends_in_log_softmax_which_does_not_underflow(device, evidence):
    """p.180: so the model's last layer is nn.LogSoftmax, not nn.Softmax: it computes the log directly.
    log(softmax(x)) would not do: softmax([0, 104]) rounds to [0, 1] in float32, so its log has -inf;
    LogSoftmax gives [-104, 0], and NLLLoss of it is the true -log p, 104 for class 0."""
    x = torch.tensor([[0.0, SCORE_GAP]], device=device)
    log_of_softmax, log_softmax = torch.log(nn.Softmax(dim=1)(x)), nn.LogSoftmax(dim=1)(x)
    evidence.record(log_of_softmax=log_of_softmax, log_softmax=log_softmax)
    assert torch.isinf(log_of_softmax).any(), f"log(softmax(x)) should underflow to -inf: {log_of_softmax}"
    assert_close(log_softmax, torch.tensor([[-SCORE_GAP, 0.0]], device=device), rtol=0, atol=0)
    nll = nn.NLLLoss()(log_softmax, torch.tensor([0], device=device))
    assert_close(nll, torch.tensor(SCORE_GAP, device=device), rtol=0, atol=0)


@pytest.mark.claim(TAKES_NO_LOG)
def test_the_books_printed_softmax_of_0_and_104(device):
    """p.180-181: the book's printouts for x = [[0., 104.]]: softmax(x) is tensor([[0., 1.]]),
    torch.log(softmax(x)) is tensor([[-inf, 0.]]), log_softmax(x) is tensor([[-104.,    0.]]) and
    torch.exp(log_softmax(x)) is tensor([[0., 1.]]) again."""
    x = torch.tensor([[0.0, 104.0]], device=device)
    softmax, log_softmax = nn.Softmax(dim=1), nn.LogSoftmax(dim=1)
    printed = [str(t.cpu()) for t in (softmax(x), torch.log(softmax(x)), log_softmax(x), torch.exp(log_softmax(x)))]
    assert printed == ["tensor([[0., 1.]])", "tensor([[-inf, 0.]])", "tensor([[-104.,    0.]])", "tensor([[0., 1.]])"]
