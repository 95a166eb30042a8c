"""The suite's own experiments: code the claims share that is not the book's (the overfitting batch, the
regularization solvers, the deep stacks, timing and throughput, CT geometry helpers, thread control).
The book's own code is in ``claims.book``."""
