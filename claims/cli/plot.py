"""``python -m claims plot BENCHMARK_JSON [-o OUT]``: throughput against batch size, from a pytest-benchmark
JSON file (``--benchmark-json FILE``, or one saved by ``--benchmark-autosave`` / ``--benchmark-save`` under
``.benchmarks/``). The output's extension picks the format: ``.png``, ``.svg`` or ``.pdf``.

One panel per model; in each, one line per device and mode (inference, training): samples per second at
the median time of the rounds, with the interquartile range of the rounds as error bars, on log-log axes.
A perfectly batched model would rise with slope 1; where a line flattens, the device was already busy at
the smaller batch. The dashed lines are the measured float32 matrix-multiply ceiling, turned into samples
per second for that model and mode (the ceiling in FLOP/s over the model's FLOPs per sample): no line can
honestly cross its ceiling, and a point that does is reported as a measurement error.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from claims.errors import DataFileError

HOW_TO_MAKE = "python -m pytest tests/benchmarks --benchmark-only --benchmark-json FILE"
FORMATS = (".png", ".svg", ".pdf")
MODES = {"inference": "-", "training": "--"}
MARKERS = {"cpu": "o", "cuda": "s", "mps": "^"}


@dataclass(frozen=True)
class Point:
    batch_size: int
    samples_per_s: float  # at the median time
    low: float  # at the third quartile's time (slower rounds)
    high: float  # at the first quartile's time (faster rounds)
    fraction_of_ceiling: float | None


@dataclass
class Benchmarks:
    """What a benchmark file says about throughput: points per model, device and mode; the ceilings."""

    series: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(list)))
    flop_per_sample: dict = field(default_factory=dict)  # (model, mode) -> FLOPs of one sample
    ceilings: dict = field(default_factory=dict)  # device -> FLOP/s
    context: dict = field(default_factory=dict)  # torch, timer, threads, rounds
    warnings: list = field(default_factory=list)


def load_file(path: Path) -> tuple[dict, list]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise DataFileError(path, f"no such benchmark file (write one with {HOW_TO_MAKE})") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise DataFileError(path, f"cannot be read as a benchmark file ({type(exc).__name__})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataFileError(path, f"not a JSON file (line {exc.lineno}: {exc.msg})") from None
    benchmarks = document.get("benchmarks") if isinstance(document, dict) else None
    if not isinstance(benchmarks, list):
        raise DataFileError(path, "not a pytest-benchmark JSON file: no 'benchmarks' list")
    return document, benchmarks


def read_benchmarks(path: str | Path) -> Benchmarks:
    """Everything the plot draws. Raises ``DataFileError`` naming the file when it is missing, is not JSON,
    is not a pytest-benchmark file, or holds no model throughput benchmarks (those of ``tests/benchmarks``).
    Points that cannot be drawn (a non-finite rate, a fraction of the ceiling above 1) are kept out of the
    plot and listed in ``warnings``."""
    path = Path(path)
    document, benchmarks = load_file(path)
    found = Benchmarks()
    machine = document.get("machine_info") or {}
    found.context["torch"] = machine.get("torch")
    found.ceilings.update(
        {
            d: float(c["flop_per_s"])
            for d, c in (document.get("dlwpt_matmul_ceiling") or {}).items()
            if isinstance(c, dict) and "flop_per_s" in c
        }
    )
    timers, threads, rounds = set(), set(), []
    for n, bench in enumerate(benchmarks):
        name = bench.get("name", "?") if isinstance(bench, dict) else "?"
        info = bench.get("extra_info") if isinstance(bench, dict) else None
        if not isinstance(info, dict):
            continue
        if "samples_per_s" not in info:
            if "flop_per_s" in info and "device" in info:  # an older file's matmul ceiling benchmark
                found.ceilings.setdefault(str(info["device"]), float(info["flop_per_s"]))
            continue
        try:
            model, device, mode = str(info["model"]), str(info["device"]), str(info["mode"])
            batch = int(info["batch_size"])
            rate = float(info["samples_per_s"])
        except (KeyError, TypeError, ValueError) as exc:
            raise DataFileError(
                path, f"benchmark #{n + 1} ({name}): malformed extra_info ({type(exc).__name__}: {exc})"
            ) from None
        if batch < 1:
            raise DataFileError(path, f"benchmark #{n + 1} ({name}): batch size {batch} cannot go on log axes")
        if not (math.isfinite(rate) and rate > 0):
            found.warnings.append(f"{name}: {rate} samples/s cannot be drawn: left out")
            continue
        stats = bench.get("stats") or {}
        q1, q3 = stats.get("q1"), stats.get("q3")
        low, high = (batch / q3, batch / q1) if q1 and q3 else (rate, rate)
        fraction = info.get("fraction_of_ceiling")
        if fraction is not None and (not math.isfinite(fraction) or fraction > 1):
            found.warnings.append(
                f"{name}: {fraction:.2f} of the matmul ceiling is a measurement error (the ceiling "
                f"was timed under more load than this benchmark): left out"
            )
            continue
        found.series[model][(device, mode)].append(Point(batch, rate, low, high, fraction))
        if info.get("flop_per_step"):
            found.flop_per_sample[(model, mode)] = float(info["flop_per_step"]) / batch
        timers.add(str((bench.get("options") or {}).get("timer", "?")))
        if info.get("cpu_threads"):
            threads.add(int(info["cpu_threads"]))
        if stats.get("rounds"):
            rounds.append(int(stats["rounds"]))
    if not found.series:
        if found.warnings:
            raise DataFileError(path, f"no drawable throughput benchmark in it ({found.warnings[0]})")
        raise DataFileError(path, f"no model throughput benchmarks in it (write them with {HOW_TO_MAKE})")
    found.context.update(
        timer=", ".join(sorted(timers)), threads=sorted(threads), rounds=(min(rounds), max(rounds)) if rounds else None
    )
    for lines in found.series.values():
        for points in lines.values():
            points.sort(key=lambda p: p.batch_size)
    return found


def read_throughput(path: str | Path) -> dict[str, dict[tuple[str, str], list[tuple[int, float]]]]:
    """``{model: {(device, mode): [(batch_size, samples_per_s), ...]}}``, sorted by batch size."""
    series = read_benchmarks(path).series
    return {
        model: {key: [(p.batch_size, p.samples_per_s) for p in points] for key, points in lines.items()}
        for model, lines in series.items()
    }


def _subtitle(found: Benchmarks, source: Path) -> str:
    ctx = found.context
    parts = [
        f"torch {ctx['torch']}" if ctx.get("torch") else None,
        f"timer {ctx['timer']}" if ctx.get("timer") else None,
        f"CPU threads {', '.join(map(str, ctx['threads']))}" if ctx.get("threads") else None,
        f"{ctx['rounds'][0]}-{ctx['rounds'][1]} rounds" if ctx.get("rounds") else None,
    ]
    return f"{source.name}: " + "; ".join(p for p in parts if p)


def plot(path: str | Path, out: str | Path) -> Path:
    """Draw the throughput of every model in ``path`` into ``out`` (.png, .svg or .pdf); returns ``out``."""
    out = Path(out)
    if out.suffix.lower() not in FORMATS:
        raise DataFileError(out, f"cannot tell the format from '{out.suffix}': use one of {', '.join(FORMATS)}")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    found = read_benchmarks(path)
    models = sorted(found.series, key=lambda m: (m != "fc_deep", m))
    fig, axes = plt.subplots(1, len(models), figsize=(5.2 * len(models), 4.6), squeeze=False)
    for ax, model in zip(axes[0], models):
        for (device, mode), points in sorted(found.series[model].items()):
            sizes = [p.batch_size for p in points]
            rates = [p.samples_per_s for p in points]
            errors = [[r - p.low for r, p in zip(rates, points)], [p.high - r for r, p in zip(rates, points)]]
            bars = ax.errorbar(
                sizes,
                rates,
                yerr=errors,
                fmt=MODES.get(mode, ":"),
                marker=MARKERS.get(device, "x"),
                capsize=3,
                label=f"{device} {mode}",
            )
            ceiling, flops = found.ceilings.get(device), found.flop_per_sample.get((model, mode))
            if ceiling and flops:
                ax.axhline(
                    ceiling / flops,
                    color=bars.lines[0].get_color(),
                    linestyle=":",
                    linewidth=1,
                    label=f"{device} {mode}: fp32 matmul ceiling",
                )
        ax.set_xscale("log", base=2)
        sizes = sorted({p.batch_size for points in found.series[model].values() for p in points})
        ax.set_xticks(sizes)
        ax.set_xticklabels([str(size) for size in sizes])
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        ax.set_yscale("log")
        ax.set_title(model)
        ax.set_xlabel("batch size (samples)")
        ax.set_ylabel("throughput (samples per second)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize="x-small")
    fig.suptitle(
        "Throughput against batch size: median of the rounds, bars the interquartile range\n"
        + _subtitle(found, Path(path)),
        fontsize="medium",
    )
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format=out.suffix.lower()[1:], dpi=100)
    plt.close(fig)
    return out
