"""dlwpt-claims: the claims of *Deep Learning with PyTorch*, checked on the installed PyTorch.

What runs where:

- ``claims.registry``: the claims as data (one TOML file per chapter) and their loader;
- ``claims.plugin``: the pytest entry point; ``claims.harness``: everything else that runs inside pytest
  (options, the session's bookkeeping, falsification, evidence);
- ``claims.cli``: the commands of ``python -m claims`` (summary, diff, matrix, matrix-doc, plot, gate, report);
- ``claims.report``: the report site the ``report`` command writes;
- ``claims.book``: the book's own code, as printed; ``claims.experiments``: the suite's own experiments,
  which are not the book's (solvers, deep stacks, timing, throughput);
- ``claims.faults``: the planted faults; ``ledger``, ``compat``, ``devices``, ``errors``: the shared core.
"""

from __future__ import annotations

__version__ = "0.2.0"
