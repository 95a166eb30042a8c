"""Chapter 6, page 160, a finding about the book's code: p1ch6/3_nn_module_subclassing.ipynb In[8], the table of
each model's named parameters, printed a TypeError that its saved cell no longer raises.

The notebook's output and its traceback show the line that ran, ``print(f"{name_str:21} {param.shape:19}
{param.numel()}")``; the cell saved beside them formats ``str(param.shape)``. Both are run here on the
notebook's three models.
"""

from __future__ import annotations

import pytest

from claims.book.models import SubclassModel, thermometer_named_seq, thermometer_seq

CLAIM = "ch06.books-parameter-table-is-a-stale-torch-size-format-error"

# In[8] as printed: the first model's name, then the error (Python's object.__format__ message, the same on
# Python 3.8 with torch 1.4 and on 3.11 with torch 2.14).
BOOK_PRINTED_BEFORE_THE_ERROR = "seq\n"
BOOK_ERROR = "unsupported format string passed to torch.Size.__format__"


def book_models():
    """In[2]-[4]: the notebook's three versions of the thermometer network (11, 12 and 13 hidden units)."""
    return [("seq", thermometer_seq(11)), ("namedseq", thermometer_named_seq(12)), ("subclass", SubclassModel())]


def table_as_run(models) -> None:
    """In[8] as its traceback shows it ran (line 6 of the cell)."""
    for type_str, model in models:
        print(type_str)
        for name_str, param in model.named_parameters():
            print(f"{name_str:21} {param.shape:19} {param.numel()}")

        print()


def table_as_saved(models) -> None:
    """In[8] as the notebook saved it."""
    for type_str, model in models:
        print(type_str)
        for name_str, param in model.named_parameters():
            print("{:21} {:19} {}".format(name_str, str(param.shape), param.numel()))  # noqa: UP032 (the book's)

        print()


@pytest.mark.claim(CLAIM)
def test_the_cell_as_run_raises_the_printed_type_error(capsys, evidence):
    """p.160: the line that ran, f"{param.shape:19}", gives torch.Size, a tuple, a format spec it does not
    take: after printing 'seq' the cell stops with the TypeError the notebook printed."""
    with pytest.raises(TypeError) as raised:
        table_as_run(book_models())
    printed = capsys.readouterr().out
    evidence.record(error=str(raised.value), printed=printed)
    assert printed == BOOK_PRINTED_BEFORE_THE_ERROR, f"the book printed {BOOK_PRINTED_BEFORE_THE_ERROR!r}: {printed!r}"
    assert str(raised.value) == BOOK_ERROR, f"the book printed TypeError: {BOOK_ERROR}; measured: {raised.value}"


@pytest.mark.claim(CLAIM)
def test_the_cell_as_saved_prints_the_table(capsys):
    """p.160: the saved cell formats str(param.shape), and prints the table the book meant: per model, one
    line per named parameter with its shape and number of elements."""
    table_as_saved(book_models())
    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == [
        "seq",
        "0.weight              torch.Size([11, 1]) 11",
        "0.bias                torch.Size([11])    11",
    ], lines
    named = lines[lines.index("namedseq") + 1 : lines.index("namedseq") + 5]
    assert [line.split()[0] for line in named] == [
        "hidden_linear.weight",
        "hidden_linear.bias",
        "output_linear.weight",
        "output_linear.bias",
    ], lines
    assert lines[lines.index("subclass") + 1] == "hidden_linear.weight  torch.Size([13, 1]) 13", lines
