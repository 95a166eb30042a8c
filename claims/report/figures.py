"""Evidence plots: a test's recorded series (gradient norm against depth, loss against epoch, error
against step size...) drawn with matplotlib, one figure per test and parameter set, every ledger and
device on the same axes.

What counts as a series, in a test's evidence:
- a dict with at least three numeric keys and numeric values (``{"10": 0.04, "50": 70.7, "100": 2.8e5}``);
- numeric lists of one length beside a list named like an axis (``deltas``, ``x``, ``widths``...);
- a numeric list named like a curve (``losses``, ``val_curve``), against its index.
``inf`` and ``nan`` (recorded as strings) are left out of the line and named in the caption.

``figures.toml`` gives the series of known tests their title, axis labels and units; a test it does not
name is still plotted, labelled from its keys.
"""

from __future__ import annotations

import math
import re
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.8 to 3.10
    import tomli as tomllib

HINTS_FILE = Path(__file__).with_name("figures.toml")
X_NAMES = (
    "x",
    "deltas",
    "delta",
    "p_true",
    "widths",
    "width",
    "depths",
    "depth",
    "batch_sizes",
    "batch_size",
    "epochs",
    "epoch",
    "steps",
    "step",
    "sizes",
    "gains",
    "lrs",
    "learning_rates",
)
CURVE = re.compile(r"(^|_)(losses|curve|history|trajectory)(_|$)")
MIN_POINTS = 3
LINESTYLES = ("-", "--", ":", "-.")
MARKERS = ("o", "s", "^", "D", "v", "P")


@dataclass
class Series:
    key: str
    label: str
    xs: list
    ys: list  # floats, inf and nan included


@dataclass
class Figure:
    """A drawn figure: where it is, and what a reader needs beside it."""

    path: Path
    title: str
    alt: str
    caption: str = ""
    notes: list = field(default_factory=list)


def load_hints(path: str | Path = HINTS_FILE) -> dict:
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def _number(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and value in ("inf", "-inf", "nan"):
        return float(value)
    return None


def _numbers(values) -> list | None:
    if not isinstance(values, list) or len(values) < MIN_POINTS:
        return None
    out = [_number(v) for v in values]
    return None if any(v is None for v in out) else out


def _keyed(values) -> tuple[list, list] | None:
    if not isinstance(values, dict) or len(values) < MIN_POINTS:
        return None
    try:
        xs = [float(k) for k in values]
    except ValueError:
        return None
    ys = [_number(v) for v in values.values()]
    if any(v is None for v in ys):
        return None
    pairs = sorted(zip(xs, ys))
    return [p[0] for p in pairs], [p[1] for p in pairs]


def humanize(key: str) -> str:
    return key.replace("_", " ")


def find_series(evidence: dict, hint: dict) -> tuple[list[Series], str | None]:
    """The series in one test's evidence, and the name of the list used as x (or None)."""
    labels = hint.get("labels", {})
    wanted = hint.get("series")
    out = []
    x_key = hint.get("x_key") or next((k for k in X_NAMES if _numbers(evidence.get(k))), None)
    xs = _numbers(evidence.get(x_key)) if x_key else None
    if hint.get("x_values") and xs is None:
        xs, x_key = [float(v) for v in hint["x_values"]], None
    for key, value in evidence.items():
        if key == x_key or (wanted is not None and key not in wanted):
            continue
        keyed = _keyed(value)
        if keyed:
            out.append(Series(key, labels.get(key, humanize(key)), *keyed))
            continue
        ys = _numbers(value)
        if ys is None:
            continue
        if xs is not None and len(xs) == len(ys):
            out.append(Series(key, labels.get(key, humanize(key)), list(xs), ys))
        elif xs is None and (wanted is not None or CURVE.search(key)):
            start, step = hint.get("x_start", 1), hint.get("x_step", 1)
            out.append(Series(key, labels.get(key, humanize(key)), [start + step * i for i in range(len(ys))], ys))
    return out, x_key


def choose_scale(values: list, forced: str | None = None) -> tuple[str, float]:
    """``(scale, linthresh)``: log where positive values span two decades or more (zeros are then left
    out of the line, and the caption says so), symlog where values of both signs span four, else linear."""
    finite = [v for v in values if math.isfinite(v)]
    nonzero = [abs(v) for v in finite if v != 0]
    linthresh = min(nonzero) if nonzero else 1.0
    if forced:
        return forced, linthresh
    if not nonzero:
        return "linear", linthresh
    if any(v < 0 for v in finite):
        return ("symlog" if max(nonzero) / min(nonzero) >= 1e4 else "linear"), linthresh
    return ("log" if max(nonzero) / min(nonzero) >= 100 else "linear"), linthresh


def _ticks(axis, scale: str, linthresh: float, values: list) -> None:
    """Plain-text tick labels on log axes, a few decades on symlog axes, whole numbers where x is."""
    from matplotlib import ticker

    if scale in ("log", "symlog"):
        axis.set_major_formatter(ticker.FuncFormatter(power_label))
        axis.set_minor_formatter(ticker.NullFormatter())
        axis.set_minor_locator(ticker.NullLocator())
    if scale == "symlog":
        top = max(abs(v) for v in values)
        low, high = math.floor(math.log10(linthresh)), math.ceil(math.log10(top))
        step = max(1, math.ceil((high - low) / 4))
        decades = [10.0**k for k in range(high, low - 1, -step)]
        signs = (1, -1) if any(v < 0 for v in values) else (1,)
        axis.set_major_locator(ticker.FixedLocator(sorted([0.0] + [s * d for d in decades for s in signs])))
    elif scale == "log" and max(values) / min(values) < 1e3:
        axis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    elif scale == "linear" and all(float(v).is_integer() for v in values):
        axis.set_major_locator(ticker.MaxNLocator(integer=True))


def draw(name: str, columns: list, out: Path, hints: dict | None = None) -> Figure | None:
    """One figure of the series that test ``name`` (``test_x[params]``) recorded in each column's
    evidence, ``columns`` being ``[(column label, evidence dict)]``; None when there is no series."""
    hints = load_hints() if hints is None else hints
    hint = hints.get(name) or hints.get(name.split("[")[0]) or {}
    found = [(label, *find_series(evidence, hint)) for label, evidence in columns]
    found = [(label, series, x_key) for label, series, x_key in found if series]
    if not found:
        return None

    from matplotlib.figure import Figure as MplFigure

    x_key = next((k for _, _, k in found if k), None)
    title = hint.get("title") or humanize(name.split("[")[0][len("test_") :] if name.startswith("test_") else name)
    params = name[name.index("[") :] if "[" in name else ""
    if params and params not in title:
        title += f" {params}"
    keyed = any(
        isinstance(evidence.get(s.key), dict) for (_, series, _), (_, evidence) in zip(found, columns) for s in series
    )
    xlabel = hint.get("x") or (humanize(x_key) if x_key else "key, as recorded" if keyed else "index")
    ylabel = hint.get("y") or (found[0][1][0].label if len(found[0][1]) == 1 else "value")
    x_scale, x_lin = choose_scale([x for _, ss, _ in found for s in ss for x in s.xs], hint.get("xscale"))
    y_scale, y_lin = choose_scale([y for _, ss, _ in found for s in ss for y in s.ys], hint.get("yscale"))

    fig = MplFigure(figsize=(6.4, 3.9), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    keys = list(dict.fromkeys(s.key for _, series, _ in found for s in series))
    several = len(found) > 1
    notes, drawn_x, drawn_y, lines = [], [], [], 0
    for n, (label, series, _) in enumerate(found):
        for s in series:
            where = s.label + (f" ({label})" if several else "")
            points = []
            for x, y in zip(s.xs, s.ys):
                if not math.isfinite(y):
                    notes.append((where, str(y), x, "not drawn"))
                elif (y_scale == "log" and y <= 0) or (x_scale == "log" and x <= 0):
                    notes.append((where, _short(y), x, "not drawn on the log axis"))
                else:
                    points.append((x, y))
            if not points:
                continue
            px, py = zip(*points)
            drawn_x += px
            drawn_y += py
            # each line a little thinner than the one before, so a line drawn over an equal one leaves it visible
            colour = keys.index(s.key) * len(found) + n  # one colour per series and column
            ax.plot(
                px,
                py,
                color=f"C{colour % 10}",
                linestyle=LINESTYLES[n % len(LINESTYLES)],
                marker=MARKERS[n % len(MARKERS)],
                markersize=max(3.0, 6.5 - 1.5 * lines),
                linewidth=max(1.0, 2.6 - 0.6 * lines),
                label=where,
            )
            lines += 1
    if not drawn_y:
        return None
    notes = _grouped(notes)
    ax.set_xscale(x_scale, **({"linthresh": x_lin} if x_scale == "symlog" else {}))
    ax.set_yscale(y_scale, **({"linthresh": y_lin} if y_scale == "symlog" else {}))
    _ticks(ax.xaxis, x_scale, x_lin, drawn_x)
    _ticks(ax.yaxis, y_scale, y_lin, drawn_y)
    ax.set_title("\n".join(textwrap.wrap(title, 70)), fontsize=11)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("\n".join(textwrap.wrap(ylabel, 42)))
    ax.grid(True, which="major", alpha=0.3)
    if lines > 1:
        ax.legend(fontsize="small")
    fig.subplots_adjust(left=0.15, right=0.97, top=0.85 if "\n" in ax.get_title() else 0.9, bottom=0.13)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png")
    alt = f"Plot: {title}. {ylabel} against {xlabel}"
    if several:
        alt += "; one line style per column: " + ", ".join(label for label, _, _ in found)
    return Figure(out, title, alt + ".", hint.get("caption", ""), notes)


SUPERSCRIPT = str.maketrans("-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")


def power_label(value: float, _position=None) -> str:
    """Tick labels for log axes as plain text (``10⁻⁵``): matplotlib's mathtext labels cost most of a
    figure's drawing time."""
    if value == 0:
        return "0"
    if 1e-3 <= abs(value) < 1e4:
        return f"{value:g}".replace("-", "\u2212")
    exponent = math.log10(abs(value))
    sign = "\u2212" if value < 0 else ""
    if abs(exponent - round(exponent)) < 1e-9:
        return f"{sign}10{str(round(exponent)).translate(SUPERSCRIPT)}"
    mantissa, power = f"{value:.0e}".split("e")
    return f"{mantissa.replace('-', chr(0x2212))}\u00d710{str(int(power)).translate(SUPERSCRIPT)}"


def _grouped(notes: list) -> list:
    """Notes that say the same of several points as one: ``shared rate: nan at 0.003162 ... 10 (8 points), not
    drawn``."""
    groups: dict = {}
    for where, what, x, why in notes:
        groups.setdefault((where, what, why), []).append(x)
    out = []
    for (where, what, why), xs in groups.items():
        at = _short(xs[0]) if len(xs) == 1 else f"{_short(min(xs))} to {_short(max(xs))} ({len(xs)} points)"
        out.append(f"{where}: {what} at {at}, {why}")
    return out


def _short(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.4g}"
