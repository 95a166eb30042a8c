"""What the tests need from torch, the same on every release from 1.4 (the book's pin) to the newest.

One place for the few measurements an old release makes differently, so that no test compares version
literals. Each name says what it gives and from which release torch has it itself:

- ``assert_close``: ``torch.testing.assert_close`` (1.9); before that, the same check written out.
- ``storage_ptr(t)``: where a tensor's storage starts (``untyped_storage`` from 2.0, ``storage`` before).
- ``lstsq(a, b)``: the least-squares solution of ``a @ x = b`` (``torch.linalg.lstsq``, 1.9).
- ``solve(a, b)``: ``x`` with ``a @ x = b`` (``torch.linalg.solve``, 1.8; ``torch.solve(b, a)`` before).
- ``largest_eigenvalue(a)``: of each symmetric matrix (``torch.linalg.eigvalsh``, 1.8; ``torch.symeig``).
- ``full_float32(deterministic=False)``: a block with TF32 off for matmuls and cuDNN (the knobs exist
  from 1.7; before that TF32 did not exist) and, if asked, deterministic cuDNN algorithms.
- ``matmul_shape_error(m1, m2, device_type)``: the words of the RuntimeError a matrix product of shapes that
  do not fit raises on this release: TH's "size mismatch, m1: [64 x 8], m2: [512 x 32]" (CPU to 1.6, CUDA to
  1.5), "mat1 dim 1 must match mat2 dim 0" (CUDA 1.6 to 1.9, but 1.9.0), "mat1 and mat2 shapes cannot be
  multiplied (64x8 and 512x32)" (CPU from 1.7, CUDA from 1.10), after the operator's name from 2.15 ("addmm: ");
  on 1.9.0's CUDA, which checks no shapes itself, cuBLAS's "CUBLAS_STATUS_INVALID_VALUE" where m1 has fewer
  columns than m2 has rows, and None (not known) where it has more.

A claim whose own subject is missing from a release (``weights_only``, ``transforms.v2``) is no
measurement problem: its test skips there with that reason.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence

import torch

__all__ = ["assert_close", "storage_ptr", "lstsq", "solve", "largest_eigenvalue", "full_float32", "matmul_shape_error"]

# torch.testing.assert_close's default tolerances, by dtype (rtol, atol).
_DEFAULT_TOLERANCES = {
    torch.float16: (1e-3, 1e-5),
    torch.bfloat16: (1.6e-2, 1e-5),
    torch.float32: (1.3e-6, 1e-5),
    torch.float64: (1e-7, 1e-7),
}


def _assert_close_fallback(
    actual, expected, *, rtol=None, atol=None, equal_nan=False, check_device=True, check_dtype=True, msg=None
):
    """``torch.testing.assert_close`` for releases that lack it (before 1.9): tensors, numbers and nested
    sequences or mappings of them; the same defaults, checks and kind of message."""
    if (rtol is None) != (atol is None):
        raise ValueError("both rtol and atol must be given, or neither")
    options = dict(rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=check_device, check_dtype=check_dtype)

    def each(a, e):  # an element of a mapping or sequence, with the same options
        _assert_close_fallback(a, e, msg=msg, **options)

    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        if set(actual) != set(expected):
            raise AssertionError(
                msg or f"The keys of the mappings do not match: {sorted(actual)} != {sorted(expected)}"
            )
        for key in actual:
            each(actual[key], expected[key])
        return
    if (
        isinstance(actual, Sequence)
        and not isinstance(actual, str)
        and not torch.is_tensor(actual)
        and isinstance(expected, Sequence)
        and not torch.is_tensor(expected)
    ):
        if len(actual) != len(expected):
            raise AssertionError(msg or f"The length of the sequences mismatch: {len(actual)} != {len(expected)}")
        for a, e in zip(actual, expected):
            each(a, e)
        return
    numbers = not torch.is_tensor(actual) and not torch.is_tensor(expected)
    a, e = torch.as_tensor(actual), torch.as_tensor(expected)
    if a.shape != e.shape:
        raise AssertionError(msg or f"The values for attribute 'shape' do not match: {a.shape} != {e.shape}.")
    if check_device and not numbers and a.device != e.device:
        raise AssertionError(msg or f"The values for attribute 'device' do not match: {a.device} != {e.device}.")
    if check_dtype and not numbers and a.dtype != e.dtype:
        raise AssertionError(msg or f"The values for attribute 'dtype' do not match: {a.dtype} != {e.dtype}.")
    if rtol is None:
        rtol, atol = max((_DEFAULT_TOLERANCES.get(t.dtype, (0.0, 0.0)) for t in (a, e)), key=lambda tol: tol[0])
    a, e = a.detach().cpu().double(), e.detach().cpu().double()
    both_nan = torch.isnan(a) & torch.isnan(e) if equal_nan else torch.zeros_like(a, dtype=torch.bool)
    same = (a == e) | both_nan  # equal infinities included
    diff = (a - e).abs()
    close = same | (diff <= atol + rtol * e.abs())
    if bool(close.all()):
        return
    mismatched = int((~close).sum())
    diff = torch.where(close, torch.zeros_like(diff), diff)
    worst = int(diff.reshape(-1).argmax()) if diff.numel() else 0
    rel = diff / e.abs()
    rel = torch.where(close, torch.zeros_like(rel), rel)
    where = tuple(int(i) for i in _unravel(int(rel.reshape(-1).argmax()), a.shape))
    kind = "Scalars" if a.dim() == 0 else "Tensor-likes"
    raise AssertionError(
        msg
        or (
            f"{kind} are not close!\n\nMismatched elements: {mismatched} / {a.numel()} "
            f"({100.0 * mismatched / max(a.numel(), 1):.1f}%)\n"
            f"Greatest absolute difference: {diff.reshape(-1)[worst].item()} at index "
            f"{tuple(int(i) for i in _unravel(worst, a.shape))} (up to {atol} allowed)\n"
            f"Greatest relative difference: {rel.reshape(-1).max().item()} at index {where} (up to {rtol} allowed)"
        )
    )


def _unravel(flat: int, shape) -> list[int]:
    index = []
    for side in reversed(tuple(shape)):
        flat, i = divmod(flat, side)
        index.append(i)
    return list(reversed(index))


assert_close = getattr(torch.testing, "assert_close", _assert_close_fallback)


def storage_ptr(tensor: torch.Tensor) -> int:
    """The address of the storage a tensor views: equal for a tensor and its views, different for a copy."""
    if hasattr(tensor, "untyped_storage"):
        return tensor.untyped_storage().data_ptr()
    return tensor.storage().data_ptr()


def lstsq(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The least-squares ``x`` minimising ``|a @ x - b|`` (``a`` of full column rank)."""
    linalg = getattr(torch, "linalg", None)
    if linalg is not None and hasattr(linalg, "lstsq"):
        return linalg.lstsq(a, b).solution
    return torch.pinverse(a) @ b


def solve(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``x`` with ``a @ x = b``, batched over leading dimensions."""
    linalg = getattr(torch, "linalg", None)
    if linalg is not None and hasattr(linalg, "solve"):
        return linalg.solve(a, b)
    return torch.solve(b, a)[0]


def largest_eigenvalue(a: torch.Tensor) -> torch.Tensor:
    """The largest eigenvalue of each symmetric matrix in ``a [..., d, d]``, shape ``[..., 1]``."""
    linalg = getattr(torch, "linalg", None)
    if linalg is not None and hasattr(linalg, "eigvalsh"):
        return linalg.eigvalsh(a)[..., -1:]
    return torch.symeig(a)[0][..., -1:]  # ascending, like eigvalsh


@contextlib.contextmanager
def full_float32(deterministic: bool = False):
    """A block computed in full float32 on CUDA: TF32 off for matmuls and cuDNN convolutions (an Ampere or
    newer GPU otherwise rounds their inputs to 10 mantissa bits), and with ``deterministic=True`` cuDNN's
    deterministic algorithms (no atomics, no FFT or Winograd picks that vary between calls)."""
    matmul = getattr(torch.backends.cuda, "matmul", None)
    saved = {
        "matmul": getattr(matmul, "allow_tf32", None),
        "cudnn_tf32": getattr(torch.backends.cudnn, "allow_tf32", None),
        "deterministic": torch.backends.cudnn.deterministic,
        "benchmark": torch.backends.cudnn.benchmark,
    }
    try:
        if saved["matmul"] is not None:
            matmul.allow_tf32 = False
        if saved["cudnn_tf32"] is not None:
            torch.backends.cudnn.allow_tf32 = False
        if deterministic:
            torch.backends.cudnn.deterministic = True
            torch.backends.cudnn.benchmark = False
        yield
    finally:
        if saved["matmul"] is not None:
            matmul.allow_tf32 = saved["matmul"]
        if saved["cudnn_tf32"] is not None:
            torch.backends.cudnn.allow_tf32 = saved["cudnn_tf32"]
        torch.backends.cudnn.deterministic = saved["deterministic"]
        torch.backends.cudnn.benchmark = saved["benchmark"]


def matmul_shape_error(m1: tuple, m2: tuple, device_type: str = "cpu") -> str | None:
    """What the RuntimeError of ``mm`` on an ``m1`` by ``m2`` product whose inner sizes differ says (its first
    words), on this torch and device type; None where that is not known. The CPU's were run on 1.4.0, 1.5.1,
    1.6.0, 1.7.0, 1.7.1, 1.8.1, 1.10.2, 1.13.1, 2.5.1, 2.6.0 and 2.14.1. CUDA's were never run, only read from
    each release's CUDA library (1.5.1 holds TH's words only, 1.6.0 and 1.7.0 "mat1 dim 1 must match mat2 dim
    0" only, 1.10.2 "shapes cannot be multiplied" only); 1.8 and 1.9.1 were not at hand and are taken as 1.7.
    1.9.0's CUDA mm skips PyTorch's own shape check (pytorch/pytorch#61291, fixed in 1.9.1) and hands the
    product to cuBLAS, read from issue reports, not measured: where m1 has fewer columns than m2 has rows
    cuBLAS refuses it, "CUDA error: CUBLAS_STATUS_INVALID_VALUE when calling `cublasSgemm( ...`" (#64920:
    Linear(128, 64) given [16, 127]; #84328, 1.9.0+cu111: "only occurs when input dimension < expected
    dimension"); every report of a product that ran without an error (#61291, #62562, #62539, #65120) had
    more columns than rows, but none covers every such shape, so there whether it raises is not known: None.
    From 2.15 the message starts with the operator's name ("addmm: " for ``nn.Linear``, "mm: " for ``@``; run
    on the CPU): the words follow it, so a caller looks for them in the message, not at its start."""
    release = tuple(int(part) for part in torch.__version__.split("+")[0].split(".")[:3] if part.isdigit())
    if device_type != "cpu" and release[:3] == (1, 9, 0):
        return "CUBLAS_STATUS_INVALID_VALUE" if m1[1] < m2[0] else None
    shapes_from = (1, 7) if device_type == "cpu" else (1, 10)
    if release >= shapes_from:
        return f"mat1 and mat2 shapes cannot be multiplied ({m1[0]}x{m1[1]} and {m2[0]}x{m2[1]})"
    if device_type != "cpu" and release >= (1, 6):
        return "mat1 dim 1 must match mat2 dim 0"
    return f"size mismatch, m1: [{m1[0]} x {m1[1]}], m2: [{m2[0]} x {m2[1]}]"
