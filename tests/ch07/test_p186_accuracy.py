"""Chapter 7, page 186: predicted class = max over dim 1; accuracy = correct / total."""
import pytest
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

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
def test_book_accuracy_loop_counts_correct_over_total(device, evidence):
    """p.186: the book's loop over a DataLoader (sum of correct over sum of sizes, batches of 16 with a
    last batch of 4) equals the fraction of argmax predictions equal to the labels over all 100."""
    model = nn.Sequential(nn.Linear(6, 3), nn.LogSoftmax(dim=1)).to(device)
    x, y = torch.randn(100, 6, device=device), torch.randint(3, (100,), device=device)
    book = accuracy(model, DataLoader(TensorDataset(x, y), batch_size=16), device=device)
    with torch.no_grad():
        direct = int((model(x).argmax(dim=1) == y).sum()) / len(y)
    evidence.record(accuracy=book)
    assert abs(book - direct) < 1e-9, f"book's loop {book}, direct {direct}"
    assert 0.0 < book < 1.0, "an untrained model is neither always right nor always wrong here"
    assert accuracy(model, [(x, model(x).argmax(dim=1))], device=device) == 1.0
