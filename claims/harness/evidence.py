"""The ``evidence`` a test records: small, JSON-serialisable numbers that go into the ledger."""

from __future__ import annotations

import json
import math
import numbers
from typing import Any

import pytest

MAX_CHARS = 4096  # per test: evidence is a few numbers, not a data dump


def to_json_value(value: Any) -> Any:
    """Tensors, numpy values and nested containers become plain JSON values; inf and nan become strings."""
    if hasattr(value, "tolist") and callable(value.tolist):  # torch.Tensor, numpy array or scalar
        value = value.tolist()
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_value(v) for v in value]
    raise TypeError(f"evidence values must be numbers, strings, lists or dicts, not {type(value).__name__}")


class Evidence(dict):
    """``evidence["final_loss"] = loss`` or ``evidence.record(final_loss=loss, epochs=5000)``."""

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(str(key), to_json_value(value))
        size = len(json.dumps(self))
        if size > MAX_CHARS:
            super().__delitem__(str(key))
            raise ValueError(
                f"evidence {key!r} would make this test's evidence {size} characters; "
                f"keep it under {MAX_CHARS} (record summaries, not data)"
            )

    def record(self, **values: Any) -> None:
        for key, value in values.items():
            self[key] = value


EVIDENCE_KEY = pytest.StashKey[Evidence]()  # the evidence a test recorded, on its item
