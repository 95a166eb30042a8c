"""Chapter 8, page 205, as the chapter-7 notebooks wrote it: the first nn.Sequential with ``...`` for its gap.

A finding about the book's code: the chapter-7 notebooks end with chapter 8's first convolutional model
(2_birds_airplanes.ipynb In[67], and the older p1ch6.ipynb In[78] in the same folder), written with a literal
``...`` where the step from the second pool to the Linear layers is missing, and print the error
nn.Sequential raises. The chapter-8 notebook (p1ch8/1_convolution.ipynb In[22]) writes the gap as a comment.
"""

from __future__ import annotations

import pytest
import torch.nn as nn

CLAIM = "ch08.notebook-sequential-with-an-ellipsis-is-refused"


def first_layers() -> list:
    """The six layers both notebooks write before the gap (p.205)."""
    return [
        nn.Conv2d(3, 16, kernel_size=3, padding=1),
        nn.Tanh(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 8, kernel_size=3, padding=1),
        nn.Tanh(),
        nn.MaxPool2d(2),
    ]


@pytest.mark.claim(CLAIM)
def test_sequential_refuses_the_notebooks_ellipsis():
    """p.205 (p1ch7/2_birds_airplanes.ipynb In[67]): nn.Sequential(Conv2d, Tanh, MaxPool2d, Conv2d, Tanh,
    MaxPool2d, ...) raises TypeError: ellipsis is not a Module subclass, the notebooks' printout, in the same
    words on torch 1.4 as on 2.14: the cell builds no model. Written as the chapter-8 notebook does, with
    ``# ...`` (a comment), the same six layers build."""
    with pytest.raises(TypeError) as raised:
        nn.Sequential(*first_layers(), ...)
    assert str(raised.value) == "ellipsis is not a Module subclass", f"the notebooks printed it so: {raised.value}"

    model = nn.Sequential(
        *first_layers(),
        # ...
    )
    assert len(model) == 6, f"the six layers before the gap, found {len(model)}"
