"""The suite's one error type for bad input: it names the file and the problem in one line."""

from __future__ import annotations

from pathlib import Path


class DataFileError(Exception):
    """A data or configuration file is missing, corrupt or malformed."""

    def __init__(self, path: str | Path, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")
