"""What the book's notebooks printed, against what a test measures: one place for reading printed text back.

A printed number stands for every value that rounds to it: ``7.860118`` for 7.8601175 to 7.8601185, ``-3.2746e+17``
to half a unit of its fourth decimal. So a measured value agrees with a printed one when it lies within half a unit
of the last printed digit, plus the relative tolerance the test states (float32 sums that newer torch releases
order differently move the last digit). ``as_printed`` writes a measured value the way the book printed the
number, for the evidence: where it differs from the book's text, the ledger shows on which release it moved.

The companion notebooks printed tensors with torch's repr (``tensor([[0.6814], ...], grad_fn=<AddmmBackward>)``,
``Parameter containing:\\ntensor([[-0.0674]], requires_grad=True)``). A test keeps that text verbatim, as the
book shows it, and reads the values and the shape from it here, so the assertion compares today's tensor
with exactly what was printed.
"""

from __future__ import annotations

import ast
import math

import torch

# A printed value is rounded to its last printed digit (4 decimals in the notebooks): half a unit of it.
HALF_A_UNIT_OF_4_DECIMALS = 5e-5  # half_unit("0.6814")


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


def half_unit(text: str) -> float:
    """Half a unit of the last digit of ``text``: "7.860118" -> 5e-7, "3.2144e+17" -> 5e12, "inf" -> 0."""
    mantissa, _, exponent = text.strip().lower().partition("e")
    if mantissa.lstrip("-") == "inf":
        return 0.0
    return 0.5 * 10.0 ** (int(exponent or 0) - len(mantissa.partition(".")[2]))


def as_printed(value: float, like: str) -> str:
    """``value`` written as ``like`` was: as many decimals, and in e-notation if ``like`` is."""
    mantissa, e, _ = like.strip().lower().partition("e")
    if math.isinf(value) or mantissa.lstrip("-") == "inf":
        return str(value)
    return f"{value:.{len(mantissa.partition('.')[2])}{'e' if e else 'f'}}"


def assert_printed(measured, printed, rtol: float, what: str = "") -> None:
    """Each measured number (floats, or a tensor) agrees with the printed text at its place:
    ``|measured - printed| <= half_unit(printed) + rtol * |printed|``; inf only with inf."""
    values = [float(v) for v in (measured.tolist() if hasattr(measured, "tolist") else measured)]
    assert len(values) == len(printed), f"{what}: {len(values)} values measured, {len(printed)} printed"
    wrong = []
    for value, text in zip(values, printed):
        book = float(text)
        if math.isinf(book) or math.isinf(value):
            close = value == book
        else:
            close = abs(value - book) <= half_unit(text) + rtol * abs(book)
        if not close:
            wrong.append(f"printed {text}, measured {as_printed(value, text)} ({value!r})")
    assert not wrong, f"{what}: " + "; ".join(wrong) + f" (half a unit of the last digit, rtol {rtol})"


def assert_printed_epochs(run, printed: dict, rtol: float) -> dict:
    """The book's hand-written loop (1_parameter_estimation.ipynb In[16]) printed, at some epochs, the loss,
    and the params after the update and the gradient (two numbers each). ``printed``: ``{"epochs": [1, 2, ...],
    "loss": [...], "params": [...], "grad": [...]}``, texts in epoch order. Asserts each against ``run`` (a
    ``claims.book.thermometer.Run`` of the hand-written loop); returns the same numbers as this torch prints them."""
    rows = [epoch - 1 for epoch in printed["epochs"]]
    measured = {
        "loss": [run.losses[row] for row in rows],
        "params": run.params_after[rows].flatten().cpu(),
        "grad": run.grads[rows].flatten().cpu(),
    }
    today = {}
    for name, values in measured.items():
        texts = printed[name]
        today[name] = [as_printed(float(v), text) for v, text in zip(values, texts)]
        assert_printed(values, texts, rtol, f"{name} at epochs {printed['epochs']}")
    return today
