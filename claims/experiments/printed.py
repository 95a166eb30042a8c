"""Tensors the book printed, read back from the printed text.

The companion notebooks printed tensors with torch's repr (``tensor([[0.6814], ...], grad_fn=<AddmmBackward>)``,
``Parameter containing:\\ntensor([[-0.0674]], requires_grad=True)``). A test keeps that text verbatim, as the
book shows it, and reads the values and the shape from it here, so the assertion compares today's tensor
with exactly what was printed.
"""

from __future__ import annotations

import ast

import torch

# A printed value is rounded to its last printed digit (4 decimals in the notebooks): half a unit of it.
HALF_A_UNIT_OF_4_DECIMALS = 5e-5


def printed_tensor(text: str) -> torch.Tensor:
    """The float32 tensor a printed repr shows, shape included (the nesting of its brackets):
    ``printed_tensor("tensor([0.6814], grad_fn=<AddBackward0>)")`` is ``torch.tensor([0.6814])``."""
    start = text.index("tensor(") + len("tensor(")
    depth, end = 0, start
    while True:  # to the bracket that closes the first one
        depth += {"[": 1, "]": -1}.get(text[end], 0)
        end += 1
        if depth == 0:
            return torch.tensor(ast.literal_eval(text[start:end]), dtype=torch.float32)


def last_digits_that_differ(today: torch.Tensor, book: torch.Tensor, decimals: int = 4) -> dict[str, list[float]]:
    """Where today's values, rounded as the book printed them, show another last digit than the book's: the
    positions (flattened), the book's values and today's, for the ledger. Empty where every digit agrees."""
    today, book = today.detach().cpu().double().flatten(), book.double().flatten()
    scale = 10.0**decimals
    differ = ((today * scale).round() != (book * scale).round()).nonzero().flatten().tolist()
    if not differ:
        return {}
    return {
        "at": differ,
        "book": [round(v, decimals) for v in book[differ].tolist()],
        "today": [round(v, decimals + 3) for v in today[differ].tolist()],
    }
