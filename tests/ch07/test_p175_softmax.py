"""Chapter 7, page 175: softmax turns the network's class scores into probabilities."""
import pytest
import torch
import torch.nn as nn
from hypothesis import given
from claims.compat import assert_close

from claims.book.models import fc_small
from tests.strategies import logit_rows

CLAIM = "ch07.softmax-turns-class-scores-into-probabilities"


@pytest.mark.claim(CLAIM)
@given(rows=logit_rows())
def test_softmax_keeps_the_order_of_the_scores(device, rows):
    """p.175: softmax is monotone: a higher score always gets a higher probability, so the most
    probable class is the highest-scoring one, and the probabilities of a row sum to 1."""
    scores = torch.tensor(rows, device=device)
    probs = torch.softmax(scores, dim=1)
    assert_close(probs.sum(dim=1), torch.ones(len(rows), device=device), rtol=0, atol=1e-5)
    i, j = torch.meshgrid(torch.arange(scores.shape[1]), torch.arange(scores.shape[1]), indexing="ij")
    higher = scores[:, i] > scores[:, j]
    assert (probs[:, i][higher] >= probs[:, j][higher]).all(), "softmax must not reverse two scores"
    # the class of the largest score has the largest probability (ties aside)
    assert (probs.gather(1, scores.argmax(dim=1, keepdim=True)) == probs.max(dim=1, keepdim=True).values).all()


@pytest.mark.claim(CLAIM)
def test_book_classifier_outputs_one_probability_per_class(device):
    """p.175-181: the book's classifier ends in (Log)Softmax over dim 1: for a batch of 4 flattened
    32x32 RGB images it gives 2 values per image whose exp are probabilities summing to 1."""
    model = fc_small().to(device)
    out = model(torch.rand(4, 3 * 32 * 32, device=device))
    assert out.shape == (4, 2)
    probs = out.exp()
    assert ((probs >= 0) & (probs <= 1)).all()
    assert_close(probs.sum(dim=1), torch.ones(4, device=device), rtol=0, atol=1e-6)
    scores = model[:-1](torch.rand(4, 3 * 32 * 32, device=device))
    assert_close(nn.Softmax(dim=1)(scores), nn.LogSoftmax(dim=1)(scores).exp(), rtol=1e-6, atol=1e-7)
