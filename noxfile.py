"""The suite on every PyTorch release the book's claims care about, one nox session per release.

    nox -s matrix                      every release below; each writes reports/matrix/<torch>.json
    nox -s "matrix(1.4.0)"             one release (nox -l lists them)
    nox -s lowest                      the oldest pair with the lowest versions pyproject.toml allows
    nox -s matrix_doc                  docs/matrix.md and docs/matrix/*.json from reports/matrix/*.json
    nox -s falsify                     the falsification run on the newest release
    nox -s lint                        ruff check, ruff format --check, mypy (the harness and the plugin)

The releases are those on both sides of every amendment's ``since`` in the registry (1.6 | 1.7 for float32
sums and the Generic Dataset, 1.10 | 1.11 for unbatched Conv2d input, 1.13 | 2.0 for zero_grad, 2.5 | 2.6 for
torchvision's silent download and torch.load's weights_only), the book's own 1.4, the one on this machine's
disk and the newest on PyPI. A test (tests/harness/test_workflow.py) keeps every ``since`` covered. Each comes
with its torchvision, a Python it has wheels for, and the pins it needs (numpy below 2 before torch 2.3). uv
installs them (nox's ``uv|virtualenv`` backend: virtualenv and pip where uv is missing);
``NOX_DEFAULT_VENV_BACKEND=virtualenv`` picks pip instead. A session's venv is reused by the next run of the
same session (``-r``)."""

from __future__ import annotations

import glob
import os
import shutil
from pathlib import Path

import nox

nox.options.default_venv_backend = os.environ.get("NOX_DEFAULT_VENV_BACKEND", "uv|virtualenv")
nox.options.sessions = ["lint", "matrix"]
nox.options.reuse_existing_virtualenvs = True

ROOT = Path(__file__).parent
MATRIX_DIR = ROOT / "reports" / "matrix"

# torch, torchvision, Python, pins, and why this release is here (docs/matrix.md says it: nox -s matrix_doc)
RELEASES = [
    ("1.4.0", "0.5.0", "3.8", ["numpy<1.25"], "the book's pin (dlwpt-code requirements.txt)"),
    ("1.6.0", "0.7.0", "3.8", ["numpy<1.25"], "the last before pairwise float32 sums and a Generic Dataset (1.7)"),
    ("1.7.0", "0.8.1", "3.8", ["numpy<1.25"], "pairwise float32 sums, a Generic Dataset (p.170, p.165)"),
    # torch 1.10-1.12 read their version through pkg_resources.packaging, which setuptools 70 dropped
    ("1.10.2", "0.11.3", "3.9", ["numpy<2", "setuptools<70"], "the last before unbatched Conv2d input (1.11)"),
    ("1.11.0", "0.12.0", "3.9", ["numpy<2", "setuptools<70"], "the first with unbatched input (p.155 amended)"),
    ("1.13.1", "0.14.1", "3.10", ["numpy<2"], "the last before zero_grad sets None (2.0)"),
    ("2.0.1", "0.15.2", "3.10", ["numpy<2"], "the first where zero_grad sets None (p.127 amended)"),
    ("2.5.1", "0.20.1", "3.11", [], "the last before torch.load(weights_only=True) by default (2.6, torchvision 0.21)"),
    (
        "2.6.0",
        "0.21.0",
        "3.11",
        [],
        "weights_only=True by default (p.215's files load); CIFAR10 downloads silently (p.165)",
    ),
    ("2.14.1", "0.29.1", "3.11", [], "the one on this machine's disk"),
    ("2.15.0", "0.29.2", "3.12", [], "the newest on PyPI"),
]
LOWEST = "torch 1.4 on Python 3.8 with the lowest versions pyproject.toml allows"


def interpreter(version: str) -> str:
    """A pyenv install of that version (its shims answer only for the selected versions), else
    ``python3.8`` on PATH, else the version for nox to look for."""
    name = f"python{version}"
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    found = sorted(glob.glob(os.path.join(root, "versions", f"{version}.*", "bin", name)))
    if found:
        return found[-1]
    return name if shutil.which(name) else version


def install_pinned(session: nox.Session, pins: list[str], *extra: str) -> None:
    """Install the suite with ``pins`` held as constraints, so that installing it cannot move torch."""
    constraints = Path(session.create_tmp()) / "constraints.txt"
    constraints.write_text("\n".join(pins) + "\n")
    session.install("-c", str(constraints), *pins)
    session.install("-c", str(constraints), "-e", ".[test]", *extra)


def run_suite(session: nox.Session, ledger: Path, *extra: str) -> None:
    session.run(
        "python",
        "-c",
        "import torch, torchvision, numpy; print('torch', torch.__version__, 'torchvision', "
        "torchvision.__version__, 'numpy', numpy.__version__)",
    )
    ledger.parent.mkdir(parents=True, exist_ok=True)
    session.run(
        "python",
        "-m",
        "pytest",
        "-p",
        "no:randomly",
        "-p",
        "no:cacheprovider",
        f"--ledger={ledger}",
        "-q",
        *extra,
        *session.posargs,
        env={"CI": "true"},
    )
    if not session.posargs:  # the benchmarks on this release too, once each and untimed (about 20 s)
        session.run(
            "python",
            "-m",
            "pytest",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            "-q",
            "tests/benchmarks",
            "--benchmark-disable",
            "--device",
            "cpu",
            "-k",
            "inference-1 or training-1",
        )


@nox.session(name="matrix", tags=["matrix"])
@nox.parametrize(
    "python,torch,torchvision,pins", [nox.param(interpreter(py), t, tv, pins, id=t) for t, tv, py, pins, _ in RELEASES]
)
def matrix(session: nox.Session, torch: str, torchvision: str, pins: list[str]) -> None:
    """The suite on one torch release, writing reports/matrix/<torch>.json."""
    install_pinned(session, [f"torch=={torch}", f"torchvision=={torchvision}", *pins])
    run_suite(session, MATRIX_DIR / f"{torch}.json")


@nox.session(python=interpreter("3.8"))
def lowest(session: nox.Session) -> None:
    """The oldest supported pair (torch 1.4 on Python 3.8) with the lowest version of every dependency
    pyproject.toml allows: the lower bounds there are the ones this session passes with."""
    if "uv" not in session.virtualenv.venv_backend:
        session.error("the lowest session needs uv (pip has no --resolution lowest-direct)")
    constraints = Path(session.create_tmp()) / "constraints.txt"
    constraints.write_text("torch==1.4.0\ntorchvision==0.5.0\nnumpy<1.25\n")
    session.install("--resolution", "lowest-direct", "-c", str(constraints), "-e", ".[test]")
    run_suite(session, MATRIX_DIR / "lowest.json")


@nox.session(python=False)
def matrix_doc(session: nox.Session) -> None:
    """docs/matrix.md from the matrix's ledgers (the command puts them in release order), which are copied
    to docs/matrix/ beside it; each release's line says why it is there."""
    ledgers = sorted(MATRIX_DIR.glob("*.json"))
    if not ledgers:
        session.error(f"no ledgers in {MATRIX_DIR}: run nox -s matrix first")
    why = [f"--why={torch}={reason}" for torch, _, _, _, reason in RELEASES] + [f"--why=lowest={LOWEST}"]
    docs = ROOT / "docs" / "matrix.md"
    session.run("python", "-m", "claims", "matrix-doc", *map(str, ledgers), "-o", str(docs), *why)


@nox.session(python=interpreter("3.11"))
def falsify(session: nox.Session) -> None:
    """Every claim's tests under the faults it names (python -m pytest --falsify)."""
    install_pinned(session, ["torch==2.14.1", "torchvision==0.29.1"])
    session.run("python", "-m", "pytest", "--falsify", "-q", *session.posargs)


@nox.session(python=False)
def lint(session: nox.Session) -> None:
    """ruff, and mypy on what pyproject.toml's [tool.mypy] names (claims/harness, claims/plugin.py)."""
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")
