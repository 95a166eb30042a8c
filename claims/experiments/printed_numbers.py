"""Numbers the book's notebooks printed, against what a test measures.

A printed number stands for every value that rounds to it: ``7.860118`` for 7.8601175 to 7.8601185, ``-3.2746e+17``
to half a unit of its fourth decimal. So a measured value agrees with a printed one when it lies within half a unit
of the last printed digit, plus the relative tolerance the test states (float32 sums that newer torch releases
order differently move the last digit). ``as_printed`` writes a measured value the way the book printed the
number, for the evidence: where it differs from the book's text, the ledger shows on which release it moved.
"""

from __future__ import annotations

import math


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
