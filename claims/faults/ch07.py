"""Faults that reach the claims of chapter 7 (the shared ones are in ``torch_core``)."""
from __future__ import annotations
