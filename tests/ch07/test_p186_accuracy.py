"""Chapter 7, page 186: predicted class = max over dim 1; accuracy = correct / total."""

import pytest
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

from claims.book.cifar import first_cifar2_image
from claims.book.models import seeded_notebook_classifiers
from claims.book.training import accuracy

CLAIM = "ch07.accuracy-is-correct-predictions-over-total"


@pytest.mark.claim(CLAIM)
def test_max_over_dim_1_picks_the_predicted_class(device):
    """p.186: _, predicted = torch.max(outputs, dim=1) gives, per row, the index of the largest
    output; with 5 rows of which 3 are right, accuracy is 3 / 5."""
    outputs = torch.tensor([[0.1, 2.0], [3.0, -1.0], [0.0, 0.5], [1.0, 0.9], [-2.0, -1.0]], device=device)
    labels = torch.tensor([1, 0, 0, 1, 1], device=device)
    _, predicted = torch.max(outputs, dim=1)
    assert predicted.tolist() == [1, 0, 1, 0, 1]
    correct = int((predicted == labels).sum())
    assert (correct, labels.shape[0]) == (3, 5) and correct / labels.shape[0] == 0.6


@pytest.mark.claim(CLAIM)
def test_book_accuracy_loop_counts_correct_over_total(device, evidence, one_cpu_thread):
    """p.186: the book's loop over a DataLoader (correct predictions summed over the batches, over the
    total; batches of 16 and a last one of 4) on 100 samples of which 37 are labelled with their
    highest-scoring class and 63 with another one: accuracy 0.37."""
    model = nn.Sequential(nn.Linear(3, 3), nn.LogSoftmax(dim=1)).to(device)
    with torch.no_grad():  # the scores are the input itself: the predicted class is the input's argmax
        model[0].weight.copy_(torch.eye(3))
        model[0].bias.zero_()
    highest = torch.arange(100) % 3
    x = 0.5 * torch.randn(100, 3) + 5 * torch.eye(3)[highest]
    labels = torch.where(torch.arange(100) < 37, highest, (highest + 1) % 3)
    book = accuracy(model, DataLoader(TensorDataset(x, labels), batch_size=16), device=device)
    evidence.record(accuracy=book)
    assert book == 0.37, f"expected 37 right out of 100, measured accuracy {book}"


@pytest.mark.claim(CLAIM)
def test_the_notebooks_untrained_classifiers_predict_the_first_bird(real_cifar10):
    """p.177, on the real CIFAR-10: the notebooks' untrained classifiers, built after torch.manual_seed(123),
    predict the class of the first CIFAR-2 image with _, index = torch.max(out, dim=1): the index of the larger
    of its two probabilities, 0.5216 (2_birds_airplanes.ipynb's second model) and 0.6300 (p1ch6.ipynb's first).
    Both printed tensor([1]): bird, which the image is."""
    img, label = first_cifar2_image(real_cifar10["train"])
    img_batch = img.view(-1).unsqueeze(0)
    built = seeded_notebook_classifiers()
    birds, p1ch6 = built["2_birds_airplanes"][1], built["p1ch6"][0]  # In[11]; In[32]: ending in Softmax
    for name, model in (("2_birds_airplanes", birds), ("p1ch6", p1ch6)):
        out = model(img_batch).detach()
        _, index = torch.max(out, dim=1)
        assert str(index) == "tensor([1])", f"{name}: torch.max({out}, dim=1) gave index {index}, printed tensor([1])"
        assert out[0, 1] > out[0, 0], f"{name}: the larger output should be class 1's: {out}"
    assert label == 1, f"the first CIFAR-2 image should be a bird (label 1), it has label {label}"
