"""What the book's companion notebooks printed, output by output: the inventory of ground truth.

The notebooks of deep-learning-with-pytorch/dlwpt-code (run on torch 1.4, the book's pin) printed numbers,
tensors, shapes, parameter counts and error messages. Each printed output is one record in
``claims/registry/printed/<notebook folder>.toml``, and says either which test asserts it or why no test
can::

    [[output]]
    notebook = "p1ch5/1_parameter_estimation.ipynb"
    cell = 17                                  # the execution count: In[17]
    printed = "Epoch 1, Loss 1763.884644 ..."  # what the notebook printed (abridged where long)
    values = ["1763.884644", "5802485.5"]       # the printed text a test asserts, digit for digit
    test = "tests/ch05/test_p118_learning_rate.py::test_lr_1e_2_diverges"

    [[output]]
    notebook = "p1ch6/1_neural_networks.ipynb"
    cell = 9
    printed = "tensor([[-0.9140], ...])"
    not_asserted = "unseeded"                  # one of NOT_ASSERTED
    why = "The layer's weights come from the global generator, which the notebook never seeds."

A harness test (``tests/harness/test_printed.py``) keeps it honest: every named test exists, and its module
holds every value as printed. ``counts`` is what ``summary`` and the report show.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from claims.registry import RegistryError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.8 to 3.10
    import tomli as tomllib

DEFAULT_DIR = Path(__file__).with_name("printed")
COMPANION = "https://github.com/deep-learning-with-pytorch/dlwpt-code/blob/master/"
# Why a printed output has no test; the first three mean no test can reproduce it here.
NOT_ASSERTED = {
    "unseeded": "random: the notebook drew it without a seed",
    "environment": "the notebook's machine, not PyTorch: a timing, a path, a download message, a warning's location",
    "real-data": "computed from the real data set by a run no test can repeat (a training log, its plot); "
    "what the real data set itself shows is asserted by the real-data tests",
    "not-a-claim": "reproducible, but it shows no claim: a repr, a listing, an object's address",
}
UNREPRODUCIBLE = ("unseeded", "environment", "real-data")
FIELDS = {"notebook", "cell", "printed", "values", "test", "not_asserted", "why"}


@dataclass(frozen=True)
class PrintedOutput:
    notebook: str
    cell: int
    printed: str
    values: tuple[str, ...] = ()
    test: str | None = None  # "tests/chNN/test_x.py::test_name"
    not_asserted: str | None = None
    why: str | None = None
    origin: str = ""

    @property
    def url(self) -> str:
        return COMPANION + self.notebook

    @property
    def reproducible(self) -> bool:
        return self.not_asserted not in UNREPRODUCIBLE


def _record(raw: object, where: str) -> PrintedOutput:
    if not isinstance(raw, dict):
        raise RegistryError(f"{where}: must be a table ([[output]])")
    unknown = sorted(set(raw) - FIELDS)
    if unknown:
        raise RegistryError(
            f"{where}: field '{unknown[0]}' is not an output field (known: {', '.join(sorted(FIELDS))})"
        )
    for field, kind in (("notebook", str), ("cell", int), ("printed", str)):
        if not isinstance(raw.get(field), kind) or raw[field] in ("", 0):
            raise RegistryError(f"{where}: field '{field}' must be a non-empty {kind.__name__}")
    where = f"{where} ({raw['notebook']} In[{raw['cell']}])"
    values = raw.get("values", [])
    if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
        raise RegistryError(f"{where}: field 'values' must be a list of printed strings")
    test, kind, why = raw.get("test"), raw.get("not_asserted"), raw.get("why")
    if (test is None) == (kind is None):
        raise RegistryError(f"{where}: give exactly one of 'test' (what asserts it) and 'not_asserted' (why none can)")
    if test is not None and (not isinstance(test, str) or "::" not in test or not values):
        raise RegistryError(f"{where}: field 'test' must be 'tests/...py::test_name', with the 'values' it asserts")
    if kind is not None and (kind not in NOT_ASSERTED or not isinstance(why, str) or not why.strip()):
        raise RegistryError(
            f"{where}: field 'not_asserted' must be one of {', '.join(NOT_ASSERTED)}, with a 'why' in words"
        )
    return PrintedOutput(raw["notebook"], raw["cell"], raw["printed"], tuple(values), test, kind, why, origin=where)


def load(directory: str | Path = DEFAULT_DIR) -> list[PrintedOutput]:
    """Every printed output in ``directory/*.toml``, in file then record order."""
    outputs = []
    for path in sorted(Path(directory).glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise RegistryError(f"{path}: cannot be read as TOML ({exc})") from None
        extra = sorted(set(data) - {"output"})
        if extra:
            raise RegistryError(f"{path}: unexpected top-level key '{extra[0]}' (records go in [[output]] tables)")
        outputs += [_record(raw, f"{path} (output #{n})") for n, raw in enumerate(data.get("output", []), start=1)]
    return outputs


def counts(outputs: list[PrintedOutput]) -> dict:
    """``{"outputs": N, "reproducible": R, "asserted": A, "not_asserted": {kind: n}}``: A of the R that a test
    can reproduce are asserted."""
    not_asserted = {kind: sum(1 for o in outputs if o.not_asserted == kind) for kind in NOT_ASSERTED}
    return {
        "outputs": len(outputs),
        "reproducible": sum(1 for o in outputs if o.reproducible),
        "asserted": sum(1 for o in outputs if o.test),
        "not_asserted": {k: v for k, v in not_asserted.items() if v},
    }


def line(found: dict) -> str:
    """One line for ``summary``: the count of printed outputs asserted."""
    return (
        f"the book's printed outputs: {found['asserted']} asserted of the {found['reproducible']} a test can "
        f"reproduce ({found['outputs']} listed from the companion notebooks)"
    )
