"""Chapter 7, page 189, the companion notebooks' last cell: a model with ``...`` for its missing part.

A finding about the book's code: 2_birds_airplanes.ipynb In[67] (and the older p1ch6.ipynb In[78] in the
same folder) write the first convolutional model with a literal ``...`` where its linear part is missing,
and print the error nn.Sequential raises.
"""

import pytest
import torch.nn as nn

CLAIM = "ch07.notebook-sequential-with-an-ellipsis-is-refused"


@pytest.mark.claim(CLAIM)
def test_sequential_refuses_the_notebooks_ellipsis():
    """p.189 (notebook In[67]): nn.Sequential(Conv2d, Tanh, MaxPool2d, Conv2d, Tanh, MaxPool2d, ...)
    raises TypeError: ellipsis is not a Module subclass, the notebooks' printout, in the same words on
    torch 1.4 as on 2.14: the cell does not build a model."""
    with pytest.raises(TypeError) as raised:
        nn.Sequential(
            nn.Conv2d(3, 16, kernel_size=3, padding=1),
            nn.Tanh(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 8, kernel_size=3, padding=1),
            nn.Tanh(),
            nn.MaxPool2d(2),
            ...,
        )
    assert str(raised.value) == "ellipsis is not a Module subclass", f"the notebooks printed it so: {raised.value}"
