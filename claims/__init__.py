"""dlwpt-claims: the claims of *Deep Learning with PyTorch*, checked on the installed PyTorch.

``claims.registry`` holds the claims as data, ``claims.plugin`` is the pytest harness,
``claims.ledger`` the report it writes, ``claims.book`` the book's own code.
"""

from __future__ import annotations

__version__ = "0.2.0"
