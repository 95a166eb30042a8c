"""Faults that reach the claims of chapter 8, pages 194-215 (the shared ones are in ``torch_core``)."""
from __future__ import annotations
